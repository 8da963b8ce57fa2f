"""Tests of the Residual-BLSTM model and the model registry."""

import math

import pytest
import torch
from torch import nn

from cantaor.models import MODELS, ResidualBLSTM, build_model, count_parameters
from cantaor.models.residual_blstm import _MaskedBatchNorm2d, _MaskedBatchNormFunction

SMALL = {"n_bins": 16, "channels": 4, "lstm_hidden": 8, "fc_units": 16}


def _padded(batch: int, n_bins: int, lengths: list[int], n_frames: int, seed: int = 0):
    """Random features (batch, n_bins, n_frames), zero after each item's length."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, n_bins, n_frames, generator=generator)
    mask = torch.arange(n_frames)[None, :] < torch.tensor(lengths)[:, None]
    return x * mask[:, None, :]


def _trained_statistics(model: nn.Module, n_bins: int) -> nn.Module:
    """Give the model non-trivial normalisation and batch-norm running statistics."""
    generator = torch.Generator().manual_seed(1)
    model.set_normalization(torch.randn(n_bins, generator=generator), torch.rand(n_bins) + 0.5)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(3.0 * _padded(4, n_bins, [20, 13, 7, 3], 20, seed=2) + 1.0, [20, 13, 7, 3])
    return model.eval()


def test_registry_builds_and_rejects_unknown_names():
    model = build_model("residual_blstm", n_classes=3, **SMALL)
    assert isinstance(model, ResidualBLSTM)
    assert MODELS == {"residual_blstm": ResidualBLSTM}
    with pytest.raises(ValueError, match="residual_blstm"):
        build_model("crnn", n_classes=3)


def test_output_shapes():
    torch.manual_seed(0)
    model = build_model("residual_blstm", n_classes=5, **SMALL).eval()
    x = _padded(3, 16, [25, 10, 1], 25)
    assert model(x, [25, 10, 1]).shape == (3, 5)
    assert model(x).shape == (3, 5)
    assert model.embed(x, [25, 10, 1]).shape == (3, 2 * SMALL["lstm_hidden"])


def test_parameter_count_of_default_model():
    model = build_model("residual_blstm", n_classes=5)
    conv = (1 * 32 * 9 + 32 * 32 * 9 + 32) + 2 * 32 * 32 * 9  # block 1 (+1x1 shortcut), block 2
    batch_norm = 5 * 2 * 32
    lstm_input = 32 * 64  # channels x bins after the stride-2 convolution
    lstm = 2 * (4 * 128 * (lstm_input + 128) + 2 * 4 * 128)
    head = (256 * 1024 + 1024) + (1024 * 5 + 5)
    assert count_parameters(model) == conv + batch_norm + lstm + head == 2_526_853
    # Normalisation and running statistics are buffers, not parameters.
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())


def test_first_block_has_stride_two_and_the_rest_stride_one():
    model = build_model("residual_blstm", n_classes=2, n_blocks=3, **SMALL)
    first = model.blocks[0]
    assert first.conv1.kernel_size == (3, 3) and first.conv1.stride == (2, 2)
    assert first.shortcut_conv.kernel_size == (1, 1) and first.shortcut_conv.stride == (2, 2)
    assert first.conv2.kernel_size == (3, 3) and first.conv2.stride == (1, 1)
    for block in model.blocks[1:]:
        for conv in (block.conv1, block.conv2):
            assert conv.kernel_size == (3, 3) and conv.stride == (1, 1)
        assert block.shortcut_conv is None


def test_identity_shortcut_is_added():
    torch.manual_seed(0)
    block = build_model("residual_blstm", n_classes=2, **SMALL).blocks[1].eval()
    # With the residual branch silenced, the block passes its (non-negative) input through.
    nn.init.zeros_(block.bn2.weight)
    nn.init.zeros_(block.bn2.bias)
    x = torch.relu(torch.randn(2, SMALL["channels"], 8, 6))
    mask = torch.ones(2, 1, 1, 6)
    torch.testing.assert_close(block(x, mask), x)


def test_lstm_runs_over_halved_time_with_packed_lengths():
    torch.manual_seed(0)
    model = build_model("residual_blstm", n_classes=2, **SMALL).eval()
    seen = {}
    model.lstm.register_forward_hook(lambda module, inputs, output: seen.update(packed=inputs[0]))
    lengths = [21, 8, 1]
    model(_padded(3, 16, lengths, 21), lengths)
    packed = seen["packed"]
    assert isinstance(packed, nn.utils.rnn.PackedSequence)
    assert packed.data.shape[1] == SMALL["channels"] * 8  # channels x (16 bins / 2)
    assert len(packed.batch_sizes) == math.ceil(21 / 2)
    assert int(packed.batch_sizes.sum()) == sum(math.ceil(n / 2) for n in lengths)


def test_frame_order_and_lengths_change_the_output():
    torch.manual_seed(0)
    model = build_model("residual_blstm", n_classes=3, **SMALL).eval()
    x = _padded(2, 16, [30, 30], 30)
    with torch.no_grad():
        reference = model(x)
        reversed_time = model(x.flip(-1))
        shorter = model(x, [30, 12])
    assert not torch.allclose(reference, reversed_time, atol=1e-5)
    torch.testing.assert_close(shorter[0], reference[0])
    assert not torch.allclose(shorter[1], reference[1], atol=1e-5)


def test_padding_does_not_change_an_items_output():
    torch.manual_seed(0)
    model = _trained_statistics(build_model("residual_blstm", n_classes=3, **SMALL), 16)
    lengths = [40, 17, 9, 2]
    x = _padded(4, 16, lengths, 40)
    with torch.no_grad():
        batch = model(x, lengths)
        longer = model(torch.cat([x, torch.zeros(4, 16, 23)], dim=-1), lengths)
        torch.testing.assert_close(longer, batch)
        for i, n in enumerate(lengths):
            alone = model(x[i : i + 1, :, :n])
            torch.testing.assert_close(alone[0], batch[i], rtol=1e-4, atol=1e-5)


def test_padded_frames_are_ignored_even_when_not_zero():
    torch.manual_seed(0)
    model = _trained_statistics(build_model("residual_blstm", n_classes=3, **SMALL), 16)
    lengths = [30, 11]
    x = _padded(2, 16, lengths, 30)
    garbage = x.clone()
    garbage[1, :, 11:] = 7.0
    with torch.no_grad():
        torch.testing.assert_close(model(garbage, lengths), model(x, lengths))


def test_normalization_standardises_bins_and_rezeroes_padding():
    torch.manual_seed(0)
    model = build_model("residual_blstm", n_classes=3, **SMALL).eval()
    lengths = [20, 6]
    z = _padded(2, 16, lengths, 20)
    mask = (torch.arange(20)[None, :] < torch.tensor(lengths)[:, None])[:, None, :]
    mean = torch.linspace(-40.0, -5.0, 16)
    std = torch.linspace(0.5, 12.0, 16)
    with torch.no_grad():
        expected = model(z, lengths)
        model.set_normalization(mean, std)
        raw = (mean[:, None] + std[:, None] * z) * mask  # zero-padded like the feature store
        torch.testing.assert_close(model(raw, lengths), expected, rtol=1e-4, atol=1e-5)
    assert torch.equal(model.state_dict()["norm_mean"], mean)


def test_set_normalization_floors_the_standard_deviation():
    model = build_model("residual_blstm", n_classes=2, **SMALL)
    model.set_normalization(torch.zeros(16), torch.zeros(16))
    assert bool((model.norm_std > 0).all())
    with pytest.raises(ValueError, match="shape"):
        model.set_normalization(torch.zeros(15), torch.ones(15))


def test_masked_batch_norm_uses_real_frames_only():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 10, requires_grad=True)
    mask = torch.ones(2, 1, 1, 10)
    mask[0, ..., 4:] = 0.0
    masked, plain = _MaskedBatchNorm2d(3), nn.BatchNorm2d(3)
    out = masked(x, mask)
    real = torch.cat([x[0, :, :, :4], x[1]], dim=-1).unsqueeze(0)
    expected = plain(real)
    torch.testing.assert_close(out[0, :, :, :4], expected[0, :, :, :4])
    torch.testing.assert_close(out[1], expected[0, :, :, 4:])
    torch.testing.assert_close(masked.running_mean, plain.running_mean)
    torch.testing.assert_close(masked.running_var, plain.running_var)
    # Gradients too, when (as in the model) padded outputs are discarded.
    upstream = torch.randn(2, 3, 4, 10)
    (grad_masked,) = torch.autograd.grad((out * mask * upstream).sum(), x)
    upstream_real = torch.cat([upstream[0, :, :, :4], upstream[1]], dim=-1).unsqueeze(0)
    (grad_plain,) = torch.autograd.grad((expected * upstream_real).sum(), x)
    torch.testing.assert_close(grad_masked, grad_plain)


def test_masked_batch_norm_gradients():
    torch.manual_seed(0)
    x = torch.randn(3, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    weight = torch.rand(2, dtype=torch.float64, requires_grad=True) + 0.5
    bias = torch.randn(2, dtype=torch.float64, requires_grad=True)
    time_mask = torch.ones(3, 1, 5, dtype=torch.float64)
    time_mask[0, :, 2:] = 0.0
    time_mask[2, :, 4:] = 0.0

    def normalise(x, weight, bias):
        return _MaskedBatchNormFunction.apply(x, time_mask, weight, bias, 1e-5)[0]

    assert torch.autograd.gradcheck(normalise, (x, weight, bias))


def test_invalid_inputs_are_rejected():
    model = build_model("residual_blstm", n_classes=2, **SMALL)
    with pytest.raises(ValueError, match="n_frames"):
        model(torch.zeros(1, 15, 10))
    with pytest.raises(ValueError, match="lengths"):
        model(torch.zeros(2, 16, 10), [10, 11])
    with pytest.raises(ValueError, match="lengths"):
        model(torch.zeros(2, 16, 10), [10, 0])
