import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cantaor.contour import (
    SYMBOL_COLUMNS,
    assign_clusters,
    contour_symbols,
    fit_clusters,
    interval_class,
    line_segments,
    phrase_sequences,
    segment_phrases,
)

HOP_S = 0.01


def test_segment_phrases_splits_at_long_gaps_and_drops_short_phrases():
    time_s = np.arange(300) * HOP_S
    voiced = np.zeros(300, dtype=bool)
    voiced[0:100] = True  # phrase 0, with a 5-frame gap inside that does not split it
    voiced[50:55] = False
    voiced[130:200] = True  # after a 30-frame gap: phrase 1
    voiced[250:260] = True  # 0.1 s: too short, dropped
    phrase = segment_phrases(time_s, voiced, min_gap_s=0.15, min_phrase_s=0.5)
    assert set(phrase[0:50]) == {0} and set(phrase[55:100]) == {0}
    assert set(phrase[50:55]) == {-1}
    assert set(phrase[130:200]) == {1}
    assert set(phrase[250:260]) == {-1}
    assert (phrase[~voiced] == -1).all()


def test_segment_phrases_all_unvoiced():
    assert (segment_phrases(np.arange(10) * HOP_S, np.zeros(10, bool)) == -1).all()


def test_fit_clusters_finds_separated_levels():
    rng = np.random.default_rng(0)
    levels = np.array([2000.0, 2300.0, 2650.0])
    values = np.concatenate([level + rng.normal(0, 10, 500) for level in levels] + [[np.nan]])
    centers, inertia = fit_clusters(values, k=3, seed=1)
    np.testing.assert_allclose(centers, levels, atol=3)
    assert inertia > 0
    again, _ = fit_clusters(values, k=3, seed=1)
    np.testing.assert_array_equal(centers, again)


def test_fit_clusters_needs_enough_points():
    with pytest.raises(ValueError, match="at least k=5"):
        fit_clusters(np.array([1.0, 2.0]), k=5)


@given(st.lists(st.floats(-3000, 6000), min_size=1, max_size=30))
def test_assign_clusters_is_nearest_centre(values):
    centers = np.array([0.0, 500.0, 1300.0, 2000.0])
    labels = assign_clusters(np.array(values), centers)
    brute = [int(np.argmin(np.abs(centers - v))) for v in values]
    for label, expected, value in zip(labels, brute, values, strict=True):
        assert abs(centers[label] - value) == pytest.approx(abs(centers[expected] - value))


def test_interval_classes_follow_thresholds_and_ignore_sign():
    steps = np.array([10, -69.9, 70, -100, 111.9, 112, -500])
    np.testing.assert_array_equal(interval_class(steps, (70, 112)), [1, 1, 2, 2, 2, 3, 3])


@given(st.lists(st.integers(0, 3), min_size=1, max_size=40), st.integers(1, 5))
def test_line_segments_cover_and_respect_min_length(labels, min_frames):
    centers = np.array([0.0, 100.0, 250.0, 400.0])
    segments = line_segments(np.array(labels), centers, min_frames=min_frames)
    assert segments[0][0] == 0 and segments[-1][1] == len(labels) - 1
    for (_, end, cluster), (start, _, next_cluster) in itertools.pairwise(segments):
        assert start == end + 1
        assert cluster != next_cluster
    if len(segments) > 1:
        assert all(end - start + 1 >= min_frames for start, end, _ in segments)
    if min_frames == 1:  # nothing absorbed: exactly the runs
        runs = 1 + sum(a != b for a, b in itertools.pairwise(labels))
        assert len(segments) == runs


def _staircase(levels_cents, frames_per_level=30):
    cents = np.repeat(levels_cents, frames_per_level).astype(float)
    time_s = np.arange(cents.size) * HOP_S
    return time_s, cents


def test_contour_symbols_of_a_staircase():
    centers = np.array([2000.0, 2050.0, 2150.0, 2400.0])
    time_s, cents = _staircase([2000, 2150, 2400, 2050, 2000])
    phrase = np.zeros(cents.size, dtype=np.int64)
    table = contour_symbols(
        time_s, cents, phrase, centers_cents=centers, smooth_s=0, min_segment_s=0
    )
    assert list(table.columns) == list(SYMBOL_COLUMNS)
    # steps +150 (class 3), +250 (3), -350 (3), -50 (1); sign + is ascending
    assert table["symbol"].tolist() == ["+3", "+3", "-3", "-1"]
    np.testing.assert_allclose(table["step_cents"], [150, 250, -350, -50])
    # a symbol spans both of its segments
    np.testing.assert_allclose(table["start_s"], [0.0, 0.3, 0.6, 0.9])
    np.testing.assert_allclose(table["end_s"], [0.6, 0.9, 1.2, 1.5])
    assert phrase_sequences(table) == [(0, ["+3", "+3", "-3", "-1"])]


def test_contour_symbols_smoothing_removes_vibrato_flicker():
    centers = np.array([2000.0, 2100.0])
    time_s = np.arange(200) * HOP_S
    cents = 2040 + 15 * np.sin(2 * np.pi * 6 * time_s)  # vibrato across the 2050 boundary
    cents[100:] += 100
    phrase = np.zeros(200, dtype=np.int64)
    raw = contour_symbols(time_s, cents, phrase, centers_cents=centers, smooth_s=0, min_segment_s=0)
    smooth = contour_symbols(
        time_s, cents, phrase, centers_cents=centers, smooth_s=0.2, min_segment_s=0.1
    )
    assert len(raw) > 4
    assert smooth["symbol"].tolist() == ["+2"]


def test_contour_symbols_per_phrase_and_unvoiced_ignored():
    centers = np.array([2000.0, 2200.0])
    time_s, cents = _staircase([2000, 2200, 2000, 2200])
    phrase = np.repeat([0, 0, 1, 1], 30)
    cents[25:30] = np.nan
    table = contour_symbols(
        time_s, cents, phrase, centers_cents=centers, smooth_s=0, min_segment_s=0
    )
    assert phrase_sequences(table) == [(0, ["+3"]), (1, ["+3"])]
    empty = contour_symbols(time_s, cents, np.full(cents.size, -1), centers_cents=centers)
    assert list(empty.columns) == list(SYMBOL_COLUMNS) and empty.empty
    assert isinstance(empty, pd.DataFrame)
