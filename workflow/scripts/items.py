"""Snakemake glue: the items of one dataset."""

import pandas as pd

from cantaor.datasets import motif_items
from cantaor.io import write_parquet
from cantaor.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
occurrences = pd.concat(
    [pd.read_parquet(path) for path in snakemake.input.occurrences], ignore_index=True
)
items = motif_items(occurrences, p.groups, min_duration_s=p.min_duration_s)
write_parquet(items, snakemake.output.item_table)
log(f"{len(occurrences)} occurrences, {len(items)} items of at least {p.min_duration_s} s")
for singer, count in items.groupby("singer").size().items():
    log(f"  {singer}: {count} items")
