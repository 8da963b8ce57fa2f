"""Snakemake glue: phrases, line segments and contour symbols of one recording."""

from cantaor.config.settings import ContourSettings
from cantaor.contour.files import contour_to_file
from cantaor.util.logs import line_logger

contour_to_file(
    snakemake.input.f0,
    snakemake.input.clusters,
    snakemake.output.contour,
    snakemake.output.segments,
    settings=ContourSettings.from_params(snakemake.params.contour),
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
