"""Snakemake glue: the items of one dataset (cantaor.dataset.items.items_to_file)."""

from cantaor.config.settings import DatasetOptionsSettings, FeaturesSettings
from cantaor.dataset.items import items_to_file
from cantaor.util.logs import line_logger

p = snakemake.params
items_to_file(
    snakemake.wildcards.dataset,
    snakemake.input.occurrences,
    snakemake.output.item_table,
    audio_paths=p.corpus["audio_paths"],
    groups=p.corpus["groups"],
    options=DatasetOptionsSettings.from_params(p.dataset_options),
    features=FeaturesSettings.from_params(p.features),
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
