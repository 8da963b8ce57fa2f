"""SIGINT and SIGTERM stop a job's script, and a SIGINT to Snakemake alone stops its jobs."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"


def _wait_for(condition, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has ended; only its parent has not collected it yet
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


SCRIPT = """
import sys, time
from cantaor.util.interrupt import exit_on_signals
exit_on_signals(lambda line: print(line, flush=True))
try:
    print("ready", flush=True)
    time.sleep(120)
finally:
    open(sys.argv[1], "w").write("cleaned up")
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_script_stops_cleanly_even_when_it_inherited_sigint_ignored(tmp_path, signum):
    marker = tmp_path / "marker"
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(marker)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        # a job of a run started in the background (`snakemake ... &`) inherits this
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signum)
    output, _ = process.communicate(timeout=20)
    assert process.returncode != 0
    assert f"stopped by {signal.Signals(signum).name}" in output
    assert marker.read_text() == "cleaned up"


SNAKEFILE = """
import sys
sys.path.insert(0, {src!r})
from cantaor.util.jobcontrol import stop_jobs_on_interrupt
if {install}:
    stop_jobs_on_interrupt()

rule long:
    output: "done.txt"
    log: "long.log"
    script: "long.py"
"""

JOB = """
import os, time
from cantaor.util.interrupt import exit_on_signals
exit_on_signals()
open("job.pid", "w").write(str(os.getpid()))
time.sleep(120)
open(snakemake.output[0], "w").write("finished")
"""


def _start_snakemake(workdir, install):
    (workdir / "Snakefile").write_text(
        textwrap.dedent(SNAKEFILE.format(src=str(SRC), install=install))
    )
    (workdir / "long.py").write_text(textwrap.dedent(JOB))
    process = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1", "-d", str(workdir)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        start_new_session=True,  # signals go to Snakemake alone, not to a group
        # Snakemake as started from a terminal: a test run launched in the background
        # (`pytest &`, some CI runners) would otherwise pass SIGINT on ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    pid_file = workdir / "job.pid"
    _wait_for(lambda: pid_file.exists() and pid_file.read_text(), 120, "the job to start")
    return process, int(pid_file.read_text())


@pytest.mark.workflow
def test_sigint_to_snakemake_alone_stops_the_running_job(tmp_path):
    process, job = _start_snakemake(tmp_path, install=True)
    process.send_signal(signal.SIGINT)
    _wait_for(lambda: not _alive(job), 20, "the job to stop")
    assert process.wait(timeout=60) != 0
    assert not (tmp_path / "done.txt").exists()


@pytest.mark.workflow
def test_without_it_snakemake_waits_for_the_job(tmp_path):
    # The behaviour stop_jobs_on_interrupt fixes: the job outlives the SIGINT.
    process, job = _start_snakemake(tmp_path, install=False)
    try:
        process.send_signal(signal.SIGINT)
        time.sleep(5)
        assert _alive(job) and process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        if _alive(job):
            os.kill(job, signal.SIGKILL)
        process.wait(timeout=30)
