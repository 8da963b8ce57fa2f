import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.contour.symbols import (
    SEGMENT_COLUMNS,
    SYMBOL_COLUMNS,
    assign_clusters,
    band_segments,
    choose_k,
    contour_segments,
    contour_symbols,
    contour_symbols_bands,
    fit_clusters,
    interval_class,
    line_segments,
    phrase_sequences,
    segment_phrases,
    symbols_from_segments,
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


# --- band method (the authors' released segmentation, NaN-safe) ---


def test_band_segments_of_a_staircase_are_its_steps():
    _, cents = _staircase([2000, 2150, 2400, 2050, 1900])
    cents[::2] += 40  # jitter within each step: every step spans 2000..2040 and so on
    assert band_segments(cents, band_cents=60) == [
        (0, 29, 2020.0),
        (30, 59, 2170.0),
        (60, 89, 2420.0),
        (90, 119, 2070.0),
        (120, 149, 1920.0),
    ]
    # greedy: a step smaller than the band lets the next value join the running segment
    _, cents = _staircase([2050, 2000])
    cents[::2] += 40  # 2050..2090, then 2040 (within 60 of 2090) and 2000
    assert band_segments(cents, band_cents=60) == [(0, 30, 2065.0), (31, 59, 2020.0)]


def test_band_segments_greedy_growth_and_rounded_midpoint():
    # a spread of exactly 60 stays in one band; 61 starts a new segment
    assert band_segments(np.array([0.0, 60.0, 61.0])) == [(0, 1, 30.0), (2, 2, 61.0)]
    # the midpoint is rounded to a whole cent, halves upwards
    assert band_segments(np.array([10.0, 11.0])) == [(0, 1, 11.0)]
    assert band_segments(np.array([-11.0, -10.0])) == [(0, 1, -10.0)]
    assert band_segments(np.array([0.0, 30.0, 45.0]), band_cents=20) == [(0, 0, 0.0), (1, 2, 38.0)]
    assert band_segments(np.array([5.0])) == [(0, 0, 5.0)]
    assert band_segments(np.array([])) == []


def test_band_segments_skip_nan_without_crashing():
    cents = np.array([np.nan, 0.0, np.nan, 10.0, 200.0, np.nan])
    assert band_segments(cents) == [(1, 3, 5.0), (4, 4, 200.0)]
    assert band_segments(np.full(4, np.nan)) == []
    with pytest.raises(ValueError, match="band_cents"):
        band_segments(np.zeros(3), band_cents=-1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(-2000, 2000), st.just(float("nan"))),
        min_size=0,
        max_size=60,
    ),
    st.sampled_from([0.0, 15.0, 60.0, 250.0]),
)
def test_band_segments_property(values, band):
    cents = np.array(values, dtype=float)
    segments = band_segments(cents, band_cents=band)
    finite = np.flatnonzero(np.isfinite(cents))
    # the segments cover the finite values in order, once each, from finite to finite
    covered = [
        i for first, last, _ in segments for i in finite[(finite >= first) & (finite <= last)]
    ]
    assert covered == finite.tolist()
    for first, last, pitch in segments:
        assert np.isfinite(cents[first]) and np.isfinite(cents[last])
        inside = cents[first : last + 1]
        inside = inside[np.isfinite(inside)]
        assert inside.max() - inside.min() <= band  # every point within the band
        assert pitch == np.floor((inside.max() + inside.min()) / 2 + 0.5)
        assert np.all(np.abs(inside - pitch) <= band / 2 + 0.5)
    # greedy: each next segment's first value would have widened the previous beyond the band
    for (first, last, _), (next_first, _, _) in itertools.pairwise(segments):
        inside = cents[first : last + 1]
        inside = np.append(inside[np.isfinite(inside)], cents[next_first])
        assert inside.max() - inside.min() > band


def test_contour_symbols_bands_of_a_staircase():
    time_s, cents = _staircase([2000, 2150, 2400, 2050, 2000])
    cents[1::3] += 30
    phrase = np.zeros(cents.size, dtype=np.int64)
    table = contour_symbols_bands(time_s, cents, phrase)
    assert list(table.columns) == list(SYMBOL_COLUMNS)
    assert (
        table.dtypes.to_dict()
        == contour_symbols(
            time_s, cents, phrase, centers_cents=np.array([2000.0, 2400.0])
        ).dtypes.to_dict()
    )
    # band pitches 2015, 2165, 2415, 2065, 2015: steps +150, +250, -350, -50
    assert table["symbol"].tolist() == ["+3", "+3", "-3", "-1"]
    np.testing.assert_allclose(table["step_cents"], [150, 250, -350, -50])
    np.testing.assert_allclose(table["start_s"], [0.0, 0.3, 0.6, 0.9])
    np.testing.assert_allclose(table["end_s"], [0.6, 0.9, 1.2, 1.5])
    assert (table["from_cluster"] == -1).all() and (table["to_cluster"] == -1).all()


def test_bands_sign_is_positive_when_ascending():
    time_s, cents = _staircase([1000, 1080, 1000, 900])
    table = contour_symbols_bands(time_s, cents, np.zeros(cents.size, dtype=np.int64))
    assert table["symbol"].tolist() == ["+2", "-2", "-2"]
    assert (np.sign(table["step_cents"]) == [1, -1, -1]).all()


@given(st.lists(st.integers(-30, 30), min_size=2, max_size=8))
def test_bands_symbol_sign_follows_the_step(steps_of_100):
    levels = 3000 + 100 * np.cumsum(steps_of_100)
    time_s, cents = _staircase(levels, frames_per_level=3)
    table = contour_symbols_bands(time_s, cents, np.zeros(cents.size, dtype=np.int64))
    distinct = [level for level, _ in itertools.groupby(levels.tolist())]
    expected = np.diff(distinct)
    np.testing.assert_allclose(table["step_cents"], expected)
    assert table["symbol"].str[0].tolist() == ["+" if step > 0 else "-" for step in expected]


def test_bands_merge_equal_pitches_instead_of_a_zero_step():
    # 0..60 is one band (pitch 30); 60.4 breaks it, and 60.4 with 0.4 is a second band
    # whose rounded midpoint is also 30: the two are merged, so no zero step appears
    cents = 2000 + np.array([0, 60, 60.4, 0.4] * 1 + [300] * 4, dtype=float)
    assert [p for _, _, p in band_segments(cents)] == [2030.0, 2030.0, 2300.0]
    time_s = np.arange(cents.size) * HOP_S
    phrase = np.zeros(cents.size, dtype=np.int64)
    table = contour_symbols_bands(time_s, cents, phrase)
    assert table["symbol"].tolist() == ["+3"]
    np.testing.assert_allclose(table["step_cents"], [270])
    np.testing.assert_allclose(table[["start_s", "end_s"]].to_numpy(), [[0.0, 0.08]])


def test_bands_min_segment_drops_short_segments_and_remerges():
    time_s, cents = _staircase([2000, 2300, 2000, 2200], frames_per_level=30)
    cents[30:58] = 2000  # the 2300 step keeps only two frames
    phrase = np.zeros(cents.size, dtype=np.int64)
    raw = contour_symbols_bands(time_s, cents, phrase)
    assert raw["symbol"].tolist() == ["+3", "-3", "+3"]
    kept = contour_symbols_bands(time_s, cents, phrase, min_segment_s=0.05)
    assert kept["symbol"].tolist() == ["+3"]
    np.testing.assert_allclose(kept[["start_s", "end_s"]].to_numpy(), [[0.0, 1.2]])


def test_nan_inside_a_phrase_does_not_crash_either_method():
    time_s, cents = _staircase([2000, 2200, 2000])
    phrase = np.zeros(cents.size, dtype=np.int64)
    with_gap = cents.copy()
    with_gap[[0, 10, 11, 12, 45, cents.size - 1]] = np.nan
    centers = np.array([2000.0, 2200.0])
    for table in (
        contour_symbols_bands(time_s, with_gap, phrase),
        contour_symbols_bands(time_s, with_gap, phrase, smooth_s=0.05, min_segment_s=0.05),
        contour_symbols(time_s, with_gap, phrase, centers_cents=centers),
    ):
        assert table["symbol"].tolist() == ["+3", "-3"]
    all_nan = contour_symbols_bands(time_s, np.full(cents.size, np.nan), phrase)
    assert all_nan.empty and list(all_nan.columns) == list(SYMBOL_COLUMNS)


def test_contour_segments_table_and_symbols_agree():
    time_s, cents = _staircase([2000, 2150, 2400])
    phrase = np.repeat([0, 0, 1], 30)
    centers = np.array([2000.0, 2150.0, 2400.0])
    segments = contour_segments(
        time_s, cents, phrase, centers_cents=centers, smooth_s=0, min_segment_s=0
    )
    assert list(segments.columns) == list(SEGMENT_COLUMNS)
    assert segments[
        ["phrase", "segment", "first_frame", "last_frame", "cluster"]
    ].to_numpy().tolist() == [[0, 0, 0, 29, 0], [0, 1, 30, 59, 1], [1, 0, 60, 89, 2]]
    np.testing.assert_allclose(segments["pitch_cents"], centers)
    np.testing.assert_allclose(segments["end_s"], [0.3, 0.6, 0.9])
    pd.testing.assert_frame_equal(
        symbols_from_segments(segments),
        contour_symbols(time_s, cents, phrase, centers_cents=centers, smooth_s=0, min_segment_s=0),
    )
    bands = contour_segments(time_s, cents, phrase, method="bands", smooth_s=0, min_segment_s=0)
    assert (bands["cluster"] == -1).all() and len(bands) == 3
    with pytest.raises(ValueError, match="unknown contour method"):
        contour_segments(time_s, cents, phrase, method="dtw", smooth_s=0, min_segment_s=0)
    with pytest.raises(ValueError, match="centers_cents"):
        contour_segments(time_s, cents, phrase, smooth_s=0, min_segment_s=0)


# --- choosing k ---


def _levels(levels, n=150, sd=12.0, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([level + rng.normal(0, sd, n) for level in levels] + [[np.nan]])


@pytest.mark.parametrize("criterion", ["bic", "silhouette"])
def test_choose_k_finds_well_separated_levels(criterion):
    values = _levels([2000, 2300, 2650, 3000])
    k, table = choose_k(values, k_min=2, k_max=8, criterion=criterion, seed=3)
    assert k == 4
    assert table["k"].tolist() == list(range(2, 9))
    assert table.dtypes.to_dict() == {
        "k": np.dtype("int64"),
        "score": np.dtype("float64"),
        "inertia": np.dtype("float64"),
    }
    assert (np.diff(table["inertia"]) <= 1e-6).all()  # more clusters never fit worse here
    again_k, again = choose_k(values, k_min=2, k_max=8, criterion=criterion, seed=3)
    assert again_k == k
    pd.testing.assert_frame_equal(table, again)


def test_choose_k_subsample_is_seeded():
    values = _levels([1000, 1500, 2200], n=400)
    a = choose_k(values, k_min=2, k_max=5, seed=1, max_points=300)
    b = choose_k(values, k_min=2, k_max=5, seed=1, max_points=300)
    assert a[0] == b[0] == 3
    pd.testing.assert_frame_equal(a[1], b[1])


def test_choose_k_silhouette_matches_sklearn():
    from sklearn.metrics import silhouette_score

    values = np.round(_levels([0, 120, 400], n=40, sd=30)[:-1])  # ties included
    _, table = choose_k(values, k_min=2, k_max=5, criterion="silhouette")
    for k, score in zip(table["k"], table["score"], strict=True):
        labels = assign_clusters(values, fit_clusters(values, k=int(k), max_points=values.size)[0])
        assert score == pytest.approx(silhouette_score(values.reshape(-1, 1), labels), abs=1e-9)


def test_choose_k_bic_formula():
    values = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    _, table = choose_k(values, k_min=2, k_max=2, criterion="bic")
    n, k, inertia = 6, 2, 4.0  # clusters {0,1,2} and {10,11,12}, squared deviations 2 + 2
    variance = inertia / (n - k)
    log_l = 2 * 3 * np.log(0.5) - n / 2 * np.log(2 * np.pi * variance) - (n - k) / 2
    assert table["inertia"].iloc[0] == pytest.approx(inertia)
    assert table["score"].iloc[0] == pytest.approx(-2 * log_l + 2 * k * np.log(n))


def test_choose_k_limits():
    values = np.repeat([0.0, 500.0, 900.0], 20)  # three distinct values only
    k, table = choose_k(values, k_min=2, k_max=5)
    assert k == 3 and table["score"].iloc[2:].isna().all()
    with pytest.raises(ValueError, match="criterion"):
        choose_k(values, k_min=2, k_max=3, criterion="gap")
    with pytest.raises(ValueError, match="k_min"):
        choose_k(values, k_min=1, k_max=3, criterion="silhouette")
    with pytest.raises(ValueError, match="distinct"):
        choose_k(values, k_min=4, k_max=6)
