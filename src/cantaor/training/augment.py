"""On-the-fly "album" augmentation of training items, in the log-power domain.

A singer recorded on another album sounds through another room, microphone,
equaliser, noise floor, key and codec. A model that meets only a few
recordings of each singer learns those conditions as readily as the voice
(REFERENCE.md section 3: the "album effect"). :func:`augment_batch` draws new
conditions for training items at every epoch so that the conditions stop
being a cue. Every effect is an approximation computed on the stored
features, not on audio (the store holds no waveforms), and is stated as such:

- gain: a constant added to every bin (a level change);
- EQ tilt: a straight line over the bins, ``tilt_db`` from the lowest to the
  highest bin at most (a brighter or duller microphone);
- band limits: bins above a low-pass cut (and, less often, below a high-pass
  cut) fall by ``rolloff_db_per_bin`` per bin (a narrow channel);
- reverb: exponential smearing of power along time, decay chosen from a
  reverberation time of up to ``reverb_s`` seconds (a late tail only, no
  early reflections or frequency-dependent decay);
- noise: stationary noise of a random colour added in the power domain, at a
  signal-to-noise ratio of ``noise_snr_db`` dB or more;
- key shift: the bins shifted by up to ``key_shift_bins`` mel bands with
  linear interpolation (on the mel scale above about 1 kHz, where it is close
  to logarithmic, a shift of bands is a shift of key; below, an
  approximation);
- lossy coding: a low-pass cut plus rounding to a coarse step of up to
  ``lossy_step_db`` dB.

Features are ``log_scale`` times the natural log of power (1 for ``logmel``,
0.5 for the log-magnitude ``spectrogram``); decibels convert through it.
MFCCs are not a log-power spectrum and are not augmented here.

Draws come from a generator the caller seeds (per epoch in
:mod:`cantaor.training.loop`), so an epoch's augmentation is the same on every run.
Padded frames stay exactly zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import lfilter

#: Natural-log power per decibel.
NEPER_PER_DB = np.log(10.0) / 10.0
#: Floor of the stored log power (``cantaor.features.acoustic`` floors mel power at 1e-10).
LOG_POWER_FLOOR = float(np.log(1e-10))


@dataclass(frozen=True)
class AlbumAugmentation:
    """Options of :func:`augment_batch` (the ``train.augmentation`` config keys).

    Attributes
    ----------
    probability : float
        Share of training items augmented at each epoch; 0 turns augmentation
        off. Each effect below then applies to an augmented item with
        probability ``effect_probability``, drawn independently.
    effect_probability : float
        Chance that each effect applies to an augmented item.
    gain_db : float
        Largest level change, dB (drawn uniformly in ``±gain_db``).
    tilt_db : float
        Largest EQ tilt between the lowest and the highest bin, dB.
    band_limit : float
        Largest share of the bins a low-pass cut removes (the cut is drawn
        uniformly in the top ``band_limit`` of the bins); a high-pass cut
        removes up to a quarter of that share at the bottom.
    rolloff_db_per_bin : float
        Attenuation per bin beyond a cut, dB.
    reverb_s : float
        Largest reverberation time (60 dB decay), seconds.
    noise_snr_db : float or None
        Lowest signal-to-noise ratio of the added noise, dB (drawn uniformly
        up to 30 dB above it); None turns that effect off.
    key_shift_bins : float
        Largest shift along the bin axis, in bins (fractional).
    lossy_step_db : float
        Largest quantisation step of the lossy-coding effect, dB; 0 turns
        that effect off.
    """

    probability: float = 0.0
    effect_probability: float = 0.5
    gain_db: float = 12.0
    tilt_db: float = 12.0
    band_limit: float = 0.4
    rolloff_db_per_bin: float = 6.0
    reverb_s: float = 1.2
    noise_snr_db: float | None = 5.0
    key_shift_bins: float = 2.0
    lossy_step_db: float = 3.0

    def __post_init__(self):
        for name in ("probability", "effect_probability", "band_limit"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"augmentation {name} must be within [0, 1], got {value}")
        for name in (
            "gain_db",
            "tilt_db",
            "rolloff_db_per_bin",
            "reverb_s",
            "key_shift_bins",
            "lossy_step_db",
        ):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"augmentation {name} must be finite and >= 0, got {value}")
        if self.noise_snr_db is not None and not np.isfinite(self.noise_snr_db):
            raise ValueError(f"augmentation noise_snr_db must be finite, got {self.noise_snr_db}")

    @property
    def enabled(self) -> bool:
        return self.probability > 0

    def to_dict(self) -> dict:
        return asdict(self)


def augment_batch(
    features: np.ndarray,
    lengths: np.ndarray,
    rng: np.random.Generator,
    options: AlbumAugmentation,
    *,
    hop_s: float = 0.01,
    log_scale: float = 1.0,
) -> np.ndarray:
    """Augment a batch of log-power items (a new array; the input is not changed).

    Parameters
    ----------
    features : numpy.ndarray, shape (batch, n_bins, n_frames)
        ``log_scale`` times the natural log of power, zero after each item's
        real frames.
    lengths : numpy.ndarray of int, shape (batch,)
        Real frames per item.
    rng : numpy.random.Generator
        Source of every draw.
    options : AlbumAugmentation
    hop_s : float
        Seconds between frames (for the reverberation time).
    log_scale : float
        Features per natural-log unit of power (1: log power, 0.5: log magnitude).

    Returns
    -------
    numpy.ndarray, float32, same shape
        Items drawn for augmentation changed, the others copied; padding zero.
    """
    x = np.array(features, dtype=np.float32, copy=True)
    if x.ndim != 3:
        raise ValueError(f"features must be (batch, n_bins, n_frames), got {x.shape}")
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.shape != (x.shape[0],):
        raise ValueError(f"lengths must have shape ({x.shape[0]},), got {lengths.shape}")
    if hop_s <= 0 or log_scale <= 0:
        raise ValueError("hop_s and log_scale must be positive")
    n_bins = x.shape[1]
    bins = np.arange(n_bins, dtype=np.float64)
    unit = NEPER_PER_DB * log_scale  # features per dB
    floor = LOG_POWER_FLOOR * log_scale
    for item in np.flatnonzero(rng.random(len(x)) < options.probability):
        n = int(lengths[item])
        if n < 1:
            continue
        # float64 while working: power sums span many orders of magnitude.
        spec = x[item, :, :n].astype(np.float64)
        applies = rng.random(7) < options.effect_probability
        if applies[0] and options.key_shift_bins > 0:
            shift = rng.uniform(-options.key_shift_bins, options.key_shift_bins)
            source = np.clip(bins - shift, 0, n_bins - 1)
            low = np.floor(source).astype(np.int64)
            high = np.minimum(low + 1, n_bins - 1)
            weight = (source - low)[:, None]
            spec = (1 - weight) * spec[low] + weight * spec[high]
        if applies[1] and options.reverb_s > 0:
            rt60 = rng.uniform(0.1 * options.reverb_s, options.reverb_s)
            decay = 10.0 ** (-6.0 * hop_s / rt60)  # power lost 60 dB per rt60
            wet = rng.uniform(0.2, 1.0)
            power = np.exp(spec / log_scale)
            tail = lfilter([0.0, 1.0 - decay], [1.0, -decay], power, axis=1)
            spec = np.log(power + wet * tail) * log_scale
        if applies[2] and options.noise_snr_db is not None:
            snr_db = rng.uniform(options.noise_snr_db, options.noise_snr_db + 30.0)
            power = np.exp(spec / log_scale)
            colour_db = rng.uniform(-20.0, 20.0) * (bins / max(n_bins - 1, 1) - 0.5)
            shape = 10.0 ** (colour_db / 10.0)
            level = power.mean() / shape.mean() * 10.0 ** (-snr_db / 10.0)
            noise = level * shape[:, None] * rng.lognormal(0.0, 0.5, size=power.shape)
            spec = np.log(power + noise) * log_scale
        if applies[3] and options.tilt_db > 0:
            tilt = rng.uniform(-options.tilt_db, options.tilt_db)
            spec = spec + (tilt * unit) * (bins / max(n_bins - 1, 1) - 0.5)[:, None]
        if applies[4] and options.gain_db > 0:
            spec = spec + rng.uniform(-options.gain_db, options.gain_db) * unit
        if applies[5] and options.band_limit > 0:
            spec = spec - _band_attenuation(bins, rng, options)[:, None] * unit
        if applies[6] and options.lossy_step_db > 0:
            cut = rng.uniform(0.6, 0.95) * n_bins
            spec = (
                spec
                - (np.maximum(bins - cut, 0.0) * 3.0 * options.rolloff_db_per_bin)[:, None] * unit
            )
            step = rng.uniform(0.5, 1.0) * options.lossy_step_db * unit
            spec = np.round(spec / step) * step
        x[item, :, :n] = np.maximum(spec, floor)
    return x


def _band_attenuation(bins: np.ndarray, rng: np.random.Generator, options: AlbumAugmentation):
    """Attenuation in dB per bin of a random low-pass and (half the time) high-pass cut."""
    n_bins = len(bins)
    high_cut = rng.uniform(1.0 - options.band_limit, 1.0) * n_bins
    attenuation = np.maximum(bins - high_cut, 0.0) * options.rolloff_db_per_bin
    if rng.random() < 0.5:
        low_cut = rng.uniform(0.0, options.band_limit / 4) * n_bins
        attenuation += np.maximum(low_cut - bins, 0.0) * options.rolloff_db_per_bin
    return attenuation
