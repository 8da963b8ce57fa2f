"""Acoustic features of motif occurrences (stored by :mod:`cantaor.features.store`).

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

The feature of a whole recording is computed once and every item's frames are
sliced from it, which is why building a store costs one pass over the audio
rather than one transform per item. Every feature is frame-local (no
normalisation over the recording), so an item's frames do not depend on the
rest of its recording except within half a window of the recording's ends.
"""

from __future__ import annotations

import numpy as np

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
    from cantaor.util.jitcache import import_librosa

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
    from cantaor.util.jitcache import import_librosa

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
    from cantaor.util.jitcache import import_librosa

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
