"""Scores pooled over the folds of a group k-fold, with confidence intervals.

In a group k-fold every test recording is heard by exactly one fold's model,
one that never heard it in training. Pooling the test predictions of all folds
therefore scores every recording once, on audio the model never heard, and
the uncertainty of the pooled score is that of a sample of recordings:

- item accuracy and balanced accuracy (mean recall over the singers) get a
  percentile bootstrap interval over *recordings*: each replicate draws the
  test recordings with replacement and keeps all items of the drawn ones, so
  the correlation of items within a recording (one room, one take) widens
  the interval as it should (an item bootstrap would treat them as
  independent and claim too much);
- recording accuracy (each recording named by the argmax of its items' mean
  probabilities, or by a majority vote of its items' predictions) gets a
  Wilson score interval on (recordings right, recordings).

:func:`compare_scores` tests one setting against another on the recordings
both tested (a paired bootstrap over recordings of the difference in
balanced accuracy), which is how the report states whether motif items beat
random segments.

Input: the predictions schema of :mod:`cantaor.training.jobs` (``item_id``,
``singer``, ``recording``, ``p:<singer>`` columns), one frame per fold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from cantaor.training.jobs import PROBABILITY_PREFIX

CONFIDENCE = 0.95
N_BOOTSTRAP = 2000


def pool_folds(predictions: Sequence[pd.DataFrame], folds: Sequence[str]) -> pd.DataFrame:
    """Concatenate the test predictions of every fold, checking each is tested once.

    Parameters
    ----------
    predictions : sequence of pd.DataFrame
        One predictions frame per fold, with the same ``p:<singer>`` columns.
    folds : sequence of str
        The fold (split name) of each frame.

    Returns
    -------
    pd.DataFrame
        The rows of every frame with a ``fold`` column.

    Raises
    ------
    ValueError
        When the frames' classes differ, or an item or a recording is tested
        in more than one fold (the folds would not be a partition).
    """
    if len(predictions) != len(folds) or not predictions:
        raise ValueError("give one predictions frame per fold, at least one")
    columns = [list(_proba_columns(frame)) for frame in predictions]
    for fold, found in zip(folds, columns, strict=True):
        if found != columns[0]:
            raise ValueError(
                f"fold {fold} predicts the classes {found}, fold {folds[0]} {columns[0]}"
            )
    pooled = pd.concat(
        [frame.assign(fold=fold) for frame, fold in zip(predictions, folds, strict=True)],
        ignore_index=True,
    )
    for key in ("recording", "item_id"):
        per_key = pooled.groupby(key)["fold"].nunique()
        twice = per_key[per_key > 1]
        if len(twice):
            name = twice.index[0]
            found = sorted(pooled.loc[pooled[key] == name, "fold"].unique())
            raise ValueError(
                f"{key.replace('_', ' ')} {name} is tested in folds {', '.join(found)}: "
                "the folds of a group k-fold test every recording once"
            )
    return pooled


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (NaN, NaN for n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in 0..{n}, got {successes}")
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def recording_votes(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per test recording: its singer and the singer each vote names.

    Returns
    -------
    pd.DataFrame
        Index ``recording`` (sorted); ``singer`` (the most frequent true
        singer of its items, ties to the first in class order), ``n_items``,
        ``mean_probability`` (argmax of the items' mean probabilities) and
        ``majority`` (the singer most of its items are predicted as; ties go
        to the one with the higher mean probability).
    """
    columns = _proba_columns(predictions)
    classes = [c[len(PROBABILITY_PREFIX) :] for c in columns]
    proba = predictions[columns].to_numpy(np.float64)
    truth = _class_codes(predictions["singer"], classes)
    guess = proba.argmax(axis=1)
    rows = []
    for recording, positions in predictions.groupby("recording", sort=True).indices.items():
        counts = np.bincount(truth[positions], minlength=len(classes))
        mean = proba[positions].mean(axis=0)
        votes = np.bincount(guess[positions], minlength=len(classes))
        tied = np.flatnonzero(votes == votes.max())
        rows.append(
            {
                "recording": recording,
                "singer": classes[int(np.argmax(counts))],
                "n_items": len(positions),
                "mean_probability": classes[int(np.argmax(mean))],
                "majority": classes[int(tied[np.argmax(mean[tied])])],
            }
        )
    return pd.DataFrame(rows).set_index("recording")


def bootstrap_draws(n_recordings: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """Recording positions drawn with replacement, shape (n_bootstrap, n_recordings)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_recordings, size=(n_bootstrap, n_recordings))


def _cells(predictions: pd.DataFrame, recordings: Sequence[str], classes: list[str]):
    """Items and right items per (recording, true singer): two (n_recordings, n_classes) arrays."""
    columns = [PROBABILITY_PREFIX + c for c in classes]
    truth = _class_codes(predictions["singer"], classes)
    right = predictions[columns].to_numpy(np.float64).argmax(axis=1) == truth
    row = pd.Index(recordings).get_indexer(predictions["recording"].astype(str))
    if (row < 0).any():
        raise ValueError("predictions hold recordings outside the given list")
    items = np.zeros((len(recordings), len(classes)))
    correct = np.zeros((len(recordings), len(classes)))
    np.add.at(items, (row, truth), 1.0)
    np.add.at(correct, (row, truth), right.astype(np.float64))
    return items, correct


def _scores(items: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and balanced accuracy of weighted cells; leading axes are replicates."""
    per_singer_items = items.sum(axis=-2)
    per_singer_right = correct.sum(axis=-2)
    accuracy = per_singer_right.sum(axis=-1) / per_singer_items.sum(axis=-1)
    present = per_singer_items > 0
    recall = np.divide(
        per_singer_right, per_singer_items, out=np.zeros_like(per_singer_right), where=present
    )
    balanced = recall.sum(axis=-1) / present.sum(axis=-1)
    return accuracy, balanced


def replicate_scores(
    predictions: pd.DataFrame, draws: np.ndarray, recordings: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Item accuracy and balanced accuracy of every bootstrap replicate.

    Parameters
    ----------
    predictions : pd.DataFrame
        Pooled predictions.
    draws : numpy.ndarray of int, shape (n_bootstrap, n_drawn)
        Positions in ``recordings`` of the recordings each replicate draws
        (:func:`bootstrap_draws`); a recording drawn twice counts its items twice.
    recordings : sequence of str, optional
        The recordings the positions refer to; the sorted test recordings by default.

    Returns
    -------
    accuracy, balanced_accuracy : numpy.ndarray, shape (n_bootstrap,)
        The balanced accuracy of a replicate averages the recall of the
        singers it holds.
    """
    if recordings is None:
        recordings = sorted(predictions["recording"].astype(str).unique())
    classes = [c[len(PROBABILITY_PREFIX) :] for c in _proba_columns(predictions)]
    items, correct = _cells(predictions, recordings, classes)
    weights = np.zeros((len(draws), len(recordings)))
    for replicate, drawn in enumerate(draws):
        np.add.at(weights[replicate], drawn, 1.0)
    return _scores(
        np.einsum("br,rc->bc", weights, items)[:, None, :],
        np.einsum("br,rc->bc", weights, correct)[:, None, :],
    )


def _percentile(values: np.ndarray, confidence: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def pooled_scores(
    predictions: pd.DataFrame,
    *,
    confidence: float = CONFIDENCE,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict:
    """Item, balanced and recording-level accuracy of pooled predictions, with intervals.

    Parameters
    ----------
    predictions : pd.DataFrame
        Pooled test predictions (:func:`pool_folds`); a ``fold`` column is counted.
    confidence : float
        Level of every interval.
    n_bootstrap : int
        Replicates of the recording bootstrap.
    seed : int
        Seed of the bootstrap draws.

    Returns
    -------
    dict
        ``n_items``, ``n_recordings``, ``n_singers`` (singers tested),
        ``folds``; ``accuracy``, ``balanced_accuracy`` and their
        ``*_low``/``*_high`` (bootstrap over recordings);
        ``recording_accuracy`` (mean-probability vote) and
        ``recording_majority_accuracy`` (majority vote), with
        ``recordings_right``/``recordings_majority_right`` and their Wilson
        ``*_low``/``*_high``; ``recording_balanced_accuracy`` (mean over
        singers of the share of their recordings named right, mean-probability
        vote); ``chance_balanced_accuracy`` (1 / singers tested);
        ``confidence``, ``n_bootstrap``.
    """
    if predictions.empty:
        raise ValueError("no test predictions to score")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    recordings = sorted(predictions["recording"].astype(str).unique())
    classes = [c[len(PROBABILITY_PREFIX) :] for c in _proba_columns(predictions)]
    items, correct = _cells(predictions, recordings, classes)
    accuracy, balanced = _scores(items, correct)
    boot_accuracy, boot_balanced = replicate_scores(
        predictions, bootstrap_draws(len(recordings), n_bootstrap, seed), recordings
    )
    votes = recording_votes(predictions)
    right = int((votes["mean_probability"] == votes["singer"]).sum())
    majority_right = int((votes["majority"] == votes["singer"]).sum())
    per_singer = votes.assign(right=votes["mean_probability"] == votes["singer"])
    per_singer = per_singer.groupby("singer")["right"].mean()
    result = {
        "n_items": len(predictions),
        "n_recordings": len(recordings),
        "n_singers": int((items.sum(axis=0) > 0).sum()),
        "folds": int(predictions["fold"].nunique()) if "fold" in predictions else 1,
        "accuracy": float(accuracy),
        "balanced_accuracy": float(balanced),
        "chance_balanced_accuracy": 1.0 / int((items.sum(axis=0) > 0).sum()),
        "recording_accuracy": right / len(recordings),
        "recordings_right": right,
        "recording_majority_accuracy": majority_right / len(recordings),
        "recordings_majority_right": majority_right,
        "recording_balanced_accuracy": float(per_singer.mean()),
        "confidence": confidence,
        "n_bootstrap": n_bootstrap,
    }
    for name, values in (("accuracy", boot_accuracy), ("balanced_accuracy", boot_balanced)):
        result[f"{name}_low"], result[f"{name}_high"] = _percentile(values, confidence)
    for name, k in (("recording_accuracy", right), ("recording_majority_accuracy", majority_right)):
        result[f"{name}_low"], result[f"{name}_high"] = wilson_interval(
            k, len(recordings), confidence
        )
    return result


def compare_scores(
    first: pd.DataFrame,
    second: pd.DataFrame,
    *,
    confidence: float = CONFIDENCE,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict:
    """Balanced accuracy of ``first`` minus that of ``second``, paired over recordings.

    Both are pooled predictions of the same singers (e.g. one model on motif
    items and on random segments). Only the recordings both tested count;
    every replicate draws those recordings with replacement and scores both
    settings on the same draw, so what the recordings share (their rooms,
    their singers' difficulty) cancels out of the difference.

    Returns
    -------
    dict
        ``n_recordings`` (shared), ``first``, ``second`` (balanced accuracy
        on the shared recordings), ``difference`` with ``difference_low`` and
        ``difference_high`` (percentile interval), ``confidence`` and
        ``verdict``: ``"first"`` when the interval lies above 0, ``"second"``
        when below, ``"neither"`` when it holds 0.
    """
    shared = sorted(set(first["recording"].astype(str)) & set(second["recording"].astype(str)))
    if not shared:
        raise ValueError("the two settings test no recording in common")
    first = first[first["recording"].astype(str).isin(shared)]
    second = second[second["recording"].astype(str).isin(shared)]
    draws = bootstrap_draws(len(shared), n_bootstrap, seed)
    _, first_boot = replicate_scores(first, draws, shared)
    _, second_boot = replicate_scores(second, draws, shared)
    first_score = pooled_scores(first, n_bootstrap=1)["balanced_accuracy"]
    second_score = pooled_scores(second, n_bootstrap=1)["balanced_accuracy"]
    low, high = _percentile(first_boot - second_boot, confidence)
    verdict = "first" if low > 0 else "second" if high < 0 else "neither"
    return {
        "n_recordings": len(shared),
        "first": first_score,
        "second": second_score,
        "difference": first_score - second_score,
        "difference_low": low,
        "difference_high": high,
        "confidence": confidence,
        "verdict": verdict,
    }


def _proba_columns(frame: pd.DataFrame) -> list[str]:
    columns = [c for c in frame.columns if str(c).startswith(PROBABILITY_PREFIX)]
    if not columns:
        raise ValueError(f"no {PROBABILITY_PREFIX}<singer> probability columns")
    return columns


def _class_codes(singers: pd.Series, classes: list[str]) -> np.ndarray:
    codes = pd.Index(classes).get_indexer(singers.astype(str))
    if (codes < 0).any():
        unknown = sorted(set(singers.astype(str)) - set(classes))
        raise ValueError(f"singers without a probability column: {unknown[:5]}")
    return codes


#: Columns of :func:`pooled_frame`.
POOLED_COLUMNS = (
    "dataset",
    "feature",
    "model",
    "folds",
    "n_items",
    "n_recordings",
    "n_singers",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "balanced_accuracy",
    "balanced_accuracy_low",
    "balanced_accuracy_high",
    "chance_balanced_accuracy",
    "recordings_right",
    "recording_accuracy",
    "recording_accuracy_low",
    "recording_accuracy_high",
    "recordings_majority_right",
    "recording_majority_accuracy",
    "recording_majority_accuracy_low",
    "recording_majority_accuracy_high",
    "recording_balanced_accuracy",
    "confidence",
    "n_bootstrap",
)
BASELINE_PREFIX = "baseline: "
#: The paper's claim (Table 2): motif items beat random segments.
CLAIM = ("motifs", "random")


def pooled_frame(
    runs: Sequence[tuple[dict, str]],
    *,
    confidence: float = CONFIDENCE,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Pooled scores of every (dataset, feature, model) over its folds.

    Parameters
    ----------
    runs : sequence of (dict, path)
        ``dataset``, ``feature``, ``model`` and ``split`` (a fold) of each
        predictions file. A file with a ``baseline`` column holds several
        baselines: each becomes the model ``baseline: <name>``.

    Returns
    -------
    frame : pd.DataFrame
        :data:`POOLED_COLUMNS`, models before baselines within a dataset.
    pooled : dict
        (dataset, feature, model) -> the pooled predictions.
    """
    parts: dict[tuple, list] = {}
    for run, path in runs:
        frame = pd.read_parquet(path)
        if "baseline" in frame:
            for name, part in frame.groupby("baseline", sort=False):
                key = (run["dataset"], run["feature"], BASELINE_PREFIX + str(name))
                parts.setdefault(key, []).append((part.drop(columns="baseline"), run["split"]))
        else:
            key = (run["dataset"], run["feature"], run["model"])
            parts.setdefault(key, []).append((frame, run["split"]))
    rows, pooled = [], {}
    for key, found in parts.items():
        frame = pool_folds([f for f, _ in found], [s for _, s in found])
        pooled[key] = frame
        scores = pooled_scores(frame, confidence=confidence, n_bootstrap=n_bootstrap, seed=seed)
        rows.append(dict(zip(("dataset", "feature", "model"), key, strict=True)) | scores)
    frame = pd.DataFrame(rows, columns=list(POOLED_COLUMNS))
    if not frame.empty:
        frame = frame.assign(_baseline=frame["model"].str.startswith(BASELINE_PREFIX))
        frame = frame.sort_values(["dataset", "_baseline", "feature", "model"], kind="stable")
        frame = frame.drop(columns="_baseline").reset_index(drop=True)
    return frame, pooled


def claim_comparisons(
    pooled: dict,
    *,
    confidence: float = CONFIDENCE,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> pd.DataFrame:
    """Motif items against random segments, per (feature, model) that has both.

    Returns
    -------
    pd.DataFrame
        ``feature``, ``model`` and the fields of :func:`compare_scores`
        (``first``: motifs, ``second``: random), one row per pair.
    """
    rows = []
    # Models first, then the baselines, as in the table.
    for dataset, feature, model in sorted(
        pooled, key=lambda key: (key[2].startswith(BASELINE_PREFIX), key[1], key[2])
    ):
        other = (CLAIM[1], feature, model)
        if dataset != CLAIM[0] or other not in pooled:
            continue
        comparison = compare_scores(
            pooled[(dataset, feature, model)],
            pooled[other],
            confidence=confidence,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        rows.append({"feature": feature, "model": model, **comparison})
    return pd.DataFrame(rows)


def _interval(row, name: str) -> str:
    value = row[name]
    if pd.isna(value):
        return "n/a"
    return f"{value:.3f} [{row[f'{name}_low']:.3f}, {row[f'{name}_high']:.3f}]"


def _recordings(row, right: str, name: str) -> str:
    return (
        f"{int(row[right])} of {int(row['n_recordings'])} "
        f"[{row[f'{name}_low']:.2f}, {row[f'{name}_high']:.2f}]"
    )


def claim_sentence(row) -> str:
    """One plain sentence on the paper's claim for one comparison row."""
    level = f"{row['confidence']:.0%}"
    figures = (
        f"balanced accuracy {row['first']:.3f} on motif items against {row['second']:.3f} on "
        f"random segments over the same {row['n_recordings']} held-out recordings, difference "
        f"{row['difference']:+.3f} ({level} interval {row['difference_low']:+.3f} to "
        f"{row['difference_high']:+.3f})"
    )
    if row["verdict"] == "first":
        verdict = "motif items beat random segments, as the paper claims"
    elif row["verdict"] == "second":
        verdict = "random segments beat motif items, against the paper's claim"
    else:
        verdict = (
            "no difference can be claimed either way: the interval holds zero, so the "
            "paper's claim is not supported on held-out recordings"
        )
    return f"{row['model']} ({row['feature']}): {verdict}; {figures}."


def validation_lines(splits: Sequence[dict]) -> list[str]:
    """Per dataset and fold: where early stopping's validation items came from.

    ``splits``: ``dataset``, ``split`` and ``report`` (the split's leakage
    JSON; its ``split_units.validation_source``).
    """
    lines = [
        "| dataset | fold | validated on recordings not used for training "
        "| validated on held-out phrases of a training recording (too few groups) "
        "| never tested (fewer than two groups) |",
        "|---|---|---|---|---|",
    ]
    for entry in splits:
        units = entry["report"]["split_units"]
        source = units.get("validation_source", {})
        groups = sorted(s for s, v in source.items() if v == "groups")
        phrases = sorted(s for s, v in source.items() if v == "phrases")
        untested = ", ".join(units["untestable_singers"]) or "none"
        lines.append(
            f"| {entry['dataset']} | {entry['split']} | {', '.join(groups) or 'none'} "
            f"| {', '.join(phrases) or 'none'} | {untested} |"
        )
    return lines


def pooled_table_lines(frame: pd.DataFrame) -> list[str]:
    """How the pooled scores are taken, and their table (:func:`pooled_frame`)."""
    confidence = f"{frame['confidence'].iloc[0]:.0%}" if len(frame) else f"{CONFIDENCE:.0%}"
    lines = [
        "Every recording group is tested in exactly one fold, by a model trained without it; "
        "the test predictions of all folds are pooled and scored once. Item accuracy and "
        f"balanced accuracy (mean recall over singers) carry a {confidence} percentile "
        "bootstrap interval over recordings (each replicate redraws the test recordings "
        "and keeps all their items, so items of one recording are not counted as "
        "independent); recording accuracy names each recording by the mean of its items' "
        "probabilities, or by a majority vote of its items, with a Wilson score interval "
        "over recordings. Baselines run on the same folds.",
        "",
        f"| dataset | feature | model | folds | test items | test recordings | item accuracy "
        f"[{confidence} CI] | balanced accuracy [CI] | chance balanced | recordings right, "
        "mean-probability vote [CI] | recordings right, majority vote [CI] |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for _, row in frame.iterrows():
        lines.append(
            f"| {row['dataset']} | {row['feature']} | {row['model']} | {row['folds']} "
            f"| {row['n_items']} | {row['n_recordings']} | {_interval(row, 'accuracy')} "
            f"| {_interval(row, 'balanced_accuracy')} | {row['chance_balanced_accuracy']:.3f} "
            f"| {_recordings(row, 'recordings_right', 'recording_accuracy')} "
            f"| {_recordings(row, 'recordings_majority_right', 'recording_majority_accuracy')} |"
        )
    if frame.empty:
        lines.append("| no k-fold runs |" + " |" * 10)
    return lines


def pooled_markdown(
    frame: pd.DataFrame, comparisons: pd.DataFrame, splits: Sequence[dict] = ()
) -> str:
    """The k-fold report: pooled scores with intervals, the paper's claim, validation."""
    lines = [
        "# Held-out recordings: group k-fold, every recording tested once",
        "",
        *pooled_table_lines(frame),
        "",
        "## The paper's claim: motif items beat random segments",
        "",
    ]
    if comparisons.empty:
        lines.append(
            "Not tested: the claim needs the datasets `motifs` and `random` with the "
            "`kfold` split strategy."
        )
    else:
        lines += [
            "Paired over the recordings both datasets test (a bootstrap of the recordings "
            "scores both on the same draw):",
            "",
            *(f"- {claim_sentence(row)}" for _, row in comparisons.iterrows()),
        ]
    if splits:
        lines += [
            "",
            "## Validation: where early stopping looked",
            "",
            "Early stopping and model selection watch validation items. Drawn from recordings "
            "not used for training, they can see a model learning the recording instead of "
            "the singer; a singer with fewer than three recording groups in a fold (one to "
            "test, one to validate, one to train) is validated on held-out phrases of a "
            "training recording instead, and is listed in that column.",
            "",
            *validation_lines(splits),
        ]
    return "\n".join(lines) + "\n"
