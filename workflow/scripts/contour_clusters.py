"""Snakemake glue: k-means clusters of the corpus' cents values."""

import numpy as np
import pandas as pd

from cantaor.contour import fit_clusters
from cantaor.io import write_json
from cantaor.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
cents = np.concatenate(
    [
        pd.read_parquet(path, columns=["pitch_cents"])["pitch_cents"].to_numpy()
        for path in snakemake.input.f0
    ]
)
cents = cents[np.isfinite(cents)]
log(f"{len(snakemake.input.f0)} recordings, {cents.size} voiced frames, k={p.k}")
centers_cents, inertia = fit_clusters(cents, k=p.k, seed=p.seed)
write_json(
    {
        "method": "kmeans",
        "k": p.k,
        "seed": p.seed,
        "reference_hz": p.reference_hz,
        "n_points": int(cents.size),
        "inertia": inertia,
        "centers_cents": centers_cents.tolist(),
    },
    snakemake.output.clusters,
)
log("centres (cents): " + ", ".join(f"{c:.0f}" for c in centers_cents))
