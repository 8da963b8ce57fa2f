"""Snakemake glue: the results table as a chart (the paper's Table 2 beside ours)."""

from pathlib import Path

import pandas as pd

from cantaor.report.figures import plot_results_grid
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
results = pd.read_csv(snakemake.input.csv)
plot_results_grid(results, path=Path(snakemake.output.png).with_suffix(""))
log(f"{snakemake.input.csv}: {len(results)} rows drawn")
