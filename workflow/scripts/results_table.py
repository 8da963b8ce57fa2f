"""Snakemake glue: one markdown table of every evaluated model."""

from cantaor.io import write_text
from cantaor.training_job import results_table

write_text(results_table(snakemake.params.runs, snakemake.input.metrics), snakemake.output.table)
