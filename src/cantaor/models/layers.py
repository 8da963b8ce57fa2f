"""Padding-aware building blocks shared by the singer classifiers.

Items in a batch are zero-padded to a common number of frames, and
``lengths`` says how many frames of each item are real. The models built from
these blocks keep three rules so that an item's output does not depend on
how much padding it carries or on the other items of its batch (in eval mode):

* padded frames are set to zero before every convolution that looks along
  time, so that they look exactly like the convolution's own zero padding;
* padded frames are set to minus infinity before every max-pool, so that they
  look like the pool's own (ignored) padding;
* batch normalisation takes its training statistics from real frames only
  (:class:`MaskedBatchNorm2d`), and global pooling averages real frames only.

``output_length`` follows every stride and pool so that the real frames of
each reduced grid are known exactly.
"""

import torch
from torch import nn


class FrameClassifier(nn.Module):
    """Base of the classifiers: per-bin input standardisation and input checks.

    Parameters
    ----------
    n_bins : int
        Feature bins per frame.
    """

    def __init__(self, n_bins: int):
        super().__init__()
        self.n_bins = n_bins
        # Identity until set_normalization() is given training statistics.
        self.register_buffer("norm_mean", torch.zeros(n_bins))
        self.register_buffer("norm_std", torch.ones(n_bins))

    def set_normalization(self, mean, std, *, min_std: float = 1e-5) -> None:
        """Set the per-bin input standardisation.

        Parameters
        ----------
        mean, std : array-like, shape (n_bins,)
            Mean and standard deviation of each feature bin over the real
            frames of the training items.
        min_std : float
            Floor for ``std`` so that constant bins do not divide by zero.
        """
        mean = torch.as_tensor(mean, dtype=self.norm_mean.dtype)
        std = torch.as_tensor(std, dtype=self.norm_std.dtype)
        if mean.shape != self.norm_mean.shape or std.shape != self.norm_std.shape:
            raise ValueError(
                f"mean and std must have shape ({self.n_bins},), "
                f"got {tuple(mean.shape)} and {tuple(std.shape)}"
            )
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all()):
            raise ValueError("mean and std must be finite")
        self.norm_mean.copy_(mean)
        self.norm_std.copy_(std.clamp(min=min_std))

    def forward(self, features: torch.Tensor, lengths=None) -> torch.Tensor:
        """Singer logits.

        Parameters
        ----------
        features : torch.Tensor, shape (batch, n_bins, n_frames)
            Frame-wise features, zero-padded after each item's real frames.
        lengths : array-like of int, shape (batch,), optional
            Real frames per item (1..n_frames); None means all frames are real.

        Returns
        -------
        torch.Tensor, shape (batch, n_classes)
            Unnormalised class scores.
        """
        return self.head(self.embed(features, lengths))

    def _standardised_input(self, features: torch.Tensor, lengths):
        """Check the input, standardise it and zero its padded frames.

        Returns
        -------
        x : torch.Tensor, shape (batch, n_bins, frames)
            Standardised features cut to the longest item, padding zeroed.
        lengths : torch.Tensor of int64 on the CPU, shape (batch,)
            Real frames per item.
        """
        if features.ndim != 3 or features.shape[1] != self.n_bins:
            raise ValueError(
                f"features must have shape (batch, {self.n_bins}, n_frames), "
                f"got {tuple(features.shape)}"
            )
        batch, _, n_frames = features.shape
        if lengths is None:
            lengths = torch.full((batch,), n_frames, dtype=torch.long)
        else:
            # pack_padded_sequence wants lengths on the CPU.
            lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
            if lengths.shape != (batch,):
                raise ValueError(f"lengths must have shape ({batch},), got {tuple(lengths.shape)}")
            if batch and (lengths.min() < 1 or lengths.max() > n_frames):
                raise ValueError(f"lengths must be in 1..{n_frames}")
        # Frames past the longest item are padding for everyone: skip them.
        n_frames = int(lengths.max())
        x = features[:, :, :n_frames].to(self.norm_mean.dtype)
        x = (x - self.norm_mean[:, None]) / self.norm_std[:, None]
        x = x * frame_mask(lengths, n_frames, x.device)[:, None, :]
        return x, lengths


def output_length(
    length,
    *,
    kernel: int,
    stride: int,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
):
    """Frames out of a convolution or pool along time, as PyTorch computes them.

    Parameters
    ----------
    length : int or torch.Tensor of int
        Frames in.
    kernel, stride, padding, dilation : int
        Geometry of the layer along the axis.
    ceil_mode : bool
        As in ``torch.nn.MaxPool2d`` (a window may run past the end, but
        must start inside the input or its left padding).

    Returns
    -------
    int or torch.Tensor of int
        Frames out, elementwise.
    """
    span = length + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = (span + stride - 1) // stride + 1
    # The last window must start before the end of the input plus padding.
    return out - ((out - 1) * stride >= length + padding) * 1


def frame_mask(lengths: torch.Tensor, n_frames: int, device) -> torch.Tensor:
    """Float mask (batch, n_frames): 1 where the frame index is below the length."""
    frames = torch.arange(n_frames, device=device)
    return (frames[None, :] < lengths.to(device)[:, None]).float()


def masked_max_pool2d(
    x: torch.Tensor, mask: torch.Tensor, pool: nn.MaxPool2d, out_mask: torch.Tensor
) -> torch.Tensor:
    """Max-pool (batch, channels, bins, frames) ignoring padded frames.

    Parameters
    ----------
    x : torch.Tensor
        Input; its padded frames may hold anything.
    mask : torch.Tensor, shape (batch, 1, 1, frames)
        1 for real input frames, 0 for padding.
    pool : torch.nn.MaxPool2d
        The pool.
    out_mask : torch.Tensor, shape (batch, 1, 1, frames_out)
        1 for real output frames (see ``output_length``), 0 for padding.

    Returns
    -------
    torch.Tensor
        Pooled values; padded output frames are zero.
    """
    # -inf makes padding behave like the pool's own padding: never the maximum.
    pooled = pool(x.masked_fill(mask == 0, float("-inf")))
    # Output windows that hold padding only are -inf; where() (not a product) zeroes them.
    return torch.where(out_mask > 0, pooled, pooled.new_zeros(()))


def masked_mean(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean over bins and real frames of (batch, channels, bins, frames) -> (batch, channels).

    Padded frames must be zero.
    """
    lengths = lengths.to(x.device)
    return x.float().sum(dim=(2, 3)) / (lengths * x.shape[2])[:, None]


class MaskedBatchNorm2d(nn.BatchNorm2d):
    """Batch norm whose training statistics come from real frames only.

    Motif clips are much shorter than the padded frame count, so plain batch
    norm would mostly measure padding and depend on the batch's mix of
    lengths. Evaluation uses the running statistics, as ``nn.BatchNorm2d``.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (batch, channels, bins, frames) given ``mask`` (batch, 1, 1, frames)."""
        if not self.training:
            return super().forward(x)
        # Statistics in float32 even under autocast.
        out, mean, var, count = MaskedBatchNormFunction.apply(
            x.float(), mask[:, :, 0, :], self.weight, self.bias, self.eps
        )
        with torch.no_grad():
            # Running variance is unbiased, as in nn.BatchNorm2d.
            unbiased = var * (count / (count - 1).clamp(min=1))
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(unbiased, self.momentum)
            self.num_batches_tracked += 1
        return out


class MaskedBatchNormFunction(torch.autograd.Function):
    """Training-mode batch norm over real frames, with a hand-written backward.

    Autograd through the masked statistics takes about twice as many passes
    over the activations as this backward, and batch norm is a large part of
    the model's cost on a CPU. The forward sums over bins before applying the
    (per-frame) mask so that only small tensors are multiplied by it.
    """

    @staticmethod
    def forward(ctx, x, time_mask, weight, bias, eps):
        """``x`` (batch, channels, bins, frames), ``time_mask`` (batch, 1, frames).

        Returns the normalised ``x`` and, without gradients, the batch mean
        and biased variance per channel and the number of real values per
        channel.
        """
        count = time_mask.sum() * x.shape[2]
        mean = (x.sum(dim=2) * time_mask).sum(dim=(0, 2)) / count
        centred = x - mean[:, None, None]
        var = (centred.square().sum(dim=2) * time_mask).sum(dim=(0, 2)) / count
        invstd = torch.rsqrt(var + eps)
        ctx.save_for_backward(centred, time_mask, weight, invstd, count)
        ctx.mark_non_differentiable(mean, var, count)
        out = torch.addcmul(bias[:, None, None], centred, (weight * invstd)[:, None, None])
        return out, mean, var, count

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad, _mean, _var, _count):
        centred, time_mask, weight, invstd, count = ctx.saved_tensors
        # Every output, padded frames included, depends on the statistics;
        # only real frames feed them.
        grad_sum = grad.sum(dim=(0, 2, 3))
        grad_dot = (grad * centred).sum(dim=(0, 2, 3))
        scale = weight * invstd
        # Real frames: scale * (grad - sum(grad) / n - x_hat * sum(grad * x_hat) / n),
        # with x_hat = centred * invstd; padded frames: scale * grad.
        correction = torch.addcmul(
            (scale * grad_sum / count)[:, None, None],
            centred,
            (scale * invstd.square() * grad_dot / count)[:, None, None],
        )
        correction.mul_(-time_mask[:, :, None, :])
        grad_x = torch.addcmul(correction, grad, scale[:, None, None])
        grad_weight = grad_dot * invstd
        grad_bias = grad_sum
        return grad_x, None, grad_weight, grad_bias, None
