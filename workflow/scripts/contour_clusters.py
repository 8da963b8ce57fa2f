"""Snakemake glue: k-means clusters of the corpus' cents values (k fixed or chosen)."""

import numpy as np
import pandas as pd

from cantaor.contour.symbols import choose_k, fit_clusters
from cantaor.util.atomic import write_json
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
c = snakemake.params.contour
summary = {
    "method": c["method"],
    "seed": c["seed"],
    "reference_hz": snakemake.params.f0["reference_hz"],
}
if c["method"] == "bands":
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
    k = c["k"]
    if k == "auto":
        k, scores = choose_k(
            cents, k_min=c["k_min"], k_max=c["k_max"], criterion=c["k_criterion"], seed=c["seed"]
        )
        summary["k_selection"] = {
            "criterion": c["k_criterion"],
            "scores": scores.replace({np.nan: None}).to_dict(orient="records"),
        }
        log(f"k chosen by {c['k_criterion']} over [{c['k_min']}, {c['k_max']}]: {k}")
    log(f"{len(snakemake.input.f0)} recordings, {cents.size} voiced frames, k={k}")
    centers_cents, inertia = fit_clusters(cents, k=int(k), seed=c["seed"])
    summary.update(
        k=int(k), n_points=int(cents.size), inertia=inertia, centers_cents=centers_cents.tolist()
    )
    log("centres (cents): " + ", ".join(f"{c:.0f}" for c in centers_cents))
write_json(summary, snakemake.output.clusters)
