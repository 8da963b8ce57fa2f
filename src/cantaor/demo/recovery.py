"""How well the mined motifs recover the motifs planted in the demo corpus.

The demo corpus (:mod:`cantaor.demo.corpus`) records every planted motif occurrence;
the motif dictionaries (:mod:`cantaor.mining.motifs`) give every found occurrence.
Both are time intervals in a recording, and an occurrence matches one on the
other side when both lie in the same recording and the intersection over union
(IoU) of their intervals is at least a threshold:

    IoU = (min(end) - max(start)) / (max(end) - min(start))

for intervals that overlap (0 for intervals that do not; those never match).
It is compared as ``IoU >= iou - 1e-9`` so that a boundary case written in
decimal seconds, such as 0.3 s inside 0.6 s at 0.5, counts as a match.

Matching is not one-to-one: mining reports nested patterns (a motif and its
sub-patterns), so many found occurrences may match the same planted one, and a
found occurrence may match several planted ones. So

* occurrence precision = found occurrences matching some planted occurrence /
  all found occurrences;
* occurrence recall = planted occurrences matched by some found occurrence /
  all planted occurrences, also per owner (a singer code, or ``"shared"``);
* planted motifs found = distinct planted motif ids with at least one matched
  occurrence.

Pairs are found per recording by sorting the planted occurrences by start and
taking, for each found occurrence, only the planted ones that start within
one longest planted interval before it up to its end (a window from two binary
searches); IoU is computed for those candidate pairs alone.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

TRUTH_COLUMNS = ("recording", "motif_id", "owner", "start_s", "end_s")
FOUND_COLUMNS = ("recording", "motif_id", "start_s", "end_s")

#: Slack on the IoU comparison, for boundaries written in decimal seconds.
IOU_TOLERANCE = 1e-9


def interval_iou(
    start_a: np.ndarray, end_a: np.ndarray, start_b: np.ndarray, end_b: np.ndarray
) -> np.ndarray:
    """Elementwise IoU of intervals ``[start_a, end_a)`` and ``[start_b, end_b)`` (0 if apart)."""
    intersection = np.minimum(end_a, end_b) - np.maximum(start_a, start_b)
    union = np.maximum(end_a, end_b) - np.minimum(start_a, start_b)
    return np.where(intersection > 0, intersection / union, 0.0)


def _check(table: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} table lacks column(s) {', '.join(missing)}")
    start = table["start_s"].to_numpy(dtype=np.float64)
    end = table["end_s"].to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(start) & np.isfinite(end) & (end > start))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} occurrence {row} has no positive finite span "
            f"(start_s={start[row]}, end_s={end[row]})"
        )


def match_intervals(
    truth_start: np.ndarray,
    truth_end: np.ndarray,
    found_start: np.ndarray,
    found_end: np.ndarray,
    *,
    iou: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Which intervals of one recording have a partner with IoU >= ``iou``.

    Parameters
    ----------
    truth_start, truth_end, found_start, found_end : np.ndarray
        Interval bounds in seconds, ``end > start``.
    iou : float
        Threshold, 0 < iou <= 1.

    Returns
    -------
    truth_matched, found_matched : np.ndarray of bool
        Per interval of each side.
    """
    truth_start = np.asarray(truth_start, dtype=np.float64)
    truth_end = np.asarray(truth_end, dtype=np.float64)
    found_start = np.asarray(found_start, dtype=np.float64)
    found_end = np.asarray(found_end, dtype=np.float64)
    truth_matched = np.zeros(truth_start.size, dtype=bool)
    found_matched = np.zeros(found_start.size, dtype=bool)
    if truth_start.size == 0 or found_start.size == 0:
        return truth_matched, found_matched
    order = np.argsort(truth_start, kind="stable")
    sorted_start = truth_start[order]
    longest = float(np.max(truth_end - truth_start))
    # A planted interval overlapping [s, e) starts after s - longest and before e.
    low = np.searchsorted(sorted_start, found_start - longest, side="left")
    high = np.searchsorted(sorted_start, found_end, side="right")
    counts = high - low
    total = int(counts.sum())
    if total == 0:
        return truth_matched, found_matched
    found_index = np.repeat(np.arange(found_start.size), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    truth_index = order[np.repeat(low, counts) + offsets]
    scores = interval_iou(
        truth_start[truth_index],
        truth_end[truth_index],
        found_start[found_index],
        found_end[found_index],
    )
    hit = (scores > 0) & (scores >= iou - IOU_TOLERANCE)
    truth_matched[truth_index[hit]] = True
    found_matched[found_index[hit]] = True
    return truth_matched, found_matched


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def motif_recovery(truth: pd.DataFrame, found: pd.DataFrame, *, iou: float = 0.5) -> dict:
    """Occurrence precision and recall of found motifs against planted ones.

    Parameters
    ----------
    truth : pd.DataFrame
        Planted occurrences, columns :data:`TRUTH_COLUMNS` (the demo truth
        tables with a ``recording`` column added).
    found : pd.DataFrame
        Found occurrences, columns :data:`FOUND_COLUMNS` (the occurrence tables
        of :mod:`cantaor.mining.motifs`; their ``motif_id`` is the found motif's).
    iou : float
        Smallest IoU of a match, 0 < iou <= 1.

    Returns
    -------
    dict
        JSON-ready: ``iou``; ``truth_occurrences``, ``found_occurrences``,
        ``matched_truth``, ``matched_found`` (int); ``precision``, ``recall``
        (float, None when undefined: nothing found, nothing planted);
        ``per_owner`` ({owner: {"occurrences", "matched", "recall"}});
        ``planted_motifs``, ``planted_motifs_found`` (distinct planted ids in
        all, and with a matched occurrence); ``found_motifs``,
        ``found_motifs_matching`` (the same for found motif ids).
    """
    if not 0 < iou <= 1 or math.isnan(iou):
        raise ValueError(f"iou must be in (0, 1], got {iou}")
    _check(truth, TRUTH_COLUMNS, "truth")
    _check(found, FOUND_COLUMNS, "found")
    truth = truth.reset_index(drop=True)
    found = found.reset_index(drop=True)
    truth_matched = np.zeros(len(truth), dtype=bool)
    found_matched = np.zeros(len(found), dtype=bool)
    found_rows = found.groupby("recording", sort=False).indices
    for recording, rows in truth.groupby("recording", sort=False).indices.items():
        other = found_rows.get(recording)
        if other is None:
            continue
        matched_t, matched_f = match_intervals(
            truth["start_s"].to_numpy(dtype=np.float64)[rows],
            truth["end_s"].to_numpy(dtype=np.float64)[rows],
            found["start_s"].to_numpy(dtype=np.float64)[other],
            found["end_s"].to_numpy(dtype=np.float64)[other],
            iou=iou,
        )
        truth_matched[rows] = matched_t
        found_matched[other] = matched_f
    per_owner = {}
    for owner, rows in sorted(truth.groupby("owner", sort=True).indices.items()):
        matched = int(truth_matched[rows].sum())
        per_owner[str(owner)] = {
            "occurrences": len(rows),
            "matched": matched,
            "recall": _ratio(matched, len(rows)),
        }
    return {
        "iou": float(iou),
        "truth_occurrences": len(truth),
        "found_occurrences": len(found),
        "matched_truth": int(truth_matched.sum()),
        "matched_found": int(found_matched.sum()),
        "precision": _ratio(int(found_matched.sum()), len(found)),
        "recall": _ratio(int(truth_matched.sum()), len(truth)),
        "per_owner": per_owner,
        "planted_motifs": int(truth["motif_id"].nunique()),
        "planted_motifs_found": int(truth.loc[truth_matched, "motif_id"].nunique()),
        "found_motifs": int(found["motif_id"].nunique()),
        "found_motifs_matching": int(found.loc[found_matched, "motif_id"].nunique()),
    }


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def recovery_markdown(report: dict) -> str:
    """A markdown summary of a :func:`motif_recovery` report."""
    lines = [
        f"# Planted motif recovery (IoU >= {report['iou']:g})",
        "",
        "| measure | value |",
        "|---|---|",
        f"| occurrence precision | {_percent(report['precision'])} "
        f"({report['matched_found']} of {report['found_occurrences']} found) |",
        f"| occurrence recall | {_percent(report['recall'])} "
        f"({report['matched_truth']} of {report['truth_occurrences']} planted) |",
        f"| planted motifs found | {report['planted_motifs_found']} "
        f"of {report['planted_motifs']} |",
        f"| found motifs matching a planted one | {report['found_motifs_matching']} "
        f"of {report['found_motifs']} |",
        "",
        "| owner | planted occurrences | matched | recall |",
        "|---|---|---|---|",
    ]
    for owner, row in report["per_owner"].items():
        lines.append(
            f"| {owner} | {row['occurrences']} | {row['matched']} | {_percent(row['recall'])} |"
        )
    lines += [
        "",
        "Matches are not one-to-one: nested patterns let several found occurrences "
        "match one planted occurrence.",
    ]
    return "\n".join(lines) + "\n"
