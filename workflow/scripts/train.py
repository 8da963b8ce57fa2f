"""Snakemake glue: train one model on one feature store."""

from cantaor.training.jobs import run_training
from cantaor.util.interrupt import exit_on_signals
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
exit_on_signals(log)
p = snakemake.params
t = p.train
run_training(
    tensor_path=snakemake.input.tensor,
    index_path=snakemake.input.index,
    split_path=snakemake.input.split,
    model_path=snakemake.output.model,
    history_path=snakemake.output.history,
    model_name=snakemake.wildcards.model,
    model_options=p.model_options,
    epochs=t["epochs"],
    batch_size=t["batch_size"],
    learning_rate=t["learning_rate"],
    patience=t["patience"],
    seed=t["seed"],
    bucket_by_length=t["bucket_by_length"],
    device=t["device"],
    mixed_precision=t["mixed_precision"],
    augmentation=t["augmentation"],
    recording_normalization=t["recording_normalization"],
    recording_adversary=t["recording_adversary"],
    feature=snakemake.wildcards.feature,
    hop_s=p.built_with["features"]["hop_s"],
    threads=snakemake.threads,
    built_with=p.built_with,
    log=log,
)
