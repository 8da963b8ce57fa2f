"""Tests of the models (Residual-BLSTM, CRNN, Residual50), their layers and the registry."""

import math

import pytest
import torch
from torch import nn

from cantaor.models import CRNN, MODELS, Residual50, ResidualBLSTM, build_model, count_parameters
from cantaor.models.layers import masked_max_pool2d, masked_mean, output_length
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
    assert MODELS == {"crnn": CRNN, "residual50": Residual50, "residual_blstm": ResidualBLSTM}
    with pytest.raises(ValueError, match=r"crnn.*residual50.*residual_blstm"):
        build_model("resnet50", n_classes=3)


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


# --- All models: CRNN and Residual50 beside the Residual-BLSTM -----------------

TINY = {
    "crnn": {"n_bins": 16, "channels": 3, "gru_hidden": 6, "fc_units": 16},
    "residual50": {"n_bins": 16, "width": 2, "fc_units": 16},
    "residual_blstm": SMALL,
}
NO_DROPOUT = {"crnn": {"conv_dropout": 0.0, "dropout": 0.0}}
CASES = [(name, options) for name, options in sorted(TINY.items())] + [
    ("residual50", {**TINY["residual50"], "stem_pool": False})
]
CASE_IDS = ["crnn", "residual50", "residual_blstm", "residual50-no-stem-pool"]


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny models: a second thread only adds contention on a shared machine.
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
def test_every_model_gives_logits_and_embeddings(name, options):
    torch.manual_seed(0)
    model = build_model(name, n_classes=5, **options).eval()
    lengths = [37, 10, 2, 1]
    x = _padded(4, 16, lengths, 37)
    with torch.no_grad():
        assert model(x, lengths).shape == (4, 5)
        assert model(x).shape == (4, 5)
        assert model.embed(x, lengths).shape == (4, model.embedding_size)
        # A one-frame item, as train.predict_proba probes the class count with.
        assert model(torch.zeros(1, 16, 1)).shape == (1, 5)


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
def test_every_model_ignores_padding_in_eval_mode(name, options):
    torch.manual_seed(0)
    model = _trained_statistics(build_model(name, n_classes=3, **options), 16)
    lengths = [45, 33, 17, 9, 4, 2, 1]
    x = _padded(7, 16, lengths, 45)
    with torch.no_grad():
        batch = model(x, lengths)
        longer = model(torch.cat([x, torch.zeros(7, 16, 31)], dim=-1), lengths)
        torch.testing.assert_close(longer, batch)
        for i, n in enumerate(lengths):
            alone = model(x[i : i + 1, :, :n])
            torch.testing.assert_close(alone[0], batch[i], rtol=1e-4, atol=1e-5)
        garbage = x.clone()
        garbage[3, :, 9:] = 7.0
        garbage[5, :, 2:] = -7.0
        torch.testing.assert_close(model(garbage, lengths), batch)
        # The frames that are real do count: a shorter length changes the logits.
        shorter = model(x[:1], [20])
        assert not torch.allclose(shorter[0], batch[0], atol=1e-5)


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
def test_every_model_ignores_padding_in_training_mode(name, options):
    # Batch norm takes its statistics from real frames only, so padding every
    # item of a batch further changes neither the logits nor the gradients. The
    # models cut a batch to its longest item first, so the extra padding is
    # slipped in after that cut to reach the layers.
    options = {**options, "dropout": 0.0, **NO_DROPOUT.get(name, {})}
    # Long enough that the deepest stages still normalise over several frames.
    lengths = [64, 41, 13, 5]
    x = _padded(4, 16, lengths, 64) * 2.0 + 0.5
    x = x * (torch.arange(64)[None, :] < torch.tensor(lengths)[:, None])[:, None, :]
    logits, grads = [], []
    for extra in (0, 13):
        torch.manual_seed(0)
        model = build_model(name, n_classes=3, **options).train()
        cut_input = model._standardised_input

        def padded_input(features, lengths, cut_input=cut_input, extra=extra):
            z, lengths = cut_input(features, lengths)
            return torch.cat([z, torch.zeros(z.shape[0], z.shape[1], extra)], dim=-1), lengths

        model._standardised_input = padded_input
        out = model(x, lengths)
        out.square().sum().backward()
        logits.append(out.detach())
        grads.append([p.grad.clone() for p in model.parameters()])
    torch.testing.assert_close(logits[1], logits[0], rtol=1e-4, atol=1e-5)
    for without, with_padding in zip(*grads):
        assert torch.isfinite(without).all()
        # Summation orders differ with the padding; tiny deep nets amplify rounding.
        torch.testing.assert_close(with_padding, without, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "ceil_mode"),
    [
        (3, 2, 1, False),
        (3, 1, 1, False),
        (1, 2, 0, False),
        (2, 2, 0, True),
        (3, 2, 1, True),
        (2, 2, 1, True),
        (3, 3, 1, True),
    ],
)
def test_output_length_follows_pytorch(kernel, stride, padding, ceil_mode):
    for n in range(1, 40):
        x = torch.zeros(1, 1, 1, n)
        pooled = nn.functional.max_pool2d(
            x, (1, kernel), (1, stride), (0, padding), ceil_mode=ceil_mode
        )
        expected = pooled.shape[-1]
        if not ceil_mode:
            conv = nn.functional.conv2d(
                x, torch.zeros(1, 1, 1, kernel), None, (1, stride), (0, padding)
            )
            assert conv.shape[-1] == expected
        got = output_length(n, kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
        assert got == expected, n
    lengths = torch.arange(1, 40)
    as_tensor = output_length(
        lengths, kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode
    )
    assert as_tensor.tolist() == [
        output_length(n, kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
        for n in range(1, 40)
    ]


def test_masked_max_pool_never_picks_padding():
    pool = nn.MaxPool2d(2, stride=2, ceil_mode=True)
    x = -torch.rand(2, 3, 4, 9) - 1.0  # all negative: a zero pad would win a max
    lengths = torch.tensor([9, 5])
    mask = (torch.arange(9)[None, :] < lengths[:, None]).float()[:, None, None, :]
    x = x * mask
    out_lengths = output_length(lengths, kernel=2, stride=2, ceil_mode=True)
    out_mask = (torch.arange(5)[None, :] < out_lengths[:, None]).float()[:, None, None, :]
    out = masked_max_pool2d(x, mask, pool, out_mask)
    torch.testing.assert_close(out[1, :, :, :3], pool(x[1:2, :, :, :5])[0])
    assert torch.equal(out[1, :, :, 3:], torch.zeros(3, 2, 2))
    torch.testing.assert_close(out[0], pool(x[:1])[0])


def test_masked_mean_averages_real_frames_and_bins():
    x = torch.zeros(2, 3, 4, 6)
    x[0] = 2.0
    x[1, :, :, :2] = torch.arange(3.0)[:, None, None]
    torch.testing.assert_close(
        masked_mean(x, torch.tensor([6, 2])), torch.tensor([[2.0] * 3, [0.0, 1.0, 2.0]])
    )


def test_crnn_blocks_follow_the_paper():
    model = build_model("crnn", n_classes=2, n_bins=128, channels=8, conv_dropout=0.2)
    assert len(model.blocks) == 4
    widths = []
    for index, block in enumerate(model.blocks):
        assert block.conv.kernel_size == (3, 3)
        assert block.conv.stride == ((2, 2) if index == 0 else (1, 1))
        assert block.pool.kernel_size == 2 and block.pool.stride == 2
        assert block.dropout.p == 0.2
        widths.append(block.conv.out_channels)
    assert widths == [8, 16, 16, 16]
    # 128 bins: stride 2, then four 2x2 pools -> 4 bins; 426 frames -> 14 GRU steps.
    assert model.reduced_bins == 4 and model.gru.input_size == 16 * 4
    assert int(model.reduced_lengths(426)) == 14
    assert [int(model.reduced_lengths(n)) for n in range(1, 200)] == [
        math.ceil(n / 32) for n in range(1, 200)
    ]


def test_crnn_gru_runs_over_reduced_lengths_and_embeds_its_last_state():
    torch.manual_seed(0)
    model = build_model("crnn", n_classes=2, **TINY["crnn"]).eval()
    seen = {}

    def hook(module, inputs, output):
        seen.update(packed=inputs[0], h_n=output[1])

    model.gru.register_forward_hook(hook)
    lengths = [70, 40, 33, 1]
    with torch.no_grad():
        embedding = model.embed(_padded(4, 16, lengths, 70), lengths)
    packed = seen["packed"]
    assert isinstance(packed, nn.utils.rnn.PackedSequence)
    reduced = [math.ceil(n / 32) for n in lengths]
    assert len(packed.batch_sizes) == max(reduced)
    assert int(packed.batch_sizes.sum()) == sum(reduced)
    assert packed.data.shape[1] == 2 * TINY["crnn"]["channels"] * 1  # 16 bins -> 1
    torch.testing.assert_close(embedding, seen["h_n"][-1])
    assert embedding.shape == (4, TINY["crnn"]["gru_hidden"])


def test_crnn_parameter_counts():
    def expected(c, hidden=32, layers=2, classes=5, bins=4):
        conv = 9 * (1 * c + c * 2 * c + 2 * (2 * c) ** 2)
        batch_norm = 2 * (c + 3 * 2 * c)
        gru = 3 * hidden * (2 * c * bins + hidden) + 6 * hidden
        gru += (layers - 1) * (3 * hidden * 2 * hidden + 6 * hidden)
        head = (hidden * 1024 + 1024) + (1024 * classes + classes)
        return conv + batch_norm + gru + head

    assert count_parameters(build_model("crnn", n_classes=5)) == expected(32) == 165_989
    # Choi et al.'s widths (64, 128, 128, 128), GRU 2 x 32.
    full = build_model("crnn", n_classes=5, channels=64)
    assert count_parameters(full) == expected(64) == 467_781


def test_residual50_is_resnet50_with_a_3x3_unstrided_stem():
    model = build_model("residual50", n_classes=5, width=64)
    assert model.stem_conv.kernel_size == (3, 3) and model.stem_conv.stride == (1, 1)
    assert model.stem_pool.kernel_size == 3 and model.stem_pool.stride == 2
    assert len(model.blocks) == 3 + 4 + 6 + 3
    first_blocks = {0, 3, 7, 13}
    for index, block in enumerate(model.blocks):
        kernels = [conv.kernel_size for conv in (block.conv1, block.conv2, block.conv3)]
        assert kernels == [(1, 1), (3, 3), (1, 1)]
        assert block.conv3.out_channels == 4 * block.conv1.out_channels
        stride = 2 if index in first_blocks - {0} else 1
        assert block.conv2.stride == (stride, stride)
        assert (block.shortcut_conv is not None) == (index in first_blocks)
    assert [model.blocks[i].conv1.out_channels for i in sorted(first_blocks)] == [64, 128, 256, 512]
    assert model.embedding_size == 2048
    assert model.head[0].out_features == 1024
    # torchvision's ResNet-50 without its classifier has 23,508,032 parameters;
    # its 7x7x3 stem (9,408) becomes 3x3x1 (576); the head is 2048-1024-5.
    head = (2048 * 1024 + 1024) + (1024 * 5 + 5)
    assert count_parameters(model) == 23_508_032 - 9_408 + 576 + head == 25_602_501


def test_residual50_tracks_lengths_through_pool_and_strides():
    torch.manual_seed(0)
    for stem_pool, factor in ((True, 16), (False, 8)):
        model = build_model("residual50", n_classes=2, stem_pool=stem_pool, **TINY["residual50"])
        assert [int(model.reduced_lengths(n)) for n in range(1, 100)] == [
            math.ceil(n / factor) for n in range(1, 100)
        ]
        seen = {}

        def hook(module, inputs, output, seen=seen):
            seen.update(out=output)

        model.blocks[-1].register_forward_hook(hook)
        lengths = [50, 17, 1]
        with torch.no_grad():
            model.eval()(_padded(3, 16, lengths, 50), lengths)
        x, out_lengths, mask = seen["out"]
        assert x.shape[-1] == math.ceil(50 / factor)
        assert out_lengths.tolist() == [math.ceil(n / factor) for n in lengths]
        assert mask[:, 0, 0, :].sum(dim=1).tolist() == out_lengths.tolist()
    assert int(build_model("residual50", n_classes=2).reduced_lengths(426)) == 27


def test_residual50_options():
    model = build_model("residual50", n_classes=3, n_bins=16, width=2, stage_blocks=[1, 2])
    assert len(model.blocks) == 3 and model.embedding_size == 2 * 2 * 4
    assert count_parameters(build_model("residual50", n_classes=5)) == 2_009_205
    for bad in ({"width": 0}, {"stage_blocks": []}, {"stage_blocks": [3, 0]}, {"dropout": 1.0}):
        with pytest.raises(ValueError):
            build_model("residual50", n_classes=3, **bad)
    for bad in ({"channels": 0}, {"gru_layers": 0}, {"conv_dropout": -0.1}):
        with pytest.raises(ValueError):
            build_model("crnn", n_classes=3, **bad)
