"""Snakemake glue: the baselines of one (dataset, feature) on its split."""

from cantaor.evaluation.results import run_baseline_evaluation
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
run_baseline_evaluation(
    tensor_path=snakemake.input.tensor,
    index_path=snakemake.input.index,
    split_path=snakemake.input.split,
    metrics_path=snakemake.output.metrics,
    markdown_path=snakemake.output.markdown,
    title=snakemake.params.title,
    seed=snakemake.params.train["seed"],
    log=log,
)
