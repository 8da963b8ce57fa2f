"""Open-set rejection (cantaor.evaluation.openset): thresholds, rules, noise."""

import itertools

import numpy as np
import pandas as pd
import pytest

from cantaor.evaluation.openset import (
    DEFAULT_RULE,
    MAX_PITCH_SLOPE_CENTS_PER_S,
    apply_rule,
    calibrate,
    choose_threshold,
    noise_clips,
    pitch_continuity,
    recording_roles,
)


def _balanced_accuracy(accepted, rejected, threshold):
    return np.mean(np.asarray(accepted) >= threshold) + np.mean(np.asarray(rejected) < threshold)


@pytest.mark.parametrize("seed", range(30))
def test_choose_threshold_is_the_best_balanced_accuracy(seed):
    rng = np.random.default_rng(seed)
    accepted = rng.integers(0, 12, rng.integers(1, 7)).astype(float)
    rejected = rng.integers(0, 12, rng.integers(1, 7)).astype(float)
    chosen = choose_threshold(accepted, rejected)
    # brute force over a fine grid of thresholds
    grid = np.arange(-2, 14, 0.25)
    best = max(_balanced_accuracy(accepted, rejected, t) for t in grid)
    assert _balanced_accuracy(accepted, rejected, chosen) == pytest.approx(best)
    # the lowest such interval: no threshold at or below the value under it scores as well
    values = np.concatenate([accepted, rejected])
    below = values[values < chosen]
    lower = [t for t in grid if below.size and t <= below.max()]
    assert all(_balanced_accuracy(accepted, rejected, t) < best - 1e-9 for t in lower)


def test_separated_values_give_the_middle_of_the_gap():
    assert choose_threshold([0.8, 0.9, 0.95], [0.3, 0.45]) == pytest.approx(0.625)


def test_pitch_continuity_matches_a_loop():
    rng = np.random.default_rng(3)
    time_s = np.cumsum(rng.uniform(0.004, 0.02, 200))
    cents = np.cumsum(rng.normal(0, 40, 200))
    voiced = rng.random(200) < 0.8
    pairs = [
        abs(cents[i + 1] - cents[i]) / (time_s[i + 1] - time_s[i]) < MAX_PITCH_SLOPE_CENTS_PER_S
        for i in range(199)
        if voiced[i] and voiced[i + 1]
    ]
    assert pitch_continuity(time_s, cents, voiced) == pytest.approx(np.mean(pairs))
    assert pitch_continuity(time_s, cents, np.zeros(200, bool)) is None


def test_rules_reject_in_order_with_the_first_failing_stage():
    rule = {"min_pitch_continuity": 0.6, "min_items": 3, "min_confidence": 0.5}
    good = {"pitch_continuity": 0.9, "n_items": 5, "confidence": 0.7}
    assert apply_rule(good, rule) is None
    assert apply_rule({**good, "pitch_continuity": 0.4, "n_items": 0}, rule) == "no_sung_pitch"
    assert apply_rule({**good, "n_items": 2}, rule) == "too_few_motifs"
    assert apply_rule({**good, "confidence": 0.4}, rule) == "low_confidence"
    assert apply_rule({**good, "confidence": None}, rule) == "low_confidence"
    assert apply_rule(good, DEFAULT_RULE) is None


def test_calibration_separates_known_recordings_from_noise():
    known = pd.DataFrame(
        {"pitch_continuity": [0.8, 0.92], "n_items": [6, 10], "confidence": [0.7, 0.9]}
    )
    noise = pd.DataFrame(
        {
            "pitch_continuity": [0.4, 0.45, 0.85],
            "n_items": [3, 0, 2],
            "confidence": [0.5, None, 0.6],
        }
    )
    rule = calibrate(known, noise, n_singers=3, source="validation")
    assert 0.45 < rule["min_pitch_continuity"] <= 0.8
    # only the continuous noise (n_items 2) reaches the items stage
    assert rule["min_items"] == 4
    # no noise reaches the confidence stage: halfway between chance and the least confident
    assert rule["min_confidence"] == pytest.approx((1 / 3 + 0.7) / 2)
    assert all(apply_rule(row, rule) is None for row in known.to_dict(orient="records"))
    assert all(apply_rule(row, rule) for row in noise.to_dict(orient="records"))


def test_noise_clips_have_their_levels():
    clips = noise_clips(2.0, 16000, seed=0)
    assert set(clips) == {"white", "white_-80dBFS", "brown", "hum"}
    for name, clip in clips.items():
        assert clip.dtype == np.float32 and clip.size == 32000
        rms_db = 20 * np.log10(np.sqrt(np.mean(clip.astype(float) ** 2)))
        expected = {"white": -10, "white_-80dBFS": -80, "brown": -12, "hum": -12}[name]
        assert rms_db == pytest.approx(expected, abs=0.01)
    other = noise_clips(2.0, 16000, seed=1)
    assert not np.array_equal(clips["white"], other["white"])


def test_recording_roles_follow_the_split():
    index = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(7)],
            "recording": ["a", "a", "b", "c", "c", "d", "e"],
            "singer": ["X", "X", "X", "Y", "Y", "Y", "Y"],
        }
    )
    subsets = ["train", "validation", "test", "test", "test", "validation", "excluded"]
    split = pd.DataFrame({"item_id": index["item_id"], "subset": subsets})
    roles = recording_roles(index, split)
    assert list(itertools.starmap(lambda r, s, role: (r, role), roles.itertuples(index=False))) == [
        ("a", "validation"),
        ("b", "test"),
        ("c", "test"),
        ("d", "validation"),
    ]
