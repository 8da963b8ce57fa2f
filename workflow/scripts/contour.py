"""Snakemake glue: phrases and contour symbols of one recording."""

import json

import numpy as np
import pandas as pd

from cantaor.contour import contour_symbols, segment_phrases
from cantaor.io import write_parquet
from cantaor.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
f0 = pd.read_parquet(snakemake.input.f0)
with open(snakemake.input.clusters, encoding="utf-8") as handle:
    centers_cents = np.asarray(json.load(handle)["centers_cents"])
phrase = segment_phrases(
    f0["time_s"].to_numpy(),
    f0["voiced"].to_numpy(),
    min_gap_s=p.min_gap_s,
    min_phrase_s=p.min_phrase_s,
)
symbols = contour_symbols(
    f0["time_s"].to_numpy(),
    f0["pitch_cents"].to_numpy(),
    phrase,
    centers_cents=centers_cents,
    smooth_s=p.smooth_s,
    min_segment_s=p.min_segment_s,
    thresholds_cents=p.interval_thresholds_cents,
)
write_parquet(symbols, snakemake.output.contour)
log(f"{int(phrase.max()) + 1} phrases, {len(symbols)} symbols")
