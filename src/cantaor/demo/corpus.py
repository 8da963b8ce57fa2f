"""Synthetic a cappella flamenco corpus for demos and end-to-end tests.

Every synthetic singer has a style of their own: a tonic, a vocabulary of
microtonal melodic motifs (some drawn from a pool shared between singers),
vibrato, glides, pitch instability and a vocal-tract timbre. Each recording
adds its own conditions (noise floor, reverb, level, EQ, bandwidth), so that a
classifier has an "album effect" to be robust to. The f0 that drives the
oscillator and every planted motif occurrence are returned as ground truth.

Randomness comes from :class:`numpy.random.SeedSequence` streams keyed by:

- ``(seed, n_singers)``: singer tonics and the shared motif pool;
- ``(seed, n_singers, singer_index)``: everything personal to a singer, so all
  recordings of a singer share it;
- ``(seed, singer_index, recording_index)``: the melody and the recording
  conditions;
- ``(seed, singer_index, recording_index)`` under a tag of its own: the sheet's
  style and duration, so the sheet never needs any audio to be synthesized;
- ``(seed, n_singers, singer_index)`` and ``(seed, singer_index,
  recording_index)`` under a third tag: the *realistic* conditions below, so a
  studio recording is the same whatever share of the corpus is realistic.

Realistic recordings
--------------------
A share of the corpus (``realistic_share``; all of :func:`realistic_f0_set`)
is sung and recorded the way that breaks pitch trackers on real voices: a weak
fundamental under strong, narrow formants (a low voice's F1 sits on its 3rd or
4th harmonic), more breath noise, jitter, shimmer, wide vibrato and quick
ornaments (turns of 60-110 ms notes); a room with RT60 0.6-1.3 s, coloured
noise at 22-45 dB SNR over the sounding part, mains hum (50 or 60 Hz and its
harmonics), a high-pass at 60-180 Hz, a mid-band peak or dip and a low-pass at
3.5-10 kHz. The truth is still the oscillator's exact f0, and a frame is voiced
where the singer's envelope is non-zero (reverb tails and breaths are not).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.signal
import soundfile

from cantaor.util.atomic import atomic_path
from cantaor.util.parquet import frame_to_parquet

__all__ = [
    "HOP_SAMPLES",
    "MIN_DURATION_S",
    "REALISTIC_SHARE",
    "SINGER_PREFIX",
    "STYLES",
    "DemoRecording",
    "demo_sample_sheet",
    "is_realistic",
    "realistic_f0_set",
    "recording_id",
    "singer_code",
    "synthesize_recording",
    "write_demo_recording",
]

SINGER_PREFIX = "S"

#: Palos sung without guitar; the sheet's ``style`` column draws from these.
STYLES = ("martinete", "debla", "saeta", "fandango")

#: Hop of the ground-truth f0 frames, in samples.
HOP_SAMPLES = 256

#: Shortest recording, in seconds: a lead-in silence, one phrase and a tail.
MIN_DURATION_S = 3.0

# Stream tags keep the SeedSequence keys of different purposes apart. They are
# non-zero because SeedSequence treats trailing zero words as absent.
_CORPUS_STREAM = 0x636F7270
_SINGER_STREAM = 0x73696E67
_SHEET_STREAM = 0x73686565
_REALISTIC_STREAM = 0x7265616C

#: Default share of a demo corpus recorded in realistic conditions.
REALISTIC_SHARE = 0.5

# Free-material note lengths are scaled by the palo's tempo: tonás such as the
# martinete and the saeta are sung more slowly than a free fandango.
_STYLE_TEMPO = {"martinete": 1.2, "debla": 1.1, "saeta": 1.3, "fandango": 0.9}

_TONIC_RANGE_HZ = (150.0, 400.0)
# Where melodies may wander, in cents relative to the singer's tonic.
_TESSITURA_CENTS = (-300.0, 900.0)
# Motif steps avoid multiples of 100 cents so the demo is not equal-tempered.
_MOTIF_STEPS_CENTS = np.array([45.0, 80.0, 130.0, 150.0, 170.0, 230.0, 270.0, 330.0])
# Nominal motif note lengths, and the per-occurrence tempo change: together
# they keep every sung motif note within 120-400 ms.
_MOTIF_NOTE_S = (0.131, 0.37)
_MOTIF_TEMPO_JITTER = 0.08
_MOTIF_DETUNE_CENTS = 10.0
# Shortest free note before the palo's tempo; with glides of at most 90 ms no
# note is ever shorter than the two half-glides at its ends.
_MIN_FREE_NOTE_S = 0.15
_N_SHARED_MOTIFS = 2

# (F1, F2, F3) in Hz of the vowels a, e, i, o, u for an average adult tract.
_VOWEL_FORMANTS_HZ = np.array(
    [
        [750.0, 1250.0, 2600.0],
        [500.0, 1800.0, 2600.0],
        [320.0, 2300.0, 3000.0],
        [500.0, 900.0, 2500.0],
        [350.0, 750.0, 2500.0],
    ]
)
_VOWEL_BANDWIDTHS_HZ = np.array([90.0, 110.0, 160.0])
# How far F1-F3 stand above the source spectrum, in dB.
_FORMANT_GAINS_DB = np.array([18.0, 14.0, 10.0])

_WAVETABLE_SIZE = 4096
_WAVETABLES_PER_OCTAVE = 4


@dataclass(frozen=True, eq=False)  # eq=False: arrays and frames do not compare to a bool
class DemoRecording:
    """One synthetic recording with its ground truth.

    Attributes
    ----------
    audio : np.ndarray
        Mono float32 signal, peak absolute value <= 0.99.
    sample_rate : int
        Sampling rate of ``audio`` in Hz.
    f0 : pandas.DataFrame
        The f0 driving the oscillator, one row per frame of ``HOP_SAMPLES``
        samples: ``time_s`` (float64, ``i * HOP_SAMPLES / sample_rate``),
        ``f0_hz`` (float64, 0.0 where unvoiced) and ``voiced`` (bool).
    motifs : pandas.DataFrame
        Every planted motif occurrence: ``motif_id`` (str), ``owner`` (str:
        the singer code, or ``"shared"``), ``start_s`` and ``end_s``
        (float64, seconds) and ``phrase`` (int64, 0-based phrase index).
    """

    audio: np.ndarray
    sample_rate: int
    f0: pd.DataFrame
    motifs: pd.DataFrame


@dataclass(frozen=True)
class _Motif:
    motif_id: str
    owner: str
    offsets_cents: np.ndarray  # note pitches relative to the singer's tonic
    durations_s: np.ndarray


@dataclass(frozen=True)
class _Singer:
    code: str
    tonic_hz: float
    motifs: tuple[_Motif, ...]
    vibrato_rate_hz: float
    vibrato_depth_cents: float
    glide_s: float  # mean portamento duration
    drift_cents: float  # standard deviation of the slow pitch drift
    jitter_cents: float
    tilt_db_per_octave: float  # of the harmonic source
    harmonic_phases: np.ndarray  # radians, shape the source waveform
    breathiness: float  # aspiration noise relative to the harmonic source
    vowel_formants_hz: np.ndarray  # (n_vowels, 4): F1-F3 and a singer's formant
    formant_bandwidths_hz: np.ndarray  # (4,)
    formant_gains_db: np.ndarray  # (4,)
    vowel_weights: np.ndarray  # how often each of the singer's vowels is sung
    fundamental_db: float = 0.0  # level of the 1st harmonic re the source's tilt
    shimmer: float = 0.0  # standard deviation of the cycle-to-cycle amplitude factor
    ornament_rate: float = 0.0  # chance that a free note opens with a turn


def singer_code(singer_index: int) -> str:
    """Return the code of a 0-based singer index, e.g. ``0 -> "S1"``."""
    return f"{SINGER_PREFIX}{singer_index + 1}"


def recording_id(singer_index: int, recording_index: int) -> str:
    """Return the id of a recording from 0-based indices, e.g. ``"S1_R2"``."""
    return f"{singer_code(singer_index)}_R{recording_index + 1}"


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(k) for k in key]))


def _sheet_rng(seed: int, singer_index: int, recording_index: int) -> np.random.Generator:
    return _rng(seed, _SHEET_STREAM, singer_index, recording_index)


def _recording_style(rng: np.random.Generator) -> str:
    # Drawn first from the sheet stream, so the synthesizer can recover the
    # sheet's style without knowing the sheet's duration range.
    return STYLES[int(rng.integers(len(STYLES)))]


def demo_sample_sheet(
    *,
    n_singers: int,
    recordings_per_singer: int,
    min_duration_s: float,
    max_duration_s: float,
    seed: int,
    audio_dir: str,
) -> pd.DataFrame:
    """Describe a demo corpus without synthesizing any audio.

    Parameters
    ----------
    n_singers : int
        Number of singers, coded ``"S1"`` to ``f"S{n_singers}"``.
    recordings_per_singer : int
        Recordings per singer, ids ``"S1_R1"``, ``"S1_R2"``, ...
    min_duration_s, max_duration_s : float
        Range, in seconds, of the recording durations; at least
        :data:`MIN_DURATION_S`.
    seed : int
        Non-negative corpus seed.
    audio_dir : str
        Directory the wav files are to be written to.

    Returns
    -------
    pandas.DataFrame
        One row per recording with columns ``recording_id``, ``singer``,
        ``path`` (``f"{audio_dir}/{recording_id}.wav"``), ``style`` (one of
        :data:`STYLES`), ``group`` (album id; each recording is its own album)
        and ``duration_s`` (float, seconds).
    """
    if n_singers < 1 or recordings_per_singer < 1:
        raise ValueError("n_singers and recordings_per_singer must be at least 1")
    if not MIN_DURATION_S <= min_duration_s <= max_duration_s:
        raise ValueError(f"need {MIN_DURATION_S} <= min_duration_s <= max_duration_s")
    rows = []
    for singer_index in range(n_singers):
        for recording_index in range(recordings_per_singer):
            rng = _sheet_rng(seed, singer_index, recording_index)
            style = _recording_style(rng)
            duration_s = float(rng.uniform(min_duration_s, max_duration_s))
            rec_id = recording_id(singer_index, recording_index)
            rows.append(
                {
                    "recording_id": rec_id,
                    "singer": singer_code(singer_index),
                    "path": f"{audio_dir}/{rec_id}.wav",
                    "style": style,
                    "group": f"album_{rec_id}",
                    "duration_s": duration_s,
                }
            )
    return pd.DataFrame(rows).astype({"duration_s": "float64"})


def _motif_outline_cents(motif: _Motif, *, n_points: int = 32) -> np.ndarray:
    """Pitch of a motif at ``n_points`` evenly spaced fractions of its length."""
    note_ends = np.cumsum(motif.durations_s) / motif.durations_s.sum()
    fractions = (np.arange(n_points) + 0.5) / n_points
    return motif.offsets_cents[np.searchsorted(note_ends, fractions)]


def _draw_motif(
    rng: np.random.Generator, *, motif_id: str, owner: str, avoid: list[_Motif]
) -> _Motif:
    """Draw a motif that does not sound like any motif in ``avoid``."""
    low_cents, high_cents = _TESSITURA_CENTS
    # Redraw while the outline stays within 100 cents of another motif most
    # of the time; give up after a few tries rather than loop forever.
    for _ in range(20):
        n_notes = int(rng.integers(3, 7))
        # Start away from the tessitura edges so a few steps fit either way.
        offsets_cents = [float(rng.uniform(low_cents + 200.0, high_cents - 300.0))]
        for _ in range(n_notes - 1):
            step_cents = float(rng.choice(_MOTIF_STEPS_CENTS)) * rng.choice([-1.0, 1.0])
            if not low_cents <= offsets_cents[-1] + step_cents <= high_cents:
                step_cents = -step_cents
            offsets_cents.append(offsets_cents[-1] + step_cents)
        durations_s = rng.uniform(*_MOTIF_NOTE_S, size=n_notes)
        motif = _Motif(motif_id, owner, np.array(offsets_cents), durations_s)
        outline_cents = _motif_outline_cents(motif)
        if all(
            np.median(np.abs(outline_cents - _motif_outline_cents(other))) >= 100.0
            for other in avoid
        ):
            break
    return motif


def _corpus_plan(seed: int, n_singers: int) -> tuple[np.ndarray, list[_Motif], list[set[int]]]:
    """Draw what singers share: distinct tonics and the shared motif pool.

    Returns
    -------
    tonics_hz : np.ndarray
        Tonic of each singer in Hz.
    shared_motifs : list of _Motif
        The shared pool.
    shared_singers : list of set of int
        For each shared motif, the 0-based indices of the singers who use it.
    """
    rng = _rng(seed, _CORPUS_STREAM, n_singers)
    # One tonic per equal slot of the log-frequency range, in shuffled order,
    # so no two singers share a tessitura.
    low_hz, high_hz = _TONIC_RANGE_HZ
    slots = rng.permutation(n_singers) + rng.uniform(0.1, 0.9, size=n_singers)
    tonics_hz = low_hz * (high_hz / low_hz) ** (slots / n_singers)
    shared_motifs = []
    shared_singers = []
    for j in range(_N_SHARED_MOTIFS):
        shared_motifs.append(
            _draw_motif(rng, motif_id=f"shared_M{j + 1}", owner="shared", avoid=shared_motifs)
        )
        # At least two users whenever there are two singers, or it isn't shared.
        n_users = int(rng.integers(min(2, n_singers), n_singers + 1))
        shared_singers.append(set(rng.choice(n_singers, size=n_users, replace=False).tolist()))
    return tonics_hz, shared_motifs, shared_singers


def _singer_style(*, seed: int, singer_index: int, n_singers: int) -> _Singer:
    """Draw everything personal to one singer; independent of any recording."""
    if not 0 <= singer_index < n_singers:
        raise ValueError(f"singer_index {singer_index} not in [0, {n_singers})")
    tonics_hz, shared_motifs, shared_singers = _corpus_plan(seed, n_singers)
    rng = _rng(seed, _SINGER_STREAM, n_singers, singer_index)
    code = singer_code(singer_index)

    own_shared = [
        m for m, users in zip(shared_motifs, shared_singers, strict=True) if singer_index in users
    ]
    n_vocabulary = int(rng.integers(4, 7))
    personal = []
    for j in range(n_vocabulary - len(own_shared)):
        personal.append(
            _draw_motif(
                rng, motif_id=f"{code}_M{j + 1}", owner=code, avoid=shared_motifs + personal
            )
        )

    # A longer or shorter vocal tract scales all formants together; the
    # singer's formant (a cluster near 3 kHz in trained voices) is personal.
    n_vowels = 3
    vowels = rng.choice(len(_VOWEL_FORMANTS_HZ), size=n_vowels, replace=False)
    tract_scale = rng.uniform(0.88, 1.12)
    formants_hz = _VOWEL_FORMANTS_HZ[vowels] * tract_scale * rng.uniform(0.95, 1.05, size=3)
    singers_formant_hz = np.full((n_vowels, 1), rng.uniform(2800.0, 3500.0))

    return _Singer(
        code=code,
        tonic_hz=float(tonics_hz[singer_index]),
        motifs=tuple(personal + own_shared),
        vibrato_rate_hz=rng.uniform(4.5, 7.0),
        vibrato_depth_cents=rng.uniform(15.0, 60.0),
        glide_s=rng.uniform(0.04, 0.08),
        drift_cents=rng.uniform(2.0, 5.0),
        jitter_cents=rng.uniform(1.0, 3.0),
        tilt_db_per_octave=rng.uniform(-9.0, -4.0),
        harmonic_phases=rng.uniform(0.0, 2.0 * np.pi, size=_WAVETABLE_SIZE // 2 + 1),
        breathiness=rng.uniform(0.02, 0.08),
        vowel_formants_hz=np.hstack([formants_hz, singers_formant_hz]),
        formant_bandwidths_hz=np.append(
            _VOWEL_BANDWIDTHS_HZ * rng.uniform(0.8, 1.3), rng.uniform(200.0, 400.0)
        ),
        formant_gains_db=np.append(
            _FORMANT_GAINS_DB + rng.uniform(-3.0, 3.0, size=3), rng.uniform(4.0, 16.0)
        ),
        vowel_weights=rng.dirichlet(np.full(n_vowels, 2.0)),
    )


@dataclass
class _Score:
    """Notes and phrases of one recording; times in seconds."""

    onsets_s: list[float]
    durations_s: list[float]
    pitches_cents: list[float]  # relative to the tonic
    vowels: list[int]
    phrase_starts_s: list[float]
    phrase_ends_s: list[float]
    phrase_first_notes: list[int]  # index of each phrase's first note
    motif_rows: list[dict]


def _compose(
    rng: np.random.Generator, singer: _Singer, *, duration_s: float, tempo: float
) -> _Score:
    """Write the melody: phrases of free notes with planted motifs."""
    score = _Score([], [], [], [], [], [], [], [])
    low_cents, high_cents = _TESSITURA_CENTS
    tail_s = 0.3  # room for the release and a little silence at the end
    pitch_cents = float(rng.uniform(0.0, 500.0))

    def add_note(onset_s: float, note_s: float, note_cents: float) -> float:
        score.onsets_s.append(onset_s)
        score.durations_s.append(note_s)
        score.pitches_cents.append(note_cents)
        score.vowels.append(int(rng.choice(len(singer.vowel_weights), p=singer.vowel_weights)))
        return onset_s + note_s

    def add_free_notes(t_s: float, span_s: float) -> float:
        """Random walk of notes filling ``span_s`` seconds, bar a sliver."""
        nonlocal pitch_cents
        end_s = t_s + span_s
        # The tolerance keeps a span of exactly one shortest note from being
        # lost to rounding.
        while end_s - t_s >= _MIN_FREE_NOTE_S - 1e-9:
            pitch_cents += rng.normal(0.0, 150.0)
            # Reflect at the tessitura edges rather than clip, so the walk
            # does not stick to the boundary.
            if pitch_cents > high_cents:
                pitch_cents = 2 * high_cents - pitch_cents
            if pitch_cents < low_cents:
                pitch_cents = 2 * low_cents - pitch_cents
            note_s = rng.uniform(_MIN_FREE_NOTE_S, 0.6) * tempo
            if end_s - t_s - note_s < _MIN_FREE_NOTE_S:
                note_s = max(end_s - t_s, _MIN_FREE_NOTE_S)  # absorb the sliver
            # An ornament (realistic singers only: no draw otherwise): a turn of
            # upper neighbour, the note and lower neighbour before the note is held.
            if singer.ornament_rate and note_s >= 0.45 and rng.random() < singer.ornament_rate:
                for step_cents in (rng.uniform(80.0, 200.0), 0.0, -rng.uniform(80.0, 200.0)):
                    turn_s = rng.uniform(0.06, 0.11)
                    t_s = add_note(t_s, turn_s, pitch_cents + step_cents)
                    note_s -= turn_s
            t_s = add_note(t_s, note_s, pitch_cents)
        return t_s

    # Short enough that a MIN_DURATION_S recording still holds a 2 s phrase.
    t_s = rng.uniform(0.3, 0.7)
    phrase = 0
    while (available_s := duration_s - tail_s - t_s) >= 2.0:
        occurrences = []
        for i in rng.choice(len(singer.motifs), size=int(rng.integers(1, 4))):
            motif = singer.motifs[i]
            scale = 1.0 + rng.uniform(-_MOTIF_TEMPO_JITTER, _MOTIF_TEMPO_JITTER)
            occurrences.append((motif, motif.durations_s * scale))
        cadence_s = rng.uniform(0.5, 1.1) * tempo
        motifs_s = [float(d.sum()) for _, d in occurrences]

        # Besides the motifs and the cadence, a phrase holds a free note
        # before every motif and at least 0.3 s more of free singing.
        while occurrences and (
            sum(motifs_s) + cadence_s + len(occurrences) * _MIN_FREE_NOTE_S + 0.3
            > min(6.0, available_s)
        ):
            occurrences.pop()
            motifs_s.pop()
        fixed_s = sum(motifs_s) + cadence_s
        shortest_s = fixed_s + len(occurrences) * _MIN_FREE_NOTE_S + 0.3
        phrase_s = min(rng.uniform(max(2.0, shortest_s), 6.0), available_s)
        free_s = phrase_s - fixed_s
        # A note before every motif: a phrase opens with a free note (the
        # attack), so motifs always sit strictly inside the voicing.
        floors_s = np.append(np.full(len(occurrences), _MIN_FREE_NOTE_S), 0.0)
        gaps_s = floors_s + (free_s - floors_s.sum()) * rng.dirichlet(np.ones(len(floors_s)))

        phrase_start_s = t_s
        score.phrase_first_notes.append(len(score.onsets_s))
        for (motif, note_durations_s), gap_s in zip(occurrences, gaps_s[:-1], strict=True):
            t_s = add_free_notes(t_s, gap_s)
            detune_cents = rng.uniform(-_MOTIF_DETUNE_CENTS, _MOTIF_DETUNE_CENTS)
            motif_start_s = t_s
            for offset_cents, note_s in zip(motif.offsets_cents, note_durations_s, strict=True):
                t_s = add_note(t_s, float(note_s), offset_cents + detune_cents)
            pitch_cents = float(motif.offsets_cents[-1])
            score.motif_rows.append(
                {
                    "motif_id": motif.motif_id,
                    "owner": motif.owner,
                    "start_s": motif_start_s,
                    "end_s": t_s,
                    "phrase": phrase,
                }
            )
        t_s = add_free_notes(t_s, gaps_s[-1])
        # Phrases cadence on a long note near the tonic, where vibrato blooms;
        # it also takes up any sliver the free notes left, so the phrase
        # lasts phrase_s.
        pitch_cents = rng.normal(0.0, 10.0)
        t_s = add_note(t_s, phrase_start_s + phrase_s - t_s, pitch_cents)

        score.phrase_starts_s.append(phrase_start_s)
        score.phrase_ends_s.append(t_s)
        phrase += 1
        t_s += rng.uniform(0.3, 1.2)
    return score


def _smooth_noise(
    rng: np.random.Generator, n: int, *, std: float, time_constant_frames: float
) -> np.ndarray:
    """Low-passed Gaussian noise with the given standard deviation."""
    pole = np.exp(-1.0 / time_constant_frames)
    noise = scipy.signal.lfilter([1.0 - pole], [1.0, -pole], rng.standard_normal(n + 200))
    noise = noise[200:]  # drop the filter's warm-up
    return std * noise / max(float(noise.std()), 1e-12)


def _pitch_track(
    rng: np.random.Generator,
    singer: _Singer,
    score: _Score,
    frame_times_s: np.ndarray,
    *,
    hop_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Frame-wise pitch in cents relative to the tonic, and the amplitude envelope.

    The pitch is defined everywhere (it keeps gliding through silences) so the
    oscillator never sweeps to 0 Hz; the envelope is zero outside phrases.
    """
    onsets_s = np.array(score.onsets_s)
    durations_s = np.array(score.durations_s)
    pitches_cents = np.array(score.pitches_cents)
    n_notes = len(onsets_s)

    # Portamento: a raised-cosine glide centred on each note boundary. Notes
    # last at least 120 ms and glides at most 90 ms, so a frame is only ever
    # inside the glide of its nearest boundary.
    boundaries_s = onsets_s.copy()
    # Between phrases the pitch moves on in the silence, never audibly: the
    # glide into a phrase's first note ends before the phrase starts.
    boundaries_s[score.phrase_first_notes] -= 0.15
    glides_s = np.clip(singer.glide_s * rng.uniform(0.7, 1.3, size=n_notes), 0.03, 0.09)
    # Ornament notes are shorter than a glide: a glide never outlasts 90% of
    # either note it joins (a no-op for notes of 100 ms and more).
    shorter_s = np.minimum(np.concatenate([[np.inf], durations_s[:-1]]), durations_s)
    glides_s = np.minimum(glides_s, 0.9 * shorter_s)
    previous_cents = np.concatenate([pitches_cents[:1], pitches_cents[:-1]])

    after = np.searchsorted(boundaries_s, frame_times_s, side="right")
    left = np.maximum(after - 1, 0)
    right = np.minimum(after, n_notes - 1)
    nearest = np.where(
        frame_times_s - boundaries_s[left] <= boundaries_s[right] - frame_times_s, left, right
    )
    progress = np.clip((frame_times_s - boundaries_s[nearest]) / glides_s[nearest] + 0.5, 0.0, 1.0)
    progress = 0.5 - 0.5 * np.cos(np.pi * progress)
    pitch_cents = previous_cents[nearest] + progress * (
        pitches_cents[nearest] - previous_cents[nearest]
    )

    # Vibrato only blooms on notes long enough to hold it, after a short delay.
    note = np.clip(np.searchsorted(onsets_s, frame_times_s, side="right") - 1, 0, n_notes - 1)
    depth_cents = np.where(
        durations_s >= 0.3,
        singer.vibrato_depth_cents * rng.uniform(0.7, 1.2, size=n_notes),
        0.0,
    )
    since_onset_s = frame_times_s - onsets_s[note]
    until_offset_s = onsets_s[note] + durations_s[note] - frame_times_s
    vibrato_envelope = (
        depth_cents[note]
        * np.clip((since_onset_s - 0.12) / 0.15, 0.0, 1.0)
        * np.clip(until_offset_s / 0.05, 0.0, 1.0)
    )
    n_frames = len(frame_times_s)
    rate_hz = singer.vibrato_rate_hz * (
        1.0 + _smooth_noise(rng, n_frames, std=0.03, time_constant_frames=100.0)
    )
    vibrato_cents = vibrato_envelope * np.sin(2.0 * np.pi * np.cumsum(rate_hz) * hop_s)

    drift_cents = _smooth_noise(
        rng, n_frames, std=singer.drift_cents, time_constant_frames=1.0 / hop_s
    )
    jitter_cents = _smooth_noise(rng, n_frames, std=singer.jitter_cents, time_constant_frames=2.0)
    pitch_cents = pitch_cents + vibrato_cents + drift_cents + jitter_cents

    envelope = np.zeros(n_frames)
    for start_s, end_s in zip(score.phrase_starts_s, score.phrase_ends_s, strict=True):
        attack_s = rng.uniform(0.03, 0.06)
        release_s = rng.uniform(0.06, 0.15)
        # Singers lose a little loudness as the breath runs out.
        fade_db = rng.uniform(0.0, 4.0)
        inside = (frame_times_s > start_s) & (frame_times_s < end_s)
        t_s = frame_times_s[inside]
        envelope[inside] = (
            np.clip((t_s - start_s) / attack_s, 0.0, 1.0)
            * np.clip((end_s - t_s) / release_s, 0.0, 1.0)
            * 10.0 ** (-fade_db / 20.0 * (t_s - start_s) / (end_s - start_s))
        )
    swell_db = _smooth_noise(rng, n_frames, std=1.0, time_constant_frames=0.3 / hop_s)
    return pitch_cents, envelope * 10.0 ** (swell_db / 20.0)


def _harmonic_source(singer: _Singer, f0_hz: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """Band-limited harmonic source driven by the per-sample ``f0_hz``.

    A stack of wavetables, each holding all harmonics that stay below Nyquist
    for its band of f0, is read at the accumulated phase; neighbouring tables
    are crossfaded by f0 so harmonics fade in and out without clicks.
    """
    nyquist_hz = sample_rate / 2.0
    f0_low_hz = float(f0_hz.min())
    octaves = np.log2(f0_hz / f0_low_hz) * _WAVETABLES_PER_OCTAVE
    n_tables = int(np.floor(octaves.max())) + 2
    harmonics = np.arange(1, _WAVETABLE_SIZE // 2 + 1)
    amplitudes = harmonics ** (singer.tilt_db_per_octave / (20.0 * np.log10(2.0)))
    amplitudes[0] *= 10.0 ** (singer.fundamental_db / 20.0)
    tables = np.empty((n_tables, _WAVETABLE_SIZE + 1))
    for b in range(n_tables):
        # Table b is read while f0 is in band b - 1 or band b, so it must not
        # alias up to the top of band b.
        top_f0_hz = f0_low_hz * 2.0 ** ((b + 1) / _WAVETABLES_PER_OCTAVE)
        spectrum = np.zeros(_WAVETABLE_SIZE // 2 + 1, dtype=complex)
        n_harmonics = min(int(nyquist_hz // top_f0_hz), len(harmonics))
        spectrum[1 : n_harmonics + 1] = amplitudes[:n_harmonics] * np.exp(
            1j * singer.harmonic_phases[1 : n_harmonics + 1]
        )
        table = np.fft.irfft(spectrum, n=_WAVETABLE_SIZE)
        tables[b] = np.append(table, table[0])  # wrap sample for interpolation
    tables /= np.abs(tables[0]).max()

    phase_cycles = np.cumsum(f0_hz / sample_rate)
    position = (phase_cycles - np.floor(phase_cycles)) * _WAVETABLE_SIZE
    index = np.minimum(position.astype(np.int64), _WAVETABLE_SIZE - 1)
    fraction = position - index
    band = np.minimum(octaves.astype(np.int64), n_tables - 2)
    crossfade = np.clip(octaves - band, 0.0, 1.0)
    flat = tables.ravel()
    row = _WAVETABLE_SIZE + 1

    def read(table_index: np.ndarray) -> np.ndarray:
        start = table_index * row + index
        return flat[start] + fraction * (flat[start + 1] - flat[start])

    return (1.0 - crossfade) * read(band) + crossfade * read(band + 1)


def _formant_filter(
    signal: np.ndarray,
    formants_hz: np.ndarray,
    bandwidths_hz: np.ndarray,
    gains_db: np.ndarray,
    *,
    sample_rate: int,
) -> np.ndarray:
    """Cascade of resonant peaking biquads, one per formant.

    Unlike all-pole resonators, whose cascade falls by 12 dB per octave above
    every formant, peaks on a unit baseline leave the source's own spectral
    tilt in charge of the high frequencies, as higher formants do in a voice.
    """
    for formant_hz, bandwidth_hz, gain_db in zip(formants_hz, bandwidths_hz, gains_db, strict=True):
        if formant_hz >= 0.45 * sample_rate:
            continue  # a resonance above Nyquist cannot be represented
        # The "peaking EQ" of the Audio EQ Cookbook (R. Bristow-Johnson).
        gain = 10.0 ** (gain_db / 40.0)
        omega = 2.0 * np.pi * formant_hz / sample_rate
        alpha = np.sin(omega) * bandwidth_hz / (2.0 * formant_hz)
        b = [1.0 + alpha * gain, -2.0 * np.cos(omega), 1.0 - alpha * gain]
        a = [1.0 + alpha / gain, -2.0 * np.cos(omega), 1.0 - alpha / gain]
        signal = scipy.signal.lfilter(b, a, signal)
    return signal


def _breaths(
    rng: np.random.Generator, score: _Score, n_samples: int, *, sample_rate: int
) -> np.ndarray:
    """Inhalation noise in some of the silences before phrases."""
    breaths = np.zeros(n_samples)
    previous_end_s = 0.0
    for start_s, end_s in zip(score.phrase_starts_s, score.phrase_ends_s, strict=True):
        length_s = min(rng.uniform(0.2, 0.4), start_s - previous_end_s - 0.15)
        if rng.random() < 0.6 and length_s > 0.1:
            first = int((start_s - 0.08 - length_s) * sample_rate)
            n = int(length_s * sample_rate)
            breaths[first : first + n] = rng.standard_normal(n) * np.hanning(n)
        previous_end_s = end_s
    band_hz = np.array([300.0, min(rng.uniform(3000.0, 6000.0), 0.4 * sample_rate)])
    b, a = scipy.signal.butter(1, band_hz, btype="bandpass", fs=sample_rate)
    return scipy.signal.lfilter(b, a, breaths)


def _room_and_medium(
    rng: np.random.Generator, voice: np.ndarray, *, sample_rate: int
) -> np.ndarray:
    """Recording conditions: reverb, EQ tilt, bandwidth, noise floor and level."""
    n_samples = len(voice)
    rt60_s = rng.uniform(0.15, 1.0)
    t_s = np.arange(int(rt60_s * sample_rate)) / sample_rate
    # exp(-6.91 t / rt60) is -60 dB at rt60.
    impulse = rng.standard_normal(len(t_s)) * np.exp(-6.91 * t_s / rt60_s)
    impulse /= np.sqrt(np.sum(impulse**2))
    wet = rng.uniform(0.05, 0.35)
    out = voice + wet * scipy.signal.fftconvolve(voice, impulse)[:n_samples]

    # EQ tilt: boost one side of a first-order split at 1 kHz, cut the other.
    pole = np.exp(-2.0 * np.pi * 1000.0 / sample_rate)
    low = scipy.signal.lfilter([1.0 - pole], [1.0, -pole], out)
    tilt_db = rng.uniform(-6.0, 6.0)
    out = low * 10.0 ** (-tilt_db / 40.0) + (out - low) * 10.0 ** (tilt_db / 40.0)

    # Old flamenco records are band-limited; the cut-off is an album trait.
    cutoff_hz = min(rng.uniform(5000.0, 16000.0), 0.45 * sample_rate)
    b, a = scipy.signal.butter(2, cutoff_hz, fs=sample_rate)
    out = scipy.signal.lfilter(b, a, out)

    snr_db = rng.uniform(20.0, 45.0)
    pole = rng.uniform(0.0, 0.95)  # colour of the noise floor, white to brown-ish
    floor = scipy.signal.lfilter([1.0], [1.0, -pole], rng.standard_normal(n_samples))
    # Signal-to-noise ratio over the sounding part only, not the silences.
    sounding = np.abs(out) > 1e-3 * np.abs(out).max()
    voice_rms = np.sqrt(np.mean(out[sounding] ** 2))
    out = out + floor / floor.std() * voice_rms * 10.0 ** (-snr_db / 20.0)
    peak = rng.uniform(0.3, 0.95)
    return out * (peak / np.abs(out).max())


def is_realistic(singer_index: int, recording_index: int, share: float) -> bool:
    """Whether a recording of a corpus with ``share`` realistic recordings is one.

    Recordings are placed on a golden-ratio sequence by ``singer_index +
    recording_index``, so that any share spreads over the singers and the takes
    (0.5: every singer has realistic and studio recordings) without drawing
    anything: 0 gives none, 1 gives all.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"realistic_share must be within [0, 1], got {share}")
    position = ((singer_index + recording_index) * 0.6180339887498949) % 1.0
    return position < share


def _realistic_voice(singer: _Singer, *, seed: int, n_singers: int, singer_index: int) -> _Singer:
    """The singer's voice as it sounds in realistic recordings (one draw per singer)."""
    rng = _rng(seed, _REALISTIC_STREAM, n_singers, singer_index)
    return dataclasses.replace(
        singer,
        vibrato_depth_cents=rng.uniform(30.0, 100.0),
        glide_s=rng.uniform(0.05, 0.09),
        jitter_cents=rng.uniform(3.0, 8.0),
        tilt_db_per_octave=rng.uniform(-6.0, -3.0),
        breathiness=rng.uniform(0.06, 0.2),
        # A weak fundamental under formants that stand 4-9 dB higher and are
        # narrower than the studio voice's (F1 up to 30 dB over the source).
        fundamental_db=rng.uniform(-20.0, -8.0),
        formant_gains_db=singer.formant_gains_db + rng.uniform(4.0, 9.0, size=4),
        formant_bandwidths_hz=singer.formant_bandwidths_hz * rng.uniform(0.6, 0.9),
        shimmer=rng.uniform(0.05, 0.2),
        ornament_rate=rng.uniform(0.2, 0.5),
    )


def _realistic_room(rng: np.random.Generator, voice: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """Realistic recording conditions: long reverb, hum, EQ, band limits, coloured noise."""
    n_samples = len(voice)
    rt60_s = rng.uniform(0.6, 1.3)
    t_s = np.arange(int(rt60_s * sample_rate)) / sample_rate
    impulse = rng.standard_normal(len(t_s)) * np.exp(-6.91 * t_s / rt60_s)
    impulse /= np.sqrt(np.sum(impulse**2))
    out = voice + rng.uniform(0.2, 0.5) * scipy.signal.fftconvolve(voice, impulse)[:n_samples]

    # Band limits of the chain: a high-pass (that can take the fundamental of a
    # low voice with it) and a low-pass of a phone, a radio or an old record.
    high_pass_hz = rng.uniform(60.0, 180.0)
    low_pass_hz = min(rng.uniform(3500.0, 10000.0), 0.45 * sample_rate)
    out = scipy.signal.sosfilt(
        scipy.signal.butter(2, high_pass_hz, btype="highpass", fs=sample_rate, output="sos"), out
    )
    out = scipy.signal.sosfilt(
        scipy.signal.butter(4, low_pass_hz, fs=sample_rate, output="sos"), out
    )
    # A mid-band peak or dip (microphone, room mode or a mixing engineer).
    out = _formant_filter(
        out,
        np.array([rng.uniform(800.0, 3000.0)]),
        np.array([rng.uniform(400.0, 1500.0)]),
        np.array([rng.uniform(-8.0, 8.0)]),
        sample_rate=sample_rate,
    )

    sounding = np.abs(out) > 1e-3 * np.abs(out).max()
    voice_rms = np.sqrt(np.mean(out[sounding] ** 2))
    # Mains hum: 50 or 60 Hz with its first harmonics, 30-50 dB under the voice.
    mains_hz = float(rng.choice([50.0, 60.0]))
    time_s = np.arange(n_samples) / sample_rate
    hum = sum(
        weight * np.sin(2.0 * np.pi * k * mains_hz * time_s + rng.uniform(0.0, 2.0 * np.pi))
        for k, weight in zip((1, 2, 3, 5), (1.0, 0.5, 0.35, 0.15), strict=True)
    )
    hum_db = rng.uniform(-50.0, -30.0)
    out = out + hum / hum.std() * voice_rms * 10.0 ** (hum_db / 20.0)

    snr_db = rng.uniform(22.0, 45.0)
    pole = rng.uniform(0.3, 0.98)  # pinkish to brown
    floor = scipy.signal.lfilter([1.0], [1.0, -pole], rng.standard_normal(n_samples))
    out = out + floor / floor.std() * voice_rms * 10.0 ** (-snr_db / 20.0)
    peak = rng.uniform(0.3, 0.95)
    return out * (peak / np.abs(out).max())


def synthesize_recording(
    *,
    singer_index: int,
    recording_index: int,
    n_singers: int,
    duration_s: float,
    seed: int,
    sample_rate: int = 44100,
    realistic_share: float = 0.0,
) -> DemoRecording:
    """Synthesize one a cappella recording of a demo singer.

    Parameters
    ----------
    singer_index, recording_index : int
        0-based indices; the recording is ``recording_id(singer_index,
        recording_index)`` of the sample sheet.
    n_singers : int
        Number of singers in the corpus; the singers' tonics and who shares
        which motif depend on it.
    duration_s : float
        Length of the recording in seconds, at least :data:`MIN_DURATION_S`.
    seed : int
        Non-negative corpus seed; the same arguments give the same audio.
    sample_rate : int
        Sampling rate in Hz.
    realistic_share : float
        Share of the corpus recorded in realistic conditions (see the module's
        docstring and :func:`is_realistic`); 0: a studio recording.

    Returns
    -------
    DemoRecording
        Audio, the f0 that drives the oscillator and the planted motifs.
    """
    if duration_s < MIN_DURATION_S:
        raise ValueError(f"duration_s must be at least {MIN_DURATION_S} s, got {duration_s}")
    if recording_index < 0:
        raise ValueError(f"recording_index must be >= 0, got {recording_index}")
    singer = _singer_style(seed=seed, singer_index=singer_index, n_singers=n_singers)
    realistic = is_realistic(singer_index, recording_index, realistic_share)
    if realistic:
        singer = _realistic_voice(singer, seed=seed, n_singers=n_singers, singer_index=singer_index)
    conditions_rng = _rng(seed, _REALISTIC_STREAM, singer_index, recording_index)
    style = _recording_style(_sheet_rng(seed, singer_index, recording_index))
    rng = _rng(seed, singer_index, recording_index)

    n_samples = round(duration_s * sample_rate)
    score = _compose(rng, singer, duration_s=n_samples / sample_rate, tempo=_STYLE_TEMPO[style])

    n_frames = 1 + n_samples // HOP_SAMPLES
    frame_times_s = np.arange(n_frames) * HOP_SAMPLES / sample_rate
    pitch_cents, envelope = _pitch_track(
        rng, singer, score, frame_times_s, hop_s=HOP_SAMPLES / sample_rate
    )
    frame_f0_hz = singer.tonic_hz * 2.0 ** (pitch_cents / 1200.0)
    voiced = envelope > 0.0

    # Linear interpolation passes exactly through the frame values, so the
    # truth is the oscillator's f0 at every frame time.
    sample_positions = np.arange(n_samples)
    frame_positions = np.arange(n_frames) * HOP_SAMPLES
    f0_hz = np.interp(sample_positions, frame_positions, frame_f0_hz)
    if singer.shimmer:
        # Cycle-to-cycle amplitude changes: log-normal, correlated over ~1 frame.
        envelope = envelope * np.exp(
            _smooth_noise(conditions_rng, n_frames, std=singer.shimmer, time_constant_frames=1.0)
        )
    amplitude = np.interp(sample_positions, frame_positions, envelope)
    source = amplitude * (
        _harmonic_source(singer, f0_hz, sample_rate=sample_rate)
        + singer.breathiness * rng.standard_normal(n_samples)
    )

    # Filter the whole source through every vowel of the singer, then
    # crossfade between them note by note (a time-varying filter in effect).
    note = np.searchsorted(score.onsets_s, frame_times_s, side="right") - 1
    frame_vowels = np.array(score.vowels)[np.clip(note, 0, len(score.vowels) - 1)]
    smoothing = np.hanning(7) / np.hanning(7).sum()  # about 30 ms at 44.1 kHz
    voice = np.zeros(n_samples)
    for v, formants_hz in enumerate(singer.vowel_formants_hz):
        if not np.any(frame_vowels == v):
            continue
        weight = np.convolve((frame_vowels == v).astype(float), smoothing, mode="same")
        voice += np.interp(sample_positions, frame_positions, weight) * _formant_filter(
            source,
            formants_hz,
            singer.formant_bandwidths_hz,
            singer.formant_gains_db,
            sample_rate=sample_rate,
        )
    voice_peak = np.abs(voice).max()
    breath_level = 0.12 if realistic else 0.05
    voice += breath_level * voice_peak * _breaths(rng, score, n_samples, sample_rate=sample_rate)

    if realistic:
        audio = _realistic_room(conditions_rng, voice, sample_rate=sample_rate)
    else:
        audio = _room_and_medium(rng, voice, sample_rate=sample_rate)
    audio = audio.astype(np.float32)
    f0 = pd.DataFrame(
        {
            "time_s": frame_times_s,
            "f0_hz": np.where(voiced, frame_f0_hz, 0.0),
            "voiced": voiced,
        }
    )
    motifs = pd.DataFrame(
        score.motif_rows, columns=["motif_id", "owner", "start_s", "end_s", "phrase"]
    ).astype(
        {
            "motif_id": "str",
            "owner": "str",
            "start_s": "float64",
            "end_s": "float64",
            "phrase": "int64",
        }
    )
    return DemoRecording(audio=audio, sample_rate=sample_rate, f0=f0, motifs=motifs)


def realistic_f0_set(
    *,
    n_singers: int = 6,
    recordings_per_singer: int = 4,
    duration_s: float = 20.0,
    seed: int = 18,
    sample_rate: int = 44100,
):
    """The realistic f0 test set: every recording in realistic conditions.

    Yields
    ------
    recording_id : str
        As :func:`recording_id`.
    singer : str
        As :func:`singer_code`.
    recording : DemoRecording
        Audio and exact truth f0 (see :func:`synthesize_recording`).
    """
    for singer_index in range(n_singers):
        for recording_index in range(recordings_per_singer):
            yield (
                recording_id(singer_index, recording_index),
                singer_code(singer_index),
                synthesize_recording(
                    singer_index=singer_index,
                    recording_index=recording_index,
                    n_singers=n_singers,
                    duration_s=duration_s,
                    seed=seed,
                    sample_rate=sample_rate,
                    realistic_share=1.0,
                ),
            )


def write_demo_recording(
    *,
    wav_path: str | os.PathLike,
    f0_path: str | os.PathLike,
    motifs_path: str | os.PathLike,
    **synthesize_kwargs,
) -> None:
    """Synthesize a recording and write its audio and ground truth.

    Each file is written to a temporary file in its destination directory and
    then renamed into place, so an interrupted run never leaves a partial file.

    Parameters
    ----------
    wav_path : str or os.PathLike
        Destination of the audio, 16-bit PCM wav.
    f0_path : str or os.PathLike
        Destination of ``DemoRecording.f0`` as parquet.
    motifs_path : str or os.PathLike
        Destination of ``DemoRecording.motifs`` as parquet.
    **synthesize_kwargs
        Keyword arguments of :func:`synthesize_recording`.
    """
    recording = synthesize_recording(**synthesize_kwargs)
    # All three files move into place only once all three are written.
    with (
        atomic_path(wav_path) as wav_tmp,
        atomic_path(f0_path) as f0_tmp,
        atomic_path(motifs_path) as motifs_tmp,
    ):
        soundfile.write(wav_tmp, recording.audio, recording.sample_rate, subtype="PCM_16")
        frame_to_parquet(recording.f0, f0_tmp)
        frame_to_parquet(recording.motifs, motifs_tmp)
