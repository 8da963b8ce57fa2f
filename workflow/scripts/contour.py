"""Snakemake glue: phrases, line segments and contour symbols of one recording."""

import json

import numpy as np
import pandas as pd

from cantaor.contour.symbols import contour_segments, segment_phrases, symbols_from_segments
from cantaor.util.logs import line_logger
from cantaor.util.parquet import write_parquet

log = line_logger(snakemake.log[0], capture_stderr=True)
c = snakemake.params.contour
f0 = pd.read_parquet(snakemake.input.f0)
with open(snakemake.input.clusters, encoding="utf-8") as handle:
    clusters = json.load(handle)
phrase = segment_phrases(
    f0["time_s"].to_numpy(),
    f0["voiced"].to_numpy(),
    min_gap_s=c["min_gap_s"],
    min_phrase_s=c["min_phrase_s"],
)
segments = contour_segments(
    f0["time_s"].to_numpy(),
    f0["pitch_cents"].to_numpy(),
    phrase,
    method=clusters["method"],
    centers_cents=np.asarray(clusters["centers_cents"]) if clusters["centers_cents"] else None,
    band_cents=c["band_cents"],
    smooth_s=c["smooth_s"],
    min_segment_s=c["min_segment_s"],
)
symbols = symbols_from_segments(segments, thresholds_cents=c["interval_thresholds_cents"])
write_parquet(segments, snakemake.output.segments)
write_parquet(symbols, snakemake.output.contour)
log(
    f"{clusters['method']}: {len(set(phrase[phrase >= 0]))} phrases "
    f"(min_gap_s={c['min_gap_s']}, min_phrase_s={c['min_phrase_s']}), {len(segments)} segments, "
    f"{len(symbols)} symbols"
)
