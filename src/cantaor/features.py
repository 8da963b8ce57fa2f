"""Acoustic features of motif occurrences, stored for training.

Three frame-wise features are available (:data:`FEATURES`), those the paper
compares (section 4.1):

- ``logmel`` (:func:`logmel`): natural log of mel power, 128 bands.
- ``mfcc`` (:func:`mfcc`): 40 cepstral coefficients of the same mel power.
- ``spectrogram`` (:func:`spectrogram`): natural log of the magnitude of the
  linear-frequency STFT, 201 bins (0 to 8 kHz in 40 Hz steps) by default.

All three share one framing: a Hann window of ``win_s`` seconds (25 ms, 400
samples at 16 kHz), hop ``hop_s`` (10 ms), centred frames, so that frame ``t``
is centred at ``t * hop_s`` seconds in every feature and the same frame range
(:func:`item_frames`) selects an item in each of them.

A store is two files per (dataset, feature):

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

from cantaor.io import atomic_path, frame_to_parquet, load_audio
from cantaor.progress import Progress, terminal

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
FEATURES = ("logmel", "mfcc", "spectrogram")

# Floor of power before taking logs (natural log or dB): -230 in natural log,
# -100 dB; a magnitude floor of 1e-5 is the same floor on power.
_POWER_FLOOR = 1e-10


def _check_kind(kind: str) -> None:
    if kind not in FEATURES:
        raise ValueError(f"unknown feature kind {kind!r}; choose one of {', '.join(FEATURES)}")


def _frame_lengths(sample_rate: int, win_s: float, hop_s: float) -> tuple[int, int]:
    """Window and hop in samples."""
    return round(win_s * sample_rate), round(hop_s * sample_rate)


def _mel_power(
    audio: np.ndarray,
    *,
    sample_rate: int,
    win_s: float,
    hop_s: float,
    n_fft: int,
    n_mels: int,
    fmin_hz: float,
    fmax_hz: float | None,
) -> np.ndarray:
    """Mel power spectrogram shared by :func:`logmel` and :func:`mfcc`."""
    from cantaor.jitcache import import_librosa

    librosa = import_librosa()

    win_length, hop_length = _frame_lengths(sample_rate, win_s, hop_s)
    if win_length > n_fft:
        raise ValueError(f"window of {win_length} samples is longer than n_fft={n_fft}")
    return librosa.feature.melspectrogram(
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
    mel = _mel_power(
        audio,
        sample_rate=sample_rate,
        win_s=win_s,
        hop_s=hop_s,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
    )
    return np.log(np.maximum(mel, _POWER_FLOOR)).astype(np.float32)


def mfcc(
    audio: np.ndarray,
    *,
    sample_rate: int = 16000,
    win_s: float = 0.025,
    hop_s: float = 0.01,
    n_fft: int = 1024,
    n_mfcc: int = 40,
    n_mels: int = 128,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
) -> np.ndarray:
    """Mel-frequency cepstral coefficients (the paper's 40, 25 ms window).

    Exactly: the mel power spectrogram of :func:`logmel` (Hann window of
    ``win_s`` zero-padded to ``n_fft`` samples, centred frames, ``n_mels``
    Slaney-normalised mel filters), converted to decibels as
    ``10 * log10(max(power, 1e-10))``, then the orthonormal DCT-II along the
    mel axis, of which the first ``n_mfcc`` coefficients are kept; no
    liftering. Coefficient 0 (overall log energy) is kept.

    This is ``librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None),
    n_mfcc=n_mfcc)``, and equals ``librosa.feature.mfcc(y=audio, ...)`` with
    the same STFT and mel settings wherever that function's default 80 dB
    clip below the signal's loudest bin does not bite. The clip is left out
    on purpose: it is relative to the whole signal, so an item's coefficients
    would depend on the loudest moment of its recording. Since the DCT is
    linear, the result is also ``10 / ln(10)`` times the DCT of
    :func:`logmel`.

    Parameters
    ----------
    audio : np.ndarray
        Mono signal at ``sample_rate``.
    sample_rate : int
        Hz.
    win_s, hop_s : float
        Analysis window and hop in seconds (25 ms and 10 ms by default).
    n_fft : int
        FFT size in samples (the window is zero-padded to it).
    n_mfcc : int
        Coefficients kept; at most ``n_mels``.
    n_mels : int
        Mel bands the cepstrum is taken over.
    fmin_hz, fmax_hz : float
        Mel filter bank range; ``fmax_hz`` None is the Nyquist frequency.

    Returns
    -------
    np.ndarray, shape (n_mfcc, n_frames), float32
        Frame ``t`` is centred at ``t * hop_s`` seconds.
    """
    from cantaor.jitcache import import_librosa

    librosa = import_librosa()

    if not 1 <= n_mfcc <= n_mels:
        raise ValueError(f"n_mfcc={n_mfcc} must be between 1 and n_mels={n_mels}")
    mel = _mel_power(
        audio,
        sample_rate=sample_rate,
        win_s=win_s,
        hop_s=hop_s,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
    )
    decibels = librosa.power_to_db(mel, ref=1.0, amin=_POWER_FLOOR, top_db=None)
    coefficients = librosa.feature.mfcc(S=decibels, n_mfcc=n_mfcc, dct_type=2, norm="ortho")
    return coefficients.astype(np.float32)


def spectrogram(
    audio: np.ndarray,
    *,
    sample_rate: int = 16000,
    win_s: float = 0.025,
    hop_s: float = 0.01,
    n_fft: int | None = None,
) -> np.ndarray:
    """Log-magnitude linear-frequency spectrogram.

    The paper's spectrogram has "a window of size 25 ms at 16 kHz, with 400
    bins". We read the 400 as the DFT size: 25 ms at 16 kHz is exactly 400
    samples, so the window is analysed by a 400-point DFT with no zero
    padding (``n_fft`` None). Of its 400 bins the 201 non-negative-frequency
    ones (0 to 8000 Hz in 40 Hz steps) are kept; the other 199 are complex
    conjugates of these and carry nothing new for a real signal. Bin ``k`` is
    centred at ``k * sample_rate / n_fft`` Hz. The other reading, 400 kept
    bins, needs ``n_fft=798``: the 400-sample window zero-padded to 798 points,
    which interpolates the same 201-bin spectrum at 20 Hz spacing without
    adding resolution; pass ``n_fft=798`` to get it.

    Values are ``ln(max(|X|, 1e-5))`` of the Hann-windowed STFT ``X`` (the
    magnitude floor equals :func:`logmel`'s power floor of 1e-10).

    Parameters
    ----------
    audio : np.ndarray
        Mono signal at ``sample_rate``.
    sample_rate : int
        Hz.
    win_s, hop_s : float
        Analysis window and hop in seconds (25 ms and 10 ms by default).
    n_fft : int, optional
        DFT size in samples, at least the window's; None is the window length
        (400 samples at 16 kHz and 25 ms).

    Returns
    -------
    np.ndarray, shape (n_fft // 2 + 1, n_frames), float32
        Frame ``t`` is centred at ``t * hop_s`` seconds.
    """
    from cantaor.jitcache import import_librosa

    librosa = import_librosa()

    win_length, hop_length = _frame_lengths(sample_rate, win_s, hop_s)
    n_fft = win_length if n_fft is None else n_fft
    if win_length > n_fft:
        raise ValueError(f"window of {win_length} samples is longer than n_fft={n_fft}")
    stft = librosa.stft(
        np.asarray(audio, dtype=np.float32),
        n_fft=n_fft,
        win_length=win_length,
        hop_length=hop_length,
        window="hann",
        center=True,
    )
    return np.log(np.maximum(np.abs(stft), np.sqrt(_POWER_FLOOR))).astype(np.float32)


def feature_bins(
    kind: str,
    *,
    sample_rate: int = 16000,
    win_s: float = 0.025,
    hop_s: float = 0.01,
    n_fft: int = 1024,
    n_mels: int = 128,
    n_mfcc: int = 40,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
    spectrogram_n_fft: int | None = None,
) -> int:
    """Number of bins (rows) of a feature, without computing it.

    Takes the same keywords as :func:`compute_feature` (those a kind does not
    use are ignored) and rejects the same invalid settings.

    Returns
    -------
    int
        ``n_mels`` for ``logmel``, ``n_mfcc`` for ``mfcc`` and
        ``n_fft // 2 + 1`` for ``spectrogram`` (201 by default).
    """
    _check_kind(kind)
    win_length, _ = _frame_lengths(sample_rate, win_s, hop_s)
    if kind == "spectrogram":
        size = win_length if spectrogram_n_fft is None else spectrogram_n_fft
        if win_length > size:
            raise ValueError(f"window of {win_length} samples is longer than n_fft={size}")
        return size // 2 + 1
    if win_length > n_fft:
        raise ValueError(f"window of {win_length} samples is longer than n_fft={n_fft}")
    if kind == "mfcc":
        if not 1 <= n_mfcc <= n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} must be between 1 and n_mels={n_mels}")
        return n_mfcc
    return n_mels


def compute_feature(
    kind: str,
    audio: np.ndarray,
    *,
    sample_rate: int = 16000,
    win_s: float = 0.025,
    hop_s: float = 0.01,
    n_fft: int = 1024,
    n_mels: int = 128,
    n_mfcc: int = 40,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
    spectrogram_n_fft: int | None = None,
) -> np.ndarray:
    """Compute one feature (:data:`FEATURES`) of a signal.

    Parameters
    ----------
    kind : {"logmel", "mfcc", "spectrogram"}
    audio : np.ndarray
        Mono signal at ``sample_rate`` (Hz).
    win_s, hop_s : float
        Analysis window and hop in seconds, shared by every kind.
    n_fft : int
        FFT size in samples of the mel features (``logmel``, ``mfcc``).
    n_mels : int
        Mel bands of ``logmel`` and of the mel spectrum ``mfcc`` starts from.
    n_mfcc : int
        Coefficients of ``mfcc``.
    fmin_hz, fmax_hz : float
        Mel filter bank range of ``logmel`` and ``mfcc``.
    spectrogram_n_fft : int, optional
        DFT size in samples of ``spectrogram``; None is the window length
        (see :func:`spectrogram` for the paper's "400 bins").

    Returns
    -------
    np.ndarray, shape (feature_bins(kind, ...), n_frames), float32
        Frame ``t`` is centred at ``t * hop_s`` seconds for every kind.
    """
    _check_kind(kind)
    if kind == "spectrogram":
        return spectrogram(
            audio, sample_rate=sample_rate, win_s=win_s, hop_s=hop_s, n_fft=spectrogram_n_fft
        )
    options = dict(
        sample_rate=sample_rate,
        win_s=win_s,
        hop_s=hop_s,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
    )
    if kind == "mfcc":
        return mfcc(audio, n_mfcc=n_mfcc, **options)
    return logmel(audio, **options)


def item_frames(start_s: float, end_s: float, *, hop_s: float) -> tuple[int, int]:
    """First frame and number of frames covering ``[start_s, end_s]``."""
    first = int(np.floor(start_s / hop_s + 1e-9))
    last = int(np.ceil(end_s / hop_s - 1e-9))
    return first, max(1, last - first)


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
        Read with :func:`cantaor.io.load_audio`, resampled to ``sample_rate``.
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
    (:mod:`cantaor.clips`): each clip is read, resampled to ``sample_rate``
    and analysed whole, one at a time, so memory stays bounded by one clip
    and the memory-mapped array.

    Parameters
    ----------
    items : pd.DataFrame
        A clip item table (:data:`cantaor.clips.CLIP_ITEM_COLUMNS`): the
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
