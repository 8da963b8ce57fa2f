"""Snakemake glue: the items of a folder (or table) of pre-cut clips, and their report."""

from cantaor.config.settings import CorpusSettings, FeaturesSettings, SplitSettings
from cantaor.dataset.clips import clip_items_to_file
from cantaor.util.logs import line_logger

p = snakemake.params
clip_items_to_file(
    snakemake.output.item_table,
    snakemake.output.report,
    snakemake.output.markdown,
    corpus=CorpusSettings.from_params(p.corpus),
    features=FeaturesSettings.from_params(p.features),
    deduplicate=SplitSettings.from_params(p.split).deduplicate,
    log=line_logger(snakemake.log[0], capture_stderr=True),
)
