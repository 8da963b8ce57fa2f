"""Time the embedding export, the t-SNE map and the report figures (issues 6 and 8).

Run from the repository root; it prints a markdown table:

    python benchmarks/bench_figures.py                 # about 2-4 min on 2 cores
    python benchmarks/bench_figures.py --items 500 2000 --repeats 1

Rows:

``embed <model>``
    :func:`cantaor.evaluation.embeddings.embed_items` over ``--embed-items`` synthetic
    log-mel items (128 bins, 20-120 real frames of 426), with the workflow's
    default model sizes (config/config.yaml), on the CPU: items per second.
``t-SNE <n> items``
    :func:`cantaor.evaluation.embeddings.tsne_map` of n embeddings (256 dimensions, 5
    singers as Gaussian clusters); 11,163 is the paper's corpus size.
``figure <name>``
    Each plot function of :mod:`cantaor.report.figures` drawing a paper-sized input
    (5 singers, 3 models, 20 epochs, the full 3x3x3 grid on two splits), PNG
    and SVG written.

Seconds are the minimum over ``--repeats`` (other jobs may share the cores);
OpenMP runs one thread unless ``OMP_NUM_THREADS`` says otherwise;
"peak RSS" is the process's peak resident memory after the row (it only grows).
"""

from __future__ import annotations

import os

# As the embedding_map rule does: t-SNE's OpenMP threads spin when other jobs share the
# cores; one thread per job (set before numpy and scikit-learn load their runtimes).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
SINGERS = ["AM", "EC", "EM", "JT", "TP"]
MODELS = ["residual_blstm", "crnn", "residual50"]


def best_of(repeats, run):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[500, 2000, 11163])
    parser.add_argument("--embed-items", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    from cantaor.evaluation.embeddings import embed_items, tsne_map
    from cantaor.evaluation.paper import paper_result
    from cantaor.models import build_model
    from cantaor.report import figures

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    rows = []
    options = yaml.safe_load((REPO / "config/config.yaml").read_text())["train"]["model_options"]
    lengths = rng.integers(20, 121, size=args.embed_items)
    features = np.zeros((args.embed_items, 128, 426), dtype=np.float16)
    for item, length in enumerate(lengths):
        features[item, :, :length] = rng.normal(size=(128, length))
    indices = np.arange(args.embed_items)
    for name in MODELS:
        model = build_model(name, n_classes=5, n_bins=128, **options[name])
        seconds = best_of(
            args.repeats,
            lambda model=model: embed_items(
                model, features=features, lengths=lengths, indices=indices, device="cpu"
            ),
        )
        rows.append(
            (
                f"embed {name}",
                args.embed_items,
                seconds,
                f"{args.embed_items / seconds:,.0f} items/s",
            )
        )
        rows[-1] = (*rows[-1], peak_rss_mib())
        print(rows[-1], file=sys.stderr)

    centres = rng.normal(scale=3.0, size=(len(SINGERS), 256))
    for n in args.items:
        labels = rng.integers(0, len(SINGERS), size=n)
        points = centres[labels] + rng.normal(size=(n, 256))
        seconds = best_of(args.repeats, lambda points=points: tsne_map(points, seed=0))
        rows.append((f"t-SNE {n} items", n, seconds, ""))
        rows[-1] = (*rows[-1], peak_rss_mib())
        print(rows[-1], file=sys.stderr)

    n_map = 2000
    labels = rng.integers(0, len(SINGERS), size=n_map)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n_map) + labels * 3,
            "y": rng.normal(size=n_map),
            "singer": np.asarray(SINGERS)[labels],
            "subset": rng.choice(["train", "validation", "test"], p=[0.7, 0.1, 0.2], size=n_map),
        }
    )
    history = pd.DataFrame(
        {
            "epoch": np.arange(1, 21),
            "train_loss": np.linspace(1.6, 0.2, 20),
            "train_accuracy": np.linspace(0.3, 0.95, 20),
            "val_loss": np.linspace(1.6, 0.6, 20),
            "val_accuracy": np.linspace(0.3, 0.8, 20),
        }
    )
    matrix = rng.integers(0, 30, size=(5, 5)) + np.diag([200] * 5)
    confusion = {"labels": SINGERS, "matrix": matrix.tolist(), "accuracy": 0.8}
    grid = pd.DataFrame(
        [
            (d, f, m, s, rng.uniform(0.3, 1.0), paper_result(m, d, f)[0])
            for s in ("group", "random")
            for d in ("motifs", "motifs_segment", "random")
            for f in ("mfcc", "spectrogram", "logmel")
            for m in MODELS
        ],
        columns=["dataset", "feature", "model", "split", "accuracy", "paper_accuracy"],
    )
    summary = pd.DataFrame(
        {
            "singer": SINGERS,
            "motifs": [400, 380, 150, 300, 140],
            "instances": [3467, 3064, 1125, 2445, 1062],
            "mean_length": [5.1, 5.5, 6.0, 5.2, 5.9],
            "mean_duration_s": [0.30, 0.32, 0.29, 0.31, 0.35],
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        drawings = {
            "motif statistics (5 singers)": lambda: figures.plot_motif_statistics(
                summary, path=out / "motifs"
            ),
            "training curves (3 models, 20 epochs)": lambda: figures.plot_training_curves(
                dict.fromkeys(MODELS, history), path=out / "curves", title="t"
            ),
            "confusion matrices (3 models, 5 singers)": lambda: figures.plot_confusion_matrices(
                dict.fromkeys(MODELS, confusion), path=out / "confusion", title="t"
            ),
            f"embedding maps (3 models, {n_map} items)": lambda: figures.plot_embedding_maps(
                dict.fromkeys(MODELS, frame), path=out / "map", title="t"
            ),
            "results grid (54 cells)": lambda: figures.plot_results_grid(grid, path=out / "grid"),
        }
        for name, draw in drawings.items():
            seconds = best_of(args.repeats, draw)
            rows.append((f"figure {name}", "", seconds, ""))
            rows[-1] = (*rows[-1], peak_rss_mib())
        print(rows[-1], file=sys.stderr)
    print("| step | items | seconds (min) | rate | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for name, items, seconds, rate, rss in rows:
        print(f"| {name} | {items} | {seconds:.2f} | {rate} | {rss:.0f} |")


if __name__ == "__main__":
    main()
