"""A run killed with SIGKILL, during f0 extraction and again during training, then rerun
with ``--rerun-incomplete``, ends exactly as an uninterrupted run with the same seeds.

Training resumes from its last checkpoint: the checkpoint lives beside the model under
a hidden name that is no declared output, so Snakemake's removal of an incomplete job's
outputs leaves it in place.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_reproducibility import (
    FINISHED,
    INTERRUPTED_RUN,
    METRICS,
    RUN,
    files_of,
    mini_run,
    write_mini_config,
)
from test_workflow import snakemake

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = f"results/models/{RUN}"
TRAIN_LOG = f"results/logs/train/{RUN.replace('/', '.')}.log"


def _start(workdir, *args):
    """Snakemake in a process group of its own (its jobs inherit the group)."""
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
    return subprocess.Popen(
        [*command, "-d", str(workdir), "--cores", "2", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _kill_when(process, condition, *, timeout_s=300):
    """SIGKILL the whole process group as soon as ``condition()`` holds; wait until it is gone."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process.poll() is not None:
            pytest.fail("the run ended before the moment to kill it")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("the moment to kill the run never came")
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    while True:  # the jobs of the group die with it; wait until none is left
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _checkpoints(workdir):
    return sorted((workdir / MODEL_DIR).glob(".checkpoint-*.pt"))


def test_killed_twice_then_rerun_gives_the_uninterrupted_result(tmp_path_factory):
    reference = mini_run(tmp_path_factory, "reference_run")
    workdir = tmp_path_factory.getbasetemp() / INTERRUPTED_RUN  # reused by test_reproducibility
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    write_mini_config(workdir)
    f0_logs = workdir / "results/logs/f0"

    # 1. Killed while the first f0 jobs run (their log is opened once imports are done).
    _kill_when(_start(workdir, METRICS), lambda: f0_logs.is_dir() and any(f0_logs.iterdir()))
    started = {path.stem for path in f0_logs.iterdir()}
    finished = {path.stem for path in (workdir / "results/f0").glob("*.parquet")}
    assert started - finished, "no f0 job was interrupted"

    # 2. Rerun (a killed Snakemake leaves its lock), killed once a training checkpoint exists.
    snakemake(workdir, "--unlock")
    _kill_when(_start(workdir, "--rerun-incomplete", METRICS), lambda: _checkpoints(workdir))
    assert not (workdir / MODEL_DIR / "model.pt").exists(), "training ended before the kill"
    (checkpoint,) = _checkpoints(workdir)
    epoch = torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"]
    assert 1 <= epoch < 6

    # 3. Rerun to the end: training resumes after the checkpoint's epoch.
    snakemake(workdir, "--unlock")
    snakemake(workdir, "--rerun-incomplete", METRICS)
    log = (workdir / TRAIN_LOG).read_text()
    assert re.search(
        rf"resumed from \S*{re.escape(checkpoint.name)} after epoch {epoch} \(attempt 2, ", log
    )
    assert _checkpoints(workdir) == []  # removed once the model is saved

    assert json.loads((workdir / METRICS).read_text()) == json.loads(
        (reference / METRICS).read_text()
    )
    assert files_of(workdir) == files_of(reference)
    # No temporary file of a killed writer survives the rerun.
    leftovers = re.compile(r"\..+\.[a-z0-9_]{8}(\.\w+)?|.+\.tmp")
    assert [p for p in (workdir / "results").rglob("*") if leftovers.fullmatch(p.name)] == []
    (workdir / FINISHED).touch()
