"""Snakemake glue: motifs per singer as a chart (the paper's Table 1)."""

from pathlib import Path

import pandas as pd

from cantaor.report.figures import plot_motif_statistics
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
summary = pd.read_csv(snakemake.input.summary, sep="\t", dtype={"singer": str})
plot_motif_statistics(summary, path=Path(snakemake.output.png).with_suffix(""))
log(f"{snakemake.input.summary}: {len(summary) - 1} singers drawn")
