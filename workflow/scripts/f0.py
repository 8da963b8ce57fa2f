"""Snakemake glue: f0 of one recording (cantaor.pitch.f0.f0_to_file)."""

from cantaor.config.settings import F0QualitySettings, F0Settings
from cantaor.pitch.f0 import f0_to_file
from cantaor.util.logs import line_logger

p = snakemake.params
f0_to_file(
    snakemake.input.audio,
    snakemake.output.f0,
    snakemake.output.status,
    recording=snakemake.wildcards.recording,
    settings=F0Settings.from_params(p.f0),
    on_bad_recording=p.corpus["on_bad_recording"],
    quality=F0QualitySettings.from_params(p.quality),
    num_threads=snakemake.threads,
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
