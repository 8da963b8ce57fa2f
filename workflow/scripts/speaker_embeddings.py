"""Snakemake glue: speaker-encoder embeddings of one recording's items, every dataset."""

from cantaor.evaluation.speaker import run_speaker_embeddings
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
run_speaker_embeddings(
    index_paths={dataset: snakemake.input[dataset] for dataset in snakemake.params.datasets},
    audio_path=snakemake.input.audio,
    recording=snakemake.wildcards.recording,
    output_path=snakemake.output.embeddings,
    threads=snakemake.threads,
    log=log,
)
