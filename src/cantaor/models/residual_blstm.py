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

from cantaor.models.layers import FrameClassifier, MaskedBatchNorm2d, MaskedBatchNormFunction
from cantaor.models.layers import frame_mask as _frame_mask

# Former private names, kept for code that imports them from here.
_MaskedBatchNorm2d = MaskedBatchNorm2d
_MaskedBatchNormFunction = MaskedBatchNormFunction


class ResidualBLSTM(FrameClassifier):
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
        super().__init__(n_bins)
        self.embedding_size = 2 * lstm_hidden

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
        x, lengths = self._standardised_input(features, lengths)
        n_frames = x.shape[2]
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
        self.bn1 = MaskedBatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = MaskedBatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut_conv = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
            self.shortcut_bn = MaskedBatchNorm2d(out_channels)
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
