"""Audio loading and atomic file output.

Every file the pipeline writes goes through :func:`atomic_path`: it is written
under a temporary name in the destination directory and moved into place only
when complete, so a crash never leaves a partial file that a rerun would trust.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import struct
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
    prefix = f".{path.name}."
    suffix = suffix if suffix is not None else path.suffix
    _remove_stale_temporaries(path.parent, prefix, suffix)
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_FILE_MODE)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_stale_temporaries(directory: Path, prefix: str, suffix: str) -> None:
    """Delete temporary files of this destination left by a killed writer.

    A process killed with SIGKILL cannot clean up, so its temporary file stays
    (under a hidden name no rule reads). Each output has one writer at a time,
    so the next write of the same destination removes them.
    """
    # mkstemp names: prefix, 8 characters from [a-z0-9_], suffix.
    pattern = re.compile(re.escape(prefix) + "[a-z0-9_]{8}" + re.escape(suffix))
    with os.scandir(directory) as entries:
        for entry in entries:
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)


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
        When the file is missing, unreadable, empty, truncated (a WAV file
        shorter than its header declares) or holds non-finite samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found")
    _check_wav_length(path)
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


def _check_wav_length(path: Path) -> None:
    """Raise AudioError when a RIFF/WAVE file holds fewer data bytes than declared.

    libsndfile reads a truncated WAV file (an interrupted copy or download)
    without complaint, returning the samples that are present; a corpus should
    not silently lose the end of a recording. Other formats and WAV files whose
    header leaves the length open (0 or 0xFFFFFFFF, as streaming writers do)
    are left to libsndfile.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":
                present = size - offset - 8
                if chunk_size not in (0, 0xFFFFFFFF) and present < chunk_size:
                    raise AudioError(
                        f"{path}: truncated WAV file: the header declares {chunk_size} "
                        f"bytes of audio, the file holds {present}"
                    )
                return
            offset += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
