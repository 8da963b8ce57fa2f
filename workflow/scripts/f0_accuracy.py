"""Snakemake glue: one f0 backend on one demo recording, scored against the truth."""

from cantaor.config.settings import F0EvaluationSettings, F0Settings
from cantaor.demo.f0_accuracy import f0_accuracy_to_file
from cantaor.util.logs import line_logger

p = snakemake.params
f0_accuracy_to_file(
    snakemake.input.audio,
    snakemake.input.truth,
    snakemake.output.scores,
    method=snakemake.wildcards.method,
    recording=snakemake.wildcards.recording,
    settings=F0Settings.from_params(p.f0),
    cent_tolerance=F0EvaluationSettings.from_params(p.f0_evaluation).cent_tolerance,
    num_threads=snakemake.threads,
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
