"""Fundamental frequency (f0) per recording.

Backends write one table with a fixed schema (see :data:`F0_COLUMNS`):

========== ======= =====================================================
column     dtype   meaning
========== ======= =====================================================
time_s     float64 frame time in seconds
f0_hz      float64 f0 in Hz; 0.0 where unvoiced
pitch_cents float64 f0 in cents re ``reference_hz``; NaN where unvoiced
voiced     bool    the backend's voicing decision
confidence float32 the backend's confidence (Melodia salience, pYIN voicing probability)
========== ======= =====================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

F0_COLUMNS = ("time_s", "f0_hz", "pitch_cents", "voiced", "confidence")
METHODS = ("melodia", "pyin")


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
    import librosa

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
) -> pd.DataFrame:
    """Run one backend and return the f0 table (columns :data:`F0_COLUMNS`).

    Parameters
    ----------
    audio : np.ndarray
        Mono signal at ``sample_rate``.
    method : {"melodia", "pyin"}
    reference_hz : float
        Reference of the cents scale (0 cents = ``reference_hz``).
    voicing_tolerance : float
        Melodia only.
    """
    common = dict(
        sample_rate=sample_rate,
        hop_length=hop_length,
        frame_length=frame_length,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
    )
    if method == "melodia":
        time_s, f0_hz, confidence = melodia(audio, voicing_tolerance=voicing_tolerance, **common)
    elif method == "pyin":
        time_s, f0_hz, confidence = pyin(audio, **common)
    else:
        raise ValueError(f"unknown f0 method {method!r}; choose one of {', '.join(METHODS)}")
    voiced = f0_hz > 0
    return pd.DataFrame(
        {
            "time_s": time_s.astype(np.float64),
            "f0_hz": f0_hz,
            "pitch_cents": hz_to_cents(f0_hz, reference_hz=reference_hz),
            "voiced": voiced,
            "confidence": confidence,
        }
    )


POLICIES = ("fail", "skip")


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
        ``status`` ("ok" or "skipped"), ``reason``, ``duration_s``, ``voiced_frames``.
    """
    from cantaor.io import AudioError, load_audio

    if on_bad_recording not in POLICIES:
        raise ValueError(f"on_bad_recording must be one of {', '.join(POLICIES)}")
    try:
        audio, rate = load_audio(audio_path, sample_rate=sample_rate)
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
        }
    return table, {
        "status": "ok",
        "reason": "",
        "duration_s": audio.size / rate,
        "voiced_frames": int(table["voiced"].sum()),
    }
