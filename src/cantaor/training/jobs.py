"""File-level jobs around training: what the workflow's train and predict
rules run. Each reads and writes the documented files, so it can also
be called from a notebook without Snakemake.

Predictions schema (one row per test item): ``item_id``, ``singer``,
``recording`` (str), ``predicted`` (str) and one probability column
``p:<singer>`` (float64) per class, in the model's class order.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cantaor.features.store import open_store
from cantaor.util.atomic import atomic_path
from cantaor.util.parquet import write_parquet
from cantaor.util.provenance import package_versions

PROBABILITY_PREFIX = "p:"
#: Features per natural-log unit of power, for the feature kinds augmentation can read.
LOG_SCALE = {"logmel": 1.0, "spectrogram": 0.5}


def model_offsets(metadata: dict, features, lengths, recordings):
    """Recording means to subtract for a model trained with recording normalisation, else None.

    ``metadata`` is a model file's (:func:`cantaor.training.loop.load_model`);
    the means are taken over all the store's items of each recording
    (:func:`cantaor.training.recording_norm.recording_offsets`).
    """
    if not (metadata.get("extra") or {}).get("recording_normalization"):
        return None
    from cantaor.training.recording_norm import recording_offsets

    return recording_offsets(features, lengths, np.asarray(recordings, dtype=object))


def load_items(index_path, split_path) -> pd.DataFrame:
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
                "recording(s) (too few recording groups to hold one out), so early stopping "
                "cannot see overfitting to the recording"
            )
        else:
            lines.append(
                f"validation, {singer}: {len(validation)} recording(s) not used for training"
            )
    return lines


def _file_digest(path: str | os.PathLike) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


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
    augmentation: dict | None = None,
    recording_normalization: bool = False,
    recording_adversary: float = 0.0,
    feature: str = "logmel",
    hop_s: float = 0.01,
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
    ``extra["built_with"]`` (JSON), for :func:`cantaor.identify.modeldir.export_model_dir`.

    ``augmentation`` (keyword options of
    :class:`cantaor.training.augment.AlbumAugmentation`), ``recording_normalization``
    and ``recording_adversary`` are the invariance options of
    :class:`cantaor.training.loop.TrainConfig`; ``feature`` (the store's kind) and
    ``hop_s`` (its frame hop) tell the augmentation how to read the store. A
    model trained with ``recording_normalization`` records it as
    ``extra["recording_normalization"]``, and every prediction from it
    (:func:`run_prediction`, ``cantaor identify``) subtracts recording means too.
    """
    from cantaor.training.augment import AlbumAugmentation
    from cantaor.training.loop import TrainConfig, train_model

    augmentation = AlbumAugmentation(**(augmentation or {}))
    if augmentation.enabled and feature not in LOG_SCALE:
        raise ValueError(
            f"train.augmentation works on log-power features ({sorted(LOG_SCALE)}), "
            f"not on {feature!r}: set train.augmentation.probability to 0 for it"
        )

    items = load_items(index_path, split_path)
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
        augmentation=augmentation,
        hop_s=hop_s,
        log_scale=LOG_SCALE.get(feature, 1.0),
        recording_normalization=recording_normalization,
        recording_adversary=recording_adversary,
    )
    settings = {
        "model": model_name,
        "model_options": model_options,
        "config": {
            k: v.to_dict() if isinstance(v, AlbumAugmentation) else v
            for k, v in vars(config).items()
            if k not in ("threads", "epochs")
        },
        "store": _file_digest(index_path),
        "split": _file_digest(split_path),
    }
    checkpoint = _checkpoint_path(model_path, settings, log)
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
        recordings=items["recording"].astype(str).to_numpy(),
        checkpoint_path=checkpoint,
        log=log,
    )
    extra = {"settings": json.dumps(settings, sort_keys=True)}
    extra["recording_normalization"] = bool(recording_normalization)
    if built_with is not None:
        extra["built_with"] = json.dumps(built_with, sort_keys=True)
    _save_trained(result, model_path, history_path, model_name, classes, extra)
    checkpoint.unlink(missing_ok=True)
    log(f"best epoch {result.best_epoch}, stopped early: {result.stopped_early}")
    log(
        f"training time {result.history['seconds'].sum():.1f} s over "
        f"{int(result.history['attempt'].max())} attempt(s) (history.tsv: cumulative_seconds; "
        "a benchmark file of a resumed job holds the last attempt only)"
    )


def _checkpoint_path(model_path, settings: dict, log) -> Path:
    """The checkpoint of these inputs and settings; those of others left beside it go."""
    fingerprint = hashlib.blake2b(
        json.dumps(settings, sort_keys=True).encode(), digest_size=8
    ).hexdigest()
    checkpoint = Path(model_path).parent / f".checkpoint-{fingerprint}.pt"
    for stale in sorted(Path(model_path).parent.glob(".checkpoint-*.pt")):
        if stale != checkpoint:
            stale.unlink(missing_ok=True)
            log(f"removed {stale.name}: the checkpoint of other inputs or settings")
    return checkpoint


def _save_trained(result, model_path, history_path, model_name, classes, extra: dict) -> None:
    """The model file (with what made it in ``extra``) and its history, atomically."""
    from cantaor.training.loop import save_model

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
                "training_seconds": float(result.history["seconds"].sum()),
                "attempts": int(result.history["attempt"].max()),
            }
            | extra,
        )
    with atomic_path(history_path) as tmp:
        result.history.to_csv(tmp, sep="\t", index=False)


def prediction_frame(test: pd.DataFrame, proba: np.ndarray, classes) -> pd.DataFrame:
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

    from cantaor.training.loop import load_model, predict_proba

    if threads:
        torch.set_num_threads(threads)
    model, meta = load_model(model_path)
    classes = list(meta["classes"])
    items = load_items(index_path, split_path)
    test_idx = np.flatnonzero(items["subset"].to_numpy() == "test")
    features = open_store(tensor_path)
    lengths = items["n_frames"].to_numpy("int64")
    proba = predict_proba(
        model,
        features=features,
        lengths=lengths,
        indices=test_idx,
        device=device,
        offsets=model_offsets(meta, features, lengths, items["recording"]),
    )
    predictions = prediction_frame(items.iloc[test_idx], proba, classes)
    write_parquet(predictions, predictions_path)
    log(f"{len(predictions)} test items predicted")
    return predictions
