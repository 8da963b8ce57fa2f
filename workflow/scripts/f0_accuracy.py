"""Snakemake glue: one f0 backend on one demo recording, scored against the truth."""

import time

import pandas as pd

from cantaor.demo.f0_accuracy import score_recording
from cantaor.pitch.f0 import extract_f0, f0_arguments
from cantaor.util.audio import load_audio
from cantaor.util.logs import line_logger
from cantaor.util.parquet import write_parquet

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
method = snakemake.wildcards.method
f0 = p.f0
# The f0 settings as the f0 rule passes them (workflow/scripts/f0.py), but the method.
options = f0_arguments(f0, num_threads=snakemake.threads) | {"method": method}
audio, rate = load_audio(snakemake.input.audio, sample_rate=f0["sample_rate"])
started = time.perf_counter()
estimate = extract_f0(audio, sample_rate=rate, **options)
wall_s = time.perf_counter() - started
row = score_recording(
    pd.read_parquet(snakemake.input.truth),
    estimate,
    method=method,
    recording=snakemake.wildcards.recording,
    duration_s=audio.size / rate,
    wall_s=wall_s,
    cent_tolerance=p.f0_evaluation["cent_tolerance"],
)
write_parquet(row, snakemake.output.scores)
scores = row.iloc[0]
log(
    f"{method} on {snakemake.wildcards.recording}: {scores['duration_s']:.1f} s of audio in "
    f"{wall_s:.2f} s; RPA {scores['raw_pitch_accuracy']:.3f}, "
    f"RCA {scores['raw_chroma_accuracy']:.3f}, VR {scores['voicing_recall']:.3f}, "
    f"VFA {scores['voicing_false_alarm']:.3f}, OA {scores['overall_accuracy']:.3f}"
)
