"""Snakemake glue: train / validation / test subsets of one dataset."""

import pandas as pd

from cantaor.io import write_parquet
from cantaor.logs import line_logger
from cantaor.split import split_items

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
items = pd.read_parquet(snakemake.input.item_table)
subsets = split_items(
    items,
    strategy=p.strategy,
    test_fraction=p.test_fraction,
    validation_fraction=p.validation_fraction,
    seed=p.seed,
)
write_parquet(subsets, snakemake.output.split)
counts = subsets.merge(items[["item_id", "singer"]]).groupby(["subset", "singer"]).size()
log(f"strategy {p.strategy}:\n{counts.to_string()}")
