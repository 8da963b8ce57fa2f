"""Acoustic features of motif occurrences, stored for training.

A store is two files per (dataset, feature):

- ``{feature}.npy``: an array of shape (n_items, n_bins, n_frames), float16 by
  default, written and read as a numpy memory map so training never holds the
  whole set in memory. Each item is zero-padded (or cropped) to ``n_frames``
  along time, as the paper did (128 x 426).
- ``{feature}.index.parquet``: one row per item, in array order (schema
  :data:`INDEX_COLUMNS`): ``item_id``, ``singer``, ``recording``, ``group``,
  ``motif_id``, ``start_s``, ``end_s``, ``duration_s`` (float64), ``n_frames``
  (int64, valid frames before padding), ``content_hash`` (str, BLAKE2b of the
  item's 16-bit audio at the feature rate; identical clips share it).

The log-mel spectrogram of a whole recording is computed once and every item's
frames are sliced from it, which is why building a store costs one pass over
the audio rather than one spectrogram per item.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from cantaor.io import atomic_path, load_audio

INDEX_COLUMNS = (
    "item_id",
    "singer",
    "recording",
    "group",
    "motif_id",
    "start_s",
    "end_s",
    "duration_s",
    "n_frames",
    "content_hash",
)
FEATURES = ("logmel",)


def logmel(
    audio: np.ndarray,
    *,
    sample_rate: int = 16000,
    win_s: float = 0.025,
    hop_s: float = 0.01,
    n_fft: int = 1024,
    n_mels: int = 128,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
) -> np.ndarray:
    """Log-mel spectrogram (natural log of mel power, floored at 1e-10).

    Parameters
    ----------
    audio : np.ndarray
        Mono signal at ``sample_rate``.
    win_s, hop_s : float
        Analysis window and hop in seconds (25 ms and 10 ms by default).
    n_fft : int
        FFT size in samples; the 25 ms window (400 samples at 16 kHz) is
        zero-padded to it so that 128 mel bands get no empty filters.
    n_mels : int
    fmin_hz, fmax_hz : float
        Mel filter bank range; ``fmax_hz`` None is the Nyquist frequency.

    Returns
    -------
    np.ndarray, shape (n_mels, n_frames), float32
        Frame ``t`` is centred at ``t * hop_s`` seconds.
    """
    import librosa

    win_length = round(win_s * sample_rate)
    hop_length = round(hop_s * sample_rate)
    if win_length > n_fft:
        raise ValueError(f"window of {win_length} samples is longer than n_fft={n_fft}")
    mel = librosa.feature.melspectrogram(
        y=np.asarray(audio, dtype=np.float32),
        sr=sample_rate,
        n_fft=n_fft,
        win_length=win_length,
        hop_length=hop_length,
        n_mels=n_mels,
        fmin=fmin_hz,
        fmax=fmax_hz,
        power=2.0,
    )
    return np.log(np.maximum(mel, 1e-10)).astype(np.float32)


def item_frames(start_s: float, end_s: float, *, hop_s: float) -> tuple[int, int]:
    """First frame and number of frames covering ``[start_s, end_s]``."""
    first = int(np.floor(start_s / hop_s + 1e-9))
    last = int(np.ceil(end_s / hop_s - 1e-9))
    return first, max(1, last - first)


def content_hash(audio: np.ndarray) -> str:
    """BLAKE2b of the 16-bit quantised samples: equal for identical clips."""
    quantised = np.clip(np.round(np.asarray(audio) * 32767.0), -32768, 32767).astype("<i2")
    return hashlib.blake2b(quantised.tobytes(), digest_size=16).hexdigest()


def build_store(
    items: pd.DataFrame,
    audio_paths: Mapping[str, str | os.PathLike],
    *,
    tensor_path: str | os.PathLike,
    index_path: str | os.PathLike,
    n_frames: int = 426,
    sample_rate: int = 16000,
    win_s: float = 0.025,
    hop_s: float = 0.01,
    n_fft: int = 1024,
    n_mels: int = 128,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
    dtype: str = "float16",
    log=None,
) -> pd.DataFrame:
    """Compute log-mel features of every item and write the store.

    Parameters
    ----------
    items : pd.DataFrame
        Columns ``item_id``, ``singer``, ``recording``, ``group``, ``motif_id``,
        ``start_s``, ``end_s`` (seconds in the recording).
    audio_paths : mapping of recording id -> audio file
    tensor_path, index_path : path
        The store's two files; both are written atomically.
    n_frames : int
        Fixed number of frames per item (zero padding or cropping at the end).
    dtype : str
        Storage dtype of the array.
    log : callable, optional
        Receives one progress line per recording.

    Returns
    -------
    pd.DataFrame
        The index (schema :data:`INDEX_COLUMNS`).
    """
    items = items.sort_values(["recording", "start_s", "end_s", "item_id"], ignore_index=True)
    with atomic_path(tensor_path) as tmp_tensor:
        store = np.lib.format.open_memmap(
            tmp_tensor, mode="w+", dtype=dtype, shape=(len(items), n_mels, n_frames)
        )
        valid = np.zeros(len(items), dtype=np.int64)
        hashes = [""] * len(items)
        for recording, rows in items.groupby("recording", sort=True):
            audio, _ = load_audio(audio_paths[recording], sample_rate=sample_rate)
            spectrogram = logmel(
                audio,
                sample_rate=sample_rate,
                win_s=win_s,
                hop_s=hop_s,
                n_fft=n_fft,
                n_mels=n_mels,
                fmin_hz=fmin_hz,
                fmax_hz=fmax_hz,
            )
            for row, start_s, end_s in zip(rows.index, rows["start_s"], rows["end_s"], strict=True):
                first, length = item_frames(start_s, end_s, hop_s=hop_s)
                block = spectrogram[:, first : first + min(length, n_frames)]
                store[row] = 0
                store[row, :, : block.shape[1]] = block
                valid[row] = max(1, block.shape[1])
                hashes[row] = content_hash(
                    audio[round(start_s * sample_rate) : round(end_s * sample_rate)]
                )
            if log is not None:
                log(f"{recording}: {len(rows)} items")
        store.flush()
        del store
        index = items.assign(
            duration_s=items["end_s"] - items["start_s"], n_frames=valid, content_hash=hashes
        )[list(INDEX_COLUMNS)]
        with atomic_path(index_path) as tmp_index:
            index.to_parquet(tmp_index, index=False)
    return index


def open_store(tensor_path: str | os.PathLike) -> np.ndarray:
    """Memory-map a store's array read-only."""
    return np.load(tensor_path, mmap_mode="r")
