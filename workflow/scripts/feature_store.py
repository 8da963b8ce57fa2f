"""Snakemake glue: the feature store of one (dataset, feature)."""

import pandas as pd

from cantaor.features.store import build_store
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
f = snakemake.params.features
items = pd.read_parquet(snakemake.input.item_table)
log(f"{len(items)} items, {snakemake.wildcards.feature}, {f['n_frames']} frames, {f['dtype']}")
build_store(
    items,
    snakemake.params.corpus["audio_paths"],
    tensor_path=snakemake.output.tensor,
    index_path=snakemake.output.index,
    kind=snakemake.wildcards.feature,
    log=log,
    # every features setting but kinds, min_duration_s and max_dropped_share (the rule's params)
    **f,
)
log("done")
