"""Snakemake glue: the items of one dataset."""

import pandas as pd
import soundfile

from cantaor.datasets import build_items
from cantaor.io import write_parquet
from cantaor.logs import line_logger

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
