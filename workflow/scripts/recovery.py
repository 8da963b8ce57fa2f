"""Snakemake glue: how many planted demo motifs the mined dictionaries recover."""

from pathlib import Path

import pandas as pd

from cantaor.demo.recovery import motif_recovery, recovery_markdown
from cantaor.util.atomic import write_json, write_text
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
truth = pd.concat(
    [
        pd.read_parquet(path).assign(recording=Path(path).name.removesuffix(".motifs.parquet"))
        for path in snakemake.input.truth
    ],
    ignore_index=True,
)
found = pd.concat(
    [pd.read_parquet(path) for path in snakemake.input.occurrences], ignore_index=True
)
report = motif_recovery(truth, found, iou=snakemake.params.recovery["iou"])
write_json(report, snakemake.output.report)
write_text(recovery_markdown(report), snakemake.output.markdown)
log(f"precision {report['precision']}, recall {report['recall']}")
