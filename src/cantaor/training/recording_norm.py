"""Per-recording feature normalisation: remove each recording's mean spectrum.

In the log domain a fixed channel (microphone, equaliser, room colouring,
level) adds the same offset to a bin in every frame of a recording.
Subtracting the recording's mean of each bin (cepstral mean subtraction in
the log-mel domain) removes any such offset, at the price of the singer's
average timbre over that recording, which goes with it. The mean is taken
over the real frames of the recording's items, the same way in training,
prediction (:func:`cantaor.training.jobs.run_prediction`, over a test
recording's items) and ``cantaor identify`` (over the items found in the one
recording it reads).
"""

from __future__ import annotations

import numpy as np


def recording_offsets(features, lengths, recordings, *, batch_size: int = 256) -> np.ndarray:
    """The mean of each bin over the real frames of each item's recording.

    Parameters
    ----------
    features : numpy.ndarray or numpy.memmap, shape (n_items, n_bins, n_frames)
        Feature store, zero-padded after each item's real frames; read
        ``batch_size`` items at a time.
    lengths : array-like of int, shape (n_items,)
        Real frames per item (1..n_frames).
    recordings : array-like, shape (n_items,)
        Recording of each item.

    Returns
    -------
    numpy.ndarray of float32, shape (n_items, n_bins)
        Row ``i``: the per-bin mean of the frames of every item sharing item
        ``i``'s recording (each frame weighs the same).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    recordings = np.asarray(recordings, dtype=object).astype(str)
    if features.ndim != 3:
        raise ValueError(f"features must be (n_items, n_bins, n_frames), got {features.shape}")
    n_items, n_bins, n_frames = features.shape
    if lengths.shape != (n_items,) or recordings.shape != (n_items,):
        raise ValueError(f"lengths and recordings must have shape ({n_items},)")
    if n_items and (lengths.min() < 1 or lengths.max() > n_frames):
        raise ValueError(f"lengths must be in 1..{n_frames}")
    names, code = np.unique(recordings, return_inverse=True)
    sums = np.zeros((len(names), n_bins))
    counts = np.zeros(len(names))
    for start in range(0, n_items, batch_size):
        stop = min(start + batch_size, n_items)
        batch_lengths = lengths[start:stop]
        x = np.asarray(features[start:stop, :, : batch_lengths.max()], dtype=np.float64)
        mask = np.arange(x.shape[2])[None, None, :] < batch_lengths[:, None, None]
        np.add.at(sums, code[start:stop], np.where(mask, x, 0.0).sum(axis=2))
        np.add.at(counts, code[start:stop], batch_lengths)
    return (sums / counts[:, None])[code].astype(np.float32)
