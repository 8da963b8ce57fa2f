"""The numba cache race (numba issue 10128) cannot reach cantaor's processes.

See cantaor.util.jitcache.
"""

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cantaor.util import jitcache

WORKER = Path(__file__).with_name("jit_race_worker.py")


def _start(role, env):
    return subprocess.Popen(
        [sys.executable, str(WORKER), role],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(role, env):
    worker = _start(role, env)
    worker.wait(timeout=1800)
    return worker


def _shared_cache_without_localmin(directory):
    """A cache holding everything but ``localmin``, so only that pair is compiled."""
    shutil.copytree(
        jitcache.snapshot_dir(),
        directory,
        ignore=shutil.ignore_patterns("*_localmin*", "manifest.json"),
    )
    return directory


def _raced_cache(tmp_path):
    """The state the race leaves: A's ``localmin`` kernel beside B's wrapper.

    A and B each compile ``localmin`` into a cache of their own with the protection off;
    the files then meet in one directory as when both write to it at once (numba writes
    a gufunc's kernel and wrapper files separately).
    """
    caches = {}
    for role in ("A", "B"):
        cache = _shared_cache_without_localmin(tmp_path / role)
        worker = _run(role, {jitcache.UNSAFE_ENV: "1", "NUMBA_CACHE_DIR": str(cache)})
        assert worker.returncode == 0, worker.stderr.read()[-2000:]
        caches[role] = cache
    wrappers = sorted(caches["B"].rglob("guf-*_localmin*"))
    assert wrappers
    for wrapper in wrappers:
        shutil.copyfile(wrapper, caches["A"] / wrapper.relative_to(caches["B"]))
    return caches["A"]


def test_the_race_corrupts_a_shared_cache_when_the_protection_is_off(tmp_path):
    """Without the fix, the cache the race leaves segfaults every later reader."""
    raced = _raced_cache(tmp_path)
    reader = _run("read", {jitcache.UNSAFE_ENV: "1", "NUMBA_CACHE_DIR": str(raced)})
    assert reader.returncode < 0, (reader.returncode, reader.stderr.read()[-2000:])


def test_a_corrupted_cache_is_never_read(tmp_path):
    """With the fix, the same cache where numba would look (NUMBA_CACHE_DIR) is ignored."""
    raced = _raced_cache(tmp_path)
    before = {path: path.read_bytes() for path in raced.rglob("*") if path.is_file()}
    reader = _run("read", {"NUMBA_CACHE_DIR": str(raced)})
    assert reader.returncode == 0, reader.stderr.read()[-2000:]
    assert {path: path.read_bytes() for path in raced.rglob("*") if path.is_file()} == before


def test_compiling_processes_at_once_never_share_a_directory(tmp_path):
    """With the fix, processes of different compile orders started together on one
    NUMBA_CACHE_DIR neither write nor read it."""
    shared = _shared_cache_without_localmin(tmp_path / "shared")
    before = sorted(path.relative_to(shared) for path in shared.rglob("*"))
    workers = [_start(role, {"NUMBA_CACHE_DIR": str(shared)}) for role in ("A", "B", "A", "B")]
    for worker in workers:
        assert worker.wait(timeout=1800) == 0, worker.stderr.read()[-2000:]
    assert _run("read", {"NUMBA_CACHE_DIR": str(shared)}).returncode == 0
    assert sorted(path.relative_to(shared) for path in shared.rglob("*")) == before


def test_many_processes_on_an_empty_cache_build_one_snapshot(tmp_path):
    """A fresh machine: four processes start at once, one builds the snapshot, all succeed."""
    script = (
        "import logging\n"
        "import numpy as np\n"
        "from cantaor.features import acoustic as features\n"
        "from cantaor.pitch import f0 as pitch\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "t = np.arange(22050) / 22050\n"
        "audio = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)\n"
        "f0_hz = pitch.pyin(audio, sample_rate=22050)[1]\n"
        "mel = features.logmel(audio, sample_rate=22050)\n"
        "print(round(float(np.median(f0_hz[f0_hz > 0])), 1), mel.shape)\n"
    )
    env = {**os.environ, jitcache.ROOT_ENV: str(tmp_path / "cache")}

    def run(_):
        return subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900
        )

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    assert [result.returncode for result in results] == [0] * 4, [
        result.stderr[-1500:] for result in results
    ]
    assert len({result.stdout for result in results}) == 1
    median_hz, _ = results[0].stdout.split(" ", 1)
    assert abs(float(median_hz) - 220.0) < 2.0
    snapshots = [path for path in (tmp_path / "cache" / "numba").iterdir() if path.is_dir()]
    assert len(snapshots) == 1
    assert json.loads((snapshots[0] / "manifest.json").read_text())
    builds = sum("built the numba cache snapshot" in result.stderr for result in results)
    assert builds == 1


def test_a_damaged_snapshot_is_discarded(tmp_path, monkeypatch):
    copy = tmp_path / "numba" / "snapshot"
    shutil.copytree(jitcache.snapshot_dir(), copy)
    assert jitcache._verified(copy)
    victim = next(path for path in sorted(copy.rglob("*.nbc")))
    victim.write_bytes(victim.read_bytes()[:-7])
    assert not jitcache._verified(copy)
    assert not copy.exists()


def test_numba_points_at_a_private_directory():
    import numba

    cache_dir = Path(numba.config.CACHE_DIR)
    assert cache_dir.name.startswith(f"cantaor-numba-{os.getpid()}-")
    assert cache_dir == jitcache._state["private"]


@pytest.mark.parametrize("value, expected", [("", False), ("0", False), ("1", True)])
def test_the_unsafe_switch(monkeypatch, value, expected):
    monkeypatch.setenv(jitcache.UNSAFE_ENV, value)
    assert jitcache.unsafe_shared() is expected


def test_an_unwritable_cache_root_falls_back_to_compiling(tmp_path, monkeypatch, caplog):
    """A read-only home (cluster nodes): no snapshot, a warning, and no crash."""
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setenv(jitcache.ROOT_ENV, str(not_a_directory))
    monkeypatch.setitem(jitcache._state, "seeded", False)
    private = tmp_path / "private"
    private.mkdir()
    with caplog.at_level("WARNING", logger="cantaor.util.jitcache"):
        jitcache._seed(private)
    assert "set CANTAOR_CACHE_DIR to a writable directory" in caplog.text
    assert not any(private.iterdir())


def test_the_package_imports_librosa_only_through_the_seeded_cache():
    """A bare ``import librosa`` would compile into an empty private cache (~25 CPU s)."""
    import re

    root = Path(__file__).resolve().parents[1]
    sources = [*root.glob("src/cantaor/**/*.py"), *root.glob("workflow/scripts/*.py")]
    sources += [*root.glob("benchmarks/*.py")]
    bare = [
        f"{path.relative_to(root)}:{number}"
        for path in sources
        if path.name != "jitcache.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*(import librosa|from librosa\b|import numba|from numba\b)", line)
    ]
    assert not bare, f"use cantaor.util.jitcache.import_librosa() instead: {bare}"
