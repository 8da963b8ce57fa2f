"""Snakemake glue: train / validation / test subsets of one dataset, and leakage diagnostics."""

import pandas as pd

from cantaor.dataset.split import split_dataset
from cantaor.util.atomic import write_json, write_text
from cantaor.util.logs import line_logger
from cantaor.util.parquet import write_parquet

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
index = pd.read_parquet(snakemake.input.index)
subsets, report, markdown = split_dataset(
    index,
    p.strategy,
    test_fraction=p.split["test_fraction"],
    validation_fraction=p.split["validation_fraction"],
    seed=p.split["seed"],
    groups=p.split["groups"],
    untestable=p.split["untestable"],
    deduplicate=p.split["deduplicate"],
    folds=p.folds,
    recording_folds=p.recording_folds,
)
write_parquet(subsets, snakemake.output.split)
write_json(report, snakemake.output.leakage)
write_text(markdown, snakemake.output.leakage_md)
counts = subsets.merge(index[["item_id", "singer"]]).groupby(["subset", "singer"]).size()
log(
    f"split {p.strategy}, groups {p.split['groups']}, deduplicated {report['deduplicated']}:\n"
    f"{counts.to_string()}"
)
lost = report["split_units"]["singers_without_items"]
if lost:
    log(f"WARNING: no item of {', '.join(lost)} is left after deduplication")
for singer, reason in report["untestable_reasons"].items():
    log(f"singer {singer} is not tested: {reason}")
