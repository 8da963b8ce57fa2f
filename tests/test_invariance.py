"""Tests of the invariance options of training: album augmentation, per-recording
normalisation and the recording adversary (issue 19)."""

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.models.adversary import RecordingAdversary, reverse_gradient
from cantaor.training.augment import NEPER_PER_DB, AlbumAugmentation, augment_batch
from cantaor.training.recording_norm import recording_offsets

N_BINS, N_FRAMES = 24, 30
#: Every effect off: tests switch on one at a time.
NONE = dict(
    probability=1.0,
    effect_probability=1.0,
    gain_db=0.0,
    tilt_db=0.0,
    band_limit=0.0,
    reverb_s=0.0,
    noise_snr_db=None,
    key_shift_bins=0.0,
    lossy_step_db=0.0,
)


def _batch(seed=0, n_items=6):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, N_FRAMES + 1, n_items)
    x = np.zeros((n_items, N_BINS, N_FRAMES), dtype=np.float32)
    for i, n in enumerate(lengths):
        x[i, :, :n] = rng.normal(-8.0, 2.0, (N_BINS, n))
    return x, lengths


def _real(lengths):
    """Mask of real frames, shape (n_items, N_BINS, N_FRAMES)."""
    mask = np.arange(N_FRAMES)[None, None, :] < lengths[:, None, None]
    return np.broadcast_to(mask, (len(lengths), N_BINS, N_FRAMES))


def test_augmentation_off_copies_the_batch():
    x, lengths = _batch()
    out = augment_batch(x, lengths, np.random.default_rng(0), AlbumAugmentation())
    assert out is not x and np.array_equal(out, x)


@pytest.mark.parametrize("seed", [0, 1])
def test_every_effect_keeps_padding_zero_and_is_seeded(seed):
    x, lengths = _batch(seed)
    options = AlbumAugmentation(probability=1.0, effect_probability=1.0)
    first = augment_batch(x, lengths, np.random.default_rng([seed, 3]), options)
    again = augment_batch(x, lengths, np.random.default_rng([seed, 3]), options)
    other = augment_batch(x, lengths, np.random.default_rng([seed, 4]), options)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.all(first[~_real(lengths)] == 0)
    assert np.isfinite(first).all() and first.dtype == np.float32
    assert not np.array_equal(first, x)


def test_probability_is_the_share_of_items_changed():
    x, lengths = _batch(n_items=400)
    options = AlbumAugmentation(**(NONE | {"probability": 0.3, "gain_db": 6.0}))
    out = augment_batch(x, lengths, np.random.default_rng(0), options)
    changed = np.array([not np.array_equal(out[i], x[i]) for i in range(len(x))])
    assert 0.22 < changed.mean() < 0.38


def test_gain_is_one_constant_within_its_range():
    x, lengths = _batch()
    out = augment_batch(
        x, lengths, np.random.default_rng(0), AlbumAugmentation(**(NONE | {"gain_db": 6.0}))
    )
    for i, n in enumerate(lengths):
        difference = (out[i, :, :n] - x[i, :, :n]).astype(np.float64)
        assert np.ptp(difference) < 1e-4
        assert abs(difference.mean()) <= 6.0 * NEPER_PER_DB + 1e-5


def test_tilt_is_a_straight_line_through_the_middle_bin():
    x, lengths = _batch()
    out = augment_batch(
        x, lengths, np.random.default_rng(0), AlbumAugmentation(**(NONE | {"tilt_db": 10.0}))
    )
    for i, n in enumerate(lengths):
        difference = (out[i, :, :n] - x[i, :, :n]).astype(np.float64)
        per_bin = difference.mean(axis=1)
        assert np.allclose(difference, per_bin[:, None], atol=1e-4)
        slope, intercept = np.polyfit(np.arange(N_BINS) - (N_BINS - 1) / 2, per_bin, 1)
        assert np.allclose(per_bin, slope * (np.arange(N_BINS) - (N_BINS - 1) / 2), atol=1e-4)
        assert abs(slope * (N_BINS - 1)) <= 10.0 * NEPER_PER_DB + 1e-4
        assert abs(intercept) < 1e-4


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), slope=st.floats(-0.3, 0.3), offset=st.floats(-15.0, 0.0))
def test_key_shift_moves_a_linear_spectrum_along_the_bins(seed, slope, offset):
    # On a spectrum linear in the bin index, interpolation is exact: a shift by
    # s bins subtracts slope * s in the interior bins (the edges are held);
    # values stay above the log-power floor, where the output is clipped.
    lengths = np.array([N_FRAMES])
    x = np.zeros((1, N_BINS, N_FRAMES), dtype=np.float32)
    x[0] = (offset + slope * np.arange(N_BINS))[:, None]
    options = AlbumAugmentation(**(NONE | {"key_shift_bins": 2.0}))
    out = augment_batch(x, lengths, np.random.default_rng(seed), options)
    shift = (x[0, 10, 0] - out[0, 10, 0]) / slope if abs(slope) > 1e-3 else 0.0
    assert abs(shift) <= 2.0 + 1e-3
    interior = slice(3, N_BINS - 3)
    expected = (offset + slope * (np.arange(N_BINS) - shift))[interior]
    assert np.allclose(out[0, interior, 0], expected, atol=1e-3)


def test_reverb_only_adds_power_and_its_tail_decays():
    lengths = np.array([N_FRAMES])
    x = np.full((1, N_BINS, N_FRAMES), -20.0, dtype=np.float32)
    x[0, :, 5] = 0.0  # an impulse over a quiet floor
    out = augment_batch(
        x, lengths, np.random.default_rng(0), AlbumAugmentation(**(NONE | {"reverb_s": 1.0}))
    )
    assert np.all(out >= x - 1e-5)
    # The tail adds at most the power that came before (wet <= 1): the quiet
    # floor before the impulse at most doubles, the impulse stays itself.
    assert np.all(out[0, :, :6] <= x[0, :, :6] + np.log(2.0) + 1e-5)
    tail = out[0, 0, 6:]
    assert tail[0] > -20.0 + 5.0 and np.all(np.diff(tail) <= 1e-5)


def test_noise_only_adds_power():
    x, lengths = _batch()
    out = augment_batch(
        x, lengths, np.random.default_rng(0), AlbumAugmentation(**(NONE | {"noise_snr_db": 0.0}))
    )
    real = _real(lengths)
    assert np.all(out[real] >= x[real] - 1e-5) and np.any(out[real] > x[real] + 0.1)


def test_band_limits_only_remove_power_at_the_edges():
    x, lengths = _batch(n_items=50)
    options = AlbumAugmentation(**(NONE | {"band_limit": 0.5}))
    out = augment_batch(x, lengths, np.random.default_rng(0), options)
    real = _real(lengths)
    assert np.all(out[real] <= x[real] + 1e-5)
    lost = np.where(real, x - out, 0.0).sum(axis=(0, 2))
    middle = N_BINS // 2 - 1  # within the band any high-pass cut leaves (an eighth of the bins)
    assert lost[middle] < 1e-3 and lost[-1] > lost[middle]


def test_lossy_coding_quantises_within_its_step():
    x, lengths = _batch()
    out = augment_batch(
        x, lengths, np.random.default_rng(0), AlbumAugmentation(**(NONE | {"lossy_step_db": 3.0}))
    )
    for i, n in enumerate(lengths):
        values = np.unique(np.round(out[i, : N_BINS // 2, :n], 4))
        # few levels: every value sits on a grid no finer than half the step
        gaps = np.diff(values)
        assert gaps.min() >= 0.5 * 3.0 * NEPER_PER_DB * 0.99


def test_bad_augmentation_options_are_rejected():
    with pytest.raises(ValueError, match="probability"):
        AlbumAugmentation(probability=1.5)
    with pytest.raises(ValueError, match="gain_db"):
        AlbumAugmentation(gain_db=-1.0)
    x, lengths = _batch()
    with pytest.raises(ValueError, match="lengths"):
        augment_batch(x, lengths[:2], np.random.default_rng(0), AlbumAugmentation())


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_items=st.integers(1, 12),
    batch_size=st.integers(1, 5),
)
def test_recording_offsets_match_a_brute_force_mean(seed, n_items, batch_size):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, N_FRAMES + 1, n_items)
    recordings = rng.choice(["a", "b", "c"], n_items)
    features = np.zeros((n_items, N_BINS, N_FRAMES), dtype=np.float16)
    for i, n in enumerate(lengths):
        features[i, :, :n] = rng.normal(-5.0, 3.0, (N_BINS, n))
    offsets = recording_offsets(features, lengths, recordings, batch_size=batch_size)
    for i in range(n_items):
        frames = np.concatenate(
            [
                features[j, :, : lengths[j]].astype(np.float64)
                for j in range(n_items)
                if recordings[j] == recordings[i]
            ],
            axis=1,
        )
        assert np.allclose(offsets[i], frames.mean(axis=1), atol=1e-4)


def test_recording_offsets_reject_bad_lengths():
    with pytest.raises(ValueError, match="lengths"):
        recording_offsets(np.zeros((2, 3, 4)), [1, 5], ["a", "b"])


def test_gradient_reversal_flips_and_scales_the_gradient():
    x = torch.randn(4, 3, requires_grad=True)
    (reverse_gradient(x, 0.7) * 2.0).sum().backward()
    assert torch.allclose(x.grad, torch.full_like(x, -1.4))


def test_adversary_guesses_only_among_the_singers_own_recordings():
    torch.manual_seed(0)
    # recordings 0, 1 belong to singer 0; recording 2 to singer 1 (alone)
    adversary = RecordingAdversary(embedding_size=5, recording_singer=[0, 0, 1], n_classes=2)
    embedding = torch.randn(6, 5)
    singers = torch.tensor([0, 0, 1, 1, 0, 1])
    logits = adversary(embedding, singers)
    assert torch.isinf(logits[singers == 0][:, 2]).all()
    assert torch.isinf(logits[singers == 1][:, :2]).all()
    # a singer with one recording gives the adversary nothing to learn
    alone = adversary.loss(embedding[[2, 3]], singers[[2, 3]], torch.tensor([2, 2]))
    assert float(alone.detach()) == 0.0
    assert float(adversary.loss(embedding, singers, torch.full((6,), -1))) == 0.0


def test_adversary_pushes_the_embedding_against_the_recording():
    # One step on the embedding alone: the adversary's loss rises (reversed
    # gradient), while the same step without reversal would lower it.
    torch.manual_seed(0)
    singers = torch.zeros(8, dtype=torch.long)
    recordings = torch.tensor([0, 1] * 4)
    base = torch.randn(8, 5)

    def loss_after_step(weight):
        adversary = RecordingAdversary(
            embedding_size=5, recording_singer=[0, 0], n_classes=1, weight=weight
        )
        torch.manual_seed(1)
        adversary.head.apply(
            lambda m: m.reset_parameters() if isinstance(m, torch.nn.Linear) else None
        )
        embedding = base.clone().requires_grad_(True)
        adversary.loss(embedding, singers, recordings).backward()
        with torch.no_grad():
            moved = embedding - 0.5 * embedding.grad
            return float(adversary.loss(moved, singers, recordings)), float(
                adversary.loss(base, singers, recordings)
            )

    after, before = loss_after_step(1.0)
    assert after > before


def test_bad_adversary_inputs_are_rejected():
    with pytest.raises(ValueError, match="recording_singer"):
        RecordingAdversary(embedding_size=4, recording_singer=[0, 3], n_classes=2)
    with pytest.raises(ValueError, match="weight"):
        RecordingAdversary(embedding_size=4, recording_singer=[0], n_classes=1, weight=-1.0)


def test_offsets_table_matches_pandas_groupby():
    # The same mean through pandas (one row per real frame) as a second reference.
    rng = np.random.default_rng(5)
    lengths = np.array([3, 5, 2, 4])
    recordings = np.array(["r1", "r2", "r1", "r2"])
    features = np.zeros((4, 2, 6), dtype=np.float32)
    rows = []
    for i, n in enumerate(lengths):
        features[i, :, :n] = rng.normal(size=(2, n))
        for t in range(n):
            rows.append(
                {"recording": recordings[i], "b0": features[i, 0, t], "b1": features[i, 1, t]}
            )
    expected = pd.DataFrame(rows).groupby("recording")[["b0", "b1"]].mean()
    offsets = recording_offsets(features, lengths, recordings)
    assert np.allclose(offsets, expected.loc[recordings].to_numpy(), atol=1e-6)


# ---- the options inside the training loop, on a tiny store ----------------------------

N_ITEMS, N_CLASSES = 96, 3
TRAIN_IDX, VAL_IDX = np.arange(0, 64), np.arange(64, 96)
MODEL = {"channels": 4, "lstm_hidden": 8, "fc_units": 16}


@pytest.fixture(scope="module")
def store():
    """Three singers x four recordings; each recording adds its own channel offset."""
    rng = np.random.default_rng(0)
    recordings = np.array([f"S{i % 3}_R{(i // 3) % 4}" for i in range(N_ITEMS)])
    labels = np.array([int(name[1]) for name in recordings])
    lengths = rng.integers(4, N_FRAMES + 1, N_ITEMS)
    channel = {name: rng.normal(0.0, 2.0, N_BINS) for name in np.unique(recordings)}
    features = np.zeros((N_ITEMS, N_BINS, N_FRAMES), dtype=np.float32)
    for i in range(N_ITEMS):
        item = rng.normal(-10.0, 1.0, (N_BINS, lengths[i])) + channel[recordings[i]][:, None]
        item[6 * labels[i] : 6 * labels[i] + 4] += 3.0
        features[i, :, : lengths[i]] = item
    return {"features": features, "lengths": lengths, "labels": labels, "recordings": recordings}


ALL_OPTIONS = dict(
    augmentation=AlbumAugmentation(probability=0.8),
    recording_normalization=True,
    recording_adversary=0.5,
)


def _train_tiny(store, checkpoint_path=None, with_recordings=True, **options):
    from cantaor.training.loop import TrainConfig, train_model

    return train_model(
        features=store["features"],
        lengths=store["lengths"],
        labels=store["labels"],
        train_idx=TRAIN_IDX,
        val_idx=VAL_IDX,
        n_classes=N_CLASSES,
        model_options=MODEL,
        recordings=store["recordings"] if with_recordings else None,
        config=TrainConfig(batch_size=16, threads=1, **(dict(epochs=3, patience=10) | options)),
        checkpoint_path=checkpoint_path,
    )


def _same_weights(a, b):
    return all(torch.equal(a[name], b[name]) for name in a)


def test_training_with_every_option_is_deterministic_and_differs_from_plain(store):
    first = _train_tiny(store, **ALL_OPTIONS)
    again = _train_tiny(store, **ALL_OPTIONS)
    plain = _train_tiny(store)
    assert _same_weights(first.model.state_dict(), again.model.state_dict())
    assert first.history["train_loss"].tolist() == again.history["train_loss"].tolist()
    assert first.history["train_loss"].tolist() != plain.history["train_loss"].tolist()
    for option, value in ALL_OPTIONS.items():  # each option alone changes the run too
        alone = _train_tiny(store, **{option: value})
        assert alone.history["train_loss"].tolist() != plain.history["train_loss"].tolist()


def test_resumed_run_with_every_option_equals_uninterrupted_run(store, tmp_path):
    uninterrupted = _train_tiny(store, epochs=4, **ALL_OPTIONS)
    checkpoint = tmp_path / "checkpoint.pt"
    _train_tiny(store, checkpoint_path=checkpoint, epochs=2, **ALL_OPTIONS)
    resumed = _train_tiny(store, checkpoint_path=checkpoint, epochs=4, **ALL_OPTIONS)
    assert _same_weights(uninterrupted.model.state_dict(), resumed.model.state_dict())
    assert uninterrupted.history["val_loss"].tolist() == resumed.history["val_loss"].tolist()
    with pytest.raises(ValueError, match="recording_adversary"):
        _train_tiny(
            store,
            checkpoint_path=checkpoint,
            epochs=4,
            **(ALL_OPTIONS | {"recording_adversary": 0.1}),
        )


def test_recording_normalisation_uses_recording_means_in_training_and_prediction(store):
    from cantaor.training.loop import normalization_statistics, predict_proba

    result = _train_tiny(store, recording_normalization=True)
    offsets = recording_offsets(store["features"], store["lengths"], store["recordings"])
    # the model's input standardisation was computed on the normalised training frames
    mean, _ = normalization_statistics(
        store["features"], store["lengths"], TRAIN_IDX, offsets=offsets
    )
    assert np.allclose(result.model.norm_mean.numpy(), mean, atol=1e-5)
    # predicting with offsets equals predicting on features with the means taken away
    shifted = store["features"] - offsets[:, :, None]
    shifted *= np.arange(N_FRAMES)[None, None, :] < store["lengths"][:, None, None]
    common = dict(lengths=store["lengths"], indices=VAL_IDX, device="cpu")
    with_offsets = predict_proba(
        result.model, features=store["features"], offsets=offsets, **common
    )
    by_hand = predict_proba(result.model, features=shifted.astype(np.float32), **common)
    assert np.allclose(with_offsets, by_hand, atol=1e-5)


def test_options_that_need_recordings_say_so(store):
    for options in ({"recording_normalization": True}, {"recording_adversary": 1.0}):
        with pytest.raises(ValueError, match="recording of every item"):
            _train_tiny(store, with_recordings=False, epochs=1, **options)
    with pytest.raises(ValueError, match="recording_adversary"):
        _train_tiny(store, recording_adversary=-1.0)


def test_model_offsets_follow_the_model_file(store):
    from cantaor.training.jobs import model_offsets

    args = (store["features"], store["lengths"], store["recordings"])
    assert model_offsets({"extra": {}}, *args) is None
    assert model_offsets({"extra": {"recording_normalization": False}}, *args) is None
    offsets = model_offsets({"extra": {"recording_normalization": True}}, *args)
    assert np.array_equal(offsets, recording_offsets(*args))
