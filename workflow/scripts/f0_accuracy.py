"""Snakemake glue: one f0 backend on one demo recording, scored against the truth."""

import time

import pandas as pd

from cantaor.f0eval import score_recording
from cantaor.io import load_audio, write_parquet
from cantaor.logs import line_logger
from cantaor.pitch import extract_f0

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
method = snakemake.wildcards.method
f0, crepe = p.f0, p.f0["crepe"]
# The f0 settings as the f0 rule passes them (workflow/scripts/f0.py), but the method.
options = dict(
    hop_length=f0["hop_length"],
    frame_length=f0["frame_length"],
    fmin_hz=f0["fmin_hz"],
    fmax_hz=f0["fmax_hz"],
    reference_hz=f0["reference_hz"],
    voicing_tolerance=f0["voicing_tolerance"],
    chunk_s=f0["chunk_s"],
    chunk_overlap_s=f0["chunk_overlap_s"],
    crepe_model=crepe["model"],
    crepe_batch_size=crepe["batch_size"],
    crepe_viterbi=crepe["viterbi"],
    crepe_refine=crepe["refine"],
    crepe_precision=crepe["precision"],
    confidence_threshold=crepe["confidence_threshold"],
    device=crepe["device"],
    num_threads=snakemake.threads,
)
audio, rate = load_audio(snakemake.input.audio, sample_rate=f0["sample_rate"])
started = time.perf_counter()
estimate = extract_f0(audio, sample_rate=rate, method=method, **options)
wall_s = time.perf_counter() - started
row = score_recording(
    pd.read_parquet(snakemake.input.truth),
    estimate,
    method=method,
    recording=snakemake.wildcards.recording,
    duration_s=audio.size / rate,
    wall_s=wall_s,
    cent_tolerance=p.cent_tolerance,
)
write_parquet(row, snakemake.output.scores)
scores = row.iloc[0]
log(
    f"{method} on {snakemake.wildcards.recording}: {scores['duration_s']:.1f} s of audio in "
    f"{wall_s:.2f} s; RPA {scores['raw_pitch_accuracy']:.3f}, "
    f"RCA {scores['raw_chroma_accuracy']:.3f}, VR {scores['voicing_recall']:.3f}, "
    f"VFA {scores['voicing_false_alarm']:.3f}, OA {scores['overall_accuracy']:.3f}"
)
