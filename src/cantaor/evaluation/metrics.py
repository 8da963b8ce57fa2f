"""Classification metrics for singer predictions, and a markdown summary.

The paper reports accuracy and AUC (Table 2). The released code appears to
compute AUC from one-hot hard predictions; here it is computed from the
predicted probabilities, one singer against the rest, averaged over singers.
"""

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)


def evaluate_predictions(
    *,
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    recordings: Sequence[str] | None = None,
) -> dict:
    """Item- and recording-level metrics of predicted singer probabilities.

    Parameters
    ----------
    y_true : sequence of str, length n
        True singer of each item.
    proba : numpy.ndarray, shape (n, n_classes)
        Predicted probability of each singer; column j belongs to ``classes[j]``.
    classes : sequence of str, length n_classes
        Singer names in column order.
    recordings : sequence of str, length n, optional
        Recording of each item, for recording-level accuracy.

    Returns
    -------
    dict
        ``n_items``; ``accuracy``; ``balanced_accuracy`` (mean recall over
        the singers present in ``y_true``); the chance levels
        ``chance_accuracy`` (the share of the most frequent true singer: the
        accuracy of always naming it) and ``chance_balanced_accuracy`` (one
        over the singers present: the balanced accuracy of any guess that
        ignores the input); ``macro_auc_ovr`` (mean over the
        singers present in ``y_true`` of the ROC AUC of that singer's
        probability column against all other items; None when fewer than two
        singers are present) and, when it is None or some singers are absent,
        ``auc_note`` saying why; ``per_singer`` {singer: {precision, recall,
        f1, support}} with None where undefined (no predictions, or no true
        items); ``confusion_matrix`` {"labels", "matrix"} with rows true and
        columns predicted. With ``recordings``: ``n_recordings``,
        ``recording_accuracy`` (per recording, the argmax of the mean item
        probabilities against the recording's singer: the most frequent true
        singer of its items), ``recording_balanced_accuracy`` (mean over the
        recordings' singers of the share of their recordings named right),
        ``recording_chance_accuracy`` (share of the most frequent singer
        among the recordings) and ``n_recordings_mixed`` (recordings whose
        items carry more than one true singer).
    """
    classes = [str(name) for name in classes]
    y_true = np.asarray([str(label) for label in y_true], dtype=object)
    proba = np.asarray(proba, dtype=np.float64)
    _check_inputs(y_true, proba, classes)
    y_pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]

    present = [name for name in classes if name in set(y_true)]
    metrics = {
        "n_items": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=np.nan
    )
    # Recall is defined exactly for the singers present.
    metrics["balanced_accuracy"] = float(np.mean(recall[support > 0]))
    metrics["chance_accuracy"] = float(support.max() / support.sum())
    metrics["chance_balanced_accuracy"] = 1.0 / len(present)
    metrics.update(_macro_auc(y_true, proba, classes, present))
    metrics["per_singer"] = {
        name: {
            "precision": _finite_or_none(precision[j]),
            "recall": _finite_or_none(recall[j]),
            "f1": _finite_or_none(f1[j]),
            "support": int(support[j]),
        }
        for j, name in enumerate(classes)
    }
    metrics["confusion_matrix"] = {
        "labels": classes,
        "matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
    }
    if recordings is not None:
        metrics.update(_recording_metrics(y_true, proba, classes, recordings))
    return metrics


def metrics_to_markdown(metrics: dict, *, title: str) -> str:
    """Render the output of ``evaluate_predictions`` as markdown.

    Parameters
    ----------
    metrics : dict
        As returned by ``evaluate_predictions``.
    title : str
        Level-1 heading.

    Returns
    -------
    str
        A summary table, the AUC note if any, a per-singer table and the
        confusion matrix (rows true, columns predicted).
    """
    summary = [
        ("Items", metrics["n_items"]),
        ("Accuracy", metrics["accuracy"]),
        ("Balanced accuracy", metrics["balanced_accuracy"]),
        ("Chance accuracy (always the most frequent singer)", metrics["chance_accuracy"]),
        ("Chance balanced accuracy (1 / singers)", metrics["chance_balanced_accuracy"]),
        ("Macro AUC (one vs rest)", metrics["macro_auc_ovr"]),
    ]
    if "recording_accuracy" in metrics:
        summary += [
            ("Recordings", metrics["n_recordings"]),
            ("Recording accuracy", metrics["recording_accuracy"]),
            ("Recording balanced accuracy", metrics["recording_balanced_accuracy"]),
            ("Recording chance accuracy", metrics["recording_chance_accuracy"]),
        ]
    lines = [f"# {title}", "", "## Summary", ""]
    lines += _table(["Metric", "Value"], [[name, _format(value)] for name, value in summary])
    if "auc_note" in metrics:
        lines += ["", f"Note: {metrics['auc_note']}"]

    lines += ["", "## Per singer", ""]
    lines += _table(
        ["Singer", "Precision", "Recall", "F1", "Support"],
        [
            [name, *(_format(scores[key]) for key in ("precision", "recall", "f1", "support"))]
            for name, scores in metrics["per_singer"].items()
        ],
    )

    labels = metrics["confusion_matrix"]["labels"]
    lines += ["", "## Confusion matrix (rows: true singer, columns: predicted)", ""]
    lines += _table(
        ["true \\ predicted", *labels],
        [
            [name, *(str(count) for count in row)]
            for name, row in zip(labels, metrics["confusion_matrix"]["matrix"], strict=True)
        ],
    )
    return "\n".join(lines) + "\n"


def _check_inputs(y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> None:
    if len(y_true) == 0:
        raise ValueError("no items to evaluate")
    if len(set(classes)) != len(classes):
        raise ValueError("class names must be unique")
    if proba.shape != (len(y_true), len(classes)):
        raise ValueError(
            f"proba must have shape ({len(y_true)}, {len(classes)}), got {proba.shape}"
        )
    unknown = sorted(set(y_true) - set(classes))
    if unknown:
        raise ValueError(f"y_true has singers missing from classes: {unknown}")


def _macro_auc(y_true, proba, classes, present) -> dict:
    """Macro one-vs-rest ROC AUC over the singers present in ``y_true``."""
    if len(present) < 2:
        return {
            "macro_auc_ovr": None,
            "auc_note": (
                f"AUC undefined: the items have {len(present)} singer(s); "
                "one-vs-rest AUC needs at least two"
            ),
        }
    # Per-column binary AUCs average to sklearn's multi_class="ovr" macro
    # score when every class is present, and stay defined when some are
    # absent (sklearn refuses those columns).
    scores = [roc_auc_score(y_true == name, proba[:, classes.index(name)]) for name in present]
    result = {"macro_auc_ovr": float(np.mean(scores))}
    absent = [name for name in classes if name not in present]
    if absent:
        result["auc_note"] = (
            f"AUC averaged over the {len(present)} singers present; no items of {', '.join(absent)}"
        )
    return result


def _recording_metrics(y_true, proba, classes, recordings) -> dict:
    """Accuracy of the mean item probabilities of each recording."""
    recordings = np.asarray([str(name) for name in recordings], dtype=object)
    if len(recordings) != len(y_true):
        raise ValueError(f"{len(recordings)} recordings for {len(y_true)} items")
    mixed = 0
    names = sorted(set(recordings))
    truth = np.zeros(len(names), dtype=np.int64)
    guess = np.zeros(len(names), dtype=np.int64)
    for k, name in enumerate(names):
        items = recordings == name
        counts = [int(np.sum(y_true[items] == singer)) for singer in classes]
        mixed += sum(count > 0 for count in counts) > 1
        # np.argmax breaks ties by class order, which keeps this reproducible.
        truth[k] = int(np.argmax(counts))
        guess[k] = int(np.argmax(proba[items].mean(axis=0)))
    per_singer = np.bincount(truth, minlength=len(classes))
    right = np.bincount(truth[guess == truth], minlength=len(classes))
    present = per_singer > 0
    return {
        "n_recordings": len(names),
        "recording_accuracy": float(np.mean(guess == truth)),
        "recording_balanced_accuracy": float(np.mean(right[present] / per_singer[present])),
        "recording_chance_accuracy": float(per_singer.max() / len(names)),
        "n_recordings_mixed": int(mixed),
    }


def _finite_or_none(value) -> float | None:
    return float(value) if np.isfinite(value) else None


def _format(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]
