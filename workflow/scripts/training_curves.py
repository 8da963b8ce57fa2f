"""Snakemake glue: training curves of every model of one grid cell."""

from pathlib import Path

import pandas as pd

from cantaor.report.figures import plot_training_curves
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
histories = {
    model: pd.read_csv(path, sep="\t")
    for model, path in zip(snakemake.params.models, snakemake.input.histories, strict=True)
}
plot_training_curves(
    histories, path=Path(snakemake.output.png).with_suffix(""), title=snakemake.params.title
)
log("epochs drawn: " + ", ".join(f"{m} {len(h)}" for m, h in histories.items()))
