"""Accuracy of the f0 backends against a ground-truth f0 (the demo corpus's truth).

The standard melody-extraction metrics, as ``mir_eval.melody`` defines them
(Salamon et al. 2014), computed after resampling the estimate onto the truth's
frame times (``mir_eval.melody.to_cent_voicing`` with ``hop=None``):

``raw_pitch_accuracy``
    Of the frames the truth calls voiced, the share whose estimated pitch is
    within ``cent_tolerance`` (50) cents of the truth, whatever the estimate's
    voicing says.
``raw_chroma_accuracy``
    The same, with octave errors forgiven (pitch compared modulo 1200 cents).
``voicing_recall``
    Of the frames the truth calls voiced, the share the estimate calls voiced.
``voicing_false_alarm``
    Of the frames the truth calls unvoiced, the share the estimate calls voiced.
``overall_accuracy``
    Of all frames, the share that are right: truth-unvoiced frames the estimate
    calls unvoiced, and truth-voiced frames the estimate calls voiced with a
    pitch within the tolerance.

A rate whose frames do not exist (no voiced frame in the truth for the first
three, no unvoiced frame for the false alarm) is NaN rather than mir_eval's 0.

Per-recording score table (:data:`SCORE_COLUMNS`, one row per backend and
recording): ``method`` (str), ``recording`` (str), ``duration_s`` (float64,
audio seconds), ``wall_s`` (float64, seconds the backend took on the audio,
loading excluded), ``truth_voiced_frames`` / ``truth_frames`` (int64), then the
five metrics (float64, fractions in [0, 1]).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

METRICS = (
    "raw_pitch_accuracy",
    "raw_chroma_accuracy",
    "voicing_recall",
    "voicing_false_alarm",
    "overall_accuracy",
)
SCORE_COLUMNS = (
    "method",
    "recording",
    "duration_s",
    "wall_s",
    "truth_voiced_frames",
    "truth_frames",
    *METRICS,
)
#: Short names of the metrics in the markdown table.
METRIC_LABELS = {
    "raw_pitch_accuracy": "RPA",
    "raw_chroma_accuracy": "RCA",
    "voicing_recall": "VR",
    "voicing_false_alarm": "VFA",
    "overall_accuracy": "OA",
}


def melody_scores(
    truth_time_s: np.ndarray,
    truth_f0_hz: np.ndarray,
    estimate_time_s: np.ndarray,
    estimate_f0_hz: np.ndarray,
    *,
    cent_tolerance: float = 50.0,
) -> dict[str, float]:
    """The five melody metrics of one estimate against its truth.

    Parameters
    ----------
    truth_time_s, truth_f0_hz : np.ndarray, shape (n_truth,)
        Truth frame times in seconds (increasing, evenly spaced) and f0 in Hz,
        0 where unvoiced.
    estimate_time_s, estimate_f0_hz : np.ndarray, shape (n_estimate,)
        The estimate, likewise; any frame rate. An empty estimate counts as
        unvoiced everywhere. A negative f0 is an unvoiced frame with a pitch
        guess (mir_eval's convention): it counts for the raw pitch and chroma
        accuracies only.
    cent_tolerance : float
        Largest pitch error, in cents, that counts as correct.

    Returns
    -------
    dict
        ``{metric: fraction}`` for every name in :data:`METRICS` (NaN where
        undefined, see the module docstring).
    """
    from mir_eval import melody

    truth_time_s = np.asarray(truth_time_s, dtype=np.float64)
    truth_f0_hz = np.asarray(truth_f0_hz, dtype=np.float64)
    estimate_time_s = np.asarray(estimate_time_s, dtype=np.float64)
    estimate_f0_hz = np.asarray(estimate_f0_hz, dtype=np.float64)
    if truth_time_s.shape != truth_f0_hz.shape or estimate_time_s.shape != estimate_f0_hz.shape:
        raise ValueError("each time array must have the shape of its f0 array")
    if truth_time_s.size == 0:
        raise ValueError("the truth holds no frames")
    if estimate_time_s.size == 0:
        estimate_time_s, estimate_f0_hz = truth_time_s, np.zeros_like(truth_f0_hz)
    truth_voicing, truth_cents, estimate_voicing, estimate_cents = melody.to_cent_voicing(
        truth_time_s, truth_f0_hz, estimate_time_s, estimate_f0_hz
    )
    truth_voiced = truth_voicing > 0
    arrays = (truth_voicing, truth_cents, estimate_voicing, estimate_cents)
    with warnings.catch_warnings():
        # mir_eval warns of a melody without voiced frames; the rates that leaves
        # undefined are NaN here instead of its 0.
        warnings.filterwarnings("ignore", message=".*melody has no voiced frames")
        recall, false_alarm = melody.voicing_measures(truth_voicing, estimate_voicing)
        pitch = melody.raw_pitch_accuracy(*arrays, cent_tolerance=cent_tolerance)
        chroma = melody.raw_chroma_accuracy(*arrays, cent_tolerance=cent_tolerance)
        overall = melody.overall_accuracy(*arrays, cent_tolerance=cent_tolerance)
    voiced_defined = bool(truth_voiced.any())
    unvoiced_defined = bool((~truth_voiced).any())
    return {
        "raw_pitch_accuracy": float(pitch) if voiced_defined else math.nan,
        "raw_chroma_accuracy": float(chroma) if voiced_defined else math.nan,
        "voicing_recall": float(recall) if voiced_defined else math.nan,
        "voicing_false_alarm": float(false_alarm) if unvoiced_defined else math.nan,
        "overall_accuracy": float(overall),
    }


def score_recording(
    truth: pd.DataFrame,
    estimate: pd.DataFrame,
    *,
    method: str,
    recording: str,
    duration_s: float,
    wall_s: float,
    cent_tolerance: float = 50.0,
) -> pd.DataFrame:
    """One row of :data:`SCORE_COLUMNS` for one backend's f0 table of one recording.

    Parameters
    ----------
    truth : pd.DataFrame
        ``time_s`` and ``f0_hz`` (0 where unvoiced), as the demo corpus writes.
    estimate : pd.DataFrame
        An f0 table (:data:`cantaor.pitch.f0.F0_COLUMNS`); ``f0_hz`` is 0 where
        the backend says unvoiced.
    method, recording : str
        Recorded in the row.
    duration_s, wall_s : float
        Audio length and the backend's wall time, in seconds.
    """
    scores = melody_scores(
        truth["time_s"].to_numpy(),
        truth["f0_hz"].to_numpy(),
        estimate["time_s"].to_numpy(),
        estimate["f0_hz"].to_numpy(),
        cent_tolerance=cent_tolerance,
    )
    row = {
        "method": method,
        "recording": recording,
        "duration_s": float(duration_s),
        "wall_s": float(wall_s),
        "truth_voiced_frames": int((truth["f0_hz"].to_numpy() > 0).sum()),
        "truth_frames": len(truth),
        **scores,
    }
    return pd.DataFrame([row], columns=list(SCORE_COLUMNS)).astype(
        {
            "method": "str",
            "recording": "str",
            "duration_s": "float64",
            "wall_s": "float64",
            "truth_voiced_frames": "int64",
            "truth_frames": "int64",
            **dict.fromkeys(METRICS, "float64"),
        }
    )


def summarise_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Per backend: the mean of every metric over recordings, and the speed.

    Parameters
    ----------
    scores : pd.DataFrame
        Rows of :data:`SCORE_COLUMNS` (any number of backends and recordings).

    Returns
    -------
    pd.DataFrame
        One row per method, in order of first appearance: ``method``,
        ``recordings`` (int64), ``duration_s`` and ``wall_s`` (sums),
        ``audio_s_per_wall_s`` (their ratio) and the mean of each metric over
        the recordings where it is defined (NaN-skipping).
    """
    rows = []
    for method, group in scores.groupby("method", sort=False):
        duration_s = float(group["duration_s"].sum())
        wall_s = float(group["wall_s"].sum())
        rows.append(
            {
                "method": method,
                "recordings": len(group),
                "duration_s": duration_s,
                "wall_s": wall_s,
                "audio_s_per_wall_s": duration_s / wall_s if wall_s > 0 else math.nan,
                **{metric: float(group[metric].mean(skipna=True)) for metric in METRICS},
            }
        )
    columns = ["method", "recordings", "duration_s", "wall_s", "audio_s_per_wall_s", *METRICS]
    return pd.DataFrame(rows, columns=columns).astype({"recordings": "int64"})


def accuracy_markdown(summary: pd.DataFrame, *, cent_tolerance: float = 50.0) -> str:
    """The summary of :func:`summarise_scores` as a markdown table, metrics in percent."""
    header = ["backend", "recordings", "audio (s)", *METRIC_LABELS.values(), "audio s / wall s"]
    lines = [
        "# f0 accuracy against the demo truth",
        "",
        f"Mean over recordings, in percent (pitch correct within {cent_tolerance:g} cents; "
        "RPA raw pitch accuracy, RCA raw chroma accuracy, VR voicing recall, "
        "VFA voicing false alarm, OA overall accuracy; mir_eval.melody).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for row in summary.itertuples(index=False):
        metrics = [_percent(getattr(row, metric)) for metric in METRICS]
        lines.append(
            "| "
            + " | ".join(
                [
                    row.method,
                    str(row.recordings),
                    f"{row.duration_s:.1f}",
                    *metrics,
                    f"{row.audio_s_per_wall_s:.2f}",
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def _percent(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{100.0 * value:.1f}"


def accuracy_csv_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """Every per-recording row, then one ``recording == "mean"`` row per backend."""
    summary = summarise_scores(scores)
    means = summary.assign(recording="mean")[
        ["method", "recording", "duration_s", "wall_s", *METRICS]
    ]
    per_recording = scores[["method", "recording", "duration_s", "wall_s", *METRICS]]
    return pd.concat([per_recording, means], ignore_index=True)


def evaluation_recordings(
    recordings: Sequence[str], singers: Sequence[str], *, max_recordings: int | None
) -> list[str]:
    """A subset of recordings spread over the singers, for the accuracy table.

    Recordings are taken in rounds, one per singer and round (each singer's
    recordings in sorted order, singers in sorted order), until
    ``max_recordings`` are taken; so a small subset still covers every singer.

    Parameters
    ----------
    recordings, singers : sequence of str
        Recording ids and the singer of each, aligned.
    max_recordings : int or None
        Size of the subset; None takes every recording.

    Returns
    -------
    list of str
        The chosen recording ids, sorted.
    """
    if len(recordings) != len(singers):
        raise ValueError("recordings and singers must have the same length")
    if max_recordings is not None and max_recordings < 1:
        raise ValueError(f"max_recordings must be at least 1 or None, got {max_recordings}")
    by_singer: dict[str, list[str]] = {}
    for recording, singer in sorted(zip(recordings, singers, strict=True), key=lambda p: p[0]):
        by_singer.setdefault(singer, []).append(recording)
    order = [
        by_singer[singer][rank]
        for rank in range(max((len(v) for v in by_singer.values()), default=0))
        for singer in sorted(by_singer)
        if rank < len(by_singer[singer])
    ]
    limit = len(order) if max_recordings is None else max_recordings
    return sorted(order[:limit])
