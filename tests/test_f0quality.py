"""Tests of the per-recording f0 quality checks (cantaor.pitch.quality)."""

import functools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.demo.corpus import realistic_f0_set
from cantaor.pitch.f0 import extract_f0, hz_to_cents
from cantaor.pitch.quality import (
    DEFAULT_LIMITS,
    QUALITY_COLUMNS,
    disagreement,
    harmonic_share,
    jump_rate,
    quality_markdown,
    quality_table,
    quality_warnings,
    range_shifts,
    recording_quality,
    second_opinion,
)

HOP_S = 0.01


def f0_table(f0_hz):
    f0_hz = np.asarray(f0_hz, dtype=float)
    return pd.DataFrame(
        {
            "time_s": np.arange(f0_hz.size) * HOP_S,
            "f0_hz": f0_hz,
            "pitch_cents": hz_to_cents(f0_hz),
            "voiced": f0_hz > 0,
            "confidence": np.ones(f0_hz.size, dtype=np.float32),
        }
    )


pitches = st.lists(
    st.one_of(st.just(0.0), st.floats(80.0, 1000.0, allow_nan=False)), min_size=2, max_size=60
)


@settings(max_examples=200, deadline=None)
@given(pitches, st.floats(100.0, 1500.0))
def test_jump_rate_matches_brute_force(f0_hz, jump_cents):
    table = f0_table(f0_hz)
    voiced = [f > 0 for f in f0_hz]
    jumps = sum(
        1
        for a, b, va, vb in zip(f0_hz, f0_hz[1:], voiced, voiced[1:], strict=False)
        if va and vb and abs(1200 * math.log2(b / a)) > jump_cents
    )
    expected = jumps / (sum(voiced) * HOP_S) if sum(voiced) >= 2 else math.nan
    assert jump_rate(table, jump_cents=jump_cents) == pytest.approx(expected, nan_ok=True)


@settings(max_examples=200, deadline=None)
@given(pitches, st.data())
def test_disagreement_and_harmonic_share_match_brute_force(f0_hz, data):
    table = f0_table(f0_hz)
    n_other = data.draw(st.integers(1, 40))
    other_hz = np.array(
        data.draw(
            st.lists(
                st.one_of(st.just(0.0), st.floats(40.0, 1000.0, allow_nan=False)),
                min_size=n_other,
                max_size=n_other,
            )
        )
    )
    other_time = np.sort(
        np.array(data.draw(st.lists(st.floats(0.0, 0.7), min_size=n_other, max_size=n_other)))
    )
    # Distinct times, so that "nearest" has one answer but for exact ties (first wins).
    other_time = other_time + np.arange(n_other) * 1e-6
    pairs = []
    for t, f in zip(table["time_s"], f0_hz, strict=True):
        nearest = min(range(n_other), key=lambda j: (abs(other_time[j] - t), j))
        if f > 0 and other_hz[nearest] > 0:
            pairs.append(f / other_hz[nearest])
    far = [abs(1200 * math.log2(r)) > 50 for r in pairs]
    harmonic = [any(abs(1200 * math.log2(r / k)) <= 50 for k in (2, 3, 4)) for r in pairs]
    expected_far = np.mean(far) if pairs else math.nan
    expected_harmonic = np.mean(harmonic) if pairs else math.nan
    assert disagreement(table, other_time, other_hz) == pytest.approx(expected_far, nan_ok=True)
    assert harmonic_share(table, other_time, other_hz) == pytest.approx(
        expected_harmonic, nan_ok=True
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("XYZ"), st.one_of(st.just(math.nan), st.floats(0, 5000))),
        min_size=1,
        max_size=12,
    )
)
def test_range_shifts_match_brute_force(entries):
    medians = pd.DataFrame(
        {
            "recording": [f"r{i}" for i in range(len(entries))],
            "singer": [singer for singer, _ in entries],
            "median_cents": [value for _, value in entries],
        }
    )
    shifts = range_shifts(medians)
    for i, (singer, value) in enumerate(entries):
        others = [
            v for j, (s, v) in enumerate(entries) if s == singer and j != i and not math.isnan(v)
        ]
        expected = value - float(np.median(others)) if others else math.nan
        assert shifts[f"r{i}"] == pytest.approx(expected, nan_ok=True)


@pytest.mark.parametrize(
    ("row", "phrase"),
    [
        ({"voiced_share": 0.05}, "no voice found"),
        ({"voiced_share": 0.99}, "reverb, noise or hum"),
        ({"jump_rate": 3.0}, "octave/harmonic jumps"),
        ({"disagreement": 0.9}, "disagrees on 90%"),
        ({"harmonic_share": 0.7}, "2-4 times"),
        ({"range_shift_cents": -1250.0}, "-1250 cents"),
    ],
)
def test_each_limit_warns_and_nothing_else_does(row, phrase):
    good = {
        "voiced_share": 0.5,
        "jump_rate": 0.0,
        "disagreement": 0.1,
        "harmonic_share": 0.0,
        "range_shift_cents": 100.0,
    }
    assert quality_warnings(good) == []
    warnings = quality_warnings(good | row)
    assert len(warnings) == 1 and phrase in warnings[0]
    # NaN (not measured) never warns; limits can be changed.
    assert quality_warnings(dict.fromkeys(good, math.nan)) == []
    key = next(iter(row))
    if key == "range_shift_cents":
        assert quality_warnings(good | row, {"max_range_shift_cents": 2000.0}) == []


@functools.cache
def realistic():
    return list(realistic_f0_set(n_singers=2, recordings_per_singer=3, duration_s=8.0, seed=18))


@functools.cache
def quality(method):
    rows = []
    for recording, singer, rec in realistic():
        table = extract_f0(rec.audio, sample_rate=rec.sample_rate, method=method)
        second = second_opinion(rec.audio, sample_rate=rec.sample_rate, method=method)
        rows.append(
            {
                "recording": recording,
                "singer": singer,
                **recording_quality(table, second_opinion=second),
            }
        )
    return quality_table(rows)


def test_harmonic_locked_melodia_is_flagged_and_swift_is_not():
    """On the realistic set Melodia follows harmonics of these voices; SwiftF0 does not.

    Melodia is checked against SwiftF0, SwiftF0 against YIN (the "auto" second opinion).
    """
    melodia, swift = quality("melodia"), quality("swift")
    assert list(melodia.columns) == list(QUALITY_COLUMNS)
    assert (swift["warnings"] == "").all(), swift["warnings"].tolist()
    assert (swift["harmonic_share"] < DEFAULT_LIMITS["max_harmonic_share"]).all()
    assert (melodia["warnings"] != "").sum() >= 3
    # Every recording Melodia got almost all wrong (against the truth) is flagged, and a
    # flagged one is wrong itself (pitch, or reverb and noise called voice), or, flagged
    # for its range alone, stands apart from a singer's recordings that are wrong.
    wrong, false_alarm = {}, {}
    for recording, _, rec in realistic():
        table = extract_f0(rec.audio, sample_rate=rec.sample_rate, method="melodia")
        truth = np.interp(table["time_s"], rec.f0["time_s"], rec.f0["f0_hz"])
        voiced = table["voiced"].to_numpy()
        both = voiced & (truth > 0)
        errors = np.abs(1200 * np.log2(table["f0_hz"].to_numpy()[both] / truth[both]))
        wrong[recording] = np.mean(errors > 50)
        false_alarm[recording] = np.mean(voiced[truth == 0])
    for row in melodia.itertuples(index=False):
        if wrong[row.recording] > 0.9:
            assert row.warnings, row.recording
        if not row.warnings:
            continue
        if row.warnings.startswith("median pitch") and ";" not in row.warnings:
            mates = melodia.loc[melodia["singer"] == row.singer, "recording"]
            assert max(wrong[m] for m in mates) > 0.3, row.recording
        else:
            assert wrong[row.recording] > 0.3 or false_alarm[row.recording] > 0.3, row


def test_second_opinion_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="second_opinion must be one of"):
        second_opinion(
            np.zeros(16000, dtype=np.float32), sample_rate=16000, method="swift", kind="x"
        )
    assert second_opinion(np.zeros(10), sample_rate=16000, method="swift", kind="none") is None


def test_the_markdown_lists_flagged_recordings_first():
    markdown = quality_markdown(quality("melodia"), method="melodia")
    lines = [line for line in markdown.splitlines() if line.startswith("| S")]
    flagged = [line.endswith("| ok |") for line in lines]
    assert flagged == sorted(flagged)  # every flagged line before every "ok"
    assert "f0 method: melodia" in markdown and "look wrong" in markdown


def test_identify_output_carries_the_f0_warnings():
    from cantaor.cli import format_identification

    result = {
        "path": "take.wav",
        "verdict": "S1",
        "confidence": 0.8,
        "reason": None,
        "duration_s": 10.0,
        "voiced_s": 6.0,
        "n_phrases": 2,
        "n_motif_occurrences": 3,
        "n_items": 3,
        "probabilities": {"S1": 0.8, "S2": 0.2},
        "votes": {"S1": 3, "S2": 0},
        "motifs": [],
        "f0_quality": {"warnings": quality_warnings({"harmonic_share": 0.9})},
    }
    for brief in (False, True):
        text = format_identification(result, brief=brief)
        assert "WARNING: f0 looks wrong: on 90% of the voiced frames" in text
    result["f0_quality"] = {"warnings": []}
    assert "WARNING" not in format_identification(result)
