"""Snakemake glue: f0 of one recording, with the bad-recording policy."""

from cantaor.pitch.f0 import CLIPPING_WARNING, f0_arguments, f0_of_file
from cantaor.pitch.quality import quality_warnings
from cantaor.util.atomic import write_json
from cantaor.util.logs import line_logger
from cantaor.util.parquet import write_parquet

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
table, status = f0_of_file(
    snakemake.input.audio,
    sample_rate=p.f0["sample_rate"],
    on_bad_recording=p.corpus["on_bad_recording"],
    second_opinion=p.quality["second_opinion"],
    **f0_arguments(p.f0, num_threads=snakemake.threads),
)
status["recording"] = snakemake.wildcards.recording
write_parquet(table, snakemake.output.f0)
write_json(status, snakemake.output.status)
if status["status"] == "skipped":
    log(f"SKIPPED: {status['reason']}")
else:
    if status["clipped_share"] > CLIPPING_WARNING:
        log(
            f"WARNING: {snakemake.input.audio}: {100 * status['clipped_share']:.2f}% of the "
            "samples are clipped (flat at full scale); pitch is tracked on the clipped wave"
        )
    log(
        f"{snakemake.input.audio}: {status['duration_s']:.1f} s, method {p.f0['method']}, "
        f"{len(table)} frames, {status['voiced_frames']} voiced"
    )
    quality = status["quality"]
    log(
        f"quality: voiced share {quality['voiced_share']:.3f}, "
        f"{quality['jump_rate']:.2f} jumps per voiced s, "
        f"disagreement with the second opinion ({p.quality['second_opinion']}) "
        f"{quality['disagreement']:.3f}, "
        f"on its harmonics {quality['harmonic_share']:.3f}"
    )
    for warning in quality_warnings(quality, p.quality):
        log(f"WARNING: {snakemake.input.audio}: f0 looks wrong: {warning}")
