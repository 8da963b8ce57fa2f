"""File-level jobs around training: what the workflow's train, predict and
evaluate rules run. Each reads and writes the documented files, so it can also
be called from a notebook without Snakemake.

Predictions schema (one row per test item): ``item_id``, ``singer``,
``recording`` (str), ``predicted`` (str) and one probability column
``p:<singer>`` (float64) per class, in the model's class order.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cantaor.features import open_store
from cantaor.io import atomic_path, write_json, write_parquet, write_text
from cantaor.provenance import package_versions, versions_line

PROBABILITY_PREFIX = "p:"


def _load_items(index_path, split_path) -> pd.DataFrame:
    index = pd.read_parquet(index_path)
    split = pd.read_parquet(split_path)
    items = index.merge(split, on="item_id", how="left", validate="one_to_one")
    if items["subset"].isna().any():
        missing = items.loc[items["subset"].isna(), "item_id"].iloc[0]
        raise ValueError(f"{split_path}: item {missing!r} of {index_path} has no subset")
    return items


def validation_lines(items: pd.DataFrame) -> list[str]:
    """Per singer: whether its validation items come from recordings it never trains on.

    Early stopping and model selection can only see a model learning the
    recording rather than the singer when validation recordings are unheard
    in training; a singer with too few recording groups is validated on
    held-out phrases of a training recording, and the log says so.
    """
    lines = []
    for singer, part in items.groupby("singer", sort=True):
        train = set(part.loc[part["subset"] == "train", "recording"])
        validation = set(part.loc[part["subset"] == "validation", "recording"])
        if not validation:
            lines.append(f"validation, {singer}: no validation items")
        elif validation & train:
            lines.append(
                f"validation, {singer}: held-out phrases of {len(validation & train)} training "
                f"recording(s) (too few recording groups to hold one out), so early stopping "
                "cannot see overfitting to the recording"
            )
        else:
            lines.append(
                f"validation, {singer}: {len(validation)} recording(s) not used for training"
            )
    return lines


def _file_digest(path: str | os.PathLike) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_training(
    *,
    tensor_path,
    index_path,
    split_path,
    model_path,
    history_path,
    model_name: str,
    model_options: dict,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    patience: int,
    seed: int,
    bucket_by_length: bool = True,
    device: str = "auto",
    mixed_precision: bool = True,
    threads: int | None = None,
    built_with: dict | None = None,
    log: Callable[[str], None] = print,
) -> None:
    """Train ``model_name`` on the store's train subset, stopping on validation loss.

    A checkpoint is written beside ``model_path`` after every epoch under a
    name derived from the inputs and settings, so a rerun after an interruption
    resumes it while a run with other inputs or settings starts afresh; the
    checkpoints of other inputs or settings left by a killed run are deleted
    (they can never be resumed). It is removed once the model is saved.

    ``built_with`` (the workflow's f0, contour, mining, features and
    dataset_options settings) is recorded in the model file as
    ``extra["built_with"]`` (JSON), for :func:`cantaor.modeldir.export_model_dir`.
    """
    from cantaor.train import TrainConfig, save_model, train_model

    items = _load_items(index_path, split_path)
    classes = sorted(items["singer"].unique())
    labels = items["singer"].map({singer: i for i, singer in enumerate(classes)}).to_numpy("int64")
    train_idx = np.flatnonzero(items["subset"].to_numpy() == "train")
    val_idx = np.flatnonzero(items["subset"].to_numpy() == "validation")
    if train_idx.size == 0 or val_idx.size == 0:
        raise ValueError(
            f"{split_path}: training needs train and validation items, "
            f"got {train_idx.size} and {val_idx.size}"
        )
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        patience=patience,
        seed=seed,
        device=device,
        threads=threads,
        bucket_by_length=bucket_by_length,
        mixed_precision=mixed_precision,
    )
    settings = {
        "model": model_name,
        "model_options": model_options,
        "config": {k: v for k, v in vars(config).items() if k not in ("threads", "epochs")},
        "store": _file_digest(index_path),
        "split": _file_digest(split_path),
    }
    fingerprint = hashlib.blake2b(
        json.dumps(settings, sort_keys=True).encode(), digest_size=8
    ).hexdigest()
    checkpoint = Path(model_path).parent / f".checkpoint-{fingerprint}.pt"
    for stale in sorted(Path(model_path).parent.glob(".checkpoint-*.pt")):
        if stale != checkpoint:
            stale.unlink(missing_ok=True)
            log(f"removed {stale.name}: the checkpoint of other inputs or settings")
    log(
        f"{model_name}: {train_idx.size} train, {val_idx.size} validation items, "
        f"{len(classes)} singers; checkpoint {checkpoint.name}"
    )
    for line in validation_lines(items):
        log(line)
    result = train_model(
        features=open_store(tensor_path),
        lengths=items["n_frames"].to_numpy("int64"),
        labels=labels,
        train_idx=train_idx,
        val_idx=val_idx,
        n_classes=len(classes),
        model_name=model_name,
        model_options=model_options,
        config=config,
        checkpoint_path=checkpoint,
        log=log,
    )
    with atomic_path(model_path) as tmp:
        save_model(
            tmp,
            model=result.model,
            model_name=model_name,
            model_options=result.model_options,
            n_classes=len(classes),
            classes=classes,
            extra={
                "best_epoch": int(result.best_epoch),
                "stopped_early": bool(result.stopped_early),
                "device": str(result.device),
                "versions": package_versions(),
                "settings": json.dumps(settings, sort_keys=True),
                "training_seconds": float(result.history["seconds"].sum()),
                "attempts": int(result.history["attempt"].max()),
            }
            | (
                {"built_with": json.dumps(built_with, sort_keys=True)}
                if built_with is not None
                else {}
            ),
        )
    with atomic_path(history_path) as tmp:
        result.history.to_csv(tmp, sep="\t", index=False)
    checkpoint.unlink(missing_ok=True)
    log(f"best epoch {result.best_epoch}, stopped early: {result.stopped_early}")
    log(
        f"training time {result.history['seconds'].sum():.1f} s over "
        f"{int(result.history['attempt'].max())} attempt(s) (history.tsv: cumulative_seconds; "
        "a benchmark file of a resumed job holds the last attempt only)"
    )


def _prediction_frame(test: pd.DataFrame, proba: np.ndarray, classes) -> pd.DataFrame:
    """The predictions schema (module docstring) of test items and their probabilities."""
    predictions = pd.DataFrame(
        {
            "item_id": test["item_id"].to_numpy(),
            "singer": test["singer"].to_numpy(),
            "recording": test["recording"].to_numpy(),
            "predicted": np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
            if len(test)
            else np.array([], dtype=object),
        }
    )
    for column, singer in enumerate(classes):
        predictions[f"{PROBABILITY_PREFIX}{singer}"] = proba[:, column]
    return predictions


def run_prediction(
    *,
    model_path,
    tensor_path,
    index_path,
    split_path,
    predictions_path,
    device: str = "auto",
    threads: int | None = None,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Class probabilities of every test item (schema in the module docstring)."""
    import torch

    from cantaor.train import load_model, predict_proba

    if threads:
        torch.set_num_threads(threads)
    model, meta = load_model(model_path)
    classes = list(meta["classes"])
    items = _load_items(index_path, split_path)
    test_idx = np.flatnonzero(items["subset"].to_numpy() == "test")
    proba = predict_proba(
        model,
        features=open_store(tensor_path),
        lengths=items["n_frames"].to_numpy("int64"),
        indices=test_idx,
        device=device,
    )
    predictions = _prediction_frame(items.iloc[test_idx], proba, classes)
    write_parquet(predictions, predictions_path)
    log(f"{len(predictions)} test items predicted")
    return predictions


def run_evaluation(
    *, predictions_path, metrics_path, markdown_path, title: str, log: Callable[[str], None] = print
) -> dict:
    """Metrics of one predictions file, as JSON and markdown."""
    from cantaor.evaluate import evaluate_predictions, metrics_to_markdown

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
    predictions_path=None,
    log: Callable[[str], None] = print,
) -> dict:
    """Every baseline of :mod:`cantaor.baselines` on the test subset, with its metrics.

    With ``predictions_path``, the test probabilities of every baseline are
    written there too: the predictions schema (module docstring) with a
    ``baseline`` column, for scores pooled over folds (:mod:`cantaor.pooled`).
    """
    from cantaor.baselines import duplicate_share, run_baselines
    from cantaor.evaluate import evaluate_predictions, metrics_to_markdown

    items = _load_items(index_path, split_path)
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
    frames = []
    for name, proba in probabilities.items():
        metrics = evaluate_predictions(
            y_true=test["singer"].tolist(),
            proba=proba,
            classes=classes,
            recordings=test["recording"].tolist(),
        )
        results["baselines"][name] = metrics
        frames.append(_prediction_frame(test, proba, classes).assign(baseline=name))
        sections.append(metrics_to_markdown(metrics, title=name).replace("\n# ", "\n## ", 1))
        log(f"{name}: accuracy {metrics['accuracy']:.4f}")
    write_json(results, metrics_path)
    write_text("\n".join(sections), markdown_path)
    if predictions_path is not None:
        write_parquet(pd.concat(frames, ignore_index=True), predictions_path)
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
    from cantaor.paper import paper_result

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
        :func:`cantaor.split.split_dataset`).
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


def results_table(
    frame: pd.DataFrame, splits: Sequence[dict] = (), pooled: pd.DataFrame | None = None
) -> str:
    """Markdown of :func:`results_frame`: models first, then the baselines.

    ``splits`` (as :func:`splits_markdown` takes them) adds what every split
    leaks and which singers it cannot test. ``pooled`` (the k-fold scores of
    :func:`cantaor.pooled.pooled_frame`) leads the page when given: every
    recording tested once, with intervals, beside the baselines.
    """
    from cantaor.pooled import pooled_table_lines

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
    lines: list[str] = [
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
    ]
    if pooled is not None:
        lines += [
            "## Held-out recordings: group k-fold, pooled over the folds",
            "",
            *pooled_table_lines(pooled),
            "",
            "`results/report/kfold.md` adds the paper's claim (motif items against random "
            "segments) tested on these folds, and where each fold's early stopping looked.",
            "",
            "## Every split",
            "",
        ]
    lines += [
        *header,
        *rows(frame[~is_baseline]),
    ]
    if is_baseline.any():
        lines += [
            "",
            "Baselines on the same splits (a deep model's score is read against these; "
            "`mfcc_stats` is per-bin mean and std of the feature with logistic regression, "
            "`nearest_duplicate` copies the label of an identical training clip; "
            "`speaker_encoder` is a pretrained speaker encoder's embedding of the item's "
            "audio with logistic regression):",
            "",
            *header,
            *rows(frame[is_baseline]),
        ]
    if splits:
        lines += ["", "## Splits", "", *splits_markdown(splits)]
    lines += ["", f"Made with {versions_line()}."]
    return "\n".join(lines) + "\n"
