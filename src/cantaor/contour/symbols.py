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

Two ways to draw the line segments (``contour.method`` in the workflow):

``kmeans`` (the paper)
    :func:`fit_clusters` over the corpus, then :func:`contour_symbols`: a
    segment is a run of frames nearest one cluster centre, and its pitch is
    that centre. :func:`choose_k` picks the number of clusters by a stated
    criterion when it is not given.
``bands`` (the authors' released code)
    :func:`band_segments` / :func:`contour_symbols_bands`: within a phrase a
    segment grows while the spread (max - min) of its cents values stays within
    ``band_cents`` (60 by default); its pitch is the midpoint of that range,
    rounded to a whole cent. No corpus-wide fit is needed. Unlike the released
    code this skips NaN frames instead of failing on them, uses the paper's
    sign (+ ascending) and never emits a zero step: neighbouring segments whose
    rounded pitches are equal are merged into one. ``from_cluster`` and
    ``to_cluster`` are -1 in this method's symbol tables.

Both methods also give the segments themselves (:func:`contour_segments`,
schema :data:`SEGMENT_COLUMNS`), from which the symbols are derived by
:func:`symbols_from_segments`: ``phrase``, ``segment`` (int64, index within the
phrase), ``first_frame`` / ``last_frame`` (int64, indices into the recording's
frame arrays, inclusive), ``start_s`` / ``end_s`` (float64, first frame's time
to last frame's time plus one hop), ``pitch_cents`` (float64, cluster centre or
band pitch) and ``cluster`` (int64, -1 for bands).
"""

from __future__ import annotations

import math
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

SEGMENT_COLUMNS = (
    "phrase",
    "segment",
    "first_frame",
    "last_frame",
    "start_s",
    "end_s",
    "pitch_cents",
    "cluster",
)

METHODS = ("kmeans", "bands")
CRITERIA = ("bic", "silhouette")

#: Floor on the pooled variance in :func:`choose_k`'s BIC, in cents squared, so
#: that a clustering with no spread (repeated identical values) stays finite.
MIN_VARIANCE_CENTS2 = 1e-6


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


def band_segments(cents: np.ndarray, *, band_cents: float = 60.0) -> list[tuple[int, int, float]]:
    """Greedy band segmentation of one phrase (the authors' released method, NaN-safe).

    Walking forward, a segment grows while the spread of its values, max - min,
    stays within ``band_cents``; the first value that would widen it beyond
    that starts the next segment. A segment's pitch is the midpoint of its
    range, ``(max + min) / 2``, rounded to a whole cent (halves upwards).

    NaN values neither grow nor break a segment: they are skipped, so a
    segment's first and last frames are always finite, and NaN frames between
    them lie inside its span.

    Parameters
    ----------
    cents : np.ndarray, shape (n,)
        Pitch of one phrase in cents, NaN where unvoiced.
    band_cents : float
        Largest spread of values within one segment, in cents (>= 0).

    Returns
    -------
    list of (first, last, pitch_cents)
        Inclusive index ranges into ``cents``, in order, covering every finite
        value exactly once; neighbouring pitches may be equal (the symbol
        functions merge those). Empty when no value is finite.
    """
    if not band_cents >= 0:
        raise ValueError(f"band_cents must be >= 0, got {band_cents}")
    cents = np.asarray(cents, dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(cents))
    if finite.size == 0:
        return []
    values = cents[finite].tolist()
    segments: list[tuple[int, int, float]] = []
    start = 0
    low = high = values[0]
    for i in range(1, len(values)):
        value = values[i]
        new_low = value if value < low else low
        new_high = value if value > high else high
        if new_high - new_low > band_cents:
            segments.append((int(finite[start]), int(finite[i - 1]), _rounded_midpoint(low, high)))
            start = i
            low = high = value
        else:
            low, high = new_low, new_high
    segments.append((int(finite[start]), int(finite[-1]), _rounded_midpoint(low, high)))
    return segments


def _rounded_midpoint(low: float, high: float) -> float:
    return float(math.floor((low + high) / 2.0 + 0.5))


def _merge_equal_pitches(segments: list[list]) -> list[list]:
    """Merge neighbouring [first, last, pitch] segments whose pitches are equal."""
    merged: list[list] = []
    for segment in segments:
        if merged and merged[-1][2] == segment[2]:
            merged[-1][1] = segment[1]
        else:
            merged.append(list(segment))
    return merged


def _band_runs(cents: np.ndarray, *, band_cents: float, min_frames: int) -> list[list]:
    """Band segments of one phrase with equal neighbours merged and short ones dropped.

    A segment shorter than ``min_frames`` is dropped rather than absorbed (an
    absorbed segment would break its neighbour's band); dropping can leave two
    equal pitches side by side, which are merged again. A merged segment's span
    can hold the frames of a dropped one, which are then not held to the band.
    """
    runs = _merge_equal_pitches([list(s) for s in band_segments(cents, band_cents=band_cents)])
    if min_frames > 1:
        runs = _merge_equal_pitches([r for r in runs if r[1] - r[0] + 1 >= min_frames])
    return runs


def _hop_s(time_s: np.ndarray) -> float:
    return float(np.median(np.diff(time_s))) if time_s.size > 1 else 0.01


def contour_segments(
    time_s: np.ndarray,
    pitch_cents: np.ndarray,
    phrase: np.ndarray,
    *,
    method: str = "kmeans",
    centers_cents: np.ndarray | None = None,
    band_cents: float = 60.0,
    smooth_s: float,
    min_segment_s: float,
) -> pd.DataFrame:
    """Line segments of every phrase of one recording, by either method.

    Parameters
    ----------
    time_s, pitch_cents, phrase : np.ndarray, shape (n_frames,)
        Frame times (s), pitch in cents (NaN unvoiced) and phrase index per frame
        (-1 outside phrases), as :func:`segment_phrases` gives.
    method : {"kmeans", "bands"}
        ``kmeans``: runs of the nearest of ``centers_cents`` (segments shorter
        than ``min_segment_s`` are absorbed into the neighbour with the nearer
        centre). ``bands``: :func:`band_segments` with ``band_cents``, equal
        neighbours merged, segments shorter than ``min_segment_s`` dropped.
    centers_cents : np.ndarray, optional
        Sorted k-means centres (:func:`fit_clusters`); required for ``kmeans``.
    band_cents : float
        Band width for ``bands``.
    smooth_s : float
        Width in seconds of a running median over each phrase's voiced frames
        before segmentation; 0 disables it.
    min_segment_s : float
        Shortest segment kept, in seconds (0: all).

    Returns
    -------
    pd.DataFrame
        Columns :data:`SEGMENT_COLUMNS`, ordered by phrase and segment. Only
        voiced (finite) frames are segmented; a segment's span runs from its
        first frame's time to its last frame's time plus one hop.
    """
    if method not in METHODS:
        raise ValueError(f"unknown contour method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "kmeans" and centers_cents is None:
        raise ValueError("contour method 'kmeans' needs centers_cents")
    time_s = np.asarray(time_s, dtype=np.float64)
    pitch_cents = np.asarray(pitch_cents, dtype=np.float64)
    phrase = np.asarray(phrase, dtype=np.int64)
    hop_s = _hop_s(time_s)
    smooth_frames = max(1, round(smooth_s / hop_s))
    min_frames = max(1, round(min_segment_s / hop_s))
    rows: list[tuple] = []
    for phrase_index in np.unique(phrase[phrase >= 0]):
        frames = np.flatnonzero((phrase == phrase_index) & np.isfinite(pitch_cents))
        if frames.size == 0:
            continue
        cents = pitch_cents[frames]
        if smooth_frames > 1:
            cents = median_filter(cents, size=smooth_frames, mode="nearest")
        if method == "kmeans":
            centers = np.asarray(centers_cents, dtype=np.float64)
            runs = [
                (first, last, float(centers[cluster]), cluster)
                for first, last, cluster in line_segments(
                    assign_clusters(cents, centers), centers, min_frames=min_frames
                )
            ]
        else:
            runs = [
                (first, last, pitch, -1)
                for first, last, pitch in _band_runs(
                    cents, band_cents=band_cents, min_frames=min_frames
                )
            ]
        for segment, (first, last, pitch, cluster) in enumerate(runs):
            rows.append(
                (
                    int(phrase_index),
                    segment,
                    int(frames[first]),
                    int(frames[last]),
                    float(time_s[frames[first]]),
                    float(time_s[frames[last]] + hop_s),
                    pitch,
                    int(cluster),
                )
            )
    table = pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))
    return table.astype(
        {
            "phrase": "int64",
            "segment": "int64",
            "first_frame": "int64",
            "last_frame": "int64",
            "start_s": "float64",
            "end_s": "float64",
            "pitch_cents": "float64",
            "cluster": "int64",
        }
    )


def symbols_from_segments(
    segments: pd.DataFrame, *, thresholds_cents: Sequence[float] = (70.0, 112.0)
) -> pd.DataFrame:
    """Signed interval symbols between consecutive segments of each phrase.

    Parameters
    ----------
    segments : pd.DataFrame
        Columns :data:`SEGMENT_COLUMNS` (:func:`contour_segments`).
    thresholds_cents : sequence of float
        Interval class boundaries in cents (:func:`interval_class`).

    Returns
    -------
    pd.DataFrame
        Columns :data:`SYMBOL_COLUMNS`, ordered by phrase and position. The
        step is the later segment's pitch minus the earlier one's; its sign is
        ``+`` when ascending and ``-`` otherwise (neither method gives a zero
        step between neighbouring segments).
    """
    rows: list[tuple] = []
    ordered = segments.sort_values(["phrase", "segment"])
    for phrase_index, group in ordered.groupby("phrase", sort=True):
        pitch = group["pitch_cents"].to_numpy(dtype=np.float64)
        if pitch.size < 2:
            continue
        steps = np.diff(pitch)
        classes = interval_class(steps, thresholds_cents)
        cluster = group["cluster"].to_numpy()
        start_s = group["start_s"].to_numpy()
        end_s = group["end_s"].to_numpy()
        for position, (step, magnitude) in enumerate(zip(steps.tolist(), classes.tolist())):
            rows.append(
                (
                    int(phrase_index),
                    position,
                    f"{'+' if step > 0 else '-'}{magnitude}",
                    step,
                    int(cluster[position]),
                    int(cluster[position + 1]),
                    float(start_s[position]),
                    float(end_s[position + 1]),
                )
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
    """Signed contour symbols of every phrase of one recording (k-means method).

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
    segments = contour_segments(
        time_s,
        pitch_cents,
        phrase,
        method="kmeans",
        centers_cents=centers_cents,
        smooth_s=smooth_s,
        min_segment_s=min_segment_s,
    )
    return symbols_from_segments(segments, thresholds_cents=thresholds_cents)


def contour_symbols_bands(
    time_s: np.ndarray,
    pitch_cents: np.ndarray,
    phrase: np.ndarray,
    *,
    band_cents: float = 60.0,
    smooth_s: float = 0.0,
    min_segment_s: float = 0.0,
    thresholds_cents: Sequence[float] = (70.0, 112.0),
) -> pd.DataFrame:
    """Signed contour symbols of every phrase of one recording (band method).

    Parameters
    ----------
    time_s, pitch_cents, phrase : np.ndarray, shape (n_frames,)
        As for :func:`contour_symbols`; NaN frames inside a phrase are skipped.
    band_cents : float
        Largest spread of one segment's values (:func:`band_segments`).
    smooth_s : float
        Running median width in seconds before segmentation (0, the default
        and the authors' choice, disables it).
    min_segment_s : float
        Segments shorter than this are dropped (0, the default, keeps all).
    thresholds_cents : sequence of float
        Interval class boundaries in cents.

    Returns
    -------
    pd.DataFrame
        Columns :data:`SYMBOL_COLUMNS`, ordered by phrase and position;
        ``from_cluster`` and ``to_cluster`` are -1. Neighbouring segments with
        equal rounded pitches are merged first, so no step is zero.
    """
    segments = contour_segments(
        time_s,
        pitch_cents,
        phrase,
        method="bands",
        band_cents=band_cents,
        smooth_s=smooth_s,
        min_segment_s=min_segment_s,
    )
    return symbols_from_segments(segments, thresholds_cents=thresholds_cents)


def choose_k(
    pitch_cents: np.ndarray,
    *,
    k_min: int = 2,
    k_max: int = 40,
    criterion: str = "bic",
    seed: int = 0,
    max_points: int = 50_000,
) -> tuple[int, pd.DataFrame]:
    """Pick the number of contour clusters by a stated criterion.

    Every k in ``k_min..k_max`` is fitted with :func:`fit_clusters` (same seed)
    on the same values: all finite values, or a subsample of ``max_points`` of
    them drawn with ``numpy.random.default_rng(seed)``. Each fit's labels are
    the nearest centres (:func:`assign_clusters`); with n values, cluster sizes
    n_j and within-cluster sum of squares W:

    ``bic`` (lower is better)
        The fit read as a 1-D Gaussian mixture with hard assignments, one
        shared variance and free weights (the X-means BIC)::

            var  = max(W / (n - k), MIN_VARIANCE_CENTS2)
            logL = sum_j n_j ln(n_j / n) - (n / 2) ln(2 pi var) - W / (2 var)
            BIC  = -2 logL + 2k ln(n)

        (2k free parameters: k means, k - 1 weights, one variance; empty
        clusters add nothing to the sum).
    ``silhouette`` (higher is better)
        The mean silhouette ``(b - a) / max(a, b)`` over the values, where
        ``a`` is a value's mean distance to the rest of its cluster and ``b``
        its smallest mean distance to another cluster (0 for a value alone in
        its cluster). Computed exactly in 1-D from sorted prefix sums, so it
        costs O(n k log n), not O(n^2). Needs k >= 2.

    Ties go to the smaller k. A k above the number of distinct values is not
    fitted (its score is NaN) and cannot be chosen.

    Parameters
    ----------
    pitch_cents : np.ndarray
        Cents values of voiced frames over the corpus (NaN ignored).
    k_min, k_max : int
        Range of k tried, inclusive.
    criterion : {"bic", "silhouette"}
    seed : int
        Seeds the subsample and every k-means fit.
    max_points : int
        Largest number of values scored.

    Returns
    -------
    k : int
        The chosen number of clusters.
    table : pd.DataFrame
        One row per k tried: ``k`` (int64), ``score`` (float64, the criterion,
        NaN where not fitted) and ``inertia`` (float64, W).
    """
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; choose one of {', '.join(CRITERIA)}")
    low = 2 if criterion == "silhouette" else 1
    if not low <= k_min <= k_max:
        raise ValueError(f"need {low} <= k_min <= k_max for {criterion}, got {k_min}..{k_max}")
    values = np.asarray(pitch_cents, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size > max_points:
        values = np.random.default_rng(seed).choice(values, size=max_points, replace=False)
    distinct = np.unique(values).size
    if distinct < k_min:
        raise ValueError(f"k_min={k_min} exceeds the {distinct} distinct finite values")
    rows = []
    for k in range(k_min, k_max + 1):
        if k > distinct or (criterion == "bic" and k >= values.size):
            rows.append((k, np.nan, np.nan))
            continue
        centers, _ = fit_clusters(values, k=k, seed=seed, max_points=values.size)
        labels = assign_clusters(values, centers)
        inertia = float(np.sum((values - centers[labels]) ** 2))
        if criterion == "bic":
            score = _kmeans_bic(values, labels, k, inertia)
        else:
            score = _silhouette_1d(values, labels, k)
        rows.append((k, score, inertia))
    table = pd.DataFrame(rows, columns=["k", "score", "inertia"]).astype(
        {"k": "int64", "score": "float64", "inertia": "float64"}
    )
    scores = table["score"].to_numpy()
    if criterion == "bic":
        best = int(np.nanargmin(scores))
    else:
        best = int(np.nanargmax(scores))
    return int(table["k"].iloc[best]), table


def _kmeans_bic(values: np.ndarray, labels: np.ndarray, k: int, inertia: float) -> float:
    """BIC (lower is better) of a hard-assignment 1-D Gaussian mixture; see choose_k."""
    n = values.size
    sizes = np.bincount(labels, minlength=k)
    sizes = sizes[sizes > 0]
    variance = max(inertia / (n - k), MIN_VARIANCE_CENTS2)
    log_likelihood = (
        float(np.sum(sizes * np.log(sizes / n)))
        - n / 2.0 * math.log(2.0 * math.pi * variance)
        - inertia / (2.0 * variance)
    )
    return -2.0 * log_likelihood + 2.0 * k * math.log(n)


def _silhouette_1d(values: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Exact mean silhouette of a 1-D labelling, from per-cluster sorted prefix sums."""
    x = values - values.mean()  # smaller magnitudes keep the prefix sums exact enough
    n = x.size
    sizes = np.bincount(labels, minlength=k)
    # distance_sums[i, j]: sum of |x_i - y| over the values y of cluster j
    distance_sums = np.zeros((n, k))
    for j in np.flatnonzero(sizes):
        members = np.sort(x[labels == j])
        prefix = np.concatenate(([0.0], np.cumsum(members)))
        below = np.searchsorted(members, x, side="left")
        sum_below = prefix[below]
        distance_sums[:, j] = (
            x * below - sum_below + (prefix[-1] - sum_below) - x * (members.size - below)
        )
    rows = np.arange(n)
    own_size = sizes[labels]
    a = distance_sums[rows, labels] / np.maximum(own_size - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_other = distance_sums / sizes
    mean_other[:, sizes == 0] = np.inf
    mean_other[rows, labels] = np.inf
    b = mean_other.min(axis=1)
    denominator = np.maximum(a, b)
    silhouette = np.zeros(n)
    ok = (own_size > 1) & (denominator > 0) & np.isfinite(b)
    silhouette[ok] = (b[ok] - a[ok]) / denominator[ok]
    return float(silhouette.mean())


def phrase_sequences(symbols: pd.DataFrame) -> list[tuple[int, list[str]]]:
    """(phrase, symbols in order) for every phrase with at least one symbol."""
    ordered = symbols.sort_values(["phrase", "position"])
    return [
        (int(phrase_index), group["symbol"].tolist())
        for phrase_index, group in ordered.groupby("phrase", sort=True)
    ]
