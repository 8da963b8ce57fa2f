"""Evaluation jobs and the results table: metrics of predictions, baselines
on the same splits, chance levels, and the markdown summary of every split.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

import pandas as pd

from cantaor.features.store import open_store
from cantaor.training.jobs import PROBABILITY_PREFIX, load_items
from cantaor.util.atomic import write_json, write_text
from cantaor.util.provenance import package_versions, versions_line


def run_evaluation(
    *, predictions_path, metrics_path, markdown_path, title: str, log: Callable[[str], None] = print
) -> dict:
    """Metrics of one predictions file, as JSON and markdown."""
    from cantaor.evaluation.metrics import evaluate_predictions, metrics_to_markdown

    predictions = pd.read_parquet(predictions_path)
    columns = [c for c in predictions.columns if c.startswith(PROBABILITY_PREFIX)]
    if predictions.empty:
        raise ValueError(f"{predictions_path}: no test items to evaluate")
    metrics = evaluate_predictions(
        y_true=predictions["singer"].tolist(),
        proba=predictions[columns].to_numpy("float64"),
        classes=[c[len(PROBABILITY_PREFIX) :] for c in columns],
        recordings=predictions["recording"].tolist(),
    )
    metrics["title"] = title
    metrics["versions"] = package_versions()
    write_json(metrics, metrics_path)
    write_text(metrics_to_markdown(metrics, title=title), markdown_path)
    log(f"accuracy {metrics['accuracy']:.4f} on {metrics['n_items']} items")
    return metrics


def run_baseline_evaluation(
    *,
    tensor_path,
    index_path,
    split_path,
    metrics_path,
    markdown_path,
    title: str,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> dict:
    """Every baseline (:mod:`cantaor.evaluation.baselines`) on the test subset, with its metrics."""
    from cantaor.evaluation.baselines import duplicate_share, run_baselines
    from cantaor.evaluation.metrics import evaluate_predictions, metrics_to_markdown

    items = load_items(index_path, split_path)
    test = items[items["subset"] == "test"]
    if test.empty:
        raise ValueError(f"{split_path}: no test items to evaluate")
    classes = sorted(items["singer"].unique())
    probabilities = run_baselines(
        items.drop(columns="subset"), items["subset"].to_numpy(), open_store(tensor_path), seed=seed
    )
    train = items[items["subset"] == "train"]
    results = {
        "title": title,
        "test_share_with_identical_train_clip": duplicate_share(
            train["content_hash"].to_numpy(), test["content_hash"].to_numpy()
        ),
        "versions": package_versions(),
        "baselines": {},
    }
    sections = [f"# Baselines: {title}", ""]
    for name, proba in probabilities.items():
        metrics = evaluate_predictions(
            y_true=test["singer"].tolist(),
            proba=proba,
            classes=classes,
            recordings=test["recording"].tolist(),
        )
        results["baselines"][name] = metrics
        sections.append(metrics_to_markdown(metrics, title=name).replace("\n# ", "\n## ", 1))
        log(f"{name}: accuracy {metrics['accuracy']:.4f}")
    write_json(results, metrics_path)
    write_text("\n".join(sections), markdown_path)
    return results


def _chance_levels(metrics: dict) -> tuple[float | None, float | None]:
    """Chance accuracy and balanced accuracy, from the metrics or their per-singer support."""
    if "chance_accuracy" in metrics:
        return metrics["chance_accuracy"], metrics["chance_balanced_accuracy"]
    supports = [s["support"] for s in metrics.get("per_singer", {}).values() if s["support"]]
    if not supports:
        return None, None
    return max(supports) / sum(supports), 1.0 / len(supports)


def results_frame(
    runs: Sequence[dict],
    metrics_paths: Sequence[str | os.PathLike],
    baseline_paths: Sequence[tuple[dict, str | os.PathLike]] = (),
) -> pd.DataFrame:
    """One row per evaluated model and baseline, with the paper's Table 2 beside ours.

    Columns: dataset, feature, model, split, test_items, test_recordings,
    accuracy, balanced_accuracy, chance_accuracy (always naming the most
    frequent test singer), chance_balanced_accuracy (1 / singers tested),
    macro_auc_ovr, recording_accuracy, recording_balanced_accuracy
    (fractions), paper_accuracy, paper_auc (percent, the paper's
    random-split figures where it reports the cell).
    """
    from cantaor.evaluation.paper import paper_result

    rows = []

    def add(run, model, metrics):
        paper = paper_result(model, run["dataset"], run["feature"])
        chance, chance_balanced = _chance_levels(metrics)
        rows.append(
            {
                "dataset": run["dataset"],
                "feature": run["feature"],
                "model": model,
                "split": run["split"],
                "test_items": metrics["n_items"],
                "test_recordings": metrics.get("n_recordings"),
                "accuracy": metrics["accuracy"],
                "balanced_accuracy": metrics.get("balanced_accuracy"),
                "chance_accuracy": chance,
                "chance_balanced_accuracy": chance_balanced,
                "macro_auc_ovr": metrics.get("macro_auc_ovr"),
                "recording_accuracy": metrics.get("recording_accuracy"),
                "recording_balanced_accuracy": metrics.get("recording_balanced_accuracy"),
                "paper_accuracy": None if paper is None else paper[0],
                "paper_auc": None if paper is None else paper[1],
            }
        )

    for run, path in zip(runs, metrics_paths, strict=True):
        with open(path, encoding="utf-8") as handle:
            add(run, run["model"], json.load(handle))
    for run, path in baseline_paths:
        with open(path, encoding="utf-8") as handle:
            for name, metrics in json.load(handle)["baselines"].items():
                add(run, f"baseline: {name}", metrics)
    return pd.DataFrame(rows)


def _number(value, scale=1.0, digits=4) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value * scale:.{digits}f}"


def splits_markdown(splits: Sequence[dict]) -> list[str]:
    """Lines on every split's leaks and untestable singers, from its leakage report.

    Parameters
    ----------
    splits : sequence of dict
        ``dataset``, ``split`` and ``report`` (the split's leakage JSON,
        :func:`cantaor.dataset.split.split_dataset`).
    """
    if not splits:
        return []
    lines = []
    for entry in splits:
        lost = entry["report"]["split_units"]["singers_without_items"]
        if lost:
            lines += [
                f"**{entry['dataset']}, {entry['split']} split: no item of "
                f"{', '.join(lost)} is left after deduplication (their clips also carry "
                "other singers' labels), so its models do not know "
                f"{'this singer' if len(lost) == 1 else 'these singers'}.**",
                "",
            ]
    lines += [
        "| dataset | split | copies kept | test items with an identical clip in train "
        "| sharing audio with train | whose recording (or a linked one) is in train "
        "| untestable singers |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    reasons: dict[tuple[str, str], str] = {}
    for entry in splits:
        report = entry["report"]
        split = report["split"]
        lines.append(
            f"| {entry['dataset']} | {entry['split']} "
            f"| {'no' if report['deduplicated'] else 'yes'} "
            f"| {split['test_identical_in_train']:.1%} | {split['test_overlap_in_train']:.1%} "
            f"| {split['test_linked_recording_in_train']:.1%} "
            f"| {', '.join(report['untestable_singers']) or 'none'} |"
        )
        for singer, reason in report["untestable_reasons"].items():
            reasons.setdefault((entry["dataset"], singer), reason)
    if reasons:
        lines += ["", "Why each singer cannot be tested on unseen audio:", ""]
        lines += [
            f"- {dataset}, **{singer}**: {reason}."
            for (dataset, singer), reason in sorted(reasons.items())
        ]
    return lines


def results_table(frame: pd.DataFrame, splits: Sequence[dict] = ()) -> str:
    """Markdown of :func:`results_frame`: models first, then the baselines.

    ``splits`` (as :func:`splits_markdown` takes them) adds what every split
    leaks and which singers it cannot test.
    """
    number = _number
    header = [
        "| dataset | feature | model | split | test items | recordings | accuracy "
        "| balanced accuracy | chance (accuracy / balanced) | macro AUC (OvR) "
        "| recording accuracy | recording balanced accuracy | paper accuracy % | paper AUC % |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def rows(part) -> list[str]:
        return [
            f"| {r.dataset} | {r.feature} | {r.model} | {r.split} | {r.test_items} "
            f"| {number(r.test_recordings, digits=0)} "
            f"| {number(r.accuracy)} | {number(r.balanced_accuracy)} "
            f"| {number(r.chance_accuracy)} / {number(r.chance_balanced_accuracy)} "
            f"| {number(r.macro_auc_ovr)} "
            f"| {number(r.recording_accuracy)} | {number(r.recording_balanced_accuracy)} "
            f"| {number(r.paper_accuracy, digits=2)} | {number(r.paper_auc, digits=2)} |"
            for r in part.itertuples()
        ]

    is_baseline = frame["model"].str.startswith("baseline: ")
    lines = [
        "# cantaor results",
        "",
        "Test-set scores of every trained model. Read them against the split: `group` holds "
        "whole split groups (recordings or albums, joined by identical or overlapping clips) "
        "out; `random` splits the deduplicated items at random and `random_paper` is the "
        "paper's protocol as it was (every copy kept): both mix items of one recording "
        "across train and test and measure recording identity as much as singer identity. "
        "The paper's figures (Table 2) come from its random split of its corpus; they are "
        "printed for reference, not as a target for this corpus.",
        "",
        "Chance: the accuracy of always naming the test set's most frequent singer, and "
        "the balanced accuracy of any guess that ignores the audio (1 / singers tested). "
        "When the two differ the classes are unbalanced: read the balanced accuracy. "
        "Recording figures score the mean item probabilities of each test recording.",
        "",
        *header,
        *rows(frame[~is_baseline]),
    ]
    if is_baseline.any():
        lines += [
            "",
            "Baselines on the same splits (a deep model's score is read against these; "
            "`mfcc_stats` is per-bin mean and std of the feature with logistic regression, "
            "`nearest_duplicate` copies the label of an identical training clip):",
            "",
            *header,
            *rows(frame[is_baseline]),
        ]
    if splits:
        lines += ["", "## Splits", "", *splits_markdown(splits)]
    lines += ["", f"Made with {versions_line()}."]
    return "\n".join(lines) + "\n"
