"""Snakemake glue: the paper's Figure 1 (f0 beside its contour) for one phrase."""

import json
from pathlib import Path

import pandas as pd

from cantaor.report.figures import plot_contour
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
symbols = pd.read_parquet(snakemake.input.contour)
segments = pd.read_parquet(snakemake.input.segments)
with open(snakemake.input.clusters, encoding="utf-8") as handle:
    centers = json.load(handle)["centers_cents"] or None
# The phrase with the most symbols shows the method best.
phrase = int(symbols["phrase"].value_counts().idxmax()) if len(symbols) else 0
plot_contour(
    pd.read_parquet(snakemake.input.f0),
    symbols,
    phrase,
    path=Path(snakemake.output.png).with_suffix(""),
    segments=segments,
    centers_cents=centers,
    title=f"{snakemake.wildcards.recording}, phrase {phrase}",
)
log(f"phrase {phrase}: {int((symbols['phrase'] == phrase).sum())} symbols")
