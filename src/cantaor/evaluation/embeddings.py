"""Acoustic motif embeddings of a trained model, and their 2-D map.

Every model in :mod:`cantaor.models` has an ``embed(features, lengths)``
method: the layer the paper calls the acoustic motif embedding (for the
Residual-BLSTM, the concatenated final forward and backward LSTM states),
before the fully connected layer and the classifier.

Embeddings schema (one row per item of the store, in store order):
``item_id``, ``singer``, ``recording``, ``subset`` (str: train, validation or
test) and one float32 column ``e:<k>`` per embedding dimension k = 0..d-1.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

EMBEDDING_PREFIX = "e:"
ID_COLUMNS = ("item_id", "singer", "recording", "subset")


def embed_items(
    model, *, features, lengths, indices, batch_size: int = 64, device="auto", offsets=None
):
    """Embeddings of some items.

    The model is moved to ``device`` and left in eval mode.

    Parameters
    ----------
    model : torch.nn.Module
        A model with ``embed(features, lengths)`` (every model of :mod:`cantaor.models`).
    features : numpy.ndarray, shape (n_items, n_bins, n_frames)
        Frame-wise features, zero-padded after each item.
    lengths : numpy.ndarray of int, shape (n_items,)
        Real frames per item.
    indices : numpy.ndarray of int, shape (n,)
        Items to embed, in output order.
    batch_size : int
        Items per forward pass.
    offsets : numpy.ndarray, shape (n_items, n_bins), optional
        Recording means to subtract first, for a model trained with
        ``recording_normalization`` (:func:`cantaor.training.jobs.model_offsets`).
    device : str or torch.device
        "auto", "cpu" or "cuda".

    Returns
    -------
    numpy.ndarray, shape (n, embedding_size), float32
    """
    import torch

    from cantaor.training.loop import _batches, _length_sorted_batches, resolve_device

    if not hasattr(model, "embed"):
        raise TypeError(f"{type(model).__name__} has no embed() method")
    if not isinstance(device, torch.device):
        device = resolve_device(device)
    model.to(device)
    model.eval()
    lengths = np.asarray(lengths)
    indices = np.asarray(indices, dtype=np.int64)
    size = int(model.embedding_size)
    if indices.size == 0:
        return np.zeros((0, size), dtype=np.float32)
    rows = []
    # Items of similar length share a batch (less padding); rows are put back in order below.
    by_length = np.argsort(lengths[indices], kind="stable")
    with torch.no_grad():
        for x, batch_lengths, _ in _batches(
            features,
            lengths,
            None,
            _length_sorted_batches(indices, lengths, batch_size),
            device=device,
            offsets=offsets,
        ):
            rows.append(model.embed(x, batch_lengths).float().cpu().numpy())
    embeddings = np.empty((indices.size, size), dtype=np.float32)
    embeddings[by_length] = np.concatenate(rows)
    return embeddings


def run_embeddings(
    *,
    model_path,
    tensor_path,
    index_path,
    split_path,
    embeddings_path,
    device: str = "auto",
    threads: int | None = None,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Embed every item of a feature store with a trained model (schema in the module docstring)."""
    import torch

    from cantaor.features.store import open_store
    from cantaor.training.jobs import load_items, model_offsets
    from cantaor.training.loop import load_model
    from cantaor.util.parquet import write_parquet

    if threads:
        torch.set_num_threads(threads)
    model, meta = load_model(model_path)
    items = load_items(index_path, split_path)
    features = open_store(tensor_path)
    lengths = items["n_frames"].to_numpy("int64")
    embeddings = embed_items(
        model,
        features=features,
        lengths=lengths,
        indices=np.arange(len(items)),
        device=device,
        offsets=model_offsets(meta, features, lengths, items["recording"]),
    )
    frame = items[list(ID_COLUMNS)].astype(str).reset_index(drop=True)
    columns = pd.DataFrame(
        embeddings, columns=[f"{EMBEDDING_PREFIX}{k}" for k in range(embeddings.shape[1])]
    )
    frame = pd.concat([frame, columns], axis=1)
    write_parquet(frame, embeddings_path)
    log(
        f"{meta['model_name']}: {len(frame)} items embedded in {embeddings.shape[1]} dimensions "
        f"({dict(frame['subset'].value_counts())})"
    )
    return frame


def embedding_matrix(frame: pd.DataFrame, *, source: str = "embeddings") -> np.ndarray:
    """The ``e:<k>`` columns of an embeddings table as a float64 array, checked.

    Raises
    ------
    ValueError
        Naming ``source`` when a column is missing or a value is not finite.
    """
    missing = [column for column in ID_COLUMNS if column not in frame.columns]
    columns = [column for column in frame.columns if str(column).startswith(EMBEDDING_PREFIX)]
    if missing or not columns:
        what = ", ".join(missing) if missing else f"{EMBEDDING_PREFIX}<k> embedding columns"
        raise ValueError(f"{source}: not an embeddings table (missing {what})")
    matrix = frame[columns].to_numpy(np.float64)
    if not np.isfinite(matrix).all():
        row = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        raise ValueError(
            f"{source}: item {frame['item_id'].iloc[row]!r} has a non-finite embedding"
        )
    return matrix


def tsne_map(embeddings: np.ndarray, *, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """2-D t-SNE coordinates of embeddings (scikit-learn, PCA initialisation).

    Parameters
    ----------
    embeddings : numpy.ndarray, shape (n, d)
        One embedding per row.
    perplexity : float
        t-SNE perplexity; lowered to (n - 1) / 3 for small n, where t-SNE
        needs perplexity < n.
    seed : int
        Random state, so the same embeddings give the same map.

    Returns
    -------
    numpy.ndarray, shape (n, 2)
        Map coordinates. With fewer than 4 items t-SNE is not defined; the
        first two principal components are returned instead (zeros where the
        data has fewer directions).
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    embeddings = np.asarray(embeddings, dtype=np.float64)
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (items, dimensions), got {embeddings.shape}")
    if perplexity <= 0:
        raise ValueError(f"perplexity must be positive, got {perplexity}")
    n = embeddings.shape[0]
    coordinates = np.zeros((n, 2))
    if n < 4:
        components = min(n, embeddings.shape[1], 2)
        if components:
            coordinates[:, :components] = PCA(n_components=components).fit_transform(embeddings)
        return coordinates
    tsne = TSNE(
        n_components=2,
        perplexity=min(float(perplexity), (n - 1) / 3.0),
        init="pca",
        random_state=seed,
    )
    return tsne.fit_transform(embeddings)
