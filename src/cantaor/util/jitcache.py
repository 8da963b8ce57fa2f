"""A numba cache no two processes can corrupt.

librosa compiles its numba functions with ``cache=True``: at import (gufuncs with explicit
signatures) and on first call (``pyin``'s Viterbi, ``yin``'s ``localmin``...). By default
numba writes those caches next to librosa's source, inside site-packages, shared by every
process of the environment. Two processes that compile at the same moment can leave a
gufunc's kernel file from one and its wrapper file from the other (numba issue 10128;
librosa issue 1998): the pair names different symbols and every later call segfaults, in
every process, until the files go. Parallel Snakemake jobs on a fresh install hit it.

cantaor therefore never lets numba share a cache directory:

1. Importing :mod:`cantaor` points ``NUMBA_CACHE_DIR`` at a fresh directory private to the
   process (under the system's temporary directory, removed at exit). numba never reads
   the shared in-tree cache again, so one corrupted by an earlier crash or another program
   is never read, and nothing another process writes can be read half-written.
2. A cold compile costs ~10-20 CPU s per process, so before librosa is first imported,
   :func:`import_librosa` seeds the private directory from a *snapshot*: a complete cache
   built once per install and machine type by a single process, checked by loading it in a
   fresh interpreter, published by an atomic rename, with a SHA-256 manifest that every
   seed verifies. Building it takes a file lock, so parallel jobs build it once; without
   working locks (some network file systems) two builders waste work but still publish a
   whole snapshot, never a mixed one. A snapshot that fails its manifest is discarded and
   rebuilt.

Snapshots live in ``$CANTAOR_CACHE_DIR/numba/<key>`` (default ``~/.cache/cantaor``), keyed by
the Python, numpy, numba, llvmlite and librosa versions, librosa's install path and the CPU
model and features (numba's cache is only valid for those). ``CANTAOR_UNSAFE_SHARED_NUMBA_CACHE=1``
restores numba's default shared caching; it exists for the regression test that shows the race.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOGGER = logging.getLogger(__name__)

UNSAFE_ENV = "CANTAOR_UNSAFE_SHARED_NUMBA_CACHE"
ROOT_ENV = "CANTAOR_CACHE_DIR"
_PRIVATE_PREFIX = "cantaor-numba-"
_MANIFEST = "manifest.json"
_LOCK_TIMEOUT_S = 900.0
_STALE_PRIVATE_S = 24 * 3600.0

_state: dict[str, object] = {"private": None, "seeded": False}


def unsafe_shared() -> bool:
    """Whether the user turned the protection off (``CANTAOR_UNSAFE_SHARED_NUMBA_CACHE=1``)."""
    return os.environ.get(UNSAFE_ENV, "") not in ("", "0")


def isolate() -> Path | None:
    """Point numba at a cache directory private to this process (idempotent).

    Called when :mod:`cantaor` is imported. Returns the directory, or None when the
    protection is off or numba was imported before cantaor (then numba's configuration is
    fixed already and a warning is logged by :func:`import_librosa`).
    """
    if unsafe_shared():
        return None
    private = _state["private"]
    if private is not None:
        return private
    if "numba" in sys.modules:
        return None
    _sweep_stale_private_dirs()
    private = Path(tempfile.mkdtemp(prefix=f"{_PRIVATE_PREFIX}{os.getpid()}-"))
    os.environ["NUMBA_CACHE_DIR"] = str(private)
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    _state["private"] = private
    return private


def import_librosa():
    """Import librosa with numba's cache private and seeded from a verified snapshot.

    Use this instead of ``import librosa`` in cantaor: the first call in a process builds the
    snapshot when none exists (about as long as one cold compile, once per install and
    machine type), later calls cost a copy of a few MB.
    """
    if "librosa" not in sys.modules and not unsafe_shared():
        private = isolate()
        if private is None:
            LOGGER.warning(
                "numba was imported before cantaor, so its cache is not private to this "
                "process; parallel processes may corrupt it (numba issue 10128). Import "
                "cantaor before librosa or numba."
            )
        elif not _state["seeded"]:
            _seed(private)
    import librosa

    return librosa


def cache_root() -> Path:
    """Where snapshots are kept: ``$CANTAOR_CACHE_DIR`` or ``$XDG_CACHE_HOME/cantaor``."""
    explicit = os.environ.get(ROOT_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "cantaor"


def snapshot_key() -> str:
    """The install and machine a numba cache is valid for, as a short hash."""
    from importlib.metadata import version
    from importlib.util import find_spec

    import llvmlite.binding as llvm

    parts = {
        "python": sys.version,
        "packages": {name: version(name) for name in ("numpy", "numba", "llvmlite", "librosa")},
        "librosa_path": str(Path(find_spec("librosa").origin).resolve().parent),
        "cpu": llvm.get_host_cpu_name(),
        "cpu_features": llvm.get_host_cpu_features().flatten(),
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return digest[:20]


def snapshot_dir() -> Path:
    return cache_root() / "numba" / snapshot_key()


def _seed(private: Path) -> None:
    """Copy a verified snapshot into the private directory, building it when missing."""
    snapshot = snapshot_dir()
    try:
        usable = _verified(snapshot)
        if not usable:
            _build_snapshot(snapshot)
            usable = _verified(snapshot)
        if usable:
            for source in snapshot.rglob("*"):
                if source.is_file() and source.name != _MANIFEST:
                    target = private / source.relative_to(snapshot)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
    except OSError as error:  # e.g. a read-only home on a cluster node
        LOGGER.warning("cannot use the numba cache snapshot %s: %s", snapshot, error)
        usable = False
    if not usable:
        LOGGER.warning(
            "no usable numba cache in %s: librosa compiles privately (~10-20 CPU s); "
            "set CANTAOR_CACHE_DIR to a writable directory",
            snapshot,
        )
    _state["seeded"] = True


def _manifest(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != _MANIFEST
    }


def _verified(snapshot: Path) -> bool:
    """Whether a snapshot is complete and unchanged since it was published.

    A snapshot whose files differ from its manifest (damaged, or written into by another
    program) is moved aside and deleted, so the next caller rebuilds it.
    """
    manifest_path = snapshot / _MANIFEST
    if not manifest_path.is_file():
        return False
    try:
        expected = json.loads(manifest_path.read_text(encoding="utf-8"))
        if expected and _manifest(snapshot) == expected:
            return True
    except (OSError, ValueError):
        pass
    LOGGER.warning("numba cache snapshot %s does not match its manifest: discarding it", snapshot)
    _discard(snapshot)
    return False


def _discard(directory: Path) -> None:
    graveyard = directory.with_name(f"{directory.name}.bad-{os.getpid()}-{time.time_ns()}")
    with contextlib.suppress(OSError):
        directory.rename(graveyard)
        shutil.rmtree(graveyard, ignore_errors=True)


@contextlib.contextmanager
def _exclusive(lock_path: Path, timeout_s: float = _LOCK_TIMEOUT_S):
    """Hold an exclusive lock on a file; yields whether the lock was obtained.

    Correctness never depends on the lock (snapshots are published by atomic rename); it
    only keeps parallel processes from building the same snapshot at once.
    """
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    locked = False
                    break
                time.sleep(0.2)
            except OSError:  # no locks on this file system
                locked = False
                break
        try:
            yield locked
        finally:
            if locked:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _run_warm(cache_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), UNSAFE_ENV: "1"}
    return subprocess.run(
        [sys.executable, "-m", "cantaor.util.jitcache"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _build_snapshot(snapshot: Path) -> None:
    """Build, check and publish a snapshot under a lock, unless another process did."""
    started = time.monotonic()
    with _exclusive(snapshot.with_name(f"{snapshot.name}.lock")):
        if _verified(snapshot):
            return
        staging = Path(tempfile.mkdtemp(prefix=f".{snapshot.name}.building-", dir=snapshot.parent))
        try:
            built = _run_warm(staging)
            if built.returncode != 0:
                LOGGER.warning(
                    "building the numba cache failed (exit %s): %s",
                    built.returncode,
                    built.stderr[-2000:],
                )
                return
            # A fresh interpreter must load it all without crashing before anyone uses it.
            checked = _run_warm(staging)
            manifest = _manifest(staging)
            if checked.returncode != 0 or not manifest:
                LOGGER.warning("the new numba cache failed to load (exit %s)", checked.returncode)
                return
            manifest_text = json.dumps(manifest, indent=1)
            (staging / _MANIFEST).write_text(manifest_text, encoding="utf-8")
            try:
                staging.rename(snapshot)
            except OSError:  # another builder published first (no working lock)
                return
            LOGGER.info(
                "built the numba cache snapshot %s in %.1f s (%d files)",
                snapshot,
                time.monotonic() - started,
                len(manifest),
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _sweep_stale_private_dirs() -> None:
    """Remove private cache directories left by processes killed more than a day ago."""
    cutoff = time.time() - _STALE_PRIVATE_S
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            if entry.name.startswith(_PRIVATE_PREFIX) and entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        shutil.rmtree(entry.path, ignore_errors=True)


def warm() -> None:
    """Compile every numba-cached librosa function cantaor reaches, in one fixed order."""
    import librosa
    import numpy as np

    for dtype in (np.float32, np.float64):
        sample_rate = 22050
        time_s = np.arange(sample_rate // 2) / sample_rate
        audio = (0.3 * np.sin(2 * np.pi * 220.0 * time_s)).astype(dtype)
        librosa.yin(audio, fmin=80.0, fmax=1000.0, sr=sample_rate, frame_length=2048)
        librosa.pyin(audio, fmin=80.0, fmax=1000.0, sr=sample_rate, frame_length=2048)
        power = np.abs(librosa.stft(audio, n_fft=1024, hop_length=256)) ** 2
        mel = librosa.feature.melspectrogram(S=power, sr=sample_rate, n_mels=64)
        librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=20)


if __name__ == "__main__":
    warm()
