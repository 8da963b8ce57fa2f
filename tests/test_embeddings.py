import numpy as np
import pandas as pd
import pytest
import torch

from cantaor.evaluation.embeddings import EMBEDDING_PREFIX, embed_items, embedding_matrix, tsne_map
from cantaor.models import build_model

TINY = {
    "residual_blstm": {"channels": 3, "n_blocks": 1, "lstm_hidden": 5, "fc_units": 8},
    "crnn": {"channels": 2, "gru_hidden": 4, "fc_units": 8},
    "residual50": {"width": 2, "stage_blocks": [1, 1], "fc_units": 8},
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_embed_items_matches_embedding_each_item_alone(name):
    torch.manual_seed(0)
    model = build_model(name, n_classes=3, n_bins=16, **TINY[name])
    rng = np.random.default_rng(1)
    lengths = rng.integers(8, 40, size=11)
    features = np.zeros((11, 16, 40), dtype=np.float16)
    for item, length in enumerate(lengths):
        features[item, :, :length] = rng.normal(size=(16, length))
    indices = np.array([7, 0, 3, 10, 3, 5])
    embeddings = embed_items(
        model, features=features, lengths=lengths, indices=indices, batch_size=4, device="cpu"
    )
    assert embeddings.dtype == np.float32
    assert embeddings.shape == (len(indices), model.embedding_size)
    model.eval()
    with torch.no_grad():
        for row, item in enumerate(indices):
            alone = torch.from_numpy(features[item : item + 1, :, : lengths[item]].astype("f4"))
            expected = model.embed(alone, torch.tensor([lengths[item]])).numpy()[0]
            np.testing.assert_allclose(embeddings[row], expected, rtol=1e-4, atol=1e-5)


def test_embed_items_of_no_items():
    model = build_model("residual_blstm", n_classes=2, n_bins=4, **TINY["residual_blstm"])
    out = embed_items(
        model, features=np.zeros((2, 4, 5)), lengths=np.array([5, 5]), indices=[], device="cpu"
    )
    assert out.shape == (0, model.embedding_size)


def _table(matrix):
    n = len(matrix)
    frame = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n)],
            "singer": "A",
            "recording": "r",
            "subset": "test",
        }
    )
    columns = pd.DataFrame(
        matrix, columns=[f"{EMBEDDING_PREFIX}{k}" for k in range(matrix.shape[1])]
    )
    return pd.concat([frame, columns], axis=1)


def test_embedding_matrix_reads_and_checks_the_table():
    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(embedding_matrix(_table(matrix)), matrix)
    with pytest.raises(ValueError, match=r"e\.parquet: not an embeddings table \(missing subset\)"):
        embedding_matrix(_table(matrix).drop(columns="subset"), source="e.parquet")
    with pytest.raises(ValueError, match="missing e:<k> embedding columns"):
        embedding_matrix(_table(matrix).iloc[:, :4], source="e.parquet")
    matrix[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"e\.parquet: item 'i2' has a non-finite embedding"):
        embedding_matrix(_table(matrix), source="e.parquet")


def test_tsne_map_keeps_separate_clusters_apart_and_is_seeded():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=20.0, size=(3, 10))
    labels = np.repeat(np.arange(3), 15)
    points = centres[labels] + rng.normal(size=(45, 10))
    coordinates = tsne_map(points, perplexity=10, seed=3)
    assert coordinates.shape == (45, 2)
    # Every point's nearest neighbour on the map belongs to its own cluster.
    distances = np.linalg.norm(coordinates[:, None] - coordinates[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert (labels[distances.argmin(axis=1)] == labels).all()
    np.testing.assert_array_equal(coordinates, tsne_map(points, perplexity=10, seed=3))


def test_tsne_map_of_few_items():
    assert tsne_map(np.ones((5, 3)) + np.arange(5)[:, None], perplexity=30).shape == (5, 2)
    three = tsne_map(np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]]))
    # Fewer than 4 items: principal components, distances kept.
    np.testing.assert_allclose(np.abs(three[:, 0] - three[0, 0]), [0.0, 1.0, 3.0])
    assert tsne_map(np.zeros((0, 4))).shape == (0, 2)
    with pytest.raises(ValueError, match="perplexity must be positive"):
        tsne_map(np.ones((6, 2)), perplexity=0)
