"""Tests of the baselines, on tiny hand-made data."""

import numpy as np
import pandas as pd
import pytest

from cantaor.evaluation.baselines import (
    BASELINES,
    duplicate_share,
    duration_baseline,
    frame_statistics,
    majority_baseline,
    mfcc_stats_baseline,
    nearest_duplicate_baseline,
    run_baselines,
)

CLASSES = ["AM", "EM", "TP"]


def _accuracy(proba, labels, classes=CLASSES):
    return float(np.mean(np.asarray(classes)[proba.argmax(axis=1)] == np.asarray(labels)))


def test_majority_gives_the_training_prior_to_every_item():
    proba = majority_baseline(["EM", "TP", "EM", "AM", "EM"], 4, CLASSES)
    assert proba.shape == (4, 3)
    np.testing.assert_allclose(proba, [[0.2, 0.6, 0.2]] * 4)
    assert (proba.argmax(axis=1) == 1).all()
    # A class absent from training gets zero; ties go to the first class.
    np.testing.assert_allclose(majority_baseline(["TP", "AM"], 1, CLASSES), [[0.5, 0.0, 0.5]])
    assert majority_baseline(["TP", "AM"], 1, CLASSES).argmax() == 0
    assert majority_baseline(["AM"], 0, CLASSES).shape == (0, 3)
    with pytest.raises(ValueError, match="not in classes"):
        majority_baseline(["XX"], 1, CLASSES)


def test_duration_separates_classes_of_different_lengths():
    rng = np.random.default_rng(0)
    centres = {"AM": 0.3, "EM": 0.8, "TP": 2.0}
    labels = np.repeat(CLASSES, 30)
    durations = np.array([centres[c] for c in labels]) * np.exp(rng.normal(0, 0.1, 90))
    test_labels = np.array(["TP", "AM", "EM", "EM", "AM", "TP"])
    test_durations = np.array([centres[c] for c in test_labels]) * [1.1, 0.9, 1.0, 1.1, 1.05, 0.95]
    proba = duration_baseline(durations, labels, test_durations, CLASSES)
    assert proba.shape == (6, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert _accuracy(proba, test_labels) == 1.0
    # The middle class owns the middle durations, not only the extremes.
    assert proba[2, 1] > 0.8


def test_duration_baseline_without_information_falls_back_to_the_prior():
    proba = duration_baseline([0.5, 0.5, 0.5], ["EM", "EM", "AM"], [0.1, 3.0], CLASSES)
    np.testing.assert_allclose(proba, [[1 / 3, 2 / 3, 0.0]] * 2)
    with pytest.raises(ValueError, match="positive"):
        duration_baseline([0.5, 0.0], ["EM", "AM"], [0.1], CLASSES)


def _store(means, lengths, n_frames, rng):
    """Items (n, n_bins, n_frames) float16: noise around each item's bin means, zero-padded."""
    n, n_bins = means.shape
    features = np.zeros((n, n_bins, n_frames), dtype=np.float16)
    for i in range(n):
        features[i, :, : lengths[i]] = means[i][:, None] + rng.normal(0, 1, (n_bins, lengths[i]))
    return features


def test_frame_statistics_use_real_frames_only(tmp_path):
    rng = np.random.default_rng(1)
    lengths = np.array([7, 1, 12, 3, 12])
    memmap = np.lib.format.open_memmap(
        tmp_path / "f.npy", mode="w+", dtype=np.float16, shape=(5, 4, 12)
    )
    memmap[:] = _store(rng.normal(0, 3, (5, 4)), lengths, 12, rng)
    memmap.flush()
    features = np.load(tmp_path / "f.npy", mmap_mode="r")
    indices = [4, 1, 0, 3, 0]
    stats = frame_statistics(features, lengths, indices, batch_size=2)
    assert stats.shape == (5, 8)
    for row, item in enumerate(indices):
        real = np.asarray(features[item, :, : lengths[item]], dtype=np.float64)
        np.testing.assert_allclose(stats[row, :4], real.mean(axis=1))
        np.testing.assert_allclose(stats[row, 4:], real.std(axis=1), atol=1e-12)
    assert (stats[1, 4:] == 0).all()  # one frame: no spread
    # Garbage in the padding changes nothing.
    garbage = np.array(features)
    garbage[0, :, 7:] = 50.0
    np.testing.assert_allclose(frame_statistics(garbage, lengths, indices), stats)
    with pytest.raises(ValueError, match="lengths"):
        frame_statistics(features, [7, 0, 12, 3, 12], [1])


def test_stats_baseline_separates_classes_with_different_bin_means():
    rng = np.random.default_rng(2)
    n_bins, per_class = 6, 20
    labels = np.repeat(CLASSES, per_class)
    test_labels = np.tile(CLASSES, 4)
    means = np.zeros((len(labels) + len(test_labels), n_bins))
    for i, label in enumerate(np.concatenate([labels, test_labels])):
        means[i, CLASSES.index(label)] = 2.0  # each class raises its own bin
    lengths = rng.integers(5, 30, len(means))
    features = _store(means, lengths, 30, rng)
    stats = frame_statistics(features, lengths, np.arange(len(means)))
    train, test = stats[: len(labels)], stats[len(labels) :]
    proba = mfcc_stats_baseline(train, labels, test, CLASSES)
    assert proba.shape == (12, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert _accuracy(proba, test_labels) == 1.0
    # Seeded and deterministic.
    np.testing.assert_array_equal(mfcc_stats_baseline(train, labels, test, CLASSES), proba)
    # Noise alone (no class in the bin means) does not separate them.
    noise = frame_statistics(_store(np.zeros_like(means), lengths, 30, rng), lengths, range(72))
    chance = mfcc_stats_baseline(noise[:60], labels, noise[60:], CLASSES)
    assert _accuracy(chance, test_labels) < 0.75


def test_stats_baseline_columns_follow_all_classes():
    # A class without training items gets probability zero, in its own column.
    train = np.array([[0.0, 1.0], [0.1, 1.1], [2.0, 0.0], [2.1, 0.2]])
    proba = mfcc_stats_baseline(train, ["AM", "AM", "TP", "TP"], [[2.0, 0.1]], CLASSES)
    assert proba[0, 1] == 0.0 and proba[0, 2] > 0.5


def test_nearest_duplicate_copies_labels_and_falls_back_to_the_majority():
    train_hashes = ["a", "b", "c", "d", "d", "e", "e"]
    train_labels = ["AM", "EM", "EM", "TP", "TP", "EM", "AM"]
    test_hashes = ["b", "d", "z", "a", "e", "y"]
    proba, share = nearest_duplicate_baseline(train_hashes, train_labels, test_hashes, CLASSES)
    prior = [2 / 7, 3 / 7, 2 / 7]
    np.testing.assert_allclose(
        proba,
        [
            [0.0, 1.0, 0.0],  # b: EM
            [0.0, 0.0, 1.0],  # d: two copies, both TP
            prior,  # z: no copy
            [1.0, 0.0, 0.0],  # a: AM
            [0.5, 0.5, 0.0],  # e: copies disagree
            prior,  # y: no copy
        ],
    )
    assert share == pytest.approx(4 / 6)
    assert list(np.asarray(CLASSES)[proba.argmax(axis=1)]) == ["EM", "TP", "EM", "AM", "AM", "EM"]
    assert duplicate_share(train_hashes, ["q"]) == 0.0
    assert np.isnan(duplicate_share(train_hashes, []))


def _index_and_store(rng):
    """A store whose singers differ in duration and in one bin, with duplicated clips."""
    singers = np.repeat(CLASSES, [14, 10, 8])
    n = len(singers)
    lengths = np.array([{"AM": 8, "EM": 16, "TP": 30}[s] for s in singers]) + rng.integers(0, 3, n)
    means = np.zeros((n, 5))
    means[np.arange(n), [CLASSES.index(s) for s in singers]] = 3.0
    features = _store(means, lengths, 34, rng)
    hashes = [f"h{i}" for i in range(n)]
    hashes[-1] = hashes[-2]  # a test clip identical to a training clip
    features[-1] = features[-2]
    lengths[-1] = lengths[-2]
    index = pd.DataFrame(
        {
            "item_id": [f"item{i}" for i in range(n)],
            "singer": singers,
            "duration_s": lengths * 0.01,
            "content_hash": hashes,
            "n_frames": lengths,
        }
    )
    subset = np.array(["train"] * n, dtype=object)
    subset[[3, 4, 16, 17, n - 1]] = "test"
    subset[[5, 18]] = "validation"
    subset[0] = "excluded"
    return index, subset, features


def test_run_baselines_on_a_store_and_split():
    index, subset, features = _index_and_store(np.random.default_rng(3))
    results = run_baselines(index, subset, features, batch_size=4)
    assert tuple(results) == BASELINES
    test = np.flatnonzero(subset == "test")
    truth = index["singer"].to_numpy()[test]
    for proba in results.values():
        assert proba.shape == (5, 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert _accuracy(results["majority"], truth) == pytest.approx(2 / 5)  # AM: most items
    assert _accuracy(results["duration"], truth) == 1.0
    assert _accuracy(results["mfcc_stats"], truth) == 1.0
    np.testing.assert_allclose(results["nearest_duplicate"][-1], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(results["nearest_duplicate"][0], results["majority"][0])
    # A split table matched on item_id gives the same, whatever its row order.
    table = pd.DataFrame({"item_id": index["item_id"], "subset": subset}).iloc[::-1]
    for name, proba in run_baselines(index, table, features).items():
        np.testing.assert_allclose(proba, results[name], err_msg=name)
    # Fitting on validation too changes the prior that majority reports.
    with_validation = run_baselines(index, subset, features, fit_subsets=("train", "validation"))
    assert not np.allclose(with_validation["majority"], results["majority"])
    with pytest.raises(ValueError, match="no subset"):
        run_baselines(index, table.iloc[1:], features)
    with pytest.raises(ValueError, match="items"):
        run_baselines(index, subset, features[:-1])
