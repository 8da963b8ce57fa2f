"""Contour approximation: f0 in cents -> signed interval symbols per phrase.

The paper's method (Arronte Alvarez & Gomez-Martin, section 2.2): a univariate
k-means over the cents values of the whole corpus gives clusters; a line
segment is a stretch of the contour that stays inside one cluster; each pair of
consecutive segments gives one contour element, the signed distance between
their clusters (+ ascending, - descending, as the paper says; the authors'
released code had the sign inverted).

Each element becomes a symbol such as ``"+2"``: the sign is the direction and
the digit the interval class of the step magnitude. With the default
thresholds ``(70, 112)`` cents the classes are ``1``: below 70, ``2``: 70 up to
112, ``3``: 112 and above.

Symbol table schema (one row per symbol, see :data:`SYMBOL_COLUMNS`):
``phrase`` (int64), ``position`` (int64, index within the phrase), ``symbol``
(str), ``step_cents`` (float64, signed), ``from_cluster`` / ``to_cluster``
(int64), ``start_s`` (float64, start of the first of the two segments) and
``end_s`` (float64, end of the second segment).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter

SYMBOL_COLUMNS = (
    "phrase",
    "position",
    "symbol",
    "step_cents",
    "from_cluster",
    "to_cluster",
    "start_s",
    "end_s",
)


def segment_phrases(
    time_s: np.ndarray, voiced: np.ndarray, *, min_gap_s: float = 0.15, min_phrase_s: float = 0.5
) -> np.ndarray:
    """Split a recording into phrases at unvoiced gaps.

    Parameters
    ----------
    time_s : np.ndarray, shape (n_frames,)
        Frame times in seconds, increasing.
    voiced : np.ndarray of bool, shape (n_frames,)
    min_gap_s : float
        Unvoiced stretches shorter than this (seconds) do not end a phrase.
    min_phrase_s : float
        Phrases shorter than this, from first to last voiced frame, are dropped.

    Returns
    -------
    np.ndarray of int64, shape (n_frames,)
        Phrase index (0, 1, ...) of every voiced frame inside a phrase, -1 elsewhere
        (unvoiced frames, including short gaps inside a phrase, are -1).
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    voiced = np.asarray(voiced, dtype=bool)
    phrase = np.full(voiced.shape, -1, dtype=np.int64)
    voiced_index = np.flatnonzero(voiced)
    if voiced_index.size == 0:
        return phrase
    hop_s = float(np.median(np.diff(time_s))) if time_s.size > 1 else 0.0
    # A gap is the silence between two voiced frames: the time from the end of one to the next.
    gaps_s = np.diff(time_s[voiced_index]) - hop_s
    breaks = np.flatnonzero(gaps_s >= min_gap_s - 1e-9) + 1
    next_phrase = 0
    for run in np.split(voiced_index, breaks):
        if time_s[run[-1]] - time_s[run[0]] + hop_s >= min_phrase_s - 1e-9:
            phrase[run] = next_phrase
            next_phrase += 1
    return phrase


def fit_clusters(
    pitch_cents: np.ndarray, *, k: int, seed: int = 0, max_points: int = 200_000
) -> tuple[np.ndarray, float]:
    """Univariate k-means over cents values (the paper's contour clusters).

    Parameters
    ----------
    pitch_cents : np.ndarray
        Cents values of voiced frames over the whole corpus (NaN ignored).
    k : int
        Number of clusters.
    seed : int
        Seeds k-means and the subsample.
    max_points : int
        Above this many values a seeded random subsample is clustered; 1-D k-means
        converges on far fewer points than a corpus holds.

    Returns
    -------
    centers_cents : np.ndarray, shape (k,)
        Sorted cluster centres.
    inertia : float
        Within-cluster sum of squares of the clustered values, in cents squared.
    """
    from sklearn.cluster import KMeans

    values = np.asarray(pitch_cents, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < k:
        raise ValueError(f"k-means needs at least k={k} voiced frames, got {values.size}")
    if values.size > max_points:
        values = np.random.default_rng(seed).choice(values, size=max_points, replace=False)
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(values.reshape(-1, 1))
    return np.sort(model.cluster_centers_.ravel()), float(model.inertia_)


def assign_clusters(pitch_cents: np.ndarray, centers_cents: np.ndarray) -> np.ndarray:
    """Index of the nearest (sorted) centre for every value; NaN gives -1."""
    pitch_cents = np.asarray(pitch_cents, dtype=np.float64)
    boundaries = (centers_cents[1:] + centers_cents[:-1]) / 2.0
    labels = np.searchsorted(boundaries, pitch_cents).astype(np.int64)
    labels[~np.isfinite(pitch_cents)] = -1
    return labels


def interval_class(step_cents: np.ndarray, thresholds_cents: Sequence[float]) -> np.ndarray:
    """Interval class (1, 2, ...) of each step magnitude: 1 + thresholds at or below it."""
    return 1 + np.searchsorted(np.asarray(thresholds_cents), np.abs(step_cents), side="right")


def line_segments(
    labels: np.ndarray, centers_cents: np.ndarray, *, min_frames: int = 1
) -> list[tuple[int, int, int]]:
    """Maximal runs of one cluster, with runs shorter than ``min_frames`` absorbed.

    Parameters
    ----------
    labels : np.ndarray of int, shape (n,)
        Cluster index per frame (no -1).
    centers_cents : np.ndarray
        Sorted cluster centres, to absorb a short run into the neighbour whose
        centre is nearer.
    min_frames : int
        Minimum run length in frames.

    Returns
    -------
    list of (first_frame, last_frame, cluster)
        Inclusive frame ranges covering ``labels``; consecutive clusters differ.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        return []
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    runs = [
        [int(start), int(end), int(labels[start])]
        for start, end in zip(starts, np.r_[starts[1:], labels.size] - 1, strict=True)
    ]
    while len(runs) > 1:
        lengths = [end - start + 1 for start, end, _ in runs]
        shortest = int(np.argmin(lengths))
        if lengths[shortest] >= min_frames:
            break
        own = centers_cents[runs[shortest][2]]
        neighbours = [i for i in (shortest - 1, shortest + 1) if 0 <= i < len(runs)]
        target = min(neighbours, key=lambda i: abs(centers_cents[runs[i][2]] - own))
        first, last = sorted((shortest, target))
        runs[first : last + 1] = [[runs[first][0], runs[last][1], runs[target][2]]]
        # Absorbing a run can make its two neighbours the same cluster: merge them.
        merged: list[list[int]] = []
        for run in runs:
            if merged and merged[-1][2] == run[2]:
                merged[-1][1] = run[1]
            else:
                merged.append(run)
        runs = merged
    return [(start, end, cluster) for start, end, cluster in runs]


def contour_symbols(
    time_s: np.ndarray,
    pitch_cents: np.ndarray,
    phrase: np.ndarray,
    *,
    centers_cents: np.ndarray,
    smooth_s: float = 0.1,
    min_segment_s: float = 0.05,
    thresholds_cents: Sequence[float] = (70.0, 112.0),
) -> pd.DataFrame:
    """Signed contour symbols of every phrase of one recording.

    Parameters
    ----------
    time_s, pitch_cents, phrase : np.ndarray, shape (n_frames,)
        Frame times (s), pitch in cents (NaN unvoiced) and phrase index per frame
        (-1 outside phrases), as :func:`segment_phrases` gives.
    centers_cents : np.ndarray
        Sorted k-means centres from :func:`fit_clusters`.
    smooth_s : float
        Width in seconds of a running median over each phrase's voiced frames
        before clustering, so vibrato and jitter do not flicker across a cluster
        boundary; 0 disables it.
    min_segment_s : float
        Line segments shorter than this are absorbed into a neighbour.
    thresholds_cents : sequence of float
        Interval class boundaries in cents.

    Returns
    -------
    pd.DataFrame
        Columns :data:`SYMBOL_COLUMNS`, ordered by phrase and position.
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    pitch_cents = np.asarray(pitch_cents, dtype=np.float64)
    phrase = np.asarray(phrase, dtype=np.int64)
    hop_s = float(np.median(np.diff(time_s))) if time_s.size > 1 else 0.01
    smooth_frames = max(1, round(smooth_s / hop_s))
    min_frames = max(1, round(min_segment_s / hop_s))
    rows: list[dict] = []
    for phrase_index in np.unique(phrase[phrase >= 0]):
        frames = np.flatnonzero((phrase == phrase_index) & np.isfinite(pitch_cents))
        cents = pitch_cents[frames]
        if smooth_frames > 1:
            cents = median_filter(cents, size=smooth_frames, mode="nearest")
        segments = line_segments(
            assign_clusters(cents, centers_cents), centers_cents, min_frames=min_frames
        )
        for position, (previous, current) in enumerate(itertools.pairwise(segments)):
            step = float(centers_cents[current[2]] - centers_cents[previous[2]])
            magnitude = int(interval_class(np.array([step]), thresholds_cents)[0])
            rows.append(
                {
                    "phrase": int(phrase_index),
                    "position": position,
                    "symbol": f"{'+' if step > 0 else '-'}{magnitude}",
                    "step_cents": step,
                    "from_cluster": previous[2],
                    "to_cluster": current[2],
                    "start_s": float(time_s[frames[previous[0]]]),
                    "end_s": float(time_s[frames[current[1]]] + hop_s),
                }
            )
    table = pd.DataFrame(rows, columns=list(SYMBOL_COLUMNS))
    return table.astype(
        {
            "phrase": "int64",
            "position": "int64",
            "symbol": "str",
            "step_cents": "float64",
            "from_cluster": "int64",
            "to_cluster": "int64",
            "start_s": "float64",
            "end_s": "float64",
        }
    )


def phrase_sequences(symbols: pd.DataFrame) -> list[tuple[int, list[str]]]:
    """(phrase, symbols in order) for every phrase with at least one symbol."""
    ordered = symbols.sort_values(["phrase", "position"])
    return [
        (int(phrase_index), group["symbol"].tolist())
        for phrase_index, group in ordered.groupby("phrase", sort=True)
    ]
