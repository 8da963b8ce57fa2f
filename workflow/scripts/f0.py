"""Snakemake glue: f0 of one recording, with the bad-recording policy."""

from cantaor.io import write_json, write_parquet
from cantaor.logs import line_logger
from cantaor.pitch import f0_of_file

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
table, status = f0_of_file(
    snakemake.input.audio,
    sample_rate=p.sample_rate,
    on_bad_recording=p.on_bad_recording,
    method=p.method,
    hop_length=p.hop_length,
    frame_length=p.frame_length,
    fmin_hz=p.fmin_hz,
    fmax_hz=p.fmax_hz,
    reference_hz=p.reference_hz,
    voicing_tolerance=p.voicing_tolerance,
    chunk_s=p.chunk_s,
    chunk_overlap_s=p.chunk_overlap_s,
    crepe_model=p.crepe["model"],
    crepe_batch_size=p.crepe["batch_size"],
    crepe_viterbi=p.crepe["viterbi"],
    crepe_refine=p.crepe["refine"],
    crepe_precision=p.crepe["precision"],
    confidence_threshold=p.crepe["confidence_threshold"],
    device=p.crepe["device"],
    num_threads=snakemake.threads,
)
status["recording"] = snakemake.wildcards.recording
write_parquet(table, snakemake.output.f0)
write_json(status, snakemake.output.status)
if status["status"] == "skipped":
    log(f"SKIPPED: {status['reason']}")
else:
    log(
        f"{snakemake.input.audio}: {status['duration_s']:.1f} s, method {p.method}, "
        f"{len(table)} frames, {status['voiced_frames']} voiced"
    )
