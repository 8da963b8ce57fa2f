"""Snakemake glue: one markdown table of every evaluated model and baseline."""

from cantaor.io import write_text
from cantaor.training_job import results_table

p = snakemake.params
write_text(
    results_table(
        p.runs,
        snakemake.input.metrics,
        list(zip(p.baseline_runs, snakemake.input.baselines, strict=True)),
    ),
    snakemake.output.table,
)
