"""Tests of the SwiftF0 backend (cantaor.pitch.f0.swift) and its voicing gates."""

import functools
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.demo.corpus import realistic_f0_set
from cantaor.demo.f0_accuracy import melody_scores
from cantaor.pitch import f0 as pitch
from cantaor.pitch.f0 import F0_COLUMNS, extract_f0, level_gate, trim_tails


def test_swift_tracks_a_sung_tone_on_the_callers_frames(tone):
    audio, time_s, f0_hz = tone
    table = extract_f0(audio, sample_rate=44100, method="swift", hop_length=256)
    assert list(table.columns) == list(F0_COLUMNS)
    assert len(table) == 1 + audio.size // 256
    np.testing.assert_allclose(table["time_s"], np.arange(len(table)) * 256 / 44100)
    truth = np.interp(table["time_s"], time_s, f0_hz)
    inner = (table["time_s"] > 0.1) & (table["time_s"] < 1.9)
    voiced = table["voiced"] & inner
    assert voiced.sum() > 0.9 * inner.sum()
    error = np.abs(1200 * np.log2(table.loc[voiced, "f0_hz"] / truth[voiced]))
    # The 16 ms frames interpolated onto 5.8 ms ones follow the vibrato closely.
    assert np.median(error) < 10 and np.mean(error < 50) > 0.97


def test_swift_on_silence_and_on_a_sliver():
    silent = extract_f0(np.zeros(44100, dtype=np.float32), sample_rate=44100, method="swift")
    assert not silent["voiced"].any() and len(silent) == 1 + 44100 // 256
    sliver = extract_f0(np.ones(100, dtype=np.float32), sample_rate=44100, method="swift")
    assert len(sliver) == 1 and not sliver["voiced"].any()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"fmax_hz": 3000.0}, "fmax_hz <= 2093"),
        ({"fmin_hz": 500.0, "fmax_hz": 400.0}, "0 < fmin_hz < fmax_hz"),
        ({"swift_lowpass_hz": 900.0}, "lowpass_hz must lie between"),
    ],
)
def test_swift_rejects_bad_settings(options, match):
    with pytest.raises(ValueError, match=match):
        extract_f0(np.zeros(4410, dtype=np.float32), sample_rate=44100, method="swift", **options)


def _stub_detector(band, whole):
    """A detector answering the band and the unrestricted run with fixed frames."""

    def detect(signal, sample_rate, fmin=None, fmax=None):
        pitch_hz, confidence = band if fmin is not None else whole
        n = len(pitch_hz)
        return types.SimpleNamespace(
            timestamps=np.arange(n) * 0.016,
            pitch_hz=np.asarray(pitch_hz, dtype=float),
            confidence=np.asarray(confidence, dtype=float),
            loudness_db=np.full(n, -20.0),
        )

    return types.SimpleNamespace(detect=detect)


@pytest.mark.parametrize(
    ("whole_hz", "whole_confidence", "voiced"),
    [
        (1400.0, 0.9, True),  # a confident formant lock above the band: the band's pitch
        (1400.0, 0.3, False),  # not confident
        (60.0, 0.9, False),  # mains hum below the band is no voice
        (700.0, 0.9, False),  # in the band the band run's own confidence decides
    ],
)
def test_harmonic_lock_rescue(monkeypatch, whole_hz, whole_confidence, voiced):
    n = 20
    band = (np.full(n, 200.0), np.zeros(n))  # the band run zeroed its confidence
    whole = (np.full(n, whole_hz), np.full(n, whole_confidence))
    monkeypatch.setattr(pitch, "_swift_detector", lambda threads: _stub_detector(band, whole))
    audio = np.ones(n * 256, dtype=np.float32)  # 16 kHz: one 16 ms frame per 256 samples
    time_s, f0_hz, confidence = pitch.swift(
        audio, sample_rate=16000, hop_length=128, lowpass_hz=None
    )
    assert time_s.size == 1 + audio.size // 128
    inner = slice(2, -2)
    if voiced:
        np.testing.assert_allclose(f0_hz[inner], 200.0)
        np.testing.assert_allclose(confidence[inner], whole_confidence)
    else:
        assert not f0_hz.any()


def test_swift_maps_frames_by_log_interpolation(monkeypatch):
    n = 10
    band = (200.0 * 2.0 ** (np.arange(n) / 12), np.ones(n))  # a semitone per 16 ms frame
    monkeypatch.setattr(pitch, "_swift_detector", lambda threads: _stub_detector(band, band))
    audio = np.ones((n - 1) * 256, dtype=np.float32)
    time_s, f0_hz, _ = pitch.swift(
        audio, sample_rate=16000, hop_length=64, lowpass_hz=None, level_gate_db=None
    )
    # Between frames the pitch is the geometric interpolation: a semitone per 256 samples.
    np.testing.assert_allclose(f0_hz, 200.0 * 2.0 ** (time_s / 0.016 / 12), rtol=1e-9)


# --- the level gates, against brute force --------------------------------------------------


def _level_gate_brute(voiced, level_db, drop_db, window):
    keep = []
    half = window // 2
    for i in range(len(voiced)):
        # pandas' centred window of an even width reaches one further into the past.
        low, high = i - half, i + (window - 1 - half) + 1
        around = [level_db[j] for j in range(max(0, low), min(len(voiced), high)) if voiced[j]]
        keep.append(bool(voiced[i]) and not (around and level_db[i] < np.median(around) - drop_db))
    return np.array(keep, dtype=bool)


def _trim_brute(voiced, level_db, drop_db):
    out = list(map(bool, voiced))
    i = 0
    while i < len(out):
        if not voiced[i]:
            i += 1
            continue
        j = i
        while j < len(out) and voiced[j]:
            j += 1
        floor = np.median(level_db[i:j]) - drop_db
        k = j
        while k > i and level_db[k - 1] < floor:
            k -= 1
        tail = level_db[k:j]
        # A lone frame, or a fall of 0.32 dB per frame or more (least squares, written out).
        x = np.arange(tail.size) - (tail.size - 1) / 2
        if tail.size == 1 or (tail.size > 1 and (x @ (tail - tail.mean())) / (x @ x) <= -0.32):
            out[k:j] = [False] * (j - k)
        i = j
    return np.array(out, dtype=bool)


frames = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.floats(-80.0, 0.0, allow_nan=False), min_size=n, max_size=n),
    )
)


@settings(max_examples=200, deadline=None)
@given(frames, st.floats(1.0, 30.0), st.integers(1, 12))
def test_level_gate_matches_brute_force(data, drop_db, window):
    voiced, level_db = np.array(data[0]), np.array(data[1])
    np.testing.assert_array_equal(
        level_gate(voiced, level_db, drop_db=drop_db, window=window),
        _level_gate_brute(voiced, level_db, drop_db, window),
    )


@settings(max_examples=200, deadline=None)
@given(frames, st.floats(1.0, 30.0))
def test_trim_tails_matches_brute_force(data, drop_db):
    voiced, level_db = np.array(data[0]), np.array(data[1])
    trimmed = trim_tails(voiced, level_db, drop_db=drop_db)
    np.testing.assert_array_equal(trimmed, _trim_brute(voiced, level_db, drop_db))
    assert not (trimmed & ~voiced).any()


# --- on the realistic f0 test set ---------------------------------------------------------


@functools.cache
def realistic():
    return list(realistic_f0_set(n_singers=3, recordings_per_singer=1, duration_s=10.0, seed=99))


def _scores(rec, **options):
    table = extract_f0(rec.audio, sample_rate=rec.sample_rate, method="swift", **options)
    return melody_scores(
        rec.f0["time_s"].to_numpy(),
        rec.f0["f0_hz"].to_numpy(),
        table["time_s"].to_numpy(),
        table["f0_hz"].to_numpy(),
    )


def test_swift_meets_the_targets_on_realistic_recordings():
    for recording_id, _, rec in realistic():
        scores = _scores(rec)
        assert scores["raw_pitch_accuracy"] >= 0.95, recording_id
        assert scores["voicing_false_alarm"] <= 0.10, recording_id


def test_a_quiet_steady_closing_note_is_no_tail():
    loud = [-10.0, -11.0, -10.0, -9.5, -10.0, -10.5, -10.0, -11.0]
    voiced = np.ones(13, dtype=bool)
    steady = np.array([*loud, -25.0, -24.0, -25.5, -24.5, -25.0])  # 15 dB down, flat
    np.testing.assert_array_equal(trim_tails(voiced, steady, drop_db=9.0), voiced)
    decaying = np.array([*loud, -21.0, -24.0, -27.0, -30.0, -33.0])
    assert trim_tails(voiced, decaying, drop_db=9.0).tolist() == [True] * 8 + [False] * 5


def test_the_level_gates_keep_reverb_tails_unvoiced():
    """Without the gates the room's tails are voiced: the false alarms rise."""
    ungated = [
        _scores(rec, swift_level_gate_db=None, swift_tail_trim_db=None)["voicing_false_alarm"]
        for _, _, rec in realistic()
    ]
    gated = [_scores(rec)["voicing_false_alarm"] for _, _, rec in realistic()]
    assert max(ungated) > 0.2
    assert max(gated) < max(ungated) / 3
