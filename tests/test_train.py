"""Tests of training, prediction and model files, on tiny synthetic data."""

import numpy as np
import pandas as pd
import pytest
import torch

from cantaor.models import build_model
from cantaor.training.loop import (
    HISTORY_COLUMNS,
    TIMING_COLUMNS,
    TrainConfig,
    load_model,
    normalization_statistics,
    predict_proba,
    resolve_device,
    save_model,
    train_model,
)

N_ITEMS, N_BINS, N_FRAMES, N_CLASSES = 150, 16, 40, 3
OPTIONS = {"channels": 4, "lstm_hidden": 16, "fc_units": 32}
TRAIN_IDX = np.arange(0, 90)
VAL_IDX = np.arange(90, 150)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A float16 memmap feature store where each class lights up its own bins."""
    rng = np.random.default_rng(0)
    labels = np.arange(N_ITEMS) % N_CLASSES
    rng.shuffle(labels)
    lengths = rng.integers(6, N_FRAMES + 1, N_ITEMS)
    path = tmp_path_factory.mktemp("store") / "features.f16"
    features = np.memmap(path, dtype=np.float16, mode="w+", shape=(N_ITEMS, N_BINS, N_FRAMES))
    for i in range(N_ITEMS):
        item = rng.normal(-20.0, 2.0, (N_BINS, lengths[i]))
        item[5 * labels[i] : 5 * labels[i] + 4] += 6.0
        features[i, :, : lengths[i]] = item  # the rest stays zero padding
    features.flush()
    return {"features": features, "lengths": lengths, "labels": labels.astype(np.int64)}


def _config(**options) -> TrainConfig:
    # One thread: these models are tiny, and a second thread only adds
    # contention when other work shares the machine.
    return TrainConfig(batch_size=16, threads=1, **options)


def _train(store, *, labels=None, config=None, **kwargs):
    return train_model(
        features=store["features"],
        lengths=store["lengths"],
        labels=store["labels"] if labels is None else labels,
        train_idx=TRAIN_IDX,
        val_idx=VAL_IDX,
        n_classes=N_CLASSES,
        model_options=OPTIONS,
        config=config or _config(epochs=3),
        **kwargs,
    )


def _assert_same_run(a, b):
    columns = [c for c in HISTORY_COLUMNS if c not in TIMING_COLUMNS]
    pd.testing.assert_frame_equal(a.history[columns], b.history[columns], check_exact=True)
    assert a.best_epoch == b.best_epoch and a.stopped_early == b.stopped_early
    state_a, state_b = a.model.state_dict(), b.model.state_dict()
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name


def test_model_learns_separable_classes(store):
    lines = []
    result = _train(store, config=_config(epochs=10, patience=3), log=lines.append)
    history = result.history
    assert list(history.columns) == HISTORY_COLUMNS
    assert history["val_accuracy"].max() >= 0.8  # chance is 1/3
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert result.device == "cpu"
    assert not result.model.training
    assert len(lines) == len(history) and lines[0].startswith("epoch 1/10")
    # The restored model is the best epoch's.
    proba = predict_proba(
        result.model, features=store["features"], lengths=store["lengths"], indices=VAL_IDX
    )
    accuracy = float(np.mean(proba.argmax(axis=1) == store["labels"][VAL_IDX]))
    assert accuracy == pytest.approx(history["val_accuracy"].iloc[result.best_epoch - 1])


def test_normalisation_comes_from_training_frames(store):
    result = _train(store, config=_config(epochs=1))
    mean, std = normalization_statistics(
        store["features"], store["lengths"], TRAIN_IDX, batch_size=7
    )
    frames = np.concatenate(
        [store["features"][i, :, : store["lengths"][i]] for i in TRAIN_IDX], axis=1
    ).astype(np.float64)
    np.testing.assert_allclose(mean, frames.mean(axis=1), rtol=1e-10)
    np.testing.assert_allclose(std, frames.std(axis=1), rtol=1e-8)
    np.testing.assert_allclose(result.model.norm_mean.numpy(), mean, rtol=1e-6)
    np.testing.assert_allclose(result.model.norm_std.numpy(), std, rtol=1e-6)


def test_early_stopping_watches_validation_loss(store):
    # Validation labels contradict the training labels, so learning makes
    # the validation loss rise while the training loss falls.
    labels = store["labels"].copy()
    labels[VAL_IDX] = (labels[VAL_IDX] + 1) % N_CLASSES
    lines = []
    config = _config(epochs=20, patience=2)
    result = _train(store, labels=labels, config=config, log=lines.append)
    history = result.history
    assert result.stopped_early
    assert len(history) == result.best_epoch + 2 < 20
    best_loss = history["val_loss"].iloc[result.best_epoch - 1]
    assert (history["val_loss"].iloc[result.best_epoch :] >= best_loss).all()
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert "early stop" in lines[-1]
    # The weights returned are the best epoch's, not the last epoch's.
    proba = predict_proba(
        result.model, features=store["features"], lengths=store["lengths"], indices=VAL_IDX
    )
    loss = -np.mean(np.log(proba[np.arange(len(VAL_IDX)), labels[VAL_IDX]]))
    assert loss == pytest.approx(best_loss, rel=1e-5)


def test_training_is_deterministic(store):
    first = _train(store)
    second = _train(store)
    _assert_same_run(first, second)
    other_seed = _train(store, config=_config(epochs=3, seed=1))
    assert not other_seed.history["train_loss"].equals(first.history["train_loss"])


def test_resumed_run_equals_uninterrupted_run(store, tmp_path):
    config = _config(epochs=4, patience=10)
    uninterrupted = _train(store, config=config)

    checkpoint = tmp_path / "run" / "checkpoint.pt"
    interrupted = _train(store, config=_config(epochs=2, patience=10), checkpoint_path=checkpoint)
    assert len(interrupted.history) == 2 and checkpoint.exists()
    lines = []
    resumed = _train(store, config=config, checkpoint_path=checkpoint, log=lines.append)
    assert lines[0].startswith("resumed") and len(lines) == 3
    _assert_same_run(resumed, uninterrupted)
    assert [p.name for p in checkpoint.parent.iterdir()] == ["checkpoint.pt"]
    # the training time of both attempts is kept, epoch by epoch
    history = resumed.history
    assert history["attempt"].tolist() == [1, 1, 2, 2]
    assert history["seconds"].iloc[:2].tolist() == interrupted.history["seconds"].tolist()
    np.testing.assert_allclose(history["cumulative_seconds"], history["seconds"].cumsum())
    assert uninterrupted.history["attempt"].tolist() == [1, 1, 1, 1]

    with pytest.raises(ValueError, match="seed"):
        _train(
            store,
            config=_config(epochs=4, patience=10, seed=5),
            checkpoint_path=checkpoint,
        )


def test_predict_proba_rows_are_distributions_in_index_order(store):
    torch.manual_seed(0)
    result = _train(store, config=_config(epochs=1))
    indices = np.array([5, 100, 7, 149, 0])
    kwargs = {"features": store["features"], "lengths": store["lengths"], "batch_size": 2}
    proba = predict_proba(result.model, indices=indices, **kwargs)
    assert proba.shape == (5, N_CLASSES) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    reversed_proba = predict_proba(result.model, indices=indices[::-1], **kwargs)
    np.testing.assert_allclose(reversed_proba[::-1], proba, rtol=1e-5)
    assert predict_proba(result.model, indices=np.array([], dtype=int), **kwargs).shape == (0, 3)


def test_saved_model_predicts_identically(store, tmp_path):
    result = _train(store, config=_config(epochs=1))
    path = tmp_path / "model.pt"
    classes = ["EM", "AM", "TP"]
    save_model(
        path,
        model=result.model,
        model_name="residual_blstm",
        model_options=result.model_options,
        n_classes=N_CLASSES,
        classes=classes,
        extra={"feature": "logmel", "best_epoch": result.best_epoch},
    )
    loaded, metadata = load_model(path)
    assert metadata["classes"] == classes and metadata["extra"]["feature"] == "logmel"
    assert metadata["model_options"]["n_bins"] == N_BINS
    kwargs = {"features": store["features"], "lengths": store["lengths"], "indices": VAL_IDX}
    np.testing.assert_array_equal(
        predict_proba(loaded, **kwargs), predict_proba(result.model, **kwargs)
    )
    with pytest.raises(ValueError, match="model_options"):
        save_model(
            tmp_path / "bad.pt",
            model=result.model,
            model_name="residual_blstm",
            model_options=OPTIONS,  # lacks n_bins=16, so it would rebuild a 128-bin model
            n_classes=N_CLASSES,
            classes=classes,
            extra={},
        )


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ValueError):
        resolve_device("tpu")


def test_bad_inputs_are_rejected(store):
    labels = store["labels"].copy()
    labels[0] = N_CLASSES
    with pytest.raises(ValueError, match="labels"):
        _train(store, labels=labels)
    with pytest.raises(ValueError, match="n_bins"):
        train_model(
            features=store["features"],
            lengths=store["lengths"],
            labels=store["labels"],
            train_idx=TRAIN_IDX,
            val_idx=VAL_IDX,
            n_classes=N_CLASSES,
            model_options={**OPTIONS, "n_bins": 128},
        )


@pytest.mark.parametrize("bucket_by_length", [True, False])
def test_epoch_batches_cover_every_item_once(bucket_by_length):
    from cantaor.training.loop import _epoch_batches

    lengths = np.random.default_rng(1).integers(1, 400, 1000)
    indices = np.arange(1000)
    batches = _epoch_batches(
        indices,
        lengths,
        batch_size=64,
        rng=np.random.default_rng(0),
        bucket_by_length=bucket_by_length,
    )
    assert sorted(np.concatenate(batches).tolist()) == indices.tolist()
    assert all(len(batch) <= 64 for batch in batches)
    padded = sum(len(batch) * lengths[batch].max() for batch in batches)
    # bucketing pads far less than random batches (whose longest item is near the maximum)
    if bucket_by_length:
        assert padded < 0.7 * 1000 * 399
    else:
        assert padded > 0.9 * sum(len(batch) for batch in batches) * 380


def test_unbucketed_training_also_learns(store):
    result = _train(store, config=_config(epochs=3, bucket_by_length=False))
    assert result.history["val_accuracy"].iloc[-1] > 0.6


def test_gpu_batch_widths_are_rounded_up_without_changing_the_output(store):
    from cantaor.training.loop import CUDA_WIDTH_MULTIPLE, _batches

    assert CUDA_WIDTH_MULTIPLE == 16
    features, lengths = store["features"], store["lengths"]
    groups = [np.arange(0, 7), np.arange(7, 20), np.array([int(np.argmax(lengths))])]
    torch.manual_seed(0)
    model = build_model("residual_blstm", n_classes=N_CLASSES, n_bins=N_BINS, **OPTIONS).eval()
    plain = list(_batches(features, lengths, None, groups, device="cpu"))
    rounded = list(_batches(features, lengths, None, groups, device="cpu", width_multiple=16))
    for batch, (x, batch_lengths, _), (wide, wide_lengths, _) in zip(groups, plain, rounded):
        longest = int(lengths[batch].max())
        assert x.shape[2] == longest
        assert wide.shape[2] == min(-(-longest // 16) * 16, N_FRAMES)
        assert torch.equal(wide[:, :, :longest], x) and not wide[:, :, longest:].any()
        assert torch.equal(wide_lengths, batch_lengths)
        with torch.no_grad():
            torch.testing.assert_close(model(wide, wide_lengths), model(x, batch_lengths))
