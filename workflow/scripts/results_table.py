"""Snakemake glue: one table (markdown and csv) of every evaluated model and baseline."""

import json

from cantaor.evaluation.results import results_frame, results_table
from cantaor.util.atomic import atomic_path, write_text

p = snakemake.params
frame = results_frame(
    p.runs,
    snakemake.input.metrics,
    list(zip(p.baseline_runs, snakemake.input.baselines, strict=True)),
)
splits = []
for entry, path in zip(p.splits, snakemake.input.leakage, strict=True):
    with open(path, encoding="utf-8") as handle:
        splits.append({**entry, "report": json.load(handle)})
write_text(results_table(frame, splits), snakemake.output.table)
with atomic_path(snakemake.output.csv) as tmp:
    frame.to_csv(tmp, index=False)
