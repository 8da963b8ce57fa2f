"""Residual50: ResNet-50 adapted to frame-wise audio features.

The second baseline of the paper (section 3.2), after Hershey et al.'s
ResNet-50 for large-scale audio classification: the bottleneck design of He
et al. (stages of 3, 4, 6 and 3 blocks of 1x1, 3x3 and 1x1 convolutions,
expansion 4), with the first convolution reduced from 7x7 to 3x3 and its
stride of 2x2 removed, and the 1024-unit fully connected layer that every
architecture of the paper ends in.

Reading of what the paper leaves open:

* The paper changes only the first convolution, so the stem keeps ResNet's
  3x3 max-pool with stride 2 (``stem_pool=False`` drops it). Time and
  frequency are then divided by 16 in all (2 by the stem pool, 2 in each of
  stages 2-4), rounded up: 128 x 426 reaches global pooling as 8 x 27.
* Downsampling blocks put the stride on their 3x3 convolution (the variant
  of the torchvision model and most later ResNets), with a strided 1x1
  convolution and batch norm on the shortcut.
* Global average pooling runs over frequency and over the item's real
  frames only, so zero padding does not dilute short motifs.
* ``width`` is the channel count of the stem and of the first stage's
  bottleneck (64 in ResNet-50); stage ``k`` has ``width * 2**k`` bottleneck
  channels and four times as many output channels, so the embedding has
  ``32 * width`` values (2048 at full size).

Padding: padded frames are zero before every 3x3 convolution and minus
infinity before the max-pool, batch normalisation takes statistics from real
frames only, and every stride's reduced lengths are tracked exactly (see
``cantaor.models.layers``), so an item's logits do not depend on the padding
appended to it.
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cantaor.models.layers import (
    FrameClassifier,
    MaskedBatchNorm2d,
    frame_mask,
    masked_max_pool2d,
    masked_mean,
    output_length,
)

EXPANSION = 4
RESNET50_BLOCKS = (3, 4, 6, 3)


class Residual50(FrameClassifier):
    """Singer classifier: ResNet-50 bottleneck stages, masked global pooling, dense head.

    Parameters
    ----------
    n_classes : int
        Number of singers.
    n_bins : int
        Feature bins per frame (128 mel bands in the paper).
    width : int
        Base channels: stem output and first-stage bottleneck (64 in ResNet-50).
    stage_blocks : sequence of int
        Bottleneck blocks per stage; (3, 4, 6, 3) is ResNet-50. Every stage
        after the first halves time and frequency.
    stem_pool : bool
        Keep ResNet's 3x3 stride-2 max-pool after the first convolution.
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
        width: int = 16,
        stage_blocks: Sequence[int] = RESNET50_BLOCKS,
        stem_pool: bool = True,
        fc_units: int = 1024,
        dropout: float = 0.3,
    ):
        stage_blocks = tuple(int(n) for n in stage_blocks)
        for name, value in (
            ("n_classes", n_classes),
            ("n_bins", n_bins),
            ("width", width),
            ("fc_units", fc_units),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if not stage_blocks or min(stage_blocks) < 1:
            raise ValueError(f"stage_blocks must be positive block counts, got {stage_blocks}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        super().__init__(n_bins)

        # Stem: 3x3 convolution without stride (the paper's change), then ResNet's max-pool.
        self.stem_conv = nn.Conv2d(1, width, 3, stride=1, padding=1, bias=False)
        self.stem_bn = MaskedBatchNorm2d(width)
        self.stem_pool = nn.MaxPool2d(3, stride=2, padding=1) if stem_pool else None

        blocks = []
        in_channels = width
        for stage, n_blocks in enumerate(stage_blocks):
            mid_channels = width * 2**stage
            for index in range(n_blocks):
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(_Bottleneck(in_channels, mid_channels, stride=stride))
                in_channels = mid_channels * EXPANSION
        self.blocks = nn.ModuleList(blocks)
        self.embedding_size = in_channels
        self.head = nn.Sequential(
            nn.Linear(self.embedding_size, fc_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fc_units, n_classes),
        )

        # He et al.'s initialisation for the ReLU convolutions.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def reduced_lengths(self, lengths):
        """Frames left at global pooling for items of ``lengths`` frames (int or tensor)."""
        if self.stem_pool is not None:
            lengths = output_length(lengths, kernel=3, stride=2, padding=1)
        for block in self.blocks:
            lengths = block.output_length(lengths)
        return lengths

    def embed(self, features: torch.Tensor, lengths=None) -> torch.Tensor:
        """Acoustic motif embedding: last stage averaged over bins and real frames.

        Parameters
        ----------
        features : torch.Tensor, shape (batch, n_bins, n_frames)
            Frame-wise features, zero-padded after each item's real frames.
        lengths : array-like of int, shape (batch,), optional
            Real frames per item (1..n_frames); None means all frames are real.

        Returns
        -------
        torch.Tensor, shape (batch, 32 * width) at four stages
        """
        x, lengths = self._standardised_input(features, lengths)
        x = x.unsqueeze(1)  # (batch, 1, n_bins, n_frames)
        mask = frame_mask(lengths, x.shape[3], x.device)[:, None, None, :]
        x = F.relu(self.stem_bn(self.stem_conv(x), mask))
        if self.stem_pool is not None:
            pooled_lengths = output_length(lengths, kernel=3, stride=2, padding=1)
            n_out = output_length(x.shape[3], kernel=3, stride=2, padding=1)
            pooled_mask = frame_mask(pooled_lengths, n_out, x.device)[:, None, None, :]
            x = masked_max_pool2d(x, mask, self.stem_pool, pooled_mask)
            lengths, mask = pooled_lengths, pooled_mask
        else:
            x = x * mask
        for block in self.blocks:
            x, lengths, mask = block(x, lengths, mask)
        return masked_mean(x, lengths)


class _Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride), 1x1 expand, plus a shortcut.

    The shortcut is the identity, or a strided 1x1 convolution with batch
    norm when the block changes stride or channels.
    """

    def __init__(self, in_channels: int, mid_channels: int, *, stride: int):
        super().__init__()
        out_channels = mid_channels * EXPANSION
        self.stride = stride
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn1 = MaskedBatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = MaskedBatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.bn3 = MaskedBatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut_conv = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
            self.shortcut_bn = MaskedBatchNorm2d(out_channels)
        else:
            self.shortcut_conv = None
            self.shortcut_bn = None

    def output_length(self, length):
        """Frames (or bins) out of the block for ``length`` in."""
        return output_length(length, kernel=3, stride=self.stride, padding=1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor):
        """Apply the block.

        Parameters
        ----------
        x : torch.Tensor, shape (batch, in_channels, bins, frames)
            Input with padded frames set to zero.
        lengths : torch.Tensor of int, shape (batch,)
            Real input frames.
        mask : torch.Tensor, shape (batch, 1, 1, frames)
            1 for real input frames, 0 for padding.

        Returns
        -------
        x, lengths, mask
            The same for the block's output; padded output frames are zero.
        """
        h = F.relu(self.bn1(self.conv1(x), mask)) * mask  # zero padding for the 3x3
        if self.stride != 1:
            lengths = self.output_length(lengths)
            n_out = self.output_length(x.shape[3])
            out_mask = frame_mask(lengths, n_out, x.device)[:, None, None, :]
        else:
            out_mask = mask
        h = F.relu(self.bn2(self.conv2(h), out_mask))
        h = self.bn3(self.conv3(h), out_mask)
        if self.shortcut_conv is None:
            shortcut = x
        else:
            shortcut = self.shortcut_bn(self.shortcut_conv(x), out_mask)
        return F.relu(h + shortcut) * out_mask, lengths, out_mask
