"""Tests of the realistic recordings of the demo corpus (cantaor.demo.corpus)."""

import dataclasses
import functools
import itertools

import numpy as np
import pytest

from cantaor.demo import corpus as demo
from cantaor.demo.corpus import is_realistic, realistic_f0_set, synthesize_recording
from cantaor.demo.f0_accuracy import melody_scores

SAMPLE_RATE = 44100
N_SINGERS = 4


@functools.cache
def recording(singer_index, recording_index, share, duration_s=12.0):
    return synthesize_recording(
        singer_index=singer_index,
        recording_index=recording_index,
        n_singers=N_SINGERS,
        duration_s=duration_s,
        seed=5,
        sample_rate=SAMPLE_RATE,
        realistic_share=share,
    )


def test_share_zero_gives_none_one_gives_all_and_a_half_reaches_every_singer():
    grid = list(itertools.product(range(5), range(4)))
    assert not any(is_realistic(s, r, 0.0) for s, r in grid)
    assert all(is_realistic(s, r, 1.0) for s, r in grid)
    half = {(s, r): is_realistic(s, r, 0.5) for s, r in grid}
    assert 0.4 <= np.mean(list(half.values())) <= 0.6
    for singer in range(5):
        kinds = {half[singer, r] for r in range(4)}
        assert kinds == {True, False}, f"singer {singer} has only one kind of recording"
    # A larger share keeps every recording a smaller one made realistic.
    for s, r in grid:
        assert is_realistic(s, r, 0.3) <= is_realistic(s, r, 0.7)


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_share_outside_the_unit_interval_is_rejected(share):
    with pytest.raises(ValueError, match="realistic_share"):
        is_realistic(0, 0, share)


def test_a_studio_recording_does_not_depend_on_the_share():
    studio = [(s, r) for s in range(N_SINGERS) for r in range(3) if not is_realistic(s, r, 0.5)]
    singer_index, recording_index = studio[0]
    plain = recording(singer_index, recording_index, 0.0)
    in_mixed_corpus = recording(singer_index, recording_index, 0.5)
    np.testing.assert_array_equal(plain.audio, in_mixed_corpus.audio)
    realistic = recording(singer_index, recording_index, 1.0)
    assert not np.array_equal(plain.audio, realistic.audio)


def test_weak_fundamental_lowers_the_first_harmonic_only():
    singer = demo._singer_style(seed=5, singer_index=0, n_singers=N_SINGERS)
    weak = dataclasses.replace(singer, fundamental_db=-18.0)
    f0_hz = np.full(SAMPLE_RATE, 200.0)  # one second, 200 cycles: harmonics on exact bins
    spectra = [
        np.abs(np.fft.rfft(demo._harmonic_source(voice, f0_hz, sample_rate=SAMPLE_RATE)))
        for voice in (singer, weak)
    ]
    harmonics_db = [20 * np.log10(spectrum[[200, 400, 600]]) for spectrum in spectra]
    # The tables are normalised by their peak, so compare levels re the 2nd harmonic.
    plain_db, weak_db = (h - h[1] for h in harmonics_db)
    assert weak_db[0] - plain_db[0] == pytest.approx(-18.0, abs=0.5)
    assert weak_db[2] == pytest.approx(plain_db[2], abs=0.5)


def test_realistic_voices_have_weak_fundamentals_and_stronger_narrower_formants():
    for singer_index in range(N_SINGERS):
        singer = demo._singer_style(seed=5, singer_index=singer_index, n_singers=N_SINGERS)
        voice = demo._realistic_voice(singer, seed=5, n_singers=N_SINGERS, singer_index=0)
        assert -20.0 <= voice.fundamental_db <= -8.0
        assert np.all(voice.formant_gains_db >= singer.formant_gains_db + 4.0)
        assert np.all(voice.formant_bandwidths_hz <= 0.9 * singer.formant_bandwidths_hz)
        assert voice.shimmer > 0 and voice.ornament_rate > 0
        assert voice.jitter_cents > singer.jitter_cents


def test_ornaments_are_quick_turns_around_a_held_note():
    singer = demo._singer_style(seed=5, singer_index=1, n_singers=N_SINGERS)
    ornate = dataclasses.replace(singer, ornament_rate=1.0)
    score = demo._compose(np.random.default_rng(0), ornate, duration_s=30.0, tempo=1.0)
    durations_s = np.array(score.durations_s)
    pitches = np.array(score.pitches_cents)
    quick = np.flatnonzero(durations_s < 0.115)
    assert quick.size >= 9
    # A turn: upper neighbour, the note, lower neighbour, then the note is held.
    starts = [i for i in quick if i + 3 < len(pitches) and {i + 1, i + 2} <= set(quick)]
    assert starts
    for i in starts[:5]:
        upper, main, lower, held = pitches[i : i + 4]
        assert 80.0 <= upper - main <= 200.0 and 80.0 <= main - lower <= 200.0
        assert held == main and durations_s[i + 3] >= 0.1
    plain = demo._compose(np.random.default_rng(0), singer, duration_s=30.0, tempo=1.0)
    assert min(plain.durations_s) >= 0.12


def _floor(rec):
    """The first 60 ms: before any breath (a breath ends 80 ms before its
    phrase and lasts at most the silence less 150 ms), so noise and hum only."""
    return rec.audio[: int(0.06 * rec.sample_rate)].astype(np.float64)


@pytest.mark.parametrize("singer_index", range(N_SINGERS))
def test_realistic_recordings_carry_hum_and_noise_at_the_stated_level(singer_index):
    rec = recording(singer_index, 0, 1.0)
    audio = rec.audio.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size))) ** 2
    hz = np.fft.rfftfreq(audio.size, 1.0 / SAMPLE_RATE)
    near = (hz > 30) & (hz < 90)
    hum_db = [
        10 * np.log10(spectrum[np.abs(hz - mains) < 0.5].max() / np.median(spectrum[near]))
        for mains in (50.0, 60.0)
    ]
    assert max(hum_db) > 10.0, f"no mains hum: {hum_db}"
    voiced = np.repeat(rec.f0["voiced"].to_numpy(), demo.HOP_SAMPLES)[: rec.audio.size]
    snr_db = 10 * np.log10(np.mean(audio[voiced] ** 2) / np.mean(_floor(rec) ** 2))
    # 22-45 dB for the noise over the sounding part (tails, fades and breaths
    # included), hum 30-50 dB down: re the voiced frames, the floor is 15-47 dB.
    assert 15.0 <= snr_db <= 47.0


def test_the_room_rings_on_after_each_phrase():
    """Reverb: the 50 ms after a phrase ends (before any breath) ring above the floor."""
    for singer_index in range(N_SINGERS):
        rec = recording(singer_index, 0, 1.0, duration_s=30.0)
        voiced = rec.f0["voiced"].to_numpy()
        ends = np.flatnonzero(voiced[:-1] & ~voiced[1:])
        floor = np.sqrt(np.mean(_floor(rec) ** 2))
        window = int(0.05 * rec.sample_rate)
        tail = [
            np.sqrt(np.mean(rec.audio[(e + 2) * demo.HOP_SAMPLES :][:window] ** 2.0)) for e in ends
        ]
        # Without a room the window would hold the floor alone (a ratio near 1).
        assert np.median(tail) > 1.5 * floor


def test_realistic_set_defeats_melodia_where_studio_recordings_do_not():
    """The set reproduces the failure on real voices: harmonics and tails taken for f0."""
    from cantaor.pitch.f0 import extract_f0

    def rpa(rec):
        table = extract_f0(rec.audio, sample_rate=rec.sample_rate, method="melodia")
        truth = rec.f0
        scores = melody_scores(
            truth["time_s"].to_numpy(),
            truth["f0_hz"].to_numpy(),
            table["time_s"].to_numpy(),
            table["f0_hz"].to_numpy(),
        )
        return scores["raw_pitch_accuracy"]

    studio = [rpa(recording(s, 0, 0.0)) for s in range(N_SINGERS)]
    realistic = [
        rpa(rec)
        for _, _, rec in realistic_f0_set(n_singers=3, recordings_per_singer=1, duration_s=8.0)
    ]
    assert min(studio) > 0.85
    assert min(realistic) < 0.5


def test_realistic_set_is_deterministic_and_exact():
    first = list(realistic_f0_set(n_singers=2, recordings_per_singer=2, duration_s=4.0, seed=3))
    again = list(realistic_f0_set(n_singers=2, recordings_per_singer=2, duration_s=4.0, seed=3))
    assert [(r, s) for r, s, _ in first] == [
        ("S1_R1", "S1"),
        ("S1_R2", "S1"),
        ("S2_R1", "S2"),
        ("S2_R2", "S2"),
    ]
    for (_, _, a), (_, _, b) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.audio, b.audio)
        assert a.f0.equals(b.f0)
        voiced = a.f0["voiced"].to_numpy()
        assert np.all(a.f0["f0_hz"].to_numpy()[voiced] > 80.0)
        assert np.all(a.f0["f0_hz"].to_numpy()[~voiced] == 0.0)
        assert np.abs(a.audio).max() <= 0.99
