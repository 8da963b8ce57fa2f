"""Snakemake glue: f0 of one recording."""

from cantaor.io import load_audio, write_parquet
from cantaor.logs import line_logger
from cantaor.pitch import extract_f0

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
audio, sample_rate = load_audio(snakemake.input.audio, sample_rate=p.sample_rate)
log(
    f"{snakemake.input.audio}: {audio.size / sample_rate:.1f} s at {sample_rate} Hz, "
    f"method {p.method}"
)
table = extract_f0(
    audio,
    sample_rate=sample_rate,
    method=p.method,
    hop_length=p.hop_length,
    frame_length=p.frame_length,
    fmin_hz=p.fmin_hz,
    fmax_hz=p.fmax_hz,
    reference_hz=p.reference_hz,
    voicing_tolerance=p.voicing_tolerance,
)
write_parquet(table, snakemake.output.f0)
log(f"{len(table)} frames, {int(table['voiced'].sum())} voiced")
