"""Snakemake glue: k-means clusters of the corpus' cents values (k fixed or chosen)."""

from cantaor.config.settings import ContourSettings, F0Settings
from cantaor.contour.files import clusters_to_file
from cantaor.util.logs import line_logger

p = snakemake.params
clusters_to_file(
    snakemake.input.f0,
    snakemake.output.clusters,
    settings=ContourSettings.from_params(p.contour),
    reference_hz=F0Settings.from_params(p.f0).reference_hz,
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
