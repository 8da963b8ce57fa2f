"""Fundamental frequency (f0) per recording.

Backends write one table with a fixed schema (see :data:`F0_COLUMNS`):

========== ======= =====================================================
column     dtype   meaning
========== ======= =====================================================
time_s     float64 frame time in seconds
f0_hz      float64 f0 in Hz; 0.0 where unvoiced
pitch_cents float64 f0 in cents re ``reference_hz``; NaN where unvoiced
voiced     bool    the backend's voicing decision
confidence float32 the backend's confidence (Melodia salience, pYIN voicing
                   probability, CREPE probability of the chosen pitch bin)
========== ======= =====================================================

pYIN runs on chunks of ``chunk_s`` seconds with ``chunk_overlap_s`` of context on
each side, so that a long recording needs bounded memory; Melodia and CREPE take
the whole signal (their memory grows slowly with its length: see BENCHMARKS.md).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

F0_COLUMNS = ("time_s", "f0_hz", "pitch_cents", "voiced", "confidence")
METHODS = ("melodia", "pyin", "crepe")


def hz_to_cents(f0_hz: np.ndarray, *, reference_hz: float = 55.0) -> np.ndarray:
    """Convert Hz to cents re ``reference_hz``; non-positive values become NaN."""
    f0_hz = np.asarray(f0_hz, dtype=np.float64)
    cents = np.full(f0_hz.shape, np.nan)
    positive = f0_hz > 0
    cents[positive] = 1200.0 * np.log2(f0_hz[positive] / reference_hz)
    return cents


def melodia(
    audio: np.ndarray,
    *,
    sample_rate: int = 44100,
    hop_length: int = 256,
    frame_length: int = 2048,
    fmin_hz: float = 80.0,
    fmax_hz: float = 1000.0,
    voicing_tolerance: float = 0.2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predominant melody with essentia's Melodia (Salamon & Gomez 2012).

    The signal is equal-loudness filtered first, as the algorithm's authors recommend.

    Parameters
    ----------
    audio : np.ndarray, float32, mono
    sample_rate : int
        Rate of ``audio`` in Hz (the paper uses 44100).
    hop_length, frame_length : int
        In samples (the paper uses a hop of 256).
    fmin_hz, fmax_hz : float
        Range of the salience function peaks in Hz.
    voicing_tolerance : float
        Melodia's voicing tolerance (higher keeps more frames voiced).

    Returns
    -------
    time_s, f0_hz, confidence : np.ndarray
        One value per frame; ``f0_hz`` is 0 where unvoiced.
    """
    import essentia.standard as es

    signal = np.ascontiguousarray(audio, dtype=np.float32)
    filtered = es.EqualLoudness(sampleRate=sample_rate)(signal)
    extractor = es.PredominantPitchMelodia(
        sampleRate=sample_rate,
        hopSize=hop_length,
        frameSize=frame_length,
        minFrequency=fmin_hz,
        maxFrequency=fmax_hz,
        voicingTolerance=voicing_tolerance,
    )
    f0_hz, confidence = extractor(filtered)
    f0_hz = np.asarray(f0_hz, dtype=np.float64)
    f0_hz[f0_hz < 0] = 0.0  # Melodia marks its unvoiced guesses with negative values
    time_s = np.arange(f0_hz.size) * hop_length / sample_rate
    return time_s, f0_hz, np.asarray(confidence, dtype=np.float32)


def pyin(
    audio: np.ndarray,
    *,
    sample_rate: int = 44100,
    hop_length: int = 256,
    frame_length: int = 2048,
    fmin_hz: float = 80.0,
    fmax_hz: float = 1000.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilistic YIN (Mauch & Dixon 2014) through ``librosa.pyin``.

    Parameters and returns as for :func:`melodia`; ``confidence`` is pYIN's
    voicing probability.
    """
    from cantaor.jitcache import import_librosa

    librosa = import_librosa()

    f0_hz, voiced, probability = librosa.pyin(
        np.asarray(audio, dtype=np.float32),
        sr=sample_rate,
        fmin=fmin_hz,
        fmax=fmax_hz,
        frame_length=frame_length,
        hop_length=hop_length,
    )
    f0_hz = np.where(voiced & np.isfinite(f0_hz), f0_hz, 0.0)
    time_s = librosa.frames_to_time(np.arange(f0_hz.size), sr=sample_rate, hop_length=hop_length)
    return time_s, f0_hz, np.asarray(probability, dtype=np.float32)


def chunked_frames(
    backend,
    audio: np.ndarray,
    *,
    sample_rate: int,
    hop_length: int,
    chunk_s: float,
    overlap_s: float,
    **options,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run a centred-frame backend on overlapping chunks and stitch the frames.

    Each chunk holds ``chunk_s`` seconds of frames plus ``overlap_s`` of context on
    each side; only the chunk's own frames are kept, so edge effects (padding, HMM
    decoding) stay in the discarded context. ``backend(segment, sample_rate=...,
    hop_length=..., **options)`` must return ``(time_s, f0_hz, confidence)`` with
    ``1 + len(segment) // hop_length`` frames at ``k * hop_length``.
    """
    n_frames = 1 + audio.size // hop_length
    chunk = max(1, round(chunk_s * sample_rate / hop_length))
    margin = math.ceil(overlap_s * sample_rate / hop_length)
    if n_frames <= chunk + 2 * margin:
        return backend(audio, sample_rate=sample_rate, hop_length=hop_length, **options)
    f0_hz = np.empty(n_frames)
    confidence = np.empty(n_frames, dtype=np.float32)
    for first in range(0, n_frames, chunk):
        last = min(n_frames, first + chunk)
        low, high = max(0, first - margin), min(n_frames, last + margin)
        segment = audio[low * hop_length : high * hop_length]
        _, part_f0, part_confidence = backend(
            segment, sample_rate=sample_rate, hop_length=hop_length, **options
        )
        f0_hz[first:last] = part_f0[first - low : last - low]
        confidence[first:last] = part_confidence[first - low : last - low]
    time_s = np.arange(n_frames) * hop_length / sample_rate
    return time_s, f0_hz, confidence


def extract_f0(
    audio: np.ndarray,
    *,
    sample_rate: int,
    method: str = "melodia",
    hop_length: int = 256,
    frame_length: int = 2048,
    fmin_hz: float = 80.0,
    fmax_hz: float = 1000.0,
    reference_hz: float = 55.0,
    voicing_tolerance: float = 0.2,
    chunk_s: float = 30.0,
    chunk_overlap_s: float = 1.0,
    crepe_model: str = "full",
    crepe_batch_size: int = 64,
    crepe_viterbi: bool = True,
    crepe_refine: bool = True,
    crepe_precision: str = "auto",
    confidence_threshold: float = 0.5,
    device: str = "auto",
    num_threads: int | None = None,
) -> pd.DataFrame:
    """Run one backend and return the f0 table (columns :data:`F0_COLUMNS`).

    Parameters
    ----------
    audio : np.ndarray
        Mono signal at ``sample_rate``.
    method : {"melodia", "pyin", "crepe"}
    reference_hz : float
        Reference of the cents scale (0 cents = ``reference_hz``).
    voicing_tolerance : float
        Melodia only.
    chunk_s, chunk_overlap_s : float
        pYIN only: chunk length and context on each side, in seconds
        (see :func:`chunked_frames`).
    crepe_model, crepe_batch_size, crepe_viterbi, crepe_refine, crepe_precision : CREPE only
        ``model``, ``batch_size``, ``use_viterbi``, ``refine`` and ``precision`` of
        :func:`cantaor.crepe.crepe`.
    confidence_threshold : float
        CREPE only: frames whose confidence is below it are unvoiced.
    device : str
        CREPE only: "auto" (GPU when present), "cpu", "cuda".
    num_threads : int, optional
        CREPE only: torch threads.
    """
    common = dict(
        sample_rate=sample_rate,
        hop_length=hop_length,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
    )
    if method == "melodia":
        time_s, f0_hz, confidence = melodia(
            audio, voicing_tolerance=voicing_tolerance, frame_length=frame_length, **common
        )
    elif method == "pyin":
        time_s, f0_hz, confidence = chunked_frames(
            pyin,
            np.asarray(audio),
            chunk_s=chunk_s,
            overlap_s=chunk_overlap_s,
            frame_length=frame_length,
            **common,
        )
    elif method == "crepe":
        from cantaor.crepe import crepe

        time_s, f0_hz, confidence = crepe(
            audio,
            model=crepe_model,
            batch_size=crepe_batch_size,
            use_viterbi=crepe_viterbi,
            refine=crepe_refine,
            precision=crepe_precision,
            confidence_threshold=confidence_threshold,
            device=device,
            num_threads=num_threads,
            **common,
        )
    else:
        raise ValueError(f"unknown f0 method {method!r}; choose one of {', '.join(METHODS)}")
    voiced = f0_hz > 0
    return pd.DataFrame(
        {
            "time_s": time_s.astype(np.float64),
            "f0_hz": f0_hz,
            "pitch_cents": hz_to_cents(f0_hz, reference_hz=reference_hz),
            "voiced": voiced,
            "confidence": confidence.astype(np.float32),
        }
    )


POLICIES = ("fail", "skip")

#: Share of clipped samples above which the f0 rule logs a warning.
CLIPPING_WARNING = 0.001


def empty_f0_table() -> pd.DataFrame:
    """An f0 table with no frames (the schema of :data:`F0_COLUMNS`)."""
    return pd.DataFrame(
        {
            "time_s": pd.Series(dtype="float64"),
            "f0_hz": pd.Series(dtype="float64"),
            "pitch_cents": pd.Series(dtype="float64"),
            "voiced": pd.Series(dtype="bool"),
            "confidence": pd.Series(dtype="float32"),
        }
    )


def f0_arguments(settings, *, num_threads: int | None = None) -> dict:
    """Keyword arguments of :func:`extract_f0` from the config's ``f0`` section.

    One mapping for every caller (the ``f0`` and ``f0_accuracy`` rules and
    ``cantaor identify``), so that they extract f0 the same way. Keys a section
    lacks (``chunk_s``, ``chunk_overlap_s``, the ``crepe`` block: a model
    directory exported before they existed) keep :func:`extract_f0`'s defaults.

    >>> f0_arguments({"method": "pyin", "hop_length": 256, "crepe": {"model": "tiny"}})
    {'method': 'pyin', 'hop_length': 256, 'crepe_model': 'tiny'}
    """
    plain = (
        "method",
        "hop_length",
        "frame_length",
        "fmin_hz",
        "fmax_hz",
        "reference_hz",
        "voicing_tolerance",
        "chunk_s",
        "chunk_overlap_s",
    )
    crepe_keys = {
        "model": "crepe_model",
        "batch_size": "crepe_batch_size",
        "viterbi": "crepe_viterbi",
        "refine": "crepe_refine",
        "precision": "crepe_precision",
        "confidence_threshold": "confidence_threshold",
        "device": "device",
    }
    arguments = {key: settings[key] for key in plain if key in settings}
    crepe = settings.get("crepe") or {}
    arguments |= {name: crepe[key] for key, name in crepe_keys.items() if key in crepe}
    if num_threads is not None:
        arguments["num_threads"] = num_threads
    return arguments


def f0_of_file(
    audio_path, *, sample_rate: int, on_bad_recording: str = "fail", **options
) -> tuple[pd.DataFrame, dict]:
    """The f0 table of an audio file, with the bad-recording policy applied.

    Parameters
    ----------
    audio_path : path
        Any format :func:`cantaor.io.load_audio` reads; resampled to ``sample_rate``.
    on_bad_recording : {"fail", "skip"}
        A file that cannot be read, or holds no voiced frame, raises
        :class:`cantaor.io.AudioError` naming the file ("fail"), or gives an empty
        table and a status saying why ("skip").
    **options
        Keyword options of :func:`extract_f0`.

    Returns
    -------
    table : pd.DataFrame
    status : dict
        ``status`` ("ok" or "skipped"), ``reason``, ``duration_s``, ``voiced_frames``,
        ``clipped_share`` (share of samples in clipped runs, see
        :func:`cantaor.io.clipped_share`; None when the file could not be read).
    """
    from cantaor.io import AudioError, load_audio

    if on_bad_recording not in POLICIES:
        raise ValueError(f"on_bad_recording must be one of {', '.join(POLICIES)}")
    info: dict = {}
    try:
        audio, rate = load_audio(audio_path, sample_rate=sample_rate, info=info)
        table = extract_f0(audio, sample_rate=rate, **options)
        if not table["voiced"].any():
            raise AudioError(f"{audio_path}: no voiced frames (silence, or no pitched sound)")
    except AudioError as err:
        if on_bad_recording == "fail":
            raise
        return empty_f0_table(), {
            "status": "skipped",
            "reason": str(err),
            "duration_s": None,
            "voiced_frames": 0,
            "clipped_share": info.get("clipped_share"),
        }
    return table, {
        "status": "ok",
        "reason": "",
        "duration_s": audio.size / rate,
        "voiced_frames": int(table["voiced"].sum()),
        "clipped_share": info["clipped_share"],
    }
