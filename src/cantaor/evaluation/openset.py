"""Open-set identification: "none of the known singers" as an answer.

A closed-set classifier names one of its singers for any input, noise
included. :func:`cantaor.identify.recording.identify_recording` therefore applies a
rejection rule of three thresholds, in order, each with its reason:

``min_pitch_continuity`` -> ``no_sung_pitch``
    The share of consecutive voiced f0 frames whose pitch moves less than
    :data:`MAX_PITCH_SLOPE_CENTS_PER_S` (sung notes glide; the "pitch" a
    tracker reports on noise jumps). Noise is reported voiced by melodia
    (94-96% of its frames) but is not continuous.
``min_items`` -> ``too_few_motifs``
    Distinct motif spans the model scores.
``min_confidence`` -> ``low_confidence``
    The recording's most probable singer's probability.

The thresholds are calibrated per model (:func:`calibrate`) on held-out data:
the recordings holding the split's validation items (accepted) against
synthetic noise (rejected, :func:`noise_clips`); each threshold is the one
with the best balanced accuracy, at the middle of its interval. Where no
noise reaches a stage, a floor stands in for it (0 for continuity and items,
chance ``1 / n_singers`` for confidence), so the threshold lies halfway
between the floor and the least typical validation recording. The error
rates are then measured on the split's test recordings (false rejection) and
on other noise (acceptance): :func:`evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

#: A pitch step between consecutive voiced frames steeper than this (cents per
#: second) is a jump, not a glide: 3000 cents/s is 17 cents per 5.8 ms frame
#: (hop 256 at 44.1 kHz), above vibrato's steepest slope (about 1900 cents/s at
#: 6 Hz and +-50 cents).
MAX_PITCH_SLOPE_CENTS_PER_S = 3000.0

#: The rule of a model directory without a calibrated one: noise is still
#: rejected (continuity: synthetic singing 0.78-0.94, noise 0.32-0.45 with the
#: default f0 settings), items and confidence are not thresholded.
DEFAULT_RULE = {
    "min_pitch_continuity": 0.6,
    "min_items": 1,
    "min_confidence": 0.0,
    "calibrated": False,
}

#: Statistic, rule key and rejection reason, in the order they are applied.
STAGES = (
    ("pitch_continuity", "min_pitch_continuity", "no_sung_pitch"),
    ("n_items", "min_items", "too_few_motifs"),
    ("confidence", "min_confidence", "low_confidence"),
)


def pitch_continuity(time_s: np.ndarray, cents: np.ndarray, voiced: np.ndarray) -> float | None:
    """Share of consecutive voiced frame pairs whose pitch glides (see module doc).

    Returns None when no two consecutive frames are voiced.

    >>> t = np.arange(5) * 0.01
    >>> pitch_continuity(t, np.array([0, 5, 10, 500, 505.0]), np.ones(5, bool))
    0.75
    """
    voiced = np.asarray(voiced, dtype=bool)
    both = voiced[1:] & voiced[:-1]
    if not both.any():
        return None
    slope = np.abs(np.diff(np.asarray(cents, dtype=float))) / np.diff(np.asarray(time_s))
    return float(np.mean(slope[both] < MAX_PITCH_SLOPE_CENTS_PER_S))


def noise_clips(duration_s: float, sample_rate: int, *, seed: int) -> dict[str, np.ndarray]:
    """Noise a singer identifier must reject, float32 mono, one clip per kind.

    ``white`` at -10 dBFS RMS, ``white_-80dBFS`` (a recorder's idle hiss),
    ``brown`` (integrated white noise, the low rumble of a room), and
    ``hum`` (50 Hz mains hum with harmonics under white noise).
    """
    rng = np.random.default_rng(seed)
    n = max(1, round(duration_s * sample_rate))
    t = np.arange(n) / sample_rate

    def at_dbfs(signal, dbfs):
        rms = float(np.sqrt(np.mean(signal**2))) or 1.0
        return (signal * (10 ** (dbfs / 20) / rms)).astype(np.float32)

    brown = np.cumsum(rng.standard_normal(n))
    brown -= np.convolve(brown, np.ones(256) / 256, mode="same")
    hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3))
    return {
        "white": at_dbfs(rng.standard_normal(n), -10),
        "white_-80dBFS": at_dbfs(rng.standard_normal(n), -80),
        "brown": at_dbfs(brown, -12),
        "hum": at_dbfs(hum + 0.3 * rng.standard_normal(n), -12),
    }


def choose_threshold(accepted: Sequence[float], rejected: Sequence[float]) -> float:
    """The threshold (accept when value >= threshold) of best balanced accuracy.

    Candidates are the midpoints between consecutive distinct values (and one
    below them all); ties go to the lowest, which rejects least.

    >>> round(choose_threshold([0.8, 0.9], [0.3, 0.4]), 6)
    0.6
    >>> round(choose_threshold([0.8, 0.9], [0.85]), 6)
    0.875
    """
    accepted = np.asarray(accepted, dtype=float)
    rejected = np.asarray(rejected, dtype=float)
    if accepted.size == 0 or rejected.size == 0:
        raise ValueError("choose_threshold needs values to accept and values to reject")
    values = np.unique(np.concatenate([accepted, rejected]))
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2])
    scores = [np.mean(accepted >= c) + np.mean(rejected < c) for c in candidates]
    return float(candidates[int(np.argmax(scores))])


def apply_rule(statistics: Mapping, rule: Mapping) -> str | None:
    """The rejection reason of one recording's statistics, or None (accepted).

    A statistic that is None (nothing to measure: no voiced pair, no item)
    rejects at its stage.
    """
    for statistic, key, reason in STAGES:
        value = statistics.get(statistic)
        if value is None or value < rule[key]:
            return reason
    return None


def calibrate(known: pd.DataFrame, noise: pd.DataFrame, *, n_singers: int, source: str) -> dict:
    """A rejection rule from accepted (``known``) and rejected (``noise``) statistics.

    Parameters
    ----------
    known, noise : pd.DataFrame
        One row per recording or clip, columns ``pitch_continuity``,
        ``n_items`` and ``confidence`` (None where not measured).
    n_singers : int
        The model's classes (chance confidence is ``1 / n_singers``).
    source : str
        What ``known`` is, recorded in the rule.
    """
    if known.empty:
        raise ValueError("no known-singer recordings to calibrate the rejection rule on")
    floors = {"pitch_continuity": 0.0, "n_items": 0.0, "confidence": 1.0 / n_singers}
    rule: dict = {}
    remaining = noise
    for statistic, key, _ in STAGES:
        accepted = known[statistic].dropna().astype(float)
        if accepted.empty:
            raise ValueError(f"no known-singer recording has a {statistic} to calibrate on")
        reached = remaining[statistic].dropna().astype(float)
        rejected = reached if len(reached) else pd.Series([floors[statistic]])
        rule[key] = choose_threshold(accepted, rejected)
        remaining = remaining[remaining[statistic].notna()]
        remaining = remaining[remaining[statistic].astype(float) >= rule[key]]
    rule["min_items"] = max(1, int(np.ceil(rule["min_items"])))
    rule["calibrated"] = True
    rule["calibrated_on"] = {"known": source, "n_known": len(known), "n_noise": len(noise)}
    return rule


def error_rates(frame: pd.DataFrame, rule: Mapping) -> dict:
    """Rejections of ``frame``'s rows under ``rule``: share and reasons."""
    reasons = [apply_rule(row, rule) for row in frame.to_dict(orient="records")]
    rejected = [reason for reason in reasons if reason is not None]
    return {
        "n": len(frame),
        "rejected": len(rejected),
        "rejected_share": (len(rejected) / len(frame)) if len(frame) else None,
        "reasons": {reason: rejected.count(reason) for reason in sorted(set(rejected))},
    }


STATISTIC_COLUMNS = ("name", "kind", "singer", "verdict", *[stage[0] for stage in STAGES])


def statistics_row(name: str, kind: str, singer: str | None, result: Mapping) -> dict:
    """One row of :data:`STATISTIC_COLUMNS` from an unruled identification result."""
    return {
        "name": name,
        "kind": kind,
        "singer": singer,
        "verdict": result.get("closest") or result.get("verdict"),
        "pitch_continuity": result.get("pitch_continuity"),
        "n_items": result.get("n_items"),
        "confidence": result.get("confidence"),
    }


def evaluate(rule: Mapping, test: pd.DataFrame, noise: pd.DataFrame) -> dict:
    """False rejection on known-singer test recordings, acceptance of noise."""
    accepted_test = test[[apply_rule(r, rule) is None for r in test.to_dict(orient="records")]]
    return {
        "false_rejection": error_rates(test, rule),
        "noise_acceptance": {
            **error_rates(noise, rule),
            "accepted_share": (
                1 - error_rates(noise, rule)["rejected_share"] if len(noise) else None
            ),
        },
        "accepted_test_accuracy": (
            float(np.mean(accepted_test["verdict"] == accepted_test["singer"]))
            if len(accepted_test)
            else None
        ),
    }


def _number(value, digits=3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return f"{value:.{digits}f}"


def open_set_markdown(report: Mapping, title: str) -> str:
    """The open-set evaluation as markdown (rule, error rates, every recording)."""
    rule, rates = report["rule"], report["evaluation"]
    fr, na = rates["false_rejection"], rates["noise_acceptance"]
    lines = [
        f"# Open-set identification: {title}",
        "",
        "`cantaor identify` answers *none of the known singers* when a recording's pitch "
        "does not glide like singing, when too few motif spans are found, or when its most "
        "probable singer is not probable enough. The thresholds were chosen on "
        f"{rule['calibrated_on']['known']} against synthetic noise (balanced accuracy, "
        "middle of the best interval); the rates below are on other data.",
        "",
        "| threshold | value |",
        "|---|---|",
        f"| min_pitch_continuity | {rule['min_pitch_continuity']:.3f} |",
        f"| min_items | {rule['min_items']} |",
        f"| min_confidence | {rule['min_confidence']:.3f} |",
        "",
        "| error | rate | of |",
        "|---|---|---|",
        f"| false rejection (known-singer test recordings) | {_number(fr['rejected_share'])} "
        f"| {fr['n']} |",
        f"| noise accepted (other noise than calibration's) | {_number(na['accepted_share'])} "
        f"| {na['n']} |",
        f"| accuracy on the accepted test recordings | "
        f"{_number(rates['accepted_test_accuracy'])} | {fr['n'] - fr['rejected']} |",
        "",
        "| recording or clip | used for | singer | most probable | pitch continuity | items "
        "| confidence | answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["recordings"]:
        reason = apply_rule(row, rule)
        lines.append(
            f"| {row['name']} | {row['kind']} | {row['singer'] or '-'} | "
            f"{row['verdict'] or '-'} | {_number(row['pitch_continuity'])} | "
            f"{_number(row['n_items'])} | {_number(row['confidence'])} | "
            f"{'none of the known singers (' + reason + ')' if reason else row['verdict']} |"
        )
    if not fr["n"]:
        lines += [
            "",
            "No recording of this split is wholly in its test subset: no false rejection rate.",
        ]
    return "\n".join(lines) + "\n"


def run_open_set(
    identify: Callable[[object, str], dict],
    *,
    recordings: pd.DataFrame,
    n_singers: int,
    duration_s: float,
    sample_rate: int,
) -> dict:
    """Calibrate a rejection rule and measure its error rates.

    Parameters
    ----------
    identify : callable
        ``identify(audio_or_recording, name) -> result`` without rejection
        (:func:`cantaor.identify.recording.identify_recording` with ``rejection=None``);
        receives a recording id (str) or a noise clip (np.ndarray).
    recordings : pd.DataFrame
        ``recording``, ``singer``, ``role`` (``validation`` or ``test``).
    n_singers : int
        The model's classes.
    duration_s, sample_rate : float, int
        Length and rate of the noise clips.

    Returns
    -------
    dict
        ``rule``, ``evaluation`` (:func:`evaluate`) and ``recordings`` (one
        :data:`STATISTIC_COLUMNS` row per recording and clip).
    """
    rows = []
    for recording, singer, role in recordings[["recording", "singer", "role"]].itertuples(
        index=False
    ):
        rows.append(statistics_row(recording, role, singer, identify(recording, recording)))
    for role, seed in (("calibration noise", 0), ("test noise", 1)):
        for name, clip in noise_clips(duration_s, sample_rate, seed=seed).items():
            rows.append(statistics_row(f"{name} (seed {seed})", role, None, identify(clip, name)))
    frame = pd.DataFrame(rows, columns=list(STATISTIC_COLUMNS))
    known = frame[frame["kind"] == "validation"]
    source = "the validation recordings (recordings holding validation items)"
    if known.empty:
        known = frame[frame["kind"] == "test"]
        source = "the test recordings (no validation recording; the rates are then optimistic)"
    rule = calibrate(
        known,
        frame[frame["kind"] == "calibration noise"],
        n_singers=n_singers,
        source=source,
    )
    evaluation = evaluate(
        rule, frame[frame["kind"] == "test"], frame[frame["kind"] == "test noise"]
    )
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return {"rule": rule, "evaluation": evaluation, "recordings": records}


def recording_roles(index: pd.DataFrame, split: pd.DataFrame) -> pd.DataFrame:
    """Which recordings calibrate (``validation``) and which measure (``test``).

    A recording whose every item is in the test subset is a ``test`` recording
    (never seen in training); one with validation items and no test item is a
    ``validation`` recording. Where no recording qualifies as validation (a
    random split puts items of every recording on every side) the recordings
    with validation items that are not test recordings stand in.

    Returns
    -------
    pd.DataFrame
        ``recording``, ``singer``, ``role``, sorted by recording.
    """
    items = index[["item_id", "recording", "singer"]].merge(split, on="item_id")
    items = items[items["subset"] != "excluded"]
    rows = []
    for (recording, singer), group in items.groupby(["recording", "singer"], sort=True):
        subsets = set(group["subset"])
        if subsets == {"test"}:
            rows.append((recording, singer, "test"))
        elif "validation" in subsets and "test" not in subsets:
            rows.append((recording, singer, "validation"))
    roles = pd.DataFrame(rows, columns=["recording", "singer", "role"])
    if not (roles["role"] == "validation").any():
        test = set(roles["recording"])
        extra = items[(items["subset"] == "validation") & ~items["recording"].isin(test)]
        extra = extra[["recording", "singer"]].drop_duplicates().assign(role="validation")
        roles = pd.concat([roles, extra], ignore_index=True)
    return roles.sort_values("recording", ignore_index=True)
