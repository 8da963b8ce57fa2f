"""Snakemake glue: calibrate one model's open-set rejection rule and measure its errors."""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from cantaor.evaluation.openset import open_set_markdown, recording_roles, run_open_set
from cantaor.identify.modeldir import export_model_dir, load_model_dir
from cantaor.identify.recording import identify_recording
from cantaor.util.atomic import write_json, write_text
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
w = snakemake.wildcards
f0_paths = dict(zip(p.recordings, snakemake.input.f0, strict=True))
audio_paths = p.corpus["audio_paths"]
sample_rate = int(p.config["f0"]["sample_rate"])
index = pd.read_parquet(snakemake.input.index)
split = pd.read_parquet(snakemake.input.split)
roles = recording_roles(index, split)
log(f"recordings by role: {roles.groupby('role').size().to_dict()}")

with tempfile.TemporaryDirectory(prefix="open-set-") as scratch:
    scratch = Path(scratch)
    model_dir = load_model_dir(
        export_model_dir(
            scratch / "model",
            model_path=snakemake.input.model,
            clusters_path=snakemake.input.clusters,
            dictionary_paths=dict(zip(p.singers, snakemake.input.dictionaries, strict=True)),
            config=p.config,
            dataset=w.dataset,
            feature=w.feature,
            model_name=w.model,
        )
    )

    def identify(source, name):
        if isinstance(source, str):  # a recording of the corpus, with its f0 table
            return identify_recording(
                audio_paths[source],
                model_dir,
                rejection=None,
                f0=pd.read_parquet(f0_paths[source]),
            )
        path = scratch / f"{name}.wav"
        soundfile.write(path, source, sample_rate, subtype="FLOAT")
        return identify_recording(path, model_dir, rejection=None)

    durations = [soundfile.info(audio_paths[r]).duration for r in roles["recording"]]
    report = run_open_set(
        identify,
        recordings=roles,
        n_singers=len(model_dir.singers),
        duration_s=float(np.clip(np.median(durations) if durations else 10.0, 5.0, 30.0)),
        sample_rate=sample_rate,
    )

write_json(report["rule"], snakemake.output.rule)
write_json(report, snakemake.output.report)
write_text(open_set_markdown(report, p.title), snakemake.output.markdown)
rates = report["evaluation"]
log(
    f"rule {report['rule']}; false rejection {rates['false_rejection']}; "
    f"noise acceptance {rates['noise_acceptance']}"
)
