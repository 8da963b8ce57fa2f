"""Snakemake glue: train one model on one feature store."""

from cantaor.interrupt import exit_on_signals
from cantaor.logs import line_logger
from cantaor.training_job import run_training

log = line_logger(snakemake.log[0], capture_stderr=True)
exit_on_signals(log)
p = snakemake.params
run_training(
    tensor_path=snakemake.input.tensor,
    index_path=snakemake.input.index,
    split_path=snakemake.input.split,
    model_path=snakemake.output.model,
    history_path=snakemake.output.history,
    model_name=snakemake.wildcards.model,
    model_options=p.model_options,
    epochs=p.epochs,
    batch_size=p.batch_size,
    learning_rate=p.learning_rate,
    patience=p.patience,
    seed=p.seed,
    bucket_by_length=p.bucket_by_length,
    device=p.device,
    mixed_precision=p.mixed_precision,
    threads=snakemake.threads,
    log=log,
)
