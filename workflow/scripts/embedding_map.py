"""Snakemake glue: t-SNE maps of the motif embeddings of every model of one grid cell."""

import os

# t-SNE's OpenMP threads spin when the cores are busy with other jobs (a 200-item map took
# 60 s instead of 5 s on 2 shared cores): keep to the rule's threads. Set before the
# OpenMP runtime loads with numpy and scikit-learn.
os.environ["OMP_NUM_THREADS"] = str(snakemake.threads)

from pathlib import Path

import pandas as pd

from cantaor.evaluation.embeddings import embedding_matrix, tsne_map
from cantaor.report.figures import plot_embedding_maps
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
maps = {}
for model, path in zip(snakemake.params.models, snakemake.input.embeddings, strict=True):
    frame = pd.read_parquet(path)
    coordinates = tsne_map(
        embedding_matrix(frame, source=path),
        perplexity=snakemake.params.figures["tsne_perplexity"],
        seed=snakemake.params.train["seed"],
    )
    maps[model] = frame[["singer", "subset"]].assign(x=coordinates[:, 0], y=coordinates[:, 1])
    log(f"{model}: {len(frame)} items mapped")
plot_embedding_maps(
    maps, path=Path(snakemake.output.png).with_suffix(""), title=snakemake.params.title
)
