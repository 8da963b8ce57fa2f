"""Snakemake glue: test confusion matrices of every model of one grid cell."""

import json
from pathlib import Path

from cantaor.report.figures import plot_confusion_matrices
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
confusions = {}
for model, path in zip(snakemake.params.models, snakemake.input.metrics, strict=True):
    with open(path, encoding="utf-8") as handle:
        metrics = json.load(handle)
    confusions[model] = {**metrics["confusion_matrix"], "accuracy": metrics["accuracy"]}
plot_confusion_matrices(
    confusions, path=Path(snakemake.output.png).with_suffix(""), title=snakemake.params.title
)
log("test items: " + ", ".join(f"{m} {sum(map(sum, c['matrix']))}" for m, c in confusions.items()))
