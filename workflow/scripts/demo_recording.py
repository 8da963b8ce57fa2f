"""Snakemake glue: synthesise one demo recording and its ground truth."""

from cantaor.demo.corpus import write_demo_recording
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
log(f"synthesising {snakemake.wildcards.recording}: {p.demo}, seed {p.settings['seed']}")
write_demo_recording(
    wav_path=snakemake.output.audio,
    f0_path=snakemake.output.f0,
    motifs_path=snakemake.output.motifs,
    singer_index=p.demo["singer_index"],
    recording_index=p.demo["recording_index"],
    n_singers=p.settings["n_singers"],
    duration_s=p.demo["duration_s"],
    seed=p.settings["seed"],
    sample_rate=p.settings["sample_rate"],
    realistic_share=p.settings["realistic_share"],
)
log("done")
