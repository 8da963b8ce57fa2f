"""Training, prediction and model files for the singer classifiers.

Training follows the paper (section 4): Adam with learning rate 1e-3,
batches of 64, at most 20 epochs, cross-entropy loss and early stopping with
patience 2. Unlike the authors' released code, early stopping watches the
loss on a held-out validation set, the weights of the best validation epoch
are restored at the end, the model is switched between training and
evaluation mode, and the run is seeded.

The feature store may be a memory-mapped array larger than memory: only one
batch of items is read and converted to float32 at a time.
"""

import functools
import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from cantaor.models import build_model
from cantaor.models.adversary import RecordingAdversary
from cantaor.training.augment import AlbumAugmentation, augment_batch
from cantaor.training.recording_norm import recording_offsets
from cantaor.util.atomic import atomic_path
from cantaor.util.progress import Progress, format_seconds, terminal

HISTORY_COLUMNS = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "seconds",
    "attempt",
    "cumulative_seconds",
]
# Columns that depend on time and on interruptions, not on the computation.
TIMING_COLUMNS = ("seconds", "attempt", "cumulative_seconds")
_CHECKPOINT_FORMAT = "cantaor-train-checkpoint-1"
_MODEL_FORMAT = "cantaor-model-1"
# Progress of a run, kept in its checkpoint next to weights and RNG states.
_STATE_KEYS = (
    "epoch",
    "history",
    "best_state",
    "best_epoch",
    "best_val_loss",
    "epochs_without_improvement",
    "stopped_early",
    "attempt",
)


@dataclass
class TrainConfig:
    """Options of ``train_model``.

    Attributes
    ----------
    epochs : int
        Maximum number of passes over the training items.
    batch_size : int
        Items per optimisation step.
    learning_rate : float
        Adam step size.
    patience : int
        Epochs without a lower validation loss before training stops.
    seed : int
        Seeds weight initialisation, dropout and the per-epoch shuffle.
    device : str
        "auto", "cpu" or "cuda".
    threads : int or None
        CPU threads for torch during training; None leaves the setting alone.
    mixed_precision : bool
        Use float16 autocast with gradient scaling; only applies on CUDA.
    bucket_by_length : bool
        Batch items of similar length together (each batch is cut to its
        longest item, so this skips most of the padding). The model ignores
        padding, so it changes which items share a batch, not what an item
        contributes; False draws batches uniformly at random.
    progress_interval_s : float
        Seconds between two progress lines (batches done, time left) within an
        epoch; a terminal also gets a line redrawn in place.
    augmentation : AlbumAugmentation
        On-the-fly "album" augmentation of the training items
        (:mod:`cantaor.training.augment`), drawn anew at every epoch from
        ``(seed, epoch)``; off by default.
    hop_s : float
        Seconds between feature frames (the augmentation's reverberation time).
    log_scale : float
        Features per natural-log unit of power: 1 for ``logmel``, 0.5 for
        ``spectrogram``; augmentation converts decibels through it.
    recording_normalization : bool
        Subtract from every item its recording's mean of each bin
        (:mod:`cantaor.training.recording_norm`) before anything else sees
        it; predictions must then do the same (``predict_proba(offsets=...)``).
    recording_adversary : float
        Weight of the gradient-reversal recording adversary
        (:class:`cantaor.models.adversary.RecordingAdversary`); 0 turns it off.
    """

    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 2
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    mixed_precision: bool = True
    bucket_by_length: bool = True
    progress_interval_s: float = 30.0
    augmentation: AlbumAugmentation = field(default_factory=AlbumAugmentation)
    hop_s: float = 0.01
    log_scale: float = 1.0
    recording_normalization: bool = False
    recording_adversary: float = 0.0


@dataclass
class TrainResult:
    """Outcome of ``train_model``.

    Attributes
    ----------
    model : torch.nn.Module
        The model with the weights of the best validation epoch, in eval mode.
    history : pandas.DataFrame
        One row per epoch with the columns of ``HISTORY_COLUMNS``; losses are
        mean cross-entropy per item, accuracies fractions, seconds wall time
        of the epoch; ``attempt`` counts the processes that trained this run
        (1, then one more at each resume from the checkpoint) and
        ``cumulative_seconds`` sums the epochs' seconds over every attempt (a
        Snakemake benchmark file of a resumed job holds the last attempt
        only; time spent in an epoch that was interrupted is not counted).
    best_epoch : int
        1-based epoch with the lowest validation loss.
    stopped_early : bool
        Whether patience ran out before ``epochs``.
    device : str
        Device the model was trained on.
    model_options : dict
        Options that rebuild the model with ``build_model`` (``n_bins``
        included); pass them to ``save_model``.
    """

    model: nn.Module
    history: pd.DataFrame
    best_epoch: int
    stopped_early: bool
    device: str
    model_options: dict = field(default_factory=dict)


def resolve_device(device: str) -> torch.device:
    """Turn "auto", "cpu" or "cuda" into a torch device ("auto": CUDA when available)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available")
    return torch.device(device)


def train_model(
    *,
    features,
    lengths,
    labels,
    train_idx,
    val_idx,
    n_classes: int,
    model_name: str = "residual_blstm",
    model_options: dict | None = None,
    config: TrainConfig | None = None,
    recordings=None,
    checkpoint_path=None,
    log=None,
) -> TrainResult:
    """Train a singer classifier with early stopping on validation loss.

    Parameters
    ----------
    features : numpy.ndarray or numpy.memmap, shape (n_items, n_bins, n_frames)
        Frame-wise features (any float dtype), zero-padded after each item.
    lengths : numpy.ndarray of int, shape (n_items,)
        Real frames per item, 1..n_frames.
    labels : numpy.ndarray of int, shape (n_items,)
        Class index of each item, 0..n_classes-1.
    train_idx, val_idx : numpy.ndarray of int
        Items to train on and to select the epoch with.
    n_classes : int
        Number of classes.
    model_name : str
        Key of ``cantaor.models.MODELS``.
    model_options : dict, optional
        Keyword options of the model; ``n_bins`` is taken from ``features``.
    config : TrainConfig, optional
        Optimisation options; ``TrainConfig()`` when omitted.
    recordings : array-like, shape (n_items,), optional
        Recording of each item; needed by ``config.recording_normalization``
        and ``config.recording_adversary``.
    checkpoint_path : str or os.PathLike, optional
        File rewritten after every epoch. When it exists at the start, the
        run resumes from it and ends exactly as an uninterrupted run would.
        It must come from a run with the same data split and options
        (``epochs`` may grow).
    log : callable taking a str, optional
        Receives one line per epoch and a line on resume or early stop.

    Returns
    -------
    TrainResult
    """
    config = config or TrainConfig()
    _check_config(config)
    lengths = np.asarray(lengths)
    labels = np.asarray(labels)
    train_idx = np.asarray(train_idx, dtype=np.int64)
    val_idx = np.asarray(val_idx, dtype=np.int64)
    _check_data(features, lengths, labels, train_idx, val_idx, n_classes)
    log = log or (lambda line: None)
    recordings = _checked_recordings(config, recordings, labels)
    offsets = (
        recording_offsets(features, lengths, recordings) if config.recording_normalization else None
    )

    options = dict(model_options or {})
    n_bins = int(features.shape[1])
    if options.setdefault("n_bins", n_bins) != n_bins:
        raise ValueError(
            f"model_options n_bins={options['n_bins']} but features have {n_bins} bins"
        )

    device = resolve_device(config.device)
    use_amp = config.mixed_precision and device.type == "cuda"
    saved_threads = torch.get_num_threads()
    saved_deterministic = torch.are_deterministic_algorithms_enabled()
    saved_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        # Deterministic CUDA kernels (cuDNN LSTM) need an environment variable
        # set before start-up, so exact repeatability is promised on CPU only.
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True)

        run = _build_run(
            model_name,
            options,
            n_classes,
            config,
            recordings,
            labels,
            train_idx,
            val_idx,
            device,
            log,
        )
        _start(run, checkpoint_path, config, features, lengths, train_idx, offsets, log)

        batches = functools.partial(
            _batches, features, lengths, labels, device=device, offsets=offsets
        )
        state = run.state
        while state["epoch"] < config.epochs and not state["stopped_early"]:
            _run_epoch(run, config, batches, train_idx, val_idx, lengths, log)
            if checkpoint_path is not None:
                _save_checkpoint(
                    checkpoint_path,
                    state,
                    run.fingerprint,
                    run.model,
                    run.optimizer,
                    run.scaler if use_amp else None,
                    device,
                    run.adversary,
                )
        if state["stopped_early"]:
            log(
                f"early stop after epoch {state['epoch']}: no lower validation loss "
                f"for {config.patience} epochs; best epoch {state['best_epoch']}"
            )

        return _result(run, options)
    finally:
        torch.set_num_threads(saved_threads)
        torch.use_deterministic_algorithms(saved_deterministic, warn_only=saved_warn_only)


@dataclass
class _Run:
    """What one training carries from epoch to epoch."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    adversary: nn.Module | None
    domains: np.ndarray | None
    fingerprint: str
    device: torch.device
    use_amp: bool
    state: dict | None = None


def _build_run(
    model_name, options, n_classes, config, recordings, labels, train_idx, val_idx, device, log
):
    """A seeded model, its recording adversary (if any), optimizer and gradient scaler."""
    use_amp = config.mixed_precision and device.type == "cuda"
    torch.manual_seed(config.seed)
    model = build_model(model_name, n_classes=n_classes, **options).to(device)
    adversary, domains = _recording_adversary(
        config, model, recordings, labels, train_idx, n_classes, device
    )
    parameters = list(model.parameters())
    if adversary is not None:
        parameters += list(adversary.parameters())
        log(
            f"recording adversary: weight {config.recording_adversary}, "
            f"{adversary.allowed.shape[1]} training recordings"
        )
    return _Run(
        model=model,
        optimizer=torch.optim.Adam(parameters, lr=config.learning_rate),
        scaler=torch.amp.GradScaler(device.type, enabled=use_amp),
        adversary=adversary,
        domains=domains,
        fingerprint=_fingerprint(model_name, options, n_classes, config, train_idx, val_idx),
        device=device,
        use_amp=use_amp,
    )


def _run_epoch(run: _Run, config: TrainConfig, batches, train_idx, val_idx, lengths, log) -> None:
    """Train one epoch, validate, record it in ``run.state`` and log its line."""
    epoch = run.state["epoch"] + 1
    start = time.perf_counter()
    # Seeding the shuffle by (seed, epoch) lets a resumed run draw
    # the same orders without storing generator state.
    order = _epoch_batches(
        train_idx,
        lengths,
        batch_size=config.batch_size,
        rng=np.random.default_rng([config.seed, epoch]),
        bucket_by_length=config.bucket_by_length,
    )
    with Progress(
        len(order),
        f"epoch {epoch}/{config.epochs}",
        unit="batches",
        log=log,
        stream=terminal(),
        interval_s=config.progress_interval_s,
        final_log_line=False,  # the epoch's summary line follows
    ) as progress:
        train_loss, train_accuracy, adversary_loss = _train_epoch(
            run.model,
            run.optimizer,
            run.scaler,
            _counted(batches(order, augment=_epoch_augmentation(config, epoch)), progress),
            device_type=run.device.type,
            use_amp=run.use_amp,
            adversary=run.adversary,
            domains=None if run.adversary is None else [run.domains[batch] for batch in order],
        )
    val_loss, val_accuracy = _evaluate(
        run.model,
        batches(_length_sorted_batches(val_idx, lengths, config.batch_size)),
        device_type=run.device.type,
        use_amp=run.use_amp,
    )
    scores = (train_loss, train_accuracy, val_loss, val_accuracy)
    _record_epoch(run.state, config, epoch, scores, time.perf_counter() - start, run.model)
    log(_epoch_line(run.state, config, None if run.adversary is None else adversary_loss))


def _checked_recordings(config: TrainConfig, recordings, labels: np.ndarray):
    """The recording of every item as str, when an option needs them; else ``recordings``."""
    if not (config.recording_normalization or config.recording_adversary > 0):
        return recordings
    if recordings is None:
        raise ValueError(
            "recording_normalization and recording_adversary need the recording of every item"
        )
    recordings = np.asarray(recordings, dtype=object).astype(str)
    if recordings.shape != labels.shape:
        raise ValueError(f"recordings must have shape {labels.shape}")
    return recordings


def _start(run: _Run, checkpoint_path, config, features, lengths, train_idx, offsets, log) -> None:
    """Resume ``run`` from its checkpoint, or set the model's input normalisation and start."""
    if checkpoint_path is not None and Path(checkpoint_path).exists():
        run.state = _resume(
            checkpoint_path,
            run.fingerprint,
            config,
            run.model,
            run.optimizer,
            run.scaler,
            run.device,
            run.adversary,
        )
        run.state["attempt"] += 1
        log(
            f"resumed from {checkpoint_path} after epoch {run.state['epoch']} "
            f"(attempt {run.state['attempt']}, "
            f"{format_seconds(sum(run.state['history']['seconds']))} of training so far)"
        )
    else:
        mean, std = normalization_statistics(
            features, lengths, train_idx, batch_size=config.batch_size, offsets=offsets
        )
        run.model.set_normalization(mean, std)
        run.state = _fresh_state()


def _result(run: _Run, options: dict) -> TrainResult:
    """The best epoch's model, in eval mode, with the history."""
    state = run.state
    if state["best_state"] is None:
        raise RuntimeError("validation loss was never finite; training diverged")
    run.model.load_state_dict(state["best_state"])
    run.model.eval()
    return TrainResult(
        model=run.model,
        history=pd.DataFrame(state["history"], columns=HISTORY_COLUMNS),
        best_epoch=state["best_epoch"],
        stopped_early=state["stopped_early"],
        device=str(run.device),
        model_options=options,
    )


def _fresh_state() -> dict:
    """The training state before the first epoch (what a checkpoint stores)."""
    return {
        "epoch": 0,
        "history": {column: [] for column in HISTORY_COLUMNS},
        "best_state": None,
        "best_epoch": 0,
        "best_val_loss": math.inf,
        "epochs_without_improvement": 0,
        "stopped_early": False,
        "attempt": 1,
    }


def _epoch_augmentation(config: TrainConfig, epoch: int):
    """The epoch's batch augmentation, seeded by (seed, epoch), or None when it is off."""
    if not config.augmentation.enabled:
        return None
    return functools.partial(
        augment_batch,
        rng=np.random.default_rng([config.seed, epoch, 1]),
        options=config.augmentation,
        hop_s=config.hop_s,
        log_scale=config.log_scale,
    )


def _record_epoch(state: dict, config: TrainConfig, epoch: int, scores, seconds: float, model):
    """Append the epoch to the history, keep the best weights, decide on early stopping."""
    train_loss, train_accuracy, val_loss, val_accuracy = scores
    cumulative = float(sum(state["history"]["seconds"])) + seconds
    row = [
        epoch,
        train_loss,
        train_accuracy,
        val_loss,
        val_accuracy,
        seconds,
        state["attempt"],
        cumulative,
    ]
    for column, value in zip(HISTORY_COLUMNS, row, strict=True):
        state["history"][column].append(value)
    if val_loss < state["best_val_loss"]:
        state["best_val_loss"] = val_loss
        state["best_epoch"] = epoch
        state["best_state"] = _cpu_copy(model.state_dict())
        state["epochs_without_improvement"] = 0
    else:
        state["epochs_without_improvement"] += 1
    state["stopped_early"] = state["epochs_without_improvement"] >= config.patience
    state["epoch"] = epoch


def _epoch_line(state: dict, config: TrainConfig, adversary_loss: float | None) -> str:
    """The log line of the epoch just recorded, with the time left."""
    history = state["history"]
    epoch = state["epoch"]
    left = 0 if state["stopped_early"] else config.epochs - epoch
    seconds_per_epoch = float(np.mean(history["seconds"]))
    return (
        f"epoch {epoch}/{config.epochs}  train_loss {history['train_loss'][-1]:.4f}  "
        f"train_acc {history['train_accuracy'][-1]:.4f}  val_loss {history['val_loss'][-1]:.4f}  "
        f"val_acc {history['val_accuracy'][-1]:.4f}  {history['seconds'][-1]:.1f}s"
        + ("" if adversary_loss is None else f"  adversary_loss {adversary_loss:.4f}")
        + (
            f"  (at most {left} more epochs, about {format_seconds(left * seconds_per_epoch)} left)"
            if left
            else ""
        )
    )


def normalization_statistics(features, lengths, indices, *, batch_size: int = 64, offsets=None):
    """Per-bin mean and standard deviation over the real frames of some items.

    Parameters
    ----------
    features : numpy.ndarray, shape (n_items, n_bins, n_frames)
        Frame-wise features; read one batch of items at a time.
    lengths : numpy.ndarray of int, shape (n_items,)
        Real frames per item.
    indices : numpy.ndarray of int
        Items to average over.
    batch_size : int
        Items read at once.
    offsets : numpy.ndarray, shape (n_items, n_bins), optional
        Subtracted from every frame of each item first (per-recording
        normalisation, :func:`cantaor.training.recording_norm.recording_offsets`).

    Returns
    -------
    mean, std : numpy.ndarray, shape (n_bins,), float64
    """
    n_bins = features.shape[1]
    total = np.zeros(n_bins)
    total_squares = np.zeros(n_bins)
    count = 0
    for start in range(0, len(indices), batch_size):
        batch = np.asarray(indices[start : start + batch_size])
        batch_lengths = np.asarray(lengths)[batch]
        x = np.asarray(features[batch][:, :, : batch_lengths.max()], dtype=np.float64)
        if offsets is not None:
            x = x - np.asarray(offsets[batch], dtype=np.float64)[:, :, None]
        mask = np.arange(x.shape[2])[None, :] < batch_lengths[:, None]
        x = x * mask[:, None, :]
        total += x.sum(axis=(0, 2))
        total_squares += np.square(x).sum(axis=(0, 2))
        count += int(batch_lengths.sum())
    if count == 0:
        raise ValueError("no frames to compute normalisation statistics from")
    mean = total / count
    # Float64 sums keep the cancellation error far below the variances of
    # log-mel features.
    variance = np.maximum(total_squares / count - np.square(mean), 0.0)
    return mean, np.sqrt(variance)


def predict_proba(
    model, *, features, lengths, indices, batch_size: int = 64, device="auto", offsets=None
):
    """Class probabilities for some items.

    The model is moved to ``device`` and left in eval mode.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier taking ``(features, lengths)``.
    features : numpy.ndarray, shape (n_items, n_bins, n_frames)
        Frame-wise features, zero-padded after each item.
    lengths : numpy.ndarray of int, shape (n_items,)
        Real frames per item.
    indices : numpy.ndarray of int, shape (n,)
        Items to predict, in output order.
    batch_size : int
        Items per forward pass.
    device : str or torch.device
        "auto", "cpu" or "cuda".
    offsets : numpy.ndarray, shape (n_items, n_bins), optional
        Subtracted from each item's frames first: the recording means of a
        model trained with ``recording_normalization`` (see
        :func:`cantaor.training.recording_norm.recording_offsets`).

    Returns
    -------
    numpy.ndarray, shape (n, n_classes), float64
        Softmax probabilities; each row sums to 1.
    """
    if not isinstance(device, torch.device):
        device = resolve_device(device)
    model.to(device)
    model.eval()
    lengths = np.asarray(lengths)
    indices = np.asarray(indices, dtype=np.int64)
    rows = []
    # Items of similar length share a batch (less padding); rows are put back in order below.
    by_length = np.argsort(lengths[indices], kind="stable")
    with torch.no_grad():
        for x, batch_lengths, _ in _batches(
            features,
            lengths,
            None,
            _length_sorted_batches(indices, lengths, batch_size),
            device=device,
            offsets=offsets,
        ):
            logits = model(x, batch_lengths)
            rows.append(torch.softmax(logits.double(), dim=1).cpu().numpy())
        if not rows:
            # No items: one dummy frame tells the number of classes.
            n_classes = model(torch.zeros(1, features.shape[1], 1, device=device)).shape[1]
            return np.zeros((0, n_classes))
    proba = np.empty((indices.size, rows[0].shape[1]))
    proba[by_length] = np.concatenate(rows)
    return proba


def save_model(path, *, model, model_name, model_options, n_classes, classes, extra) -> None:
    """Write a trained model and its metadata to one file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; written atomically.
    model : torch.nn.Module
        Trained model.
    model_name : str
        Key of ``cantaor.models.MODELS``.
    model_options : dict or None
        Options that rebuild ``model`` with ``build_model`` (see
        ``TrainResult.model_options``); checked here so that the file loads.
    n_classes : int
        Number of classes.
    classes : list of str
        Class names in output order.
    extra : dict
        Further metadata of plain Python types (str, int, float, bool, None,
        lists, dicts).
    """
    classes = [str(name) for name in classes]
    if len(classes) != n_classes:
        raise ValueError(f"{len(classes)} class names for n_classes={n_classes}")
    model_options = dict(model_options or {})
    state_dict = _cpu_copy(model.state_dict())
    rebuilt = build_model(model_name, n_classes=n_classes, **model_options).state_dict()
    mismatched = sorted(
        name
        for name in set(rebuilt) | set(state_dict)
        if name not in rebuilt
        or name not in state_dict
        or rebuilt[name].shape != state_dict[name].shape
    )
    if mismatched:
        raise ValueError(
            f"model_options do not rebuild this model (differs in {mismatched[:5]}); "
            "pass TrainResult.model_options"
        )
    payload = {
        "format": _MODEL_FORMAT,
        "model_name": model_name,
        "model_options": model_options,
        "n_classes": int(n_classes),
        "classes": classes,
        "extra": dict(extra),
        "state_dict": state_dict,
    }
    _atomic_save(payload, path)


def load_model(path):
    """Read a file written by ``save_model``.

    Only tensors and plain Python types are unpickled (``weights_only=True``).

    Returns
    -------
    model : torch.nn.Module
        The model on the CPU, in eval mode.
    metadata : dict
        ``model_name``, ``model_options``, ``n_classes``, ``classes``, ``extra``.
    """
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != _MODEL_FORMAT:
        raise ValueError(f"{path} is not a cantaor model file")
    model = build_model(
        payload["model_name"], n_classes=payload["n_classes"], **payload["model_options"]
    )
    model.load_state_dict(payload["state_dict"])
    model.eval()
    metadata = {
        key: payload[key]
        for key in ("model_name", "model_options", "n_classes", "classes", "extra")
    }
    return model, metadata


def _counted(batches, progress):
    """Yield ``batches`` unchanged, counting each one into ``progress``."""
    for batch in batches:
        yield batch
        progress.update()


def _train_epoch(
    model, optimizer, scaler, batches, *, device_type, use_amp, adversary=None, domains=None
):
    """One optimisation pass; returns mean training loss, accuracy and adversary loss.

    With ``adversary``, ``domains`` holds each batch's recording indices and
    the adversary's loss is added to the singer loss (its gradient reaches the
    embedding reversed); the returned training loss is the singer loss alone.
    """
    model.train()
    if adversary is not None:
        adversary.train()
    total_loss = 0.0
    total_adversary = 0.0
    correct = 0
    count = 0
    for batch, (x, lengths, y) in enumerate(batches):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device_type, enabled=use_amp):
            if adversary is None:
                logits = model(x, lengths)
                loss = F.cross_entropy(logits.float(), y)
                objective = loss
            else:
                embedding = model.embed(x, lengths)
                logits = model.head(embedding)
                loss = F.cross_entropy(logits.float(), y)
                recordings = torch.as_tensor(domains[batch], dtype=torch.long, device=y.device)
                adversary_loss = adversary.loss(embedding.float(), y, recordings)
                objective = loss + adversary_loss
                total_adversary += adversary_loss.item() * len(y)
        scaler.scale(objective).backward()
        scaler.step(optimizer)
        scaler.update()
        total_loss += loss.item() * len(y)
        correct += int((logits.argmax(dim=1) == y).sum())
        count += len(y)
    return total_loss / count, correct / count, total_adversary / count


def _evaluate(model, batches, *, device_type, use_amp):
    """Mean cross-entropy and accuracy of ``model`` in eval mode."""
    model.eval()
    total_loss = 0.0
    correct = 0
    count = 0
    with torch.no_grad():
        for x, lengths, y in batches:
            with torch.autocast(device_type=device_type, enabled=use_amp):
                logits = model(x, lengths).float()
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == y).sum())
            count += len(y)
    return total_loss / count, correct / count


#: On a GPU, batch widths are rounded up to a multiple of this many frames: every new
#: width costs cuDNN a new kernel plan, and a first epoch of length-bucketed batches
#: meets a new width almost every batch (BENCHMARKS.md, "On a GPU"). Exact: the models
#: mask padding.
CUDA_WIDTH_MULTIPLE = 16


def batch_width(longest: int, multiple: int, limit: int) -> int:
    """``longest`` frames rounded up to a multiple of ``multiple``, at most ``limit``."""
    return min(-(-int(longest) // multiple) * multiple, limit)


def _batches(
    features,
    lengths,
    labels,
    batch_indices,
    *,
    device,
    width_multiple=None,
    offsets=None,
    augment=None,
):
    """Yield ``(features, lengths, labels)`` tensors, one per array of ``batch_indices``.

    Features are cut to the batch's longest item, rounded up to a multiple of
    ``width_multiple`` frames (default: :data:`CUDA_WIDTH_MULTIPLE` on a GPU, 1 on
    the CPU) within the store's width, and converted to float32 one batch at a
    time; ``labels`` may be None (then so are the yielded ones). ``augment``
    (a callable ``(features, lengths) -> features``) changes each batch first,
    then ``offsets`` (n_items, n_bins) are subtracted from each item's real
    frames.
    """
    if width_multiple is None:
        width_multiple = CUDA_WIDTH_MULTIPLE if torch.device(device).type == "cuda" else 1
    for batch in batch_indices:
        batch_lengths = lengths[batch].astype(np.int64)
        width = batch_width(batch_lengths.max(), width_multiple, features.shape[2])
        x = np.asarray(features[batch][:, :, :width], dtype=np.float32)
        if augment is not None:
            x = augment(x, batch_lengths)
        if offsets is not None:
            real = np.arange(width)[None, None, :] < batch_lengths[:, None, None]
            x = np.where(real, x - offsets[batch][:, :, None], 0.0).astype(np.float32)
        y = (
            None
            if labels is None
            else torch.as_tensor(labels[batch], dtype=torch.long, device=device)
        )
        yield torch.from_numpy(x).to(device), torch.from_numpy(batch_lengths), y


def _chunks(indices, batch_size):
    return [indices[start : start + batch_size] for start in range(0, len(indices), batch_size)]


def _length_sorted_batches(indices, lengths, batch_size):
    """Batches of ``indices`` in order of length (for evaluation, where order is free)."""
    indices = np.asarray(indices, dtype=np.int64)
    return _chunks(indices[np.argsort(lengths[indices], kind="stable")], batch_size)


def _epoch_batches(indices, lengths, *, batch_size, rng, bucket_by_length, window=16):
    """The batches of one training epoch.

    Without bucketing, consecutive slices of a random permutation. With it, the
    permutation is cut into windows of ``window`` batches, each window is
    sorted by length and cut into batches, and the batches are shuffled: the
    batches hold items of similar length yet differ from epoch to epoch.
    """
    order = rng.permutation(indices)
    if not bucket_by_length:
        return _chunks(order, batch_size)
    batches = []
    for start in range(0, len(order), batch_size * window):
        chunk = order[start : start + batch_size * window]
        batches.extend(_chunks(chunk[np.argsort(lengths[chunk], kind="stable")], batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _recording_adversary(config, model, recordings, labels, train_idx, n_classes, device):
    """The adversary of ``config.recording_adversary`` and each item's recording index.

    Returns ``(None, None)`` when the weight is 0. Recording indices number the
    training items' recordings in sorted order; other items get -1.
    """
    if config.recording_adversary <= 0:
        return None, None
    if not hasattr(model, "embed") or not hasattr(model, "head"):
        raise ValueError("recording_adversary needs a model with embed() and head")
    train_recordings = np.unique(recordings[train_idx])
    domains = np.full(len(recordings), -1, dtype=np.int64)
    position = {name: i for i, name in enumerate(train_recordings)}
    domains[train_idx] = [position[name] for name in recordings[train_idx]]
    singer_of = np.zeros(len(train_recordings), dtype=np.int64)
    singer_of[domains[train_idx]] = labels[train_idx]
    adversary = RecordingAdversary(
        embedding_size=model.embedding_size,
        recording_singer=singer_of,
        n_classes=n_classes,
        weight=config.recording_adversary,
    ).to(device)
    return adversary, domains


def _check_config(config: TrainConfig) -> None:
    if config.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {config.epochs}")
    if config.batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {config.batch_size}")
    if config.patience < 1:
        raise ValueError(f"patience must be at least 1, got {config.patience}")
    if config.threads is not None and config.threads < 1:
        raise ValueError(f"threads must be at least 1, got {config.threads}")
    if not isinstance(config.augmentation, AlbumAugmentation):
        raise ValueError("augmentation must be an AlbumAugmentation")
    if config.hop_s <= 0 or config.log_scale <= 0:
        raise ValueError("hop_s and log_scale must be positive")
    if not (np.isfinite(config.recording_adversary) and config.recording_adversary >= 0):
        raise ValueError(
            f"recording_adversary must be finite and >= 0, got {config.recording_adversary}"
        )


def _check_data(features, lengths, labels, train_idx, val_idx, n_classes) -> None:
    if features.ndim != 3:
        raise ValueError(
            f"features must be (n_items, n_bins, n_frames), got shape {features.shape}"
        )
    n_items, _, n_frames = features.shape
    if lengths.shape != (n_items,) or labels.shape != (n_items,):
        raise ValueError(f"lengths and labels must have shape ({n_items},)")
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise ValueError("train_idx and val_idx must not be empty")
    for name, indices in (("train_idx", train_idx), ("val_idx", val_idx)):
        if indices.min() < 0 or indices.max() >= n_items:
            raise ValueError(f"{name} has indices outside 0..{n_items - 1}")
    used = np.concatenate([train_idx, val_idx])
    if lengths[used].min() < 1 or lengths[used].max() > n_frames:
        raise ValueError(f"lengths must be in 1..{n_frames}")
    if labels[used].min() < 0 or labels[used].max() >= n_classes:
        raise ValueError(f"labels must be in 0..{n_classes - 1}")


def _fingerprint(model_name, options, n_classes, config, train_idx, val_idx) -> dict:
    """What a checkpoint must share with the run that resumes it."""
    split = hashlib.sha256()
    split.update(train_idx.astype("<i8").tobytes())
    split.update(b"|")
    split.update(val_idx.astype("<i8").tobytes())
    return {
        "model_name": model_name,
        "model_options": options,
        "n_classes": int(n_classes),
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "patience": config.patience,
        "seed": config.seed,
        "bucket_by_length": config.bucket_by_length,
        "augmentation": config.augmentation.to_dict(),
        "hop_s": config.hop_s,
        "log_scale": config.log_scale,
        "recording_normalization": config.recording_normalization,
        "recording_adversary": config.recording_adversary,
        "split_sha256": split.hexdigest(),
    }


def _save_checkpoint(
    path, state, fingerprint, model, optimizer, scaler, device, adversary=None
) -> None:
    checkpoint = {
        "format": _CHECKPOINT_FORMAT,
        "fingerprint": fingerprint,
        **state,
        "model_state": _cpu_copy(model.state_dict()),
        "adversary_state": None if adversary is None else _cpu_copy(adversary.state_dict()),
        "optimizer_state": optimizer.state_dict(),
        "scaler_state": None if scaler is None else scaler.state_dict(),
        "torch_rng_state": torch.get_rng_state(),
        "cuda_rng_state": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
    }
    _atomic_save(checkpoint, path)


def _resume(path, fingerprint, config, model, optimizer, scaler, device, adversary=None) -> dict:
    """Load a checkpoint into the model, optimiser, scaler and RNGs; return the run state."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a cantaor training checkpoint")
    differing = sorted(
        key for key in fingerprint if checkpoint["fingerprint"].get(key) != fingerprint[key]
    )
    if differing:
        raise ValueError(f"checkpoint {path} belongs to a different run (differs in {differing})")
    if checkpoint["epoch"] > config.epochs:
        raise ValueError(
            f"checkpoint {path} has {checkpoint['epoch']} epochs, more than epochs={config.epochs}"
        )
    model.load_state_dict(checkpoint["model_state"])
    if adversary is not None:
        adversary.load_state_dict(checkpoint["adversary_state"])
    optimizer.load_state_dict(checkpoint["optimizer_state"])
    if scaler.is_enabled() and checkpoint["scaler_state"] is not None:
        scaler.load_state_dict(checkpoint["scaler_state"])
    torch.set_rng_state(checkpoint["torch_rng_state"])
    if device.type == "cuda" and checkpoint["cuda_rng_state"] is not None:
        torch.cuda.set_rng_state(checkpoint["cuda_rng_state"], device)
    state = {key: checkpoint[key] for key in _STATE_KEYS if key in checkpoint}
    # Checkpoints written before attempts were counted: one attempt so far.
    state.setdefault("attempt", 1)
    history = state["history"]
    history.setdefault("attempt", [1] * len(history["epoch"]))
    history.setdefault("cumulative_seconds", np.cumsum(history["seconds"], dtype=float).tolist())
    return state


def _atomic_save(obj, path) -> None:
    """torch.save to a temporary file, then rename, so readers never see half a file."""
    with atomic_path(path) as temporary:
        torch.save(obj, temporary)


def _cpu_copy(state_dict) -> dict:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in state_dict.items()}
