"""Snakemake glue: test-set probabilities of one trained model."""

from cantaor.logs import line_logger
from cantaor.training_job import run_prediction

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
