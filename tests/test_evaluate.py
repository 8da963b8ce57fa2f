"""Tests of the evaluation metrics on small hand-made cases."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cantaor.evaluation.metrics import evaluate_predictions, metrics_to_markdown

CLASSES = ["AM", "EC", "TP"]


def test_hand_made_case():
    y_true = ["AM", "AM", "AM", "EC", "EC", "TP"]
    proba = np.array(
        [
            [0.7, 0.2, 0.1],  # AM -> AM
            [0.6, 0.3, 0.1],  # AM -> AM
            [0.2, 0.5, 0.3],  # AM -> EC
            [0.1, 0.8, 0.1],  # EC -> EC
            [0.3, 0.3, 0.4],  # EC -> TP
            [0.1, 0.2, 0.7],  # TP -> TP
        ]
    )
    metrics = evaluate_predictions(y_true=y_true, proba=proba, classes=CLASSES)
    assert metrics["n_items"] == 6
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert metrics["chance_accuracy"] == pytest.approx(3 / 6)
    assert metrics["chance_balanced_accuracy"] == pytest.approx(1 / 3)
    assert metrics["confusion_matrix"] == {
        "labels": CLASSES,
        "matrix": [[2, 1, 0], [0, 1, 1], [0, 0, 1]],
    }
    am, ec, tp = (metrics["per_singer"][name] for name in CLASSES)
    assert am == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3})
    assert ec == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert tp == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    # AM vs rest: 3 x 3 pairs, AM scores (.7,.6,.2) vs (.1,.3,.1): 8 of 9 ordered.
    # EC vs rest: (.8,.3) vs (.2,.3,.5,.2): 4 + 2.5 (a tie counts half) of 8.
    # TP vs rest: .7 above all 5.
    assert metrics["macro_auc_ovr"] == pytest.approx((8 / 9 + 6.5 / 8 + 1) / 3)
    assert "auc_note" not in metrics
    assert "recording_accuracy" not in metrics


def test_auc_matches_sklearn_and_is_one_for_perfect_separation():
    rng = np.random.default_rng(0)
    y_true = np.array(CLASSES)[rng.integers(0, 3, 40)]
    proba = rng.dirichlet(np.ones(3), 40)
    metrics = evaluate_predictions(y_true=y_true, proba=proba, classes=CLASSES)
    expected = roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=CLASSES)
    assert metrics["macro_auc_ovr"] == pytest.approx(expected, abs=1e-12)

    onehot = np.eye(3)[[CLASSES.index(name) for name in y_true]]
    perfect = evaluate_predictions(y_true=y_true, proba=0.2 + 0.6 * onehot, classes=CLASSES)
    assert perfect["macro_auc_ovr"] == 1.0 and perfect["accuracy"] == 1.0


def test_absent_singer():
    y_true = ["AM", "AM", "EC", "EC"]
    proba = np.array([[0.6, 0.1, 0.3], [0.2, 0.2, 0.6], [0.3, 0.6, 0.1], [0.1, 0.5, 0.4]])
    metrics = evaluate_predictions(y_true=y_true, proba=proba, classes=CLASSES)
    # AM column: (.6,.2) vs (.3,.1) -> 3 of 4; EC column: (.6,.5) vs (.1,.2) -> 1.
    # The TP column, with no TP items, does not count.
    assert metrics["macro_auc_ovr"] == pytest.approx((0.75 + 1.0) / 2)
    assert "TP" in metrics["auc_note"]
    assert metrics["per_singer"]["TP"] == {
        "precision": 0.0,
        "recall": None,
        "f1": 0.0,
        "support": 0,
    }
    assert metrics["confusion_matrix"]["matrix"][2] == [0, 0, 0]
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["balanced_accuracy"] == pytest.approx(0.75)


def test_single_singer_has_no_auc():
    proba = np.array([[0.6, 0.1, 0.3], [0.2, 0.7, 0.1]])
    metrics = evaluate_predictions(y_true=["TP", "TP"], proba=proba, classes=CLASSES)
    assert metrics["macro_auc_ovr"] is None
    assert "at least two" in metrics["auc_note"]
    assert metrics["accuracy"] == 0.0
    assert metrics["per_singer"]["TP"]["recall"] == 0.0
    assert metrics["per_singer"]["EC"]["precision"] == 0.0  # predicted once, wrongly
    assert metrics["per_singer"]["TP"]["precision"] is None  # never predicted


def test_recording_accuracy_averages_item_probabilities():
    y_true = ["AM", "AM", "AM", "EC", "EC", "TP"]
    recordings = ["r1", "r1", "r1", "r2", "r2", "r3"]
    proba = np.array(
        [
            [0.45, 0.55, 0.0],  # r1: two items lean EC ...
            [0.45, 0.55, 0.0],
            [0.95, 0.05, 0.0],  # ... but the mean is AM (0.617), a majority vote would say EC
            [0.5, 0.2, 0.3],  # r2: mean (0.45, 0.35, 0.2) -> AM, wrong
            [0.4, 0.5, 0.1],
            [0.1, 0.1, 0.8],  # r3: right
        ]
    )
    metrics = evaluate_predictions(
        y_true=y_true, proba=proba, classes=CLASSES, recordings=recordings
    )
    assert metrics["n_recordings"] == 3
    assert metrics["recording_accuracy"] == pytest.approx(2 / 3)
    assert metrics["n_recordings_mixed"] == 0
    assert metrics["accuracy"] == pytest.approx(3 / 6)
    # AM's recording right, EC's wrong, TP's right: one singer in three missed
    assert metrics["recording_balanced_accuracy"] == pytest.approx(2 / 3)
    assert metrics["recording_chance_accuracy"] == pytest.approx(1 / 3)

    mixed = evaluate_predictions(
        y_true=y_true, proba=proba, classes=CLASSES, recordings=["r1"] * 3 + ["r2"] * 3
    )
    # r2 holds two EC items and one TP item: it counts as EC; its mean says AM.
    assert mixed["n_recordings_mixed"] == 1
    assert mixed["recording_accuracy"] == pytest.approx(1 / 2)


def test_unbalanced_classes_majority_guess_scores_chance():
    # 8 AM items in 4 recordings, 2 EC items in 1: always answering AM is 80% accurate
    y_true = ["AM"] * 8 + ["EC"] * 2
    recordings = ["a1", "a1", "a2", "a2", "a3", "a3", "a4", "a4", "e1", "e1"]
    proba = np.tile([0.6, 0.3, 0.1], (10, 1))
    metrics = evaluate_predictions(
        y_true=y_true, proba=proba, classes=CLASSES, recordings=recordings
    )
    assert metrics["accuracy"] == pytest.approx(0.8) == metrics["chance_accuracy"]
    assert metrics["balanced_accuracy"] == pytest.approx(0.5)
    assert metrics["chance_balanced_accuracy"] == pytest.approx(0.5)
    assert metrics["recording_accuracy"] == pytest.approx(0.8)
    assert metrics["recording_chance_accuracy"] == pytest.approx(0.8)
    assert metrics["recording_balanced_accuracy"] == pytest.approx(0.5)


def test_invalid_inputs_are_rejected():
    proba = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="XX"):
        evaluate_predictions(y_true=["AM", "XX"], proba=proba, classes=CLASSES)
    with pytest.raises(ValueError, match="shape"):
        evaluate_predictions(y_true=["AM"], proba=proba, classes=CLASSES)
    with pytest.raises(ValueError, match="recordings"):
        evaluate_predictions(y_true=["AM", "EC"], proba=proba, classes=CLASSES, recordings=["r"])


def test_markdown_report():
    metrics = evaluate_predictions(
        y_true=["AM", "EC", "EC"],
        proba=np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]]),
        classes=CLASSES,
        recordings=["a", "b", "b"],
    )
    text = metrics_to_markdown(metrics, title="Test split")
    assert text.startswith("# Test split\n")
    assert "| Accuracy | 0.6667 |" in text
    assert "| Recording accuracy | 1.0000 |" in text
    assert "| Balanced accuracy | 0.7500 |" in text
    assert "| Chance balanced accuracy (1 / singers) | 0.5000 |" in text
    assert "| EC | 1.0000 | 0.5000 | 0.6667 | 2 |" in text
    assert "| TP | n/a | n/a | n/a | 0 |" in text
    assert "| EC | 1 | 1 | 0 |" in text  # confusion row: one EC item called AM
    assert "TP" in text.split("Note:")[1].splitlines()[0]


def test_results_table_gives_balanced_and_chance_figures_and_each_splits_story(tmp_path):
    import json

    from test_leakage import build_leaky_clip_folder

    from cantaor.dataset.clips import clip_items, scan_clip_folder
    from cantaor.dataset.split import split_dataset
    from cantaor.evaluation.results import results_frame, results_table

    # unbalanced: 8 AM items, 2 EC; the model always answers AM
    metrics = evaluate_predictions(
        y_true=["AM"] * 8 + ["EC"] * 2,
        proba=np.tile([0.6, 0.3, 0.1], (10, 1)),
        classes=CLASSES,
        recordings=["a1"] * 4 + ["a2"] * 4 + ["e1"] * 2,
    )
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics))
    run = {"dataset": "clips", "feature": "logmel", "model": "crnn", "split": "group"}
    frame = results_frame([run], [path])
    row = frame.iloc[0]
    assert row["balanced_accuracy"] == pytest.approx(0.5)
    assert row["chance_accuracy"] == pytest.approx(0.8)
    assert row["chance_balanced_accuracy"] == pytest.approx(0.5)
    assert row["recording_balanced_accuracy"] == pytest.approx(0.5)
    assert row["test_recordings"] == 3
    # metrics written before the chance levels existed: derived from the supports
    older = {k: v for k, v in metrics.items() if not k.startswith("chance")}
    path.write_text(json.dumps(older))
    assert results_frame([run], [path]).iloc[0]["chance_accuracy"] == pytest.approx(0.8)

    clips, _ = scan_clip_folder(build_leaky_clip_folder(tmp_path / "clips"))
    items, _ = clip_items(clips)
    _, report, _ = split_dataset(items, "group", seed=3)
    text = results_table(frame, [{"dataset": "clips", "split": "group", "report": report}])
    assert "| balanced accuracy | chance (accuracy / balanced) |" in text
    assert "| clips | logmel | crnn | group | 10 | 3 | 0.8000 | 0.5000 | 0.8000 / 0.5000 " in text
    assert "**clips, group split: no item of tv, tw is left after deduplication" in text
    assert "| clips | group | no | 0.0% | 0.0% | 0.0% | ec, tv, tw |" in text
    assert f"- clips, **ec**: {report['untestable_reasons']['ec']}." in text
