"""Same seeds, same answer: two demo runs on the CPU give byte-identical files and metrics.

Each stochastic stage has its own seed (see RELIABILITY.md): ``demo.seed`` makes the
corpus, ``contour.seed`` starts k-means, ``dataset_options.seed`` places random spans,
``split.seed`` draws the split and ``train.seed`` initialises and shuffles training.
The mini run here (one dataset, split, feature and model) is shared with
``test_interrupt.py`` through :func:`mini_run`, and that module's run is reused here.
"""

import json
import re
import shutil

import pandas as pd
import pytest
import yaml
from test_workflow import snakemake, write_config

import cantaor
from cantaor.util.provenance import parquet_versions

pytestmark = pytest.mark.workflow

RUN = "motifs/group/logmel/residual_blstm"
METRICS = f"results/evaluation/{RUN}/metrics.json"
MINI = {
    "datasets": ["motifs"],
    "split": {"strategies": ["group"]},
    "features": {"kinds": ["logmel"]},
    # patience = epochs: every epoch runs, so an interruption has epochs left to resume
    "train": {"models": ["residual_blstm"], "epochs": 6, "patience": 6},
}
# Files each stage writes from the corpus to the contours and motifs.
DETERMINISTIC = [
    "results/demo/audio/*.wav",
    "results/f0/*.parquet",
    "results/contour/clusters.json",
    "results/contour/*.parquet",
    "results/motifs/*",
    "results/features/motifs/*",
    "results/split/motifs.group.parquet",
    f"results/models/{RUN}/predictions.parquet",
    METRICS,
]


FINISHED = "finished.marker"
INTERRUPTED_RUN = "interrupted_run"


def write_mini_config(workdir, **overrides):
    return write_config(workdir, **MINI, **overrides)


def mini_run(tmp_path_factory, name):
    """A finished mini run in the session's base temp folder, made once per session."""
    workdir = tmp_path_factory.getbasetemp() / name
    finished = workdir / FINISHED
    if not finished.exists():
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        write_mini_config(workdir)
        snakemake(workdir, METRICS)
        finished.touch()
    return workdir


def planned_jobs(workdir, *targets):
    """{rule: count} that a dry run for ``targets`` would execute."""
    output = snakemake(workdir, "--dry-run", *targets).stdout
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1]
    return {
        match[1]: int(match[2])
        for match in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.MULTILINE)
        if match[1] != "total"
    }


def files_of(workdir, patterns=DETERMINISTIC):
    """{relative path: bytes} of the files matching ``patterns``."""
    return {
        str(path.relative_to(workdir)): path.read_bytes()
        for pattern in patterns
        for path in sorted(workdir.glob(pattern))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The reference run and a second run with the same seeds.

    When test_interrupt.py has already finished its killed-and-rerun mini run in this
    session, that run is the second one (it must match just as well); otherwise a
    plain second run is made.
    """
    reference = mini_run(tmp_path_factory, "reference_run")
    interrupted = tmp_path_factory.getbasetemp() / INTERRUPTED_RUN
    if (interrupted / FINISHED).exists():
        return reference, interrupted
    return reference, mini_run(tmp_path_factory, "second_run")


def test_same_seeds_give_byte_identical_files_and_metrics(two_runs):
    first, second = files_of(two_runs[0]), files_of(two_runs[1])
    assert len(first) > 20 and sorted(first) == sorted(second)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
    assert any(name.startswith("results/contour/") for name in first)
    assert any(name.endswith(".dictionary.tsv") for name in first)


def test_versions_are_recorded_with_the_metrics(two_runs):
    metrics = json.loads((two_runs[0] / METRICS).read_text())
    versions = metrics["versions"]
    assert versions["cantaor"] == cantaor.__version__
    assert {"torch", "numpy", "librosa", "essentia", "scikit-learn", "pandas"} <= set(versions)
    assert all(isinstance(value, str) and value for value in versions.values())
    # Every parquet result carries them too.
    tables = sorted((two_runs[0] / "results").rglob("*.parquet"))
    assert len(tables) > 10
    for path in tables:
        assert parquet_versions(path) == versions, path


def _copy(workdir, target):
    shutil.copytree(workdir, target, symlinks=True)
    return target


def test_another_train_seed_retrains_and_changes_the_metrics(two_runs, tmp_path):
    workdir = _copy(two_runs[1], tmp_path / "run")
    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    config["train"]["seed"] += 1
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    assert planned_jobs(workdir, METRICS) == {"train": 1, "predict": 1, "evaluate": 1}
    snakemake(workdir, METRICS)
    before = pd.read_parquet(two_runs[1] / f"results/models/{RUN}/predictions.parquet")
    after = pd.read_parquet(workdir / f"results/models/{RUN}/predictions.parquet")
    probabilities = [column for column in before.columns if column.startswith("p:")]
    assert probabilities, before.columns
    assert not before[probabilities].equals(after[probabilities])
    assert json.loads((workdir / METRICS).read_text()) != json.loads(
        (two_runs[1] / METRICS).read_text()
    )
    unchanged = ["results/contour/*.parquet", "results/motifs/*"]
    assert files_of(workdir, unchanged) == files_of(two_runs[1], unchanged)


def test_another_demo_seed_reruns_everything(two_runs, tmp_path):
    """demo.seed makes another corpus (tests/test_demo.py checks the audio differs)."""
    workdir = _copy(two_runs[1], tmp_path / "run")
    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    config["demo"]["seed"] += 1
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    jobs = planned_jobs(workdir, METRICS)
    assert jobs["demo_recording"] == 6 and jobs["f0"] == 6 and jobs["train"] == 1
