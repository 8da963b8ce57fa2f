"""Snakemake glue: the f0 quality of every recording, with its warnings."""

from cantaor.config.settings import F0QualitySettings, F0Settings
from cantaor.pitch.quality import quality_to_file
from cantaor.util.logs import line_logger

p = snakemake.params
quality_to_file(
    snakemake.input.status,
    snakemake.output.table,
    snakemake.output.tsv,
    singers=p.singers,
    limits=F0QualitySettings.from_params(p.f0_quality),
    method=F0Settings.from_params(p.f0).method,
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
