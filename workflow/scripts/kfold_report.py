"""Snakemake glue: scores pooled over the k folds, with intervals, and the paper's claim."""

import json

from cantaor.evaluation.pooled import claim_comparisons, pooled_frame, pooled_markdown
from cantaor.util.atomic import atomic_path, write_text
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
options = {
    "confidence": p.evaluation["confidence"],
    "n_bootstrap": p.evaluation["bootstrap"],
    "seed": p.evaluation["seed"],
}
frame, pooled = pooled_frame(list(zip(p.runs, snakemake.input.predictions, strict=True)), **options)
comparisons = claim_comparisons(pooled, **options)
splits = []
for entry, path in zip(p.splits, snakemake.input.leakage, strict=True):
    with open(path, encoding="utf-8") as handle:
        splits.append({**entry, "report": json.load(handle)})
write_text(pooled_markdown(frame, comparisons, splits), snakemake.output.table)
with atomic_path(snakemake.output.csv) as tmp:
    frame.to_csv(tmp, index=False)
with atomic_path(snakemake.output.claim) as tmp:
    comparisons.to_csv(tmp, index=False)
log(f"{len(frame)} pooled rows, {len(comparisons)} motif/random comparisons")
