"""Simple baselines that a deep model's result is read against.

Each baseline is fitted on the training items of a split and returns class
probabilities for its test items, shape (n_test, n_classes), column ``j``
belonging to ``classes[j]`` exactly as the deep models' predictions do, so
the same evaluation (:func:`cantaor.evaluation.metrics.evaluate_predictions`) scores
both on the same items:

- :func:`majority_baseline`: the training class frequencies for every item;
  its accuracy is the share of the most frequent singer.
- :func:`duration_baseline`: logistic regression on a spline of the log
  duration. A model that does no better than this has learnt the clips'
  lengths, not the singers.
- :func:`mfcc_stats_baseline`: logistic regression on the mean and standard
  deviation of every feature bin over an item's real frames
  (:func:`frame_statistics`), i.e. a bag of frames without any order. On the
  released motif clips this scores above the paper's best deep model under a
  random split (REFERENCE.md section 2).
- :func:`nearest_duplicate_baseline`: the label of a training item with
  identical content (``content_hash``), else the majority prior. Its
  accuracy measures how much of a split is leaked duplicates rather than
  anything learnt; :func:`duplicate_share` gives the share of test items
  that have such a copy.

:func:`run_baselines` runs all four on a store and a split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

BASELINES = ("majority", "duration", "mfcc_stats", "nearest_duplicate")


def majority_baseline(train_labels, n_test: int, classes: Sequence) -> np.ndarray:
    """Training class frequencies, the same for every test item.

    Parameters
    ----------
    train_labels : array-like, shape (n_train,)
        Class of each training item (values of ``classes``).
    n_test : int
        Number of test items.
    classes : sequence
        All classes, in column order.

    Returns
    -------
    numpy.ndarray, shape (n_test, n_classes)
        Each row is the training prior; its argmax is the most frequent
        class (the first in ``classes`` order on a tie).
    """
    prior = _prior(train_labels, classes)
    return np.tile(prior, (int(n_test), 1))


def duration_baseline(
    train_durations,
    train_labels,
    test_durations,
    classes: Sequence,
    *,
    n_knots: int = 5,
    max_iter: int = 5000,
    seed: int = 0,
) -> np.ndarray:
    """Logistic regression on a cubic spline of log duration.

    The spline (``n_knots`` uniform knots over the training range, constant
    beyond it) lets any class own any range of durations, not only the
    shortest or the longest.

    Parameters
    ----------
    train_durations, test_durations : array-like of float, seconds
        Item durations, all positive.
    train_labels : array-like, shape (n_train,)
        Class of each training item.
    classes : sequence
        All classes, in column order.
    n_knots : int
        Spline knots.
    max_iter : int
        Iterations of the solver.
    seed : int
        Random state of the classifier.

    Returns
    -------
    numpy.ndarray, shape (n_test, n_classes)
    """
    train_x = _log_durations(train_durations, "train_durations")
    test_x = _log_durations(test_durations, "test_durations")
    if len(train_x) != len(train_labels):
        raise ValueError("train_durations and train_labels differ in length")
    if np.ptp(train_x) == 0:  # one duration: nothing to learn from it
        return majority_baseline(train_labels, len(test_x), classes)
    model = make_pipeline(
        SplineTransformer(n_knots=n_knots, degree=3, extrapolation="constant"),
        StandardScaler(),
        LogisticRegression(max_iter=max_iter, random_state=seed),
    )
    return _fit_predict(model, train_x, train_labels, test_x, classes)


def mfcc_stats_baseline(
    train_features,
    train_labels,
    test_features,
    classes: Sequence,
    *,
    C: float = 1.0,
    max_iter: int = 5000,
    seed: int = 0,
) -> np.ndarray:
    """Standardised logistic regression on per-item frame statistics.

    Parameters
    ----------
    train_features, test_features : array-like, shape (n, n_statistics)
        Per-item statistics, normally :func:`frame_statistics` of an MFCC
        (or any other) feature store.
    train_labels : array-like, shape (n_train,)
        Class of each training item.
    classes : sequence
        All classes, in column order.
    C : float
        Inverse L2 regularisation strength.
    max_iter : int
        Iterations of the solver.
    seed : int
        Random state of the classifier.

    Returns
    -------
    numpy.ndarray, shape (n_test, n_classes)
    """
    train_x = np.asarray(train_features, dtype=np.float64)
    test_x = np.asarray(test_features, dtype=np.float64)
    if train_x.ndim != 2 or test_x.ndim != 2 or train_x.shape[1] != test_x.shape[1]:
        raise ValueError(
            "train_features and test_features must be 2-D with the same columns, "
            f"got {train_x.shape} and {test_x.shape}"
        )
    if len(train_x) != len(train_labels):
        raise ValueError("train_features and train_labels differ in length")
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    )
    return _fit_predict(model, train_x, train_labels, test_x, classes)


def frame_statistics(features, lengths, indices, batch_size: int = 256) -> np.ndarray:
    """Mean and standard deviation of every bin over each item's real frames.

    The store is read ``batch_size`` items at a time, each batch cut to its
    longest item, so a memory map is never loaded whole.

    Parameters
    ----------
    features : numpy.ndarray or numpy.memmap, shape (n_items, n_bins, n_frames)
        Feature store, zero-padded after each item's real frames.
    lengths : array-like of int, shape (n_items,)
        Real frames per item (1..n_frames).
    indices : array-like of int, shape (n,)
        Items to describe, in output order.
    batch_size : int
        Items read at once.

    Returns
    -------
    numpy.ndarray of float64, shape (n, 2 * n_bins)
        Means of the bins, then their (population) standard deviations.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    lengths = np.asarray(lengths, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if features.ndim != 3 or len(lengths) != features.shape[0]:
        raise ValueError(
            "features must be (n_items, n_bins, n_frames) with one length per item, "
            f"got {features.shape} and {len(lengths)} lengths"
        )
    if len(indices) and (lengths[indices].min() < 1 or lengths[indices].max() > features.shape[2]):
        raise ValueError(f"lengths must be in 1..{features.shape[2]}")
    n_bins = features.shape[1]
    out = np.empty((len(indices), 2 * n_bins), dtype=np.float64)
    # Batches of similar lengths read little padding; sorted rows read the file forward.
    order = np.argsort(lengths[indices], kind="stable")
    for start in range(0, len(order), batch_size):
        positions = order[start : start + batch_size]
        rows = indices[positions]
        sorted_rows = np.argsort(rows, kind="stable")
        batch_lengths = lengths[rows[sorted_rows]]
        x = np.asarray(features[rows[sorted_rows], :, : batch_lengths.max()], dtype=np.float64)
        mask = np.arange(x.shape[2])[None, None, :] < batch_lengths[:, None, None]
        mean = np.where(mask, x, 0.0).sum(axis=2) / batch_lengths[:, None]
        var = np.where(mask, (x - mean[:, :, None]) ** 2, 0.0).sum(axis=2) / batch_lengths[:, None]
        out[positions[sorted_rows]] = np.concatenate([mean, np.sqrt(var)], axis=1)
    return out


def duplicate_share(train_hashes, test_hashes) -> float:
    """Share of test items whose content hash also occurs among the training items."""
    test_hashes = np.asarray(test_hashes, dtype=object)
    if len(test_hashes) == 0:
        return float("nan")
    return float(np.isin(test_hashes, np.asarray(train_hashes, dtype=object)).mean())


def nearest_duplicate_baseline(
    train_hashes, train_labels, test_hashes, classes: Sequence
) -> tuple[np.ndarray, float]:
    """Copy the label of a training item with identical content, else the majority prior.

    Parameters
    ----------
    train_hashes, test_hashes : array-like of str
        Content hashes (``content_hash`` of the store index).
    train_labels : array-like, shape (n_train,)
        Class of each training item.
    classes : sequence
        All classes, in column order.

    Returns
    -------
    proba : numpy.ndarray, shape (n_test, n_classes)
        For a test item with copies in training, the share of each class
        among those copies (one-hot when they agree); otherwise the training
        prior (:func:`majority_baseline`).
    share : float
        Share of test items that had a copy (NaN without test items).
    """
    train_hashes = np.asarray(train_hashes, dtype=object)
    test_hashes = np.asarray(test_hashes, dtype=object)
    columns = _columns(train_labels, classes)
    if len(train_hashes) != len(columns):
        raise ValueError("train_hashes and train_labels differ in length")
    counts = pd.crosstab(
        pd.Series(train_hashes, name="hash"), pd.Series(columns, name="column")
    ).reindex(columns=range(len(classes)), fill_value=0)
    proba = majority_baseline(train_labels, len(test_hashes), classes)
    copied = np.isin(test_hashes, counts.index.to_numpy())
    if copied.any():
        matched = counts.loc[test_hashes[copied]].to_numpy(dtype=np.float64)
        proba[copied] = matched / matched.sum(axis=1, keepdims=True)
    return proba, duplicate_share(train_hashes, test_hashes)


def run_baselines(
    index: pd.DataFrame,
    split,
    features,
    *,
    fit_subsets: Sequence[str] = ("train",),
    test_subset: str = "test",
    batch_size: int = 256,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """All baselines on one store and split.

    Parameters
    ----------
    index : pandas.DataFrame
        The store index, one row per array item in array order, with columns
        ``singer``, ``duration_s``, ``content_hash`` and ``n_frames`` (real
        frames), and ``item_id`` when ``split`` is a table.
    split : pandas.DataFrame with ``item_id`` and ``subset``, or array-like of str
        The subset of every item (``train``, ``validation``, ``test``,
        ``excluded``): a split table matched on ``item_id``, or one value per
        index row in row order.
    features : numpy.ndarray or numpy.memmap, shape (n_items, n_bins, n_frames)
        The store's array, read in batches for :func:`frame_statistics`.
    fit_subsets : sequence of str
        Subsets the baselines are fitted on; ``("train",)`` matches the items
        a deep model's weights are fitted on (validation only picks its epoch).
    test_subset : str
        Subset that is predicted.
    batch_size : int
        Items read at once from ``features``.
    seed : int
        Random state of the classifiers.

    Returns
    -------
    dict of str -> numpy.ndarray, shape (n_test, n_classes)
        Keys :data:`BASELINES`; rows follow the test items in index order,
        columns the sorted singers of the whole index (the deep models'
        class order).
    """
    subsets = _subsets(index, split)
    if features.shape[0] != len(index):
        raise ValueError(f"features have {features.shape[0]} items but the index {len(index)}")
    classes = sorted(index["singer"].astype(str).unique())
    singers = index["singer"].astype(str).to_numpy()
    train_idx = np.flatnonzero(np.isin(subsets, list(fit_subsets)))
    test_idx = np.flatnonzero(subsets == test_subset)
    if len(train_idx) == 0:
        raise ValueError(f"no items in the fitting subsets {list(fit_subsets)}")
    durations = index["duration_s"].to_numpy(dtype=np.float64)
    hashes = index["content_hash"].astype(str).to_numpy(dtype=object)
    lengths = index["n_frames"].to_numpy(dtype=np.int64)
    train_labels = singers[train_idx]

    statistics = frame_statistics(
        features, lengths, np.concatenate([train_idx, test_idx]), batch_size=batch_size
    )
    return {
        "majority": majority_baseline(train_labels, len(test_idx), classes),
        "duration": duration_baseline(
            durations[train_idx], train_labels, durations[test_idx], classes, seed=seed
        ),
        "mfcc_stats": mfcc_stats_baseline(
            statistics[: len(train_idx)],
            train_labels,
            statistics[len(train_idx) :],
            classes,
            seed=seed,
        ),
        "nearest_duplicate": nearest_duplicate_baseline(
            hashes[train_idx], train_labels, hashes[test_idx], classes
        )[0],
    }


def _subsets(index: pd.DataFrame, split) -> np.ndarray:
    """The subset of every index row, as an array of str."""
    if isinstance(split, pd.DataFrame):
        if split["item_id"].duplicated().any():
            raise ValueError("split has duplicate item_id values")
        subsets = index["item_id"].map(split.set_index("item_id")["subset"])
        if subsets.isna().any():
            missing = index.loc[subsets.isna(), "item_id"].iloc[0]
            raise ValueError(f"item {missing!r} of the index has no subset in the split")
        return subsets.astype(str).to_numpy()
    subsets = np.asarray(split, dtype=object).astype(str)
    if subsets.shape != (len(index),):
        raise ValueError(f"split must give one subset per index row, got shape {subsets.shape}")
    return subsets


def _columns(labels, classes: Sequence) -> np.ndarray:
    """Column of each label in ``classes``; unknown labels are an error."""
    position = {label: j for j, label in enumerate(classes)}
    if len(position) != len(classes):
        raise ValueError("classes must be distinct")
    labels = list(np.asarray(labels, dtype=object).reshape(-1))
    unknown = sorted({str(label) for label in labels if label not in position})
    if unknown:
        raise ValueError(f"labels not in classes: {unknown[:5]}")
    return np.array([position[label] for label in labels], dtype=np.int64)


def _prior(train_labels, classes: Sequence) -> np.ndarray:
    columns = _columns(train_labels, classes)
    if len(columns) == 0:
        raise ValueError("no training labels")
    return np.bincount(columns, minlength=len(classes)) / len(columns)


def _log_durations(durations, name: str) -> np.ndarray:
    durations = np.asarray(durations, dtype=np.float64).reshape(-1)
    if not (np.isfinite(durations).all() and (durations > 0).all()):
        raise ValueError(f"{name} must be finite and positive")
    return np.log(durations)[:, None]


def _fit_predict(model, train_x, train_labels, test_x, classes: Sequence) -> np.ndarray:
    """Fit ``model`` on class columns and spread its probabilities over all classes."""
    columns = _columns(train_labels, classes)
    if len(test_x) == 0:
        return np.zeros((0, len(classes)))
    if len(np.unique(columns)) < 2:  # a classifier needs two classes
        return majority_baseline(train_labels, len(test_x), classes)
    model.fit(train_x, columns)
    proba = np.zeros((len(test_x), len(classes)))
    proba[:, model.classes_] = model.predict_proba(test_x)
    return proba
