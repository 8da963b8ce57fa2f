"""Feature stores: the acoustic features of every item, stored for training.

Features come from :mod:`cantaor.features.acoustic`. A store is two files per (dataset, feature):

- ``{feature}.npy``: an array of shape (n_items, n_bins, n_frames), float16 by
  default, written and read as a numpy memory map so training never holds the
  whole set in memory. ``n_bins`` is the feature's own number of bins
  (:func:`feature_bins`: 128 for ``logmel``, 40 for ``mfcc``, 201 for
  ``spectrogram``) unless ``pad_bins_to`` asks for more. Each item is
  zero-padded (or cropped) to ``n_frames`` along time, 426 by default as in
  the paper.
- ``{feature}.index.parquet``: one row per item, in array order (schema
  :data:`INDEX_COLUMNS`): ``item_id``, ``singer``, ``recording``, ``group``,
  ``motif_id``, ``start_s``, ``end_s``, ``duration_s`` (float64), ``n_frames``
  (int64, valid frames before padding), ``content_hash`` (str, BLAKE2b of the
  item's 16-bit audio at the feature rate; identical clips share it).

Layout and the paper's 128 x 426: the paper zero-pads every representation to
128 x 426 for the input layer. Time is padded the same way here (``n_frames``).
The bin axis is not padded by default: zero rows below 40 MFCCs carry no
information, and the models take ``n_bins`` from the store, so each feature
keeps its own height. ``build_store(..., pad_bins_to=128)`` zero-pads the bin
axis at the end and reproduces the paper's layout exactly for ``logmel``
(already 128) and ``mfcc`` (40 rows + 88 zero rows). No reading of the paper's
"400 bins" spectrogram fits in 128 rows, so its layout cannot be reproduced for
``spectrogram`` without discarding frequencies; asking for fewer rows than a
feature has is an error rather than a silent crop.

The feature of a whole recording is computed once and every item's frames are
sliced from it, which is why building a store costs one pass over the audio
rather than one transform per item. Every feature is frame-local (no
normalisation over the recording), so an item's frames do not depend on the
rest of its recording except within half a window of the recording's ends.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from cantaor.features.acoustic import compute_feature, feature_bins, item_frames
from cantaor.util.atomic import atomic_path
from cantaor.util.audio import load_audio
from cantaor.util.parquet import frame_to_parquet
from cantaor.util.progress import Progress, terminal

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


def content_hash(audio: np.ndarray) -> str:
    """BLAKE2b of the 16-bit quantised samples: equal for identical clips."""
    quantised = np.clip(np.round(np.asarray(audio) * 32767.0), -32768, 32767).astype("<i2")
    return hashlib.blake2b(quantised.tobytes(), digest_size=16).hexdigest()


class _StoreWriter:
    """Write a store's ``.npy`` array row by row, in order, through plain writes.

    Writing through a memory map would leave every written page resident (and
    counted in the process' memory) until the kernel flushes it; a store of
    10,000 log-mel items is over 1 GB. Plain sequential writes keep only one
    row in memory. Each row is zero-padded to the store's bins and frames.
    """

    def __init__(self, path: str | os.PathLike, shape: tuple[int, int, int], dtype: str):
        self.path, self.shape, self.dtype = path, shape, np.dtype(dtype)
        self.next_row = 0

    def __enter__(self) -> _StoreWriter:
        self.handle = open(self.path, "wb")
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": self.shape,
        }
        np.lib.format.write_array_header_2_0(self.handle, header)
        self.row = np.zeros(self.shape[1:], dtype=self.dtype)
        return self

    def write(self, row: int, block: np.ndarray) -> None:
        if row != self.next_row:  # pragma: no cover - guards the callers' order
            raise RuntimeError(
                f"store rows must be written in order: got {row}, expected {self.next_row}"
            )
        self.row[:] = 0
        self.row[: block.shape[0], : block.shape[1]] = block
        self.handle.write(self.row.tobytes())
        self.next_row += 1

    def __exit__(self, kind, error, traceback) -> None:
        self.handle.close()
        if kind is None and self.next_row != self.shape[0]:  # pragma: no cover
            raise RuntimeError(f"store holds {self.next_row} rows, expected {self.shape[0]}")


def _store_rows(kind: str, options: dict, pad_bins_to: int | None) -> tuple[int, int]:
    """The feature's bins and the store's rows (bins after padding)."""
    n_bins = feature_bins(kind, **options)
    if pad_bins_to is not None and pad_bins_to < n_bins:
        raise ValueError(
            f"pad_bins_to={pad_bins_to} is fewer than the {n_bins} bins of {kind!r}; "
            "bins are padded, never cropped"
        )
    return n_bins, n_bins if pad_bins_to is None else pad_bins_to


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
    kind: str = "logmel",
    n_mfcc: int = 40,
    spectrogram_n_fft: int | None = None,
    pad_bins_to: int | None = None,
    progress_interval_s: float = 30.0,
) -> pd.DataFrame:
    """Compute one feature of every item and write the store.

    Parameters
    ----------
    items : pd.DataFrame
        Columns ``item_id``, ``singer``, ``recording``, ``group``, ``motif_id``,
        ``start_s``, ``end_s`` (seconds in the recording).
    audio_paths : mapping of recording id -> audio file
        Read with :func:`cantaor.util.audio.load_audio`, resampled to ``sample_rate``.
    tensor_path, index_path : path
        The store's two files; both are written atomically.
    n_frames : int
        Fixed number of frames per item (zero padding or cropping at the end).
    sample_rate : int
        Feature sample rate in Hz.
    win_s, hop_s : float
        Analysis window and hop in seconds, shared by every kind.
    n_fft, n_mels, fmin_hz, fmax_hz
        Mel settings of ``logmel`` and ``mfcc`` (see :func:`compute_feature`).
    dtype : str
        Storage dtype of the array.
    log : callable, optional
        Receives one line per recording, and every ``progress_interval_s``
        seconds a line with the items done and an estimate of the time left
        (the same line is redrawn on stderr when it is a terminal).
    kind : {"logmel", "mfcc", "spectrogram"}
        Feature to store (:data:`FEATURES`).
    n_mfcc : int
        Coefficients of ``mfcc``.
    spectrogram_n_fft : int, optional
        DFT size in samples of ``spectrogram``; None is the window length.
    pad_bins_to : int, optional
        Zero-pad the bin axis at the end to this many rows (128 gives the
        paper's 128 x 426 layout for ``logmel`` and ``mfcc``); None keeps the
        feature's own :func:`feature_bins`. Fewer rows than the feature has is
        an error.
    progress_interval_s : float
        Seconds between two progress lines to ``log``.

    Returns
    -------
    pd.DataFrame
        The index (schema :data:`INDEX_COLUMNS`).
    """
    options = dict(
        sample_rate=sample_rate,
        win_s=win_s,
        hop_s=hop_s,
        n_fft=n_fft,
        n_mels=n_mels,
        n_mfcc=n_mfcc,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
        spectrogram_n_fft=spectrogram_n_fft,
    )
    n_bins, n_rows = _store_rows(kind, options, pad_bins_to)
    items = items.sort_values(["recording", "start_s", "end_s", "item_id"], ignore_index=True)
    with (
        atomic_path(tensor_path) as tmp_tensor,
        Progress(
            len(items),
            f"{kind} store",
            unit="items",
            log=log,
            stream=terminal(),
            interval_s=progress_interval_s,
        ) as progress,
    ):
        valid = np.zeros(len(items), dtype=np.int64)
        hashes = [""] * len(items)
        with _StoreWriter(tmp_tensor, (len(items), n_rows, n_frames), dtype) as store:
            # Sorted by recording, then start: the rows come in array order.
            for recording, rows in items.groupby("recording", sort=True):
                audio, _ = load_audio(audio_paths[recording], sample_rate=sample_rate)
                feature = compute_feature(kind, audio, **options)
                if feature.shape[0] != n_bins:  # pragma: no cover - guards feature_bins
                    raise RuntimeError(f"{kind} has {feature.shape[0]} bins, expected {n_bins}")
                for row, start_s, end_s in zip(
                    rows.index, rows["start_s"], rows["end_s"], strict=True
                ):
                    first, length = item_frames(start_s, end_s, hop_s=hop_s)
                    block = feature[:, first : first + min(length, n_frames)]
                    store.write(row, block)
                    valid[row] = max(1, block.shape[1])
                    hashes[row] = content_hash(
                        audio[round(start_s * sample_rate) : round(end_s * sample_rate)]
                    )
                if log is not None:
                    log(f"{recording}: {len(rows)} items")
                progress.update(len(rows))
        index = items.assign(
            duration_s=items["end_s"] - items["start_s"], n_frames=valid, content_hash=hashes
        )[list(INDEX_COLUMNS)]
        with atomic_path(index_path) as tmp_index:
            frame_to_parquet(index, tmp_index)
    return index


def build_clip_store(
    items: pd.DataFrame,
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
    kind: str = "logmel",
    n_mfcc: int = 40,
    spectrogram_n_fft: int | None = None,
    pad_bins_to: int | None = None,
    progress_interval_s: float = 30.0,
) -> pd.DataFrame:
    """Compute one feature of every pre-cut clip and write the store.

    The store of :func:`build_store` for clips that are files of their own
    (:mod:`cantaor.dataset.clips`): each clip is read, resampled to ``sample_rate``
    and analysed whole, one at a time, so memory stays bounded by one clip
    and the memory-mapped array.

    Parameters
    ----------
    items : pd.DataFrame
        A clip item table (:data:`cantaor.dataset.clips.CLIP_ITEM_COLUMNS`): the
        columns of :data:`INDEX_COLUMNS` but ``n_frames``, plus ``path`` and
        ``audio_group``. ``content_hash`` is kept as given (taken at the clip's
        own rate).
    Other parameters
        As :func:`build_store`.

    Returns
    -------
    pd.DataFrame
        The index: :data:`INDEX_COLUMNS` then ``audio_group``, in ``items``'
        order (the array's order).
    """
    options = dict(
        sample_rate=sample_rate,
        win_s=win_s,
        hop_s=hop_s,
        n_fft=n_fft,
        n_mels=n_mels,
        n_mfcc=n_mfcc,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
        spectrogram_n_fft=spectrogram_n_fft,
    )
    _, n_rows = _store_rows(kind, options, pad_bins_to)
    items = items.reset_index(drop=True)
    with (
        atomic_path(tensor_path) as tmp_tensor,
        Progress(
            len(items),
            f"{kind} store",
            unit="clips",
            log=log,
            stream=terminal(),
            interval_s=progress_interval_s,
        ) as progress,
    ):
        valid = np.zeros(len(items), dtype=np.int64)
        with _StoreWriter(tmp_tensor, (len(items), n_rows, n_frames), dtype) as store:
            for row, path in enumerate(items["path"]):
                audio, _ = load_audio(path, sample_rate=sample_rate)
                block = compute_feature(kind, audio, **options)[:, :n_frames]
                store.write(row, block)
                valid[row] = max(1, block.shape[1])
                progress.update()
        index = items.assign(n_frames=valid)[[*INDEX_COLUMNS, "audio_group"]]
        with atomic_path(index_path) as tmp_index:
            frame_to_parquet(index, tmp_index)
    return index


def open_store(tensor_path: str | os.PathLike) -> np.ndarray:
    """Memory-map a store's array read-only."""
    return np.load(tensor_path, mmap_mode="r")
