"""A recording-identity adversary for training singer embeddings.

Domain-adversarial training (Ganin & Lempitsky 2015): a small head learns to
tell from a classifier's embedding which recording an item comes from,
while a gradient-reversal layer between them makes the embedding work
against it, so that what identifies the recording (room, microphone, noise)
is trained out of the embedding.

The head guesses the recording *among the recordings of the item's own
singer* (the other recordings' logits are masked out). Told plainly to guess
the recording, the adversary would use the singer too (a singer narrows the
recordings down), and reversing it would train the singer out of the
embedding as well; within one singer, only recording conditions are left to
tell recordings apart. Singers with a single training recording give it
nothing to learn.
"""

import torch
import torch.nn.functional as F
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.weight * grad_output, None


def reverse_gradient(x: torch.Tensor, weight: float) -> torch.Tensor:
    """Identity forward; the gradient is multiplied by ``-weight`` on the way back."""
    return _ReverseGradient.apply(x, float(weight))


class RecordingAdversary(nn.Module):
    """Within-singer recording classifier behind a gradient-reversal layer.

    Parameters
    ----------
    embedding_size : int
        Size of the classifier's embedding.
    recording_singer : sequence of int, length n_recordings
        The singer (class index) of each training recording.
    n_classes : int
        Number of singers.
    hidden : int
        Units of the head's hidden layer.
    weight : float
        Gradient-reversal weight: how hard the embedding works against the head.
    """

    def __init__(
        self,
        *,
        embedding_size: int,
        recording_singer,
        n_classes: int,
        hidden: int = 128,
        weight: float = 1.0,
    ):
        super().__init__()
        recording_singer = torch.as_tensor(recording_singer, dtype=torch.long)
        if recording_singer.ndim != 1 or len(recording_singer) < 1:
            raise ValueError("recording_singer must name the singer of at least one recording")
        if recording_singer.min() < 0 or recording_singer.max() >= n_classes:
            raise ValueError(f"recording_singer must be in 0..{n_classes - 1}")
        if weight < 0:
            raise ValueError(f"weight must be >= 0, got {weight}")
        self.weight = float(weight)
        # allowed[singer, recording]: the recordings each singer's items may be told apart among
        allowed = torch.zeros(n_classes, len(recording_singer), dtype=torch.bool)
        allowed[recording_singer, torch.arange(len(recording_singer))] = True
        self.register_buffer("allowed", allowed)
        self.head = nn.Sequential(
            nn.Linear(embedding_size, hidden), nn.ReLU(), nn.Linear(hidden, len(recording_singer))
        )

    def forward(self, embedding: torch.Tensor, singers: torch.Tensor) -> torch.Tensor:
        """Recording logits, masked to minus infinity outside each item's singer.

        Parameters
        ----------
        embedding : torch.Tensor, shape (batch, embedding_size)
        singers : torch.Tensor of int, shape (batch,)
            True singer of each item.

        Returns
        -------
        torch.Tensor, shape (batch, n_recordings)
        """
        logits = self.head(reverse_gradient(embedding, self.weight)).float()
        return logits.masked_fill(~self.allowed[singers], float("-inf"))

    def loss(self, embedding: torch.Tensor, singers: torch.Tensor, recordings: torch.Tensor):
        """Mean cross-entropy of the within-singer recording guess.

        ``recordings`` holds each item's recording index (-1: none, the item is
        left out). Items of a singer with one recording add exactly zero.
        """
        keep = recordings >= 0
        if not bool(keep.any()):
            return embedding.sum() * 0.0
        logits = self(embedding[keep], singers[keep])
        return F.cross_entropy(logits, recordings[keep])
