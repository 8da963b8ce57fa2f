"""Snakemake glue: k-means clusters of the corpus' cents values (k fixed or chosen)."""

import numpy as np
import pandas as pd

from cantaor.contour import choose_k, fit_clusters
from cantaor.io import write_json
from cantaor.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
summary = {"method": p.method, "seed": p.seed, "reference_hz": p.reference_hz}
if p.method == "bands":
    # The bands method needs no clusters; the file records that it was used.
    summary.update(k=None, centers_cents=[])
else:
    cents = np.concatenate(
        [
            pd.read_parquet(path, columns=["pitch_cents"])["pitch_cents"].to_numpy()
            for path in snakemake.input.f0
        ]
    )
    cents = cents[np.isfinite(cents)]
    k = p.k
    if k == "auto":
        k, scores = choose_k(
            cents, k_min=p.k_min, k_max=p.k_max, criterion=p.k_criterion, seed=p.seed
        )
        summary["k_selection"] = {
            "criterion": p.k_criterion,
            "scores": scores.replace({np.nan: None}).to_dict(orient="records"),
        }
        log(f"k chosen by {p.k_criterion} over [{p.k_min}, {p.k_max}]: {k}")
    log(f"{len(snakemake.input.f0)} recordings, {cents.size} voiced frames, k={k}")
    centers_cents, inertia = fit_clusters(cents, k=int(k), seed=p.seed)
    summary.update(
        k=int(k), n_points=int(cents.size), inertia=inertia, centers_cents=centers_cents.tolist()
    )
    log("centres (cents): " + ", ".join(f"{c:.0f}" for c in centers_cents))
write_json(summary, snakemake.output.clusters)
