"""Snakemake glue: mean and sd over the folds of every k-fold run (markdown and csv)."""

from cantaor.dataset.split import fold_summary, fold_summary_markdown
from cantaor.evaluation.results import results_frame
from cantaor.util.atomic import atomic_path, write_text
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
frame = results_frame(
    p.runs,
    snakemake.input.metrics,
    list(zip(p.baseline_runs, snakemake.input.baselines, strict=True)),
)
summary = fold_summary(frame)
write_text(fold_summary_markdown(summary), snakemake.output.table)
with atomic_path(snakemake.output.csv) as tmp:
    summary.to_csv(tmp, index=False)
log(f"{len(frame)} fold results, {len(summary)} summary rows")
