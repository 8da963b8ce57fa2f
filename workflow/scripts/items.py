"""Snakemake glue: the items of one dataset."""

import pandas as pd
import soundfile

from cantaor.dataset.items import build_items, duration_drops
from cantaor.util.logs import line_logger
from cantaor.util.parquet import write_parquet

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
occurrences = pd.concat(
    [pd.read_parquet(path) for path in snakemake.input.occurrences], ignore_index=True
)
# Only recordings with motifs give items; a skipped (unreadable) recording has none.
with_motifs = set(occurrences["recording"])
durations = {
    recording: soundfile.info(path).duration
    for recording, path in p.corpus["audio_paths"].items()
    if recording in with_motifs
}
items = build_items(
    snakemake.wildcards.dataset,
    occurrences,
    p.corpus["groups"],
    recording_durations=durations,
    seed=p.dataset_options["seed"],
    segment_s=p.dataset_options["segment_s"],
    avoid_motifs=p.dataset_options["avoid_motifs"],
    min_duration_s=p.features["min_duration_s"],
)
for recording, missing in items.attrs.get("shortfall", {}).items():
    log(f"{recording}: {missing} random spans found no room outside the motifs and were left out")
write_parquet(items, snakemake.output.item_table)
log(f"{len(occurrences)} occurrences, {len(items)} {snakemake.wildcards.dataset} items")
for singer, count in items.groupby("singer").size().items():
    log(f"  {singer}: {count} items")
drops, warnings = duration_drops(
    occurrences["singer"],
    occurrences["duration_s"] < p.features["min_duration_s"],
    min_duration_s=p.features["min_duration_s"],
    max_dropped_share=p.features["max_dropped_share"],
)
for row in drops.itertuples():
    log(
        f"  {row.singer}: {row.n_dropped} of {row.n_items} motif occurrences "
        f"({row.dropped_share:.1%}) shorter than features.min_duration_s = "
        f"{p.features['min_duration_s']} s, dropped"
    )
for warning in warnings:
    log(f"WARNING: {warning}")
