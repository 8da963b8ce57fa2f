"""Snakemake glue: the motif embedding of every item, from one trained model."""

from cantaor.evaluation.embeddings import run_embeddings
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
run_embeddings(
    model_path=snakemake.input.model,
    tensor_path=snakemake.input.tensor,
    index_path=snakemake.input.index,
    split_path=snakemake.input.split,
    embeddings_path=snakemake.output.embeddings,
    device=snakemake.params.train["device"],
    threads=snakemake.threads,
    log=log,
)
