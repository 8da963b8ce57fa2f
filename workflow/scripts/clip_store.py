"""Snakemake glue: the feature store of the pre-cut clips, for one feature."""

from cantaor.config.settings import FeaturesSettings
from cantaor.features.files import clip_store_to_file
from cantaor.util.logs import line_logger

clip_store_to_file(
    snakemake.input.item_table,
    snakemake.output.tensor,
    snakemake.output.index,
    kind=snakemake.wildcards.feature,
    settings=FeaturesSettings.from_params(snakemake.params.features),
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
