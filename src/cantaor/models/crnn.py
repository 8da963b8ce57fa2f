"""CRNN: four convolutional blocks and a GRU over time (after Choi et al.).

The baseline of the paper (section 3.2): four blocks of 3x3 convolution,
batch normalisation, ELU, max-pool and dropout, then a recurrent GRU network
whose last hidden state is the motif embedding, then the 1024-unit fully
connected layer that every architecture of the paper ends in.

The paper fixes the first block (3x3 convolution with stride 2x2, and a 2x2
max-pool with stride 2x2) and the 3x3 stride-1 convolutions of blocks 2-4,
but not their pools. Here every block pools 2x2 with stride 2x2, so the
128 x 426 input of the paper reaches the GRU as 14 steps of 4 bins
(time and frequency are divided by 32 in all, rounded up). Channels grow as
in Choi et al.'s music-tagging CRNN: ``channels`` in the first block and
twice as many in blocks 2-4 (64, 128, 128, 128 with ``channels=64``, their
size), and the GRU has ``gru_layers`` layers of ``gru_hidden`` units (2 of
32 in their model).

Padding: padded frames are zero before every convolution and minus infinity
before every pool, batch normalisation takes statistics from real frames
only, and the GRU is packed with the reduced lengths, so an item's logits do
not depend on the padding appended to it (see ``cantaor.models.layers``).
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from cantaor.models.layers import (
    FrameClassifier,
    MaskedBatchNorm2d,
    frame_mask,
    masked_max_pool2d,
    output_length,
)

N_BLOCKS = 4


class CRNN(FrameClassifier):
    """Singer classifier: four convolutional blocks, a GRU and a dense head.

    Parameters
    ----------
    n_classes : int
        Number of singers.
    n_bins : int
        Feature bins per frame (128 mel bands in the paper).
    channels : int
        Convolution channels of the first block; blocks 2-4 have twice as many.
    gru_hidden : int
        Hidden units of each GRU layer; the embedding has as many.
    gru_layers : int
        Stacked GRU layers.
    conv_dropout : float
        Dropout probability at the end of every convolutional block.
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
        gru_hidden: int = 32,
        gru_layers: int = 2,
        conv_dropout: float = 0.1,
        fc_units: int = 1024,
        dropout: float = 0.3,
    ):
        for name, value in (
            ("n_classes", n_classes),
            ("n_bins", n_bins),
            ("channels", channels),
            ("gru_hidden", gru_hidden),
            ("gru_layers", gru_layers),
            ("fc_units", fc_units),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        for name, value in (("conv_dropout", conv_dropout), ("dropout", dropout)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        super().__init__(n_bins)
        self.embedding_size = gru_hidden

        widths = [1, channels] + [2 * channels] * (N_BLOCKS - 1)
        self.blocks = nn.ModuleList(
            _ConvBlock(widths[i], widths[i + 1], stride=2 if i == 0 else 1, dropout=conv_dropout)
            for i in range(N_BLOCKS)
        )
        reduced_bins = n_bins
        for block in self.blocks:
            reduced_bins = block.output_length(reduced_bins)
        self.reduced_bins = reduced_bins
        self.gru = nn.GRU(
            input_size=widths[-1] * reduced_bins,
            hidden_size=gru_hidden,
            num_layers=gru_layers,
            batch_first=True,
        )
        self.head = nn.Sequential(
            nn.Linear(self.embedding_size, fc_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fc_units, n_classes),
        )

    def reduced_lengths(self, lengths):
        """GRU steps for items of ``lengths`` frames (int or tensor of int)."""
        for block in self.blocks:
            lengths = block.output_length(lengths)
        return lengths

    def embed(self, features: torch.Tensor, lengths=None) -> torch.Tensor:
        """Acoustic motif embedding: the last GRU layer's state after the last real step.

        Parameters
        ----------
        features : torch.Tensor, shape (batch, n_bins, n_frames)
            Frame-wise features, zero-padded after each item's real frames.
        lengths : array-like of int, shape (batch,), optional
            Real frames per item (1..n_frames); None means all frames are real.

        Returns
        -------
        torch.Tensor, shape (batch, gru_hidden)
        """
        x, lengths = self._standardised_input(features, lengths)
        x = x.unsqueeze(1)  # (batch, 1, n_bins, n_frames)
        mask = frame_mask(lengths, x.shape[3], x.device)[:, None, None, :]
        for block in self.blocks:
            x, lengths, mask = block(x, lengths, mask)

        # One GRU step per reduced frame, seeing all channels and bins.
        x = x.permute(0, 3, 1, 2).flatten(start_dim=2)  # (batch, frames, channels * bins)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.gru(packed)  # (layers, batch, gru_hidden), in input order
        return h_n[-1]


class _ConvBlock(nn.Module):
    """Convolution 3x3, masked batch norm, ELU, masked 2x2 max-pool, dropout."""

    def __init__(self, in_channels: int, out_channels: int, *, stride: int, dropout: float):
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn = MaskedBatchNorm2d(out_channels)
        # ceil_mode keeps a last, incomplete window: one frame never pools to none.
        self.pool = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.dropout = nn.Dropout(dropout)

    def output_length(self, length):
        """Frames (or bins) out of the block for ``length`` in."""
        length = output_length(length, kernel=3, stride=self.stride, padding=1)
        return output_length(length, kernel=2, stride=2, ceil_mode=True)

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
        conv_lengths = output_length(lengths, kernel=3, stride=self.stride, padding=1)
        x = self.conv(x)
        conv_mask = frame_mask(conv_lengths, x.shape[3], x.device)[:, None, None, :]
        x = F.elu(self.bn(x, conv_mask))
        out_lengths = output_length(conv_lengths, kernel=2, stride=2, ceil_mode=True)
        n_out = output_length(x.shape[3], kernel=2, stride=2, ceil_mode=True)
        out_mask = frame_mask(out_lengths, n_out, x.device)[:, None, None, :]
        x = masked_max_pool2d(x, conv_mask, self.pool, out_mask)
        return self.dropout(x), out_lengths, out_mask
