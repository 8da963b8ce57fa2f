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
                   probability, CREPE probability of the chosen pitch bin,
                   SwiftF0 voicing score)
========== ======= =====================================================

SwiftF0 (the ``swift-f0`` wheel's ONNX network, 16 kHz, 16 ms frames) is made to
hold on real voices by :func:`swift`: see its docstring for the low-pass, the
harmonic-lock rescue and the two level gates, and BENCHMARKS.md for what each
buys on the realistic f0 test set (:func:`cantaor.demo.corpus.realistic_f0_set`).

pYIN runs on chunks of ``chunk_s`` seconds with ``chunk_overlap_s`` of context on
each side, so that a long recording needs bounded memory; Melodia and CREPE take
the whole signal (their memory grows slowly with its length: see BENCHMARKS.md).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

F0_COLUMNS = ("time_s", "f0_hz", "pitch_cents", "voiced", "confidence")
METHODS = ("swift", "melodia", "pyin", "crepe")


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
    from cantaor.util.jitcache import import_librosa

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


#: Rate, hop and pitch range of the SwiftF0 network (``swift_f0.core``).
SWIFT_SAMPLE_RATE = 16000
SWIFT_HOP = 256
SWIFT_FMAX_HZ = 2093.75


@functools.cache
def _swift_detector(threads: int | None):
    from swift_f0 import SwiftF0

    # spin=False: the thread pool sleeps between calls (a shared machine).
    return SwiftF0(threads=threads, spin=False)


def level_gate(
    voiced: np.ndarray, level_db: np.ndarray, *, drop_db: float, window: int
) -> np.ndarray:
    """Unvoice frames ``drop_db`` or more below the median level of the voiced frames
    within ``window`` frames around them (reverb tails, noise between phrases).

    >>> level_gate(np.array([True, True, True, True]), np.array([0.0, -1.0, -30.0, 0.0]),
    ...            drop_db=15.0, window=5).tolist()
    [True, True, False, True]
    """
    reference = (
        pd.Series(np.where(voiced, level_db, np.nan))
        .rolling(window, center=True, min_periods=1)
        .median()
        .to_numpy()
    )
    return voiced & ~(level_db < reference - drop_db)


#: The least fall, in dB per frame, of a run's end that :func:`trim_tails` takes for a tail.
TAIL_FALL_DB = 0.32  # 20 dB per second in SwiftF0 frames of 16 ms


def trim_tails(voiced: np.ndarray, level_db: np.ndarray, *, drop_db: float) -> np.ndarray:
    """Unvoice the end of every voiced run where it decays ``drop_db`` or more below the
    run's median level (the room ringing on after the singer stops).

    A run's end is the frames after its last one within ``drop_db`` of the median; it
    is unvoiced when it is a single frame, or when its level falls by at least
    :data:`TAIL_FALL_DB` per frame (least-squares slope). A quiet but steady closing
    note is kept.

    >>> trim_tails(np.array([False, True, True, True, True, False]),
    ...            np.array([0.0, -2.0, -1.0, -12.0, -20.0, 0.0]), drop_db=9.0).tolist()
    [False, True, True, False, False, False]
    """
    voiced = np.asarray(voiced, dtype=bool).copy()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        floor_db = np.median(level_db[start:end]) - drop_db
        last = end
        while last > start and level_db[last - 1] < floor_db:
            last -= 1
        if end - last == 1 or (
            end - last > 1
            and np.polyfit(np.arange(end - last), level_db[last:end], 1)[0] <= -TAIL_FALL_DB
        ):
            voiced[last:end] = False
    return voiced


def swift(
    audio: np.ndarray,
    *,
    sample_rate: int = 44100,
    hop_length: int = 256,
    fmin_hz: float = 80.0,
    fmax_hz: float = 1000.0,
    confidence_threshold: float = 0.5,
    lowpass_hz: float | None = 1200.0,
    level_gate_db: float | None = 15.0,
    level_window_s: float = 2.0,
    tail_trim_db: float | None = 9.0,
    num_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SwiftF0 (Nieradzik 2025; the ``swift-f0`` wheel's ONNX weights) on real voices.

    Steps, each answering a failure measured on the realistic f0 test set:

    1. resample to 16 kHz and low-pass at ``lowpass_hz`` (zero-phase, 4th order),
       so that a strong, narrow formant over a weak fundamental does not read as a
       pure tone at the formant frequency (None: no low-pass);
    2. run the network twice: within ``[fmin_hz, fmax_hz]`` for the pitch, and over
       its whole range. Restricted to the band, the network zeroes the confidence
       of a frame whose best candidate lies outside it; a frame whose unrestricted
       reading is a confident pitch above ``fmax_hz`` (a formant or harmonic lock) is
       voiced, with the band's pitch (the "harmonic-lock rescue");
    3. a frame is voiced where its confidence reaches ``confidence_threshold``
       (the network is calibrated for 0.5);
    4. ``level_gate_db``: frames that far below the median level of the voiced
       frames within ``level_window_s`` around them are unvoiced (reverb tails and
       noise between phrases; None: off);
    5. ``tail_trim_db``: the end of each voiced run is unvoiced while it is that far
       below the run's median level (the decay; None: off).

    The 16 ms frames are mapped onto frames of ``hop_length`` at ``sample_rate``
    (``1 + len(audio) // hop_length`` frames at ``k * hop_length``): the voicing and
    confidence of the nearest frame, the pitch interpolated in log-frequency between
    voiced neighbours.

    Returns
    -------
    time_s, f0_hz, confidence : np.ndarray
        As :func:`melodia`; ``confidence`` is the network's voicing score (of the
        unrestricted run for a rescued frame).
    """
    import scipy.signal
    import soxr

    if not 0.0 < fmin_hz < fmax_hz <= SWIFT_FMAX_HZ:
        raise ValueError(
            f"swift needs 0 < fmin_hz < fmax_hz <= {SWIFT_FMAX_HZ}, got {fmin_hz}, {fmax_hz}"
        )
    if lowpass_hz is not None and not fmax_hz < lowpass_hz < SWIFT_SAMPLE_RATE / 2:
        raise ValueError(
            f"swift.lowpass_hz must lie between fmax_hz ({fmax_hz}) and 8000 Hz, got {lowpass_hz}"
        )
    signal = np.asarray(audio, dtype=np.float32)
    n_frames = 1 + signal.size // hop_length
    time_s = np.arange(n_frames) * hop_length / sample_rate
    if signal.size < SWIFT_HOP * sample_rate // SWIFT_SAMPLE_RATE + 1:
        return time_s, np.zeros(n_frames), np.zeros(n_frames, dtype=np.float32)
    if sample_rate != SWIFT_SAMPLE_RATE:
        signal = soxr.resample(signal, sample_rate, SWIFT_SAMPLE_RATE)
    if lowpass_hz is not None:
        sos = scipy.signal.butter(4, lowpass_hz, fs=SWIFT_SAMPLE_RATE, output="sos")
        signal = scipy.signal.sosfiltfilt(sos, signal).astype(np.float32)
    detector = _swift_detector(num_threads)
    band = detector.detect(signal, SWIFT_SAMPLE_RATE, fmin=fmin_hz, fmax=fmax_hz)
    whole = detector.detect(signal, SWIFT_SAMPLE_RATE)
    locked = (whole.confidence >= confidence_threshold) & (whole.pitch_hz > fmax_hz)
    voiced = (band.confidence >= confidence_threshold) | locked
    confidence = np.where(
        locked & (band.confidence < confidence_threshold), whole.confidence, band.confidence
    )
    level_db = band.loudness_db
    if level_gate_db is not None:
        window = max(1, round(level_window_s * SWIFT_SAMPLE_RATE / SWIFT_HOP))
        voiced = level_gate(voiced, level_db, drop_db=level_gate_db, window=window)
    if tail_trim_db is not None:
        voiced = trim_tails(voiced, level_db, drop_db=tail_trim_db)

    # Onto the caller's frames.
    position = time_s * SWIFT_SAMPLE_RATE / SWIFT_HOP
    last = band.pitch_hz.size - 1
    nearest = np.clip(np.rint(position).astype(np.int64), 0, last)
    low = np.clip(np.floor(position).astype(np.int64), 0, last)
    high = np.minimum(low + 1, last)
    fraction = np.clip(position - low, 0.0, 1.0)
    log_f0 = np.log(np.maximum(band.pitch_hz, 1e-3))
    both = voiced[low] & voiced[high]
    log_pitch = np.where(
        both, (1.0 - fraction) * log_f0[low] + fraction * log_f0[high], log_f0[nearest]
    )
    f0_hz = np.where(voiced[nearest], np.exp(log_pitch), 0.0)
    return time_s, f0_hz, confidence[nearest].astype(np.float32)


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
    method: str = "swift",
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
    swift_confidence_threshold: float = 0.5,
    swift_lowpass_hz: float | None = 1200.0,
    swift_level_gate_db: float | None = 15.0,
    swift_tail_trim_db: float | None = 9.0,
) -> pd.DataFrame:
    """Run one backend and return the f0 table (columns :data:`F0_COLUMNS`).

    Parameters
    ----------
    audio : np.ndarray
        Mono signal at ``sample_rate``.
    method : {"swift", "melodia", "pyin", "crepe"}
    reference_hz : float
        Reference of the cents scale (0 cents = ``reference_hz``).
    voicing_tolerance : float
        Melodia only.
    chunk_s, chunk_overlap_s : float
        pYIN only: chunk length and context on each side, in seconds
        (see :func:`chunked_frames`).
    crepe_model, crepe_batch_size, crepe_viterbi, crepe_refine, crepe_precision : CREPE only
        ``model``, ``batch_size``, ``use_viterbi``, ``refine`` and ``precision`` of
        :func:`cantaor.pitch.crepe.crepe`.
    confidence_threshold : float
        CREPE only: frames whose confidence is below it are unvoiced.
    device : str
        CREPE only: "auto" (GPU when present), "cpu", "cuda".
    num_threads : int, optional
        CREPE and SwiftF0: torch or ONNX Runtime threads.
    swift_confidence_threshold, swift_lowpass_hz, swift_level_gate_db, swift_tail_trim_db
        SwiftF0 only: ``confidence_threshold``, ``lowpass_hz``, ``level_gate_db`` and
        ``tail_trim_db`` of :func:`swift`.
    """
    common = dict(
        sample_rate=sample_rate,
        hop_length=hop_length,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
    )
    if method == "swift":
        time_s, f0_hz, confidence = swift(
            audio,
            confidence_threshold=swift_confidence_threshold,
            lowpass_hz=swift_lowpass_hz,
            level_gate_db=swift_level_gate_db,
            tail_trim_db=swift_tail_trim_db,
            num_threads=num_threads,
            **common,
        )
    elif method == "melodia":
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
        from cantaor.pitch.crepe import crepe

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
    The ``swift`` block's keys become ``swift_*`` arguments.

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
    swift_keys = ("confidence_threshold", "lowpass_hz", "level_gate_db", "tail_trim_db")
    arguments = {key: settings[key] for key in plain if key in settings}
    crepe = settings.get("crepe") or {}
    arguments |= {name: crepe[key] for key, name in crepe_keys.items() if key in crepe}
    swift_settings = settings.get("swift") or {}
    arguments |= {
        f"swift_{key}": swift_settings[key] for key in swift_keys if key in swift_settings
    }
    if num_threads is not None:
        arguments["num_threads"] = num_threads
    return arguments


def f0_of_file(
    audio_path,
    *,
    sample_rate: int,
    on_bad_recording: str = "fail",
    second_opinion: str = "auto",
    **options,
) -> tuple[pd.DataFrame, dict]:
    """The f0 table of an audio file, with the bad-recording policy applied.

    Parameters
    ----------
    audio_path : path
        Any format :func:`cantaor.util.audio.load_audio` reads; resampled to ``sample_rate``.
    on_bad_recording : {"fail", "skip"}
        A file that cannot be read, or holds no voiced frame, raises
        :class:`cantaor.util.audio.AudioError` naming the file ("fail"), or gives an empty
        table and a status saying why ("skip").
    second_opinion : {"auto", "yin", "swift", "none"}
        The cheap second opinion of the quality checks
        (:func:`cantaor.pitch.quality.second_opinion`).
    **options
        Keyword options of :func:`extract_f0`.

    Returns
    -------
    table : pd.DataFrame
    status : dict
        ``status`` ("ok" or "skipped"), ``reason``, ``duration_s``, ``voiced_frames``,
        ``clipped_share`` (share of samples in clipped runs, see
        :func:`cantaor.util.audio.clipped_share`; None when the file could not be read) and
        ``quality`` (:func:`cantaor.pitch.quality.recording_quality`; None when skipped).
    """
    from cantaor.pitch.quality import SECOND_OPINIONS, recording_quality
    from cantaor.pitch.quality import second_opinion as opinion_of
    from cantaor.util.audio import AudioError, load_audio

    if on_bad_recording not in POLICIES:
        raise ValueError(f"on_bad_recording must be one of {', '.join(POLICIES)}")
    if second_opinion not in SECOND_OPINIONS:
        raise ValueError(
            f"second_opinion must be one of {', '.join(SECOND_OPINIONS)}, got {second_opinion!r}"
        )
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
            "quality": None,
        }
    second = opinion_of(
        audio,
        sample_rate=rate,
        method=options.get("method", "swift"),
        kind=second_opinion,
        **{key: options[key] for key in ("fmin_hz", "fmax_hz") if key in options},
    )
    return table, {
        "status": "ok",
        "reason": "",
        "duration_s": audio.size / rate,
        "voiced_frames": int(table["voiced"].sum()),
        "clipped_share": info["clipped_share"],
        "quality": recording_quality(table, second_opinion=second),
    }
