"""Singers in unheard recordings: the invariance options against the baselines.

Reads a feature store the workflow wrote (``results/features/{dataset}/{feature}``)
and runs group k-fold by recording: every singer's recordings are dealt into
``k`` folds (recording ``i`` of the ``s``-th singer, in sorted order, into fold
``(i + s) mod k``), and fold ``f`` is tested once, by a model that never heard
any of its recordings. Early stopping watches recordings that are not trained
on either (``--validation heldout``: the next fold's recordings) or, for
comparison, 20% of the training recordings' items (``--validation within``,
which cannot see recording overfitting).

Each variant switches on some of the training options of issue 19
(``train.augmentation``, ``train.recording_normalization``,
``train.recording_adversary``: :mod:`cantaor.training.loop`) and trains the same model
on the same folds through :func:`cantaor.training.loop.train_model`. Beside them the
baselines of :mod:`cantaor.evaluation.baselines` (frame statistics + logistic regression,
fitted on the training recordings, and on training + validation recordings).

Printed per row: balanced and item accuracy over every item of every
held-out recording, the recordings named right (mean item probability), the
mean best epoch, the mean item accuracy on the validation recordings at that
epoch (what a setting should be chosen by: it never looks at the test fold)
and the CPU seconds (user + system of this process, summed over
folds; the machine may be shared, so wall time is not reported).

    PYTHONPATH=src python benchmarks/bench_invariance.py \\
        --store results/features/motifs/logmel --variants plain,augment,all
"""

from __future__ import annotations

import argparse
import json
import resource
import sys

import numpy as np
import pandas as pd
import torch

from cantaor.evaluation.baselines import frame_statistics, mfcc_stats_baseline
from cantaor.evaluation.metrics import evaluate_predictions
from cantaor.features.store import open_store
from cantaor.training.augment import AlbumAugmentation
from cantaor.training.loop import TrainConfig, predict_proba, train_model
from cantaor.training.recording_norm import recording_offsets

#: Variants: which invariance options a row switches on.
OPTIONS = ("augment", "recnorm", "adversary")
VARIANTS = {
    "plain": (),
    "augment": ("augment",),
    "recnorm": ("recnorm",),
    "adversary": ("adversary",),
    "augment+recnorm": ("augment", "recnorm"),
    "augment+adversary": ("augment", "adversary"),
    "recnorm+adversary": ("recnorm", "adversary"),
    "all": OPTIONS,
}
BASELINE_ROWS = ("stats_lr", "stats_lr_trval")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def deal_folds(index: pd.DataFrame, n_folds: int | None) -> tuple[pd.Series, int]:
    """Fold of every recording (0-based) and the number of folds."""
    per_singer = index.groupby("singer")["recording"].unique()
    fewest = min(len(recordings) for recordings in per_singer)
    n_folds = n_folds or fewest
    if fewest < 3 or n_folds > fewest:
        raise SystemExit(
            f"every singer needs at least max(3, folds) recordings; the fewest is {fewest}"
        )
    fold_of = {}
    for rank, (_, recordings) in enumerate(per_singer.sort_index().items()):
        for i, recording in enumerate(sorted(recordings)):
            fold_of[recording] = (i + rank) % n_folds
    return index["recording"].map(fold_of), n_folds


def fold_subsets(fold, test_fold, n_folds, validation, seed) -> np.ndarray:
    """``train``/``validation``/``test`` of every item for one fold."""
    subsets = np.where(fold == test_fold, "test", "train").astype(object)
    if validation == "heldout":
        subsets[fold == (test_fold + 1) % n_folds] = "validation"
    else:
        train = np.flatnonzero(subsets == "train")
        rng = np.random.default_rng([seed, test_fold])
        subsets[rng.choice(train, size=len(train) // 5, replace=False)] = "validation"
    return subsets


def train_config(options, args, hop_s) -> TrainConfig:
    return TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
        device="cpu",
        threads=args.threads,
        progress_interval_s=1e9,
        augmentation=AlbumAugmentation(probability=args.augment_probability)
        if "augment" in options
        else AlbumAugmentation(),
        hop_s=hop_s,
        recording_normalization="recnorm" in options,
        recording_adversary=args.adversary_weight if "adversary" in options else 0.0,
    )


def run_variant(name, features, index, fold, n_folds, args, classes, labels, hop_s):
    options = VARIANTS[name]
    lengths = index["n_frames"].to_numpy("int64")
    recordings = index["recording"].astype(str).to_numpy()
    offsets = recording_offsets(features, lengths, recordings) if "recnorm" in options else None
    proba = np.zeros((len(index), len(classes)))
    best_epochs, val_accuracies = [], []
    start = cpu_seconds()
    for test_fold in range(n_folds):
        subsets = fold_subsets(fold, test_fold, n_folds, args.validation, args.seed)
        result = train_model(
            features=features,
            lengths=lengths,
            labels=labels,
            train_idx=np.flatnonzero(subsets == "train"),
            val_idx=np.flatnonzero(subsets == "validation"),
            n_classes=len(classes),
            model_name=args.model,
            model_options=args.model_options,
            config=train_config(options, args, hop_s),
            recordings=recordings,
            log=(lambda line: print("   ", line, file=sys.stderr)) if args.verbose else None,
        )
        test_idx = np.flatnonzero(subsets == "test")
        proba[test_idx] = predict_proba(
            result.model, features=features, lengths=lengths, indices=test_idx, offsets=offsets
        )
        best_epochs.append(result.best_epoch)
        val_accuracies.append(result.history["val_accuracy"].iloc[result.best_epoch - 1])
    return (
        proba,
        cpu_seconds() - start,
        float(np.mean(best_epochs)),
        float(np.mean(val_accuracies)),
    )


def run_baselines(features, index, fold, n_folds, args, classes):
    lengths = index["n_frames"].to_numpy("int64")
    singers = index["singer"].astype(str).to_numpy()
    start = cpu_seconds()
    statistics = frame_statistics(features, lengths, np.arange(len(index)))
    probas = {name: np.zeros((len(index), len(classes))) for name in BASELINE_ROWS}
    for test_fold in range(n_folds):
        subsets = fold_subsets(fold, test_fold, n_folds, args.validation, args.seed)
        test = subsets == "test"
        for name, fit in (("stats_lr", ("train",)), ("stats_lr_trval", ("train", "validation"))):
            train = np.isin(subsets, fit)
            probas[name][test] = mfcc_stats_baseline(
                statistics[train], singers[train], statistics[test], classes, seed=args.seed
            )
    seconds = (cpu_seconds() - start) / len(BASELINE_ROWS)
    return {name: (proba, seconds, float("nan"), float("nan")) for name, proba in probas.items()}


def row(name, proba, seconds, best_epoch, val_accuracy, index, classes, n_folds):
    metrics = evaluate_predictions(
        y_true=index["singer"].astype(str).tolist(),
        proba=proba,
        classes=classes,
        recordings=index["recording"].astype(str).tolist(),
    )
    n_recordings = metrics["n_recordings"]
    right = round(metrics["recording_accuracy"] * n_recordings)
    by_recording = pd.DataFrame(proba, columns=classes).groupby(index["recording"].to_numpy())
    wrong = [
        recording
        for recording, mean in by_recording.mean().iterrows()
        if mean.idxmax() != index.loc[index["recording"] == recording, "singer"].iloc[0]
    ]
    return {
        "variant": name,
        "balanced": metrics["balanced_accuracy"],
        "accuracy": metrics["accuracy"],
        "recordings": f"{right}/{n_recordings}",
        "best_epoch": best_epoch,
        "val_accuracy": val_accuracy,
        "cpu_s": seconds,
        "cpu_s_per_fold": seconds / n_folds,
        "wrong": ",".join(sorted(wrong)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="results/features/motifs/logmel")
    parser.add_argument("--variants", default="plain,augment,recnorm,adversary,all")
    parser.add_argument("--folds", type=int, default=None)
    parser.add_argument("--validation", choices=("heldout", "within"), default="heldout")
    parser.add_argument("--model", default="residual_blstm")
    parser.add_argument(
        "--model-options",
        type=json.loads,
        default={"channels": 16, "n_blocks": 2, "lstm_hidden": 128, "fc_units": 1024},
    )
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--augment-probability", type=float, default=0.8)
    parser.add_argument("--adversary-weight", type=float, default=0.3)
    parser.add_argument("--hop-s", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    features = open_store(args.store + ".npy")
    index = pd.read_parquet(args.store + ".index.parquet")
    classes = sorted(index["singer"].astype(str).unique())
    labels = index["singer"].map({singer: i for i, singer in enumerate(classes)}).to_numpy("int64")
    fold, n_folds = deal_folds(index, args.folds)
    print(
        f"# {args.store}: {len(index)} items, {index['recording'].nunique()} recordings, "
        f"{len(classes)} singers, {n_folds} folds by recording, validation {args.validation}; "
        f"{args.model} {json.dumps(args.model_options)}, at most {args.epochs} epochs, "
        f"patience {args.patience}, augment p={args.augment_probability}, "
        f"adversary weight {args.adversary_weight}"
    )
    rows = []
    if not args.no_baselines:
        for name, (proba, seconds, epoch, val_accuracy) in run_baselines(
            features, index, fold, n_folds, args, classes
        ).items():
            rows.append(row(name, proba, seconds, epoch, val_accuracy, index, classes, n_folds))
            print(_format(rows[-1]), flush=True)
    for name in args.variants.split(","):
        if name not in VARIANTS:
            raise SystemExit(f"unknown variant {name!r}; choose from {sorted(VARIANTS)}")
        proba, seconds, epoch, val_accuracy = run_variant(
            name, features, index, fold, n_folds, args, classes, labels, args.hop_s
        )
        rows.append(row(name, proba, seconds, epoch, val_accuracy, index, classes, n_folds))
        print(_format(rows[-1]), flush=True)
    print()
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))


def _format(values: dict) -> str:
    return (
        f"{values['variant']:<20} balanced {values['balanced']:.3f}  "
        f"accuracy {values['accuracy']:.3f}  recordings {values['recordings']:>6}  "
        f"best epoch {values['best_epoch']:.1f}  val acc {values['val_accuracy']:.3f}  "
        f"CPU {values['cpu_s']:.0f} s "
        f"({values['cpu_s_per_fold']:.0f} s/fold)  wrong: {values['wrong'] or '-'}"
    )


if __name__ == "__main__":
    main()
