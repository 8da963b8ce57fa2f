import os
import re
import sys
from pathlib import Path

from snakemake.utils import validate

# The package lives in src/: make it importable here and in every job's script
# (a variable the workflow sets for its jobs, not one it needs from the user).
SRC_DIR = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC_DIR)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        [SRC_DIR] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
)

import pandas as pd

from cantaor.dataset.clips import (
    ClipError,
    read_clip_table,
    scan_clip_folder,
    select_singers,
    write_clip_manifest,
)
from cantaor.config.check import ConfigError, check_config, corpus_problems
from cantaor.demo.corpus import SINGER_PREFIX, demo_sample_sheet
from cantaor.demo.f0_accuracy import evaluation_recordings
from cantaor.util.jobcontrol import stop_jobs_on_interrupt
from cantaor.util.names import singer_path_name
from cantaor.dataset.samplesheet import SampleSheetError, load_schema, read_sample_sheet
from cantaor.dataset.split import split_names

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"

# A SIGINT to Snakemake alone stops the running jobs too (its local executor
# would otherwise wait for them to end): cantaor.util.jobcontrol.
stop_jobs_on_interrupt()

validate(config, schema=str(SCHEMAS / "config.schema.yaml"))
# What the schema cannot say: constraints between keys (cantaor.config.check).
try:
    check_config(config)
except ConfigError as err:
    raise WorkflowError(str(err)) from None


def _load_samples():
    if config["corpus"]["source"] == "clips":
        # Pre-cut clips (workflow/rules/clips.smk): no whole recordings to analyse.
        return pd.DataFrame(columns=["recording_id", "singer", "path", "group"])
    if config["corpus"]["source"] == "demo":
        demo = config["demo"]
        return demo_sample_sheet(
            n_singers=demo["n_singers"],
            recordings_per_singer=demo["recordings_per_singer"],
            min_duration_s=demo["min_duration_s"],
            max_duration_s=demo["max_duration_s"],
            seed=demo["seed"],
            audio_dir="results/demo/audio",
        ).set_index("recording_id", drop=False)
    try:
        return read_sample_sheet(
            config["corpus"]["samplesheet"],
            schema=load_schema(SCHEMAS / "recordings.schema.yaml"),
            singers=config["corpus"]["singers"] or None,
        )
    except SampleSheetError as err:
        raise WorkflowError(str(err)) from None


samples = _load_samples()
RECORDINGS = sorted(samples["recording_id"])
SINGERS = sorted(samples["singer"].unique())
# A singer label is text (Camarón, José Mercé); its files use a safe name.
SINGER_NAMES = [singer_path_name(singer) for singer in SINGERS]
SINGER_OF_NAME = dict(zip(SINGER_NAMES, SINGERS))

if config["corpus"]["source"] != "clips":
    _problems = corpus_problems(SINGERS, source=config["corpus"]["source"])
    if _problems:
        raise WorkflowError("\n".join(_problems))

_recordings_per_singer = samples.groupby("singer").size()
_too_few = _recordings_per_singer[
    _recordings_per_singer < config["corpus"]["min_recordings_per_singer"]
]
if len(_too_few):
    raise WorkflowError(
        "singer(s) with fewer recordings than corpus.min_recordings_per_singer="
        f"{config['corpus']['min_recordings_per_singer']}: "
        + ", ".join(f"{singer} ({count})" for singer, count in _too_few.items())
    )


wildcard_constraints:
    recording="|".join(map(re.escape, RECORDINGS)),
    singer="|".join(map(re.escape, SINGER_NAMES)),
    dataset="[a-z_]+",
    feature="[a-z_]+",
    model="[a-z_0-9]+",
    split="group|random_paper|random|fold[0-9]+of[0-9]+",


def get_audio(wildcards):
    return samples.loc[wildcards.recording, "path"]


def get_demo_params(wildcards):
    row = samples.loc[wildcards.recording]
    return {
        "singer_index": int(row["singer"][len(SINGER_PREFIX) :]) - 1,
        "recording_index": int(wildcards.recording.rsplit("_R", 1)[1]) - 1,
        "duration_s": float(row["duration_s"]),
    }


def get_f0_accuracy_scores(wildcards=None):
    evaluation = config["f0_evaluation"]
    recordings = evaluation_recordings(
        samples["recording_id"].tolist(),
        samples["singer"].tolist(),
        max_recordings=evaluation["max_recordings"],
    )
    return expand(
        "results/f0_accuracy/{method}/{recording}.parquet",
        method=evaluation["methods"],
        recording=recordings,
    )


def get_f0_figure_truth(wildcards):
    # Only the demo corpus has a ground-truth f0 to draw beside the estimate.
    if config["corpus"]["source"] == "demo":
        return f"results/demo/truth/{wildcards.recording}.f0.parquet"
    return []


def get_singer_contours(wildcards):
    return expand(
        "results/contour/{recording}.parquet",
        recording=get_singer_recordings(wildcards),
    )


def get_singer_recordings_of(singer):
    return sorted(samples.loc[samples["singer"] == singer, "recording_id"])


def get_singer_recordings(wildcards):
    return get_singer_recordings_of(SINGER_OF_NAME[wildcards.singer])


def get_singer_label(wildcards):
    return SINGER_OF_NAME[wildcards.singer]


def get_audio_paths():
    return {recording: samples.loc[recording, "path"] for recording in RECORDINGS}


def get_recording_folds():
    # A sample-sheet fold column states the test fold of every recording's split group.
    if "fold" not in samples or not (samples["fold"] != "").any():
        return {}
    missing = samples.loc[samples["fold"] == "", "recording_id"]
    if len(missing):
        raise WorkflowError(
            f"{config['corpus']['samplesheet']}: the fold column is empty for "
            + ", ".join(missing)
            + "; give every recording a fold, or none"
        )
    return {
        rid: int(fold) for rid, fold in zip(samples["recording_id"], samples["fold"])
    }


def get_groups():
    return {recording: samples.loc[recording, "group"] for recording in RECORDINGS}


def get_split_index(wildcards):
    # Content hashes are taken at the feature sample rate, the same for every feature.
    feature = config["features"]["kinds"][0]
    return f"results/features/{wildcards.dataset}/{feature}.index.parquet"


def get_train_gpus():
    return 1 if config["train"]["gpu"] else 0


CLIP_MANIFEST = "results/clips/manifest.tsv"


def _clip_table():
    # Listed, and their names checked, before any job starts (like the sample sheet).
    corpus = config["corpus"]
    try:
        if corpus["clips_table"]:
            clips, _ = read_clip_table(
                corpus["clips_table"], on_bad=corpus["on_bad_recording"]
            )
        else:
            clips, _ = scan_clip_folder(
                corpus["clips_dir"], on_bad=corpus["on_bad_recording"]
            )
        clips, _ = select_singers(
            clips,
            corpus["singers"],
            source=corpus["clips_table"] or corpus["clips_dir"],
        )
    except ClipError as err:
        raise WorkflowError(str(err)) from None
    return clips


CLIPS = _clip_table() if config["corpus"]["source"] == "clips" else None


def get_clip_files():
    if CLIPS is None:
        return []
    write_clip_manifest(CLIPS, CLIP_MANIFEST)
    table = config["corpus"]["clips_table"]
    return [table, CLIP_MANIFEST] if table else [CLIP_MANIFEST]


def get_clip_folds():
    # A clips.tsv fold column states the test fold of every clip's split group.
    if CLIPS is None or "fold" not in CLIPS:
        return {}
    return dict(zip(CLIPS["clip_id"], CLIPS["fold"].astype(int)))


def get_datasets():
    if config["corpus"]["source"] == "clips":
        return ["clips"]
    return config["datasets"]


def get_splits():
    return split_names(config["split"]["strategies"], n_folds=config["split"]["folds"])


def get_runs():
    return [
        {
            "dataset": dataset,
            "feature": feature,
            "model": model,
            "split": split,
        }
        for dataset in get_datasets()
        for split in get_splits()
        for feature in config["features"]["kinds"]
        for model in config["train"]["models"]
    ]


def get_run_metrics(wildcards=None):
    return [
        "results/evaluation/{dataset}/{split}/{feature}/{model}/metrics.json".format(
            **run
        )
        for run in get_runs()
    ]


def get_dataset_splits():
    return [
        {"dataset": dataset, "split": split}
        for dataset in get_datasets()
        for split in get_splits()
    ]


def get_split_leakage(wildcards=None):
    return [
        "results/split/{dataset}.{split}.leakage.json".format(**entry)
        for entry in get_dataset_splits()
    ]


def get_baseline_runs():
    return [
        {"dataset": dataset, "feature": feature, "split": split}
        for dataset in get_datasets()
        for split in get_splits()
        for feature in config["features"]["kinds"]
    ]


def get_baseline_metrics(wildcards=None):
    return [
        "results/evaluation/{dataset}/{split}/{feature}/baselines.json".format(**run)
        for run in get_baseline_runs()
    ]


def _is_fold(run):
    return run["split"].startswith("fold")


def get_fold_runs():
    return [run for run in get_runs() if _is_fold(run)]


def get_fold_metrics(wildcards=None):
    return [
        "results/evaluation/{dataset}/{split}/{feature}/{model}/metrics.json".format(
            **run
        )
        for run in get_fold_runs()
    ]


def get_fold_baseline_runs():
    return [run for run in get_baseline_runs() if _is_fold(run)]


def get_fold_baseline_metrics(wildcards=None):
    return [
        "results/evaluation/{dataset}/{split}/{feature}/baselines.json".format(**run)
        for run in get_fold_baseline_runs()
    ]


def _sorted_mapping(value):
    if isinstance(value, dict):
        return {key: _sorted_mapping(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_mapping(item) for item in value]
    return value


def settings(section, keys=None, omit=()):
    """One stage's settings: config[section] (or its ``keys``) as ONE mapping.

    Each stage passes its settings this way, one named ``params`` entry per
    config section. Snakemake's params rerun trigger compares a job's params
    as a sorted list of values without their names (``persistence._params``);
    a mapping is recorded as its repr, keys included, so an edit that moves
    values between keys (``fmin_hz``/``fmax_hz`` swapped, ``min_support``
    2->3 with ``min_length`` 3->2) is still an edit. Keys are sorted so the
    order in config.yaml does not matter.
    """
    values = config[section]
    chosen = values if keys is None else {key: values[key] for key in keys}
    return _sorted_mapping({k: v for k, v in chosen.items() if k not in omit})


def get_model_options(wildcards):
    return _sorted_mapping(config["train"]["model_options"][wildcards.model])


#: The config sections a model directory records; the stage rules receive the
#: same sections (or the keys of them they read), so a model directory can only
#: state settings its files were built with.
EXPORT_SECTIONS = ("f0", "contour", "mining", "features", "dataset_options")


def get_export_config():
    # Only the sections a model directory records, so other edits do not re-export;
    # features.kinds says which stores to build, not how (adding one retrains nothing).
    return {
        section: settings(section, omit=("kinds",) if section == "features" else ())
        for section in EXPORT_SECTIONS
    }


def get_final_output():
    outputs = ["results/report/results.md"]
    if config["corpus"]["source"] != "clips":
        outputs += [
            "results/report/skipped_recordings.tsv",
            "results/report/f0_quality.md",
            "results/report/motifs_per_singer.md",
        ]
    outputs += expand(
        "results/split/{dataset}.{split}.leakage.md",
        dataset=get_datasets(),
        split=get_splits(),
    )
    if "kfold" in config["split"]["strategies"]:
        outputs += ["results/report/folds.md"]
    outputs += [
        "results/evaluation/{dataset}/{split}/{feature}/{model}/metrics.md".format(
            **run
        )
        for run in get_runs()
    ]
    # Report figures: the results grid, and per grid cell the training curves,
    # confusion matrices and embedding maps of its models.
    outputs += ["results/figures/results_grid.png"]
    outputs += [
        "results/figures/{dataset}/{split}/{feature}/{figure}.png".format(
            **run, figure=figure
        )
        for run in get_baseline_runs()
        for figure in ("training_curves", "confusion", "embedding_map")
    ]
    if config["corpus"]["source"] == "clips":
        # No recordings, motifs or contours: the clip report, leakage and scores.
        return outputs + ["results/clips/clips.md"]
    # Model directories for identification: from the first split (the honest one by default).
    exported = [run for run in get_runs() if run["split"] == get_splits()[0]]
    outputs += [
        "results/export/{dataset}/{split}/{feature}/{model}".format(**run)
        for run in exported
    ]
    # and the error rates of their open-set rejection rules
    outputs += [
        "results/evaluation/{dataset}/{split}/{feature}/{model}/open_set.md".format(
            **run
        )
        for run in exported
    ]
    # Figure 1 for the first recording of every singer.
    outputs += [
        f"results/figures/contour_{get_singer_recordings_of(singer)[0]}.png"
        for singer in SINGERS
    ]
    # f0 with voiced regions and phrases, for every recording.
    outputs += expand("results/figures/f0_{recording}.png", recording=RECORDINGS)
    # Motifs per singer as a chart (the paper's Table 1).
    outputs += ["results/figures/motifs_per_singer.png"]
    if config["corpus"]["source"] == "demo":
        outputs += ["results/demo/recordings.tsv", "results/recovery/motifs.md"]
        outputs += ["results/report/f0_accuracy.md"]
    return outputs
