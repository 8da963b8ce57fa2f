"""Snakemake glue: the feature store of one (dataset, feature)."""

from cantaor.config.settings import FeaturesSettings
from cantaor.features.files import feature_store_to_file
from cantaor.util.logs import line_logger

feature_store_to_file(
    snakemake.input.item_table,
    snakemake.output.tensor,
    snakemake.output.index,
    audio_paths=snakemake.params.corpus["audio_paths"],
    kind=snakemake.wildcards.feature,
    settings=FeaturesSettings.from_params(snakemake.params.features),
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
