"""Snakemake glue: the speaker-encoder baseline of one dataset on one split."""

from cantaor.evaluation.speaker import run_speaker_baseline
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
run_speaker_baseline(
    dataset=snakemake.wildcards.dataset,
    index_path=snakemake.input.index,
    split_path=snakemake.input.split,
    embedding_paths=snakemake.input.embeddings,
    metrics_path=snakemake.output.metrics,
    markdown_path=snakemake.output.markdown,
    predictions_path=snakemake.output.predictions,
    title=snakemake.params.title,
    seed=snakemake.params.train["seed"],
    log=log,
)
