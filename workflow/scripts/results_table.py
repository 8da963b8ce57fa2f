"""Snakemake glue: one table (markdown and csv) of every evaluated model and baseline."""

from cantaor.io import atomic_path, write_text
from cantaor.training_job import results_frame, results_table

p = snakemake.params
frame = results_frame(
    p.runs,
    snakemake.input.metrics,
    list(zip(p.baseline_runs, snakemake.input.baselines, strict=True)),
)
write_text(results_table(frame), snakemake.output.table)
with atomic_path(snakemake.output.csv) as tmp:
    frame.to_csv(tmp, index=False)
