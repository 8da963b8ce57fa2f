"""Snakemake glue: the feature store of the pre-cut clips, for one feature."""

import pandas as pd

from cantaor.features import build_clip_store
from cantaor.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
items = pd.read_parquet(snakemake.input.item_table)
log(f"{len(items)} clips, {snakemake.wildcards.feature}, {p.n_frames} frames, {p.dtype}")
build_clip_store(
    items,
    tensor_path=snakemake.output.tensor,
    index_path=snakemake.output.index,
    n_frames=p.n_frames,
    sample_rate=p.sample_rate,
    win_s=p.win_s,
    hop_s=p.hop_s,
    n_fft=p.n_fft,
    n_mels=p.n_mels,
    kind=snakemake.wildcards.feature,
    n_mfcc=p.n_mfcc,
    spectrogram_n_fft=p.spectrogram_n_fft,
    pad_bins_to=p.pad_bins_to,
    dtype=p.dtype,
    log=log,
)
log("done")
