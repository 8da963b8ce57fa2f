"""The contour stage per recording and per corpus, from settings and files.

Three tiers, as for every stage: the array functions of
:mod:`cantaor.contour.symbols`; :func:`contour_of_f0`, one recording's f0
table to its phrases, line segments and symbols under the ``contour``
settings (:class:`cantaor.config.settings.ContourSettings`), the call that
the workflow and ``cantaor identify`` share; and one file-to-file function
per workflow rule (:func:`clusters_to_file`, :func:`contour_to_file`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from cantaor.config.settings import ContourSettings, Settings
from cantaor.contour.symbols import (
    choose_k,
    contour_segments,
    fit_clusters,
    segment_phrases,
    symbols_from_segments,
)


def _contour_settings(settings) -> Settings:
    return settings if isinstance(settings, Settings) else ContourSettings.from_config(settings)


def contour_of_f0(
    f0: pd.DataFrame, clusters: Mapping, settings
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Phrases, line segments and contour symbols of one recording.

    Parameters
    ----------
    f0 : pd.DataFrame
        The recording's f0 table (:data:`cantaor.pitch.f0.F0_COLUMNS`).
    clusters : mapping
        The corpus clusters (``results/contour/clusters.json``): ``method`` and
        ``centers_cents`` (empty for the bands method).
    settings : ContourSettings or mapping
        The ``contour`` settings; ``min_gap_s``, ``min_phrase_s``,
        ``band_cents``, ``smooth_s``, ``min_segment_s`` and
        ``interval_thresholds_cents`` are read (the method is the clusters').

    Returns
    -------
    phrase : np.ndarray of int64, shape (n_frames,)
        Phrase index per frame, -1 outside phrases (:func:`segment_phrases`).
    segments, symbols : pd.DataFrame
        :data:`cantaor.contour.symbols.SEGMENT_COLUMNS` and
        :data:`cantaor.contour.symbols.SYMBOL_COLUMNS`.
    """
    settings = _contour_settings(settings)
    time_s = f0["time_s"].to_numpy()
    phrase = segment_phrases(
        time_s,
        f0["voiced"].to_numpy(),
        min_gap_s=settings.min_gap_s,
        min_phrase_s=settings.min_phrase_s,
    )
    centers = clusters["centers_cents"]
    segments = contour_segments(
        time_s,
        f0["pitch_cents"].to_numpy(),
        phrase,
        method=clusters["method"],
        centers_cents=np.asarray(centers) if centers else None,
        band_cents=settings.band_cents,
        smooth_s=settings.smooth_s,
        min_segment_s=settings.min_segment_s,
    )
    symbols = symbols_from_segments(
        segments, thresholds_cents=list(settings.interval_thresholds_cents)
    )
    return phrase, segments, symbols


def clusters_of_cents(
    cents: np.ndarray, settings, *, reference_hz: float, log: Callable[[str], None] = print
) -> dict:
    """The corpus clusters (the contents of ``clusters.json``) of the voiced cents values.

    ``settings`` is the ``contour`` section (``method``, ``k``, ``k_min``,
    ``k_max``, ``k_criterion``, ``seed``); with ``k`` auto the choice and every
    score are recorded under ``k_selection``. The bands method needs no
    clusters: its summary records that it was used.
    """
    settings = _contour_settings(settings)
    summary = {"method": settings.method, "seed": settings.seed, "reference_hz": reference_hz}
    if settings.method == "bands":
        return summary | {"k": None, "centers_cents": []}
    k = settings.k
    if k == "auto":
        k, scores = choose_k(
            cents,
            k_min=settings.k_min,
            k_max=settings.k_max,
            criterion=settings.k_criterion,
            seed=settings.seed,
        )
        summary["k_selection"] = {
            "criterion": settings.k_criterion,
            "scores": scores.replace({np.nan: None}).to_dict(orient="records"),
        }
        log(f"k chosen by {settings.k_criterion} over [{settings.k_min}, {settings.k_max}]: {k}")
    log(f"{cents.size} voiced frames, k={k}")
    centers_cents, inertia = fit_clusters(cents, k=int(k), seed=settings.seed)
    log("centres (cents): " + ", ".join(f"{c:.0f}" for c in centers_cents))
    return summary | {
        "k": int(k),
        "n_points": int(cents.size),
        "inertia": inertia,
        "centers_cents": centers_cents.tolist(),
    }


def clusters_to_file(
    f0_paths: Sequence[str | os.PathLike],
    clusters_path: str | os.PathLike,
    *,
    settings,
    reference_hz: float,
    log: Callable[[str], None] = print,
) -> dict:
    """The ``contour_clusters`` rule: clusters of every f0 table's voiced cents, as JSON."""
    from cantaor.util.atomic import write_json

    settings = _contour_settings(settings)
    cents = np.empty(0)
    if settings.method != "bands":
        cents = np.concatenate(
            [
                pd.read_parquet(path, columns=["pitch_cents"])["pitch_cents"].to_numpy()
                for path in f0_paths
            ]
        )
        cents = cents[np.isfinite(cents)]
        log(f"{len(f0_paths)} recordings")
    summary = clusters_of_cents(cents, settings, reference_hz=reference_hz, log=log)
    write_json(summary, clusters_path)
    return summary


def contour_to_file(
    f0_path: str | os.PathLike,
    clusters_path: str | os.PathLike,
    contour_path: str | os.PathLike,
    segments_path: str | os.PathLike,
    *,
    settings,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """The ``contour`` rule: one recording's symbols and line segments, as parquet."""
    from cantaor.util.parquet import write_parquet

    settings = _contour_settings(settings)
    with open(clusters_path, encoding="utf-8") as handle:
        clusters = json.load(handle)
    phrase, segments, symbols = contour_of_f0(pd.read_parquet(f0_path), clusters, settings)
    write_parquet(segments, segments_path)
    write_parquet(symbols, contour_path)
    log(
        f"{clusters['method']}: {len(set(phrase[phrase >= 0]))} phrases "
        f"(min_gap_s={settings.min_gap_s}, min_phrase_s={settings.min_phrase_s}), "
        f"{len(segments)} segments, {len(symbols)} symbols"
    )
    return symbols
