"""Snakemake glue: train / validation / test subsets of one dataset, and leakage diagnostics."""

import pandas as pd

from cantaor.io import write_json, write_parquet, write_text
from cantaor.leakage import assign_groups, deduplicate, leakage_markdown, leakage_report
from cantaor.logs import line_logger
from cantaor.split import parse_split_name, split_with_report

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
index = pd.read_parquet(snakemake.input.index)
kept, duplicates = deduplicate(index) if p.split["deduplicate"] else (index, None)
groups = assign_groups(kept) if p.split["groups"] == "components" else None
strategy = parse_split_name(p.strategy)
subsets, split_report = split_with_report(
    kept,
    **strategy,
    test_fraction=p.split["test_fraction"],
    validation_fraction=p.split["validation_fraction"],
    seed=p.split["seed"],
    groups=groups,
    untestable=p.split["untestable"],
)
# Items dropped as duplicates stay listed, outside every subset.
subsets = index[["item_id"]].merge(subsets, on="item_id", how="left").fillna({"subset": "excluded"})
write_parquet(subsets, snakemake.output.split)
report = leakage_report(index, subsets)
report["strategy"] = strategy["strategy"]
report["split_name"] = p.strategy
report["leaky_protocol"] = p.strategy == "random"
report["split_units"] = split_report
report["deduplication"] = duplicates
write_json(report, snakemake.output.leakage)
markdown = leakage_markdown(report)
if p.strategy == "random":
    markdown = (
        "**Random split (the paper's protocol): items of one recording, overlapping spans "
        "and identical clips fall on both sides; its scores are leaky and are kept for "
        "comparison only.**\n\n" + markdown
    )
write_text(markdown, snakemake.output.leakage_md)
counts = subsets.merge(index[["item_id", "singer"]]).groupby(["subset", "singer"]).size()
log(f"strategy {p.strategy}, groups {p.split['groups']}:\n{counts.to_string()}")
if split_report.get("untestable_singers"):
    log(f"singers with fewer than two groups, not tested: {split_report['untestable_singers']}")
