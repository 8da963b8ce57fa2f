"""Snakemake glue: the f0 quality of every recording, with its warnings."""

import json

from cantaor.pitch.quality import quality_markdown, quality_table
from cantaor.util.atomic import atomic_path
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
rows = []
for path in snakemake.input.status:
    with open(path, encoding="utf-8") as handle:
        status = json.load(handle)
    quality = status.get("quality") or {}
    rows.append(
        {
            "recording": status["recording"],
            "singer": p.singers[status["recording"]],
            **{
                key: quality.get(key, float("nan"))
                for key in ("voiced_share", "jump_rate", "disagreement", "median_cents")
            },
        }
    )
table = quality_table(rows, p.f0_quality)
for row in table.itertuples(index=False):
    if row.warnings:
        log(f"WARNING: {row.recording} ({row.singer}): f0 looks wrong: {row.warnings}")
log(f"{(table['warnings'] != '').sum()} of {len(table)} recordings flagged")
with atomic_path(snakemake.output.tsv) as tmp:
    table.to_csv(tmp, sep="\t", index=False)
with atomic_path(snakemake.output.table) as tmp, open(tmp, "w", encoding="utf-8") as handle:
    handle.write(quality_markdown(table, method=p.f0["method"]))
