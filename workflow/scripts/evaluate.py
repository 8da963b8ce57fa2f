"""Snakemake glue: metrics of one model's test predictions."""

from cantaor.evaluation.results import run_evaluation
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
run_evaluation(
    predictions_path=snakemake.input.predictions,
    metrics_path=snakemake.output.metrics,
    markdown_path=snakemake.output.markdown,
    title=snakemake.params.title,
    log=log,
)
