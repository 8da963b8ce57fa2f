"""Residual-BLSTM: shallow residual front end followed by a BLSTM over time.

The hybrid architecture of the paper (section 3.2, Figure 2), built as the
paper describes it rather than as the authors' released code did: 3x3
convolutions with a stride-2 first convolution, true residual additions, and
a bidirectional LSTM that reads the sequence of frames (not the channel
axis).

Items in a batch are zero-padded to a common number of frames; ``lengths``
says how many frames of each item are real. Every stage re-zeroes the padded
frames and batch normalisation takes its statistics from real frames only,
so an item's output does not depend on how much padding it carries or on the
padding of the other items in its batch.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class ResidualBLSTM(nn.Module):
    """Singer classifier over log-mel (or other frame-wise) features.

    Parameters
    ----------
    n_classes : int
        Number of singers.
    n_bins : int
        Feature bins per frame (128 mel bands in the paper).
    channels : int
        Convolution channels in every residual block.
    n_blocks : int
        Residual blocks; the first one halves time and frequency.
    lstm_hidden : int
        Hidden units per LSTM direction; the embedding has twice as many.
    fc_units : int
        Units of the fully connected layer before the classifier.
    dropout : float
        Dropout probability after the fully connected layer.
    """

    def __init__(
        self,
        *,
        n_classes: int,
        n_bins: int = 128,
        channels: int = 32,
        n_blocks: int = 2,
        lstm_hidden: int = 128,
        fc_units: int = 1024,
        dropout: float = 0.3,
    ):
        super().__init__()
        for name, value in (
            ("n_classes", n_classes),
            ("n_bins", n_bins),
            ("channels", channels),
            ("n_blocks", n_blocks),
            ("lstm_hidden", lstm_hidden),
            ("fc_units", fc_units),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.n_bins = n_bins
        self.embedding_size = 2 * lstm_hidden

        # Identity until set_normalization() is given training statistics.
        self.register_buffer("norm_mean", torch.zeros(n_bins))
        self.register_buffer("norm_std", torch.ones(n_bins))

        self.blocks = nn.ModuleList(
            [_ResidualBlock(1, channels, stride=2)]
            + [_ResidualBlock(channels, channels, stride=1) for _ in range(n_blocks - 1)]
        )
        # The stride-2 convolution (kernel 3, padding 1) keeps ceil(n / 2) rows.
        reduced_bins = (n_bins + 1) // 2
        self.lstm = nn.LSTM(
            input_size=channels * reduced_bins,
            hidden_size=lstm_hidden,
            batch_first=True,
            bidirectional=True,
        )
        self.head = nn.Sequential(
            nn.Linear(self.embedding_size, fc_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fc_units, n_classes),
        )

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

    def embed(self, features: torch.Tensor, lengths=None) -> torch.Tensor:
        """Acoustic motif embedding: final forward and backward LSTM states.

        Parameters
        ----------
        features : torch.Tensor, shape (batch, n_bins, n_frames)
            Frame-wise features, zero-padded after each item's real frames.
        lengths : array-like of int, shape (batch,), optional
            Real frames per item (1..n_frames); None means all frames are real.

        Returns
        -------
        torch.Tensor, shape (batch, 2 * lstm_hidden)
            Forward state after the item's last real frame, then backward
            state after its first frame.
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
        x = x * _frame_mask(lengths, n_frames, x.device)[:, None, :]
        x = x.unsqueeze(1)  # (batch, 1, n_bins, n_frames)

        for index, block in enumerate(self.blocks):
            if index == 0:
                lengths = (lengths + 1) // 2  # stride 2 over time
                n_frames = (n_frames + 1) // 2
            mask = _frame_mask(lengths, n_frames, x.device)[:, None, None, :]
            x = block(x, mask)

        # One LSTM step per (reduced) frame, seeing all channels and bins.
        x = x.permute(0, 3, 1, 2).flatten(start_dim=2)  # (batch, frames, channels * bins)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)  # h_n: (2, batch, lstm_hidden), in input order
        return torch.cat([h_n[0], h_n[1]], dim=1)


class _ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and ReLU plus a shortcut.

    The shortcut is the identity, or a 1x1 convolution with batch norm when
    the block changes stride or channels.
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = _MaskedBatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = _MaskedBatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut_conv = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
            self.shortcut_bn = _MaskedBatchNorm2d(out_channels)
        else:
            self.shortcut_conv = None
            self.shortcut_bn = None

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Parameters
        ----------
        x : torch.Tensor, shape (batch, in_channels, bins, frames)
            Input with padded frames set to zero.
        mask : torch.Tensor, shape (batch, 1, 1, frames_out)
            1 for real output frames, 0 for padding.

        Returns
        -------
        torch.Tensor, shape (batch, out_channels, bins_out, frames_out)
            Output with padded frames set to zero.
        """
        # Re-zeroing before conv2 makes padding look exactly like the
        # convolution's own zero padding, whatever its amount.
        h = F.relu(self.bn1(self.conv1(x), mask)) * mask
        h = self.bn2(self.conv2(h), mask)
        if self.shortcut_conv is None:
            shortcut = x
        else:
            shortcut = self.shortcut_bn(self.shortcut_conv(x), mask)
        return F.relu(h + shortcut) * mask


class _MaskedBatchNorm2d(nn.BatchNorm2d):
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
        out, mean, var, count = _MaskedBatchNormFunction.apply(
            x.float(), mask[:, :, 0, :], self.weight, self.bias, self.eps
        )
        with torch.no_grad():
            # Running variance is unbiased, as in nn.BatchNorm2d.
            unbiased = var * (count / (count - 1).clamp(min=1))
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(unbiased, self.momentum)
            self.num_batches_tracked += 1
        return out


class _MaskedBatchNormFunction(torch.autograd.Function):
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


def _frame_mask(lengths: torch.Tensor, n_frames: int, device) -> torch.Tensor:
    """Float mask (batch, n_frames): 1 where the frame index is below the length."""
    frames = torch.arange(n_frames, device=device)
    return (frames[None, :] < lengths.to(device)[:, None]).float()
