"""Audio loading and atomic file output.

Every file the pipeline writes goes through :func:`atomic_path`: it is written
under a temporary name in the destination directory and moved into place only
when complete, so a crash never leaves a partial file that a rerun would trust.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import soxr


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; outputs get the usual permissions.
_FILE_MODE = 0o666 & ~_current_umask()


class AudioError(ValueError):
    """An audio file that cannot be used, with the file named in the message."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    Parameters
    ----------
    path : str or PathLike
        Final destination. Parent directories are created.
    suffix : str, optional
        Suffix of the temporary file (some writers infer the format from it);
        defaults to the suffix of ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.",
        suffix=suffix if suffix is not None else path.suffix,
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_FILE_MODE)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` to parquet atomically, without the pandas index."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow")


def write_json(obj: object, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write ``text`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def load_audio(
    path: str | os.PathLike, *, sample_rate: int | None = None
) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32, optionally resampled.

    Parameters
    ----------
    path : str or PathLike
        Any format libsndfile reads (wav, flac, ogg, mp3).
    sample_rate : int, optional
        Target rate in Hz; the file's own rate when None.

    Returns
    -------
    audio : np.ndarray, shape (n_samples,), float32
        Channels averaged to mono.
    sample_rate : int
        Rate of ``audio`` in Hz.

    Raises
    ------
    AudioError
        When the file is missing, unreadable, empty or holds non-finite samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found")
    try:
        audio, file_rate = sf.read(path, dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile raises several types for corrupt input
        raise AudioError(f"{path}: cannot read audio ({err})") from err
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: audio file holds no samples")
    audio = audio.mean(axis=1, dtype=np.float32)
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: audio holds NaN or infinite samples")
    if sample_rate is not None and sample_rate != file_rate:
        audio = soxr.resample(audio, file_rate, sample_rate, quality="HQ").astype(np.float32)
        file_rate = sample_rate
    return np.ascontiguousarray(audio), int(file_rate)
