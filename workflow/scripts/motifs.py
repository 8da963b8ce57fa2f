"""Snakemake glue: one singer's motif dictionary and its occurrences."""

from cantaor.config.settings import MiningSettings
from cantaor.mining.motifs import motifs_to_file
from cantaor.util.logs import line_logger

p = snakemake.params
motifs_to_file(
    dict(zip(p.recordings, snakemake.input.contours, strict=True)),
    snakemake.output.dictionary,
    snakemake.output.occurrences,
    singer=p.singer,
    settings=MiningSettings.from_params(p.mining),
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
