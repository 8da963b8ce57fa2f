"""Snakemake glue: test-set probabilities of one trained model."""

from cantaor.training.jobs import run_prediction
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
run_prediction(
    model_path=snakemake.input.model,
    tensor_path=snakemake.input.tensor,
    index_path=snakemake.input.index,
    split_path=snakemake.input.split,
    predictions_path=snakemake.output.predictions,
    device=snakemake.params.train["device"],
    threads=snakemake.threads,
    log=log,
)
