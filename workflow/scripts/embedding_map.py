"""Snakemake glue: t-SNE maps of the motif embeddings of every model of one grid cell."""

from pathlib import Path

import pandas as pd

from cantaor.embeddings import embedding_matrix, tsne_map
from cantaor.figures import plot_embedding_maps
from cantaor.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
maps = {}
for model, path in zip(snakemake.params.models, snakemake.input.embeddings, strict=True):
    frame = pd.read_parquet(path)
    coordinates = tsne_map(
        embedding_matrix(frame, source=path),
        perplexity=snakemake.params.perplexity,
        seed=snakemake.params.seed,
    )
    maps[model] = frame[["singer", "subset"]].assign(x=coordinates[:, 0], y=coordinates[:, 1])
    log(f"{model}: {len(frame)} items mapped")
plot_embedding_maps(
    maps, path=Path(snakemake.output.png).with_suffix(""), title=snakemake.params.title
)
