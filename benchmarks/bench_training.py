"""Training throughput: items per second per model, the paper's fixed 426 frames against
length bucketing, and the accuracy each layout reaches.

Items are synthetic log-mel-like arrays (128 bins x 426 frames, float16) with the length
distribution of motif occurrences on the demo corpus (log-normal, median 121 frames,
0.2-4.26 s) and a singer signal that lives only in the real frames: each class has its
own spectral envelope plus a class-specific frequency-modulation rate, under noise
strong enough that a model does not reach 100 %.

Layouts, with the models exactly as the workflow builds them (``train.model_options``
of ``config/config.yaml``):

* ``fixed426`` — the paper's: every item is read at 426 frames, zero padding included,
  and the model is not told where the item ends;
* ``bucketed`` — cantaor's default: batches of similar length, each cut to its longest
  item, padding masked in the recurrent layers and pooling.

Throughput is one training epoch (optimisation pass only, no validation, after one
warm-up step) on ``--items`` items with the job's threads, per wall second and per CPU
second of this process (the latter holds up when other work shares the machine).
Accuracy (``--accuracy``) trains the Residual-BLSTM to early stopping in both layouts
on the same split and scores held-out items.

    python benchmarks/bench_training.py --items 512 --threads 2 --accuracy
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import yaml

from cantaor.models import build_model
from cantaor.training.loop import (
    CUDA_WIDTH_MULTIPLE,
    TrainConfig,
    batch_width,
    predict_proba,
    train_model,
)

REPO = Path(__file__).resolve().parents[1]
N_BINS, N_FRAMES = 128, 426


def synthetic_items(n_items: int, n_classes: int, seed: int = 0):
    """Features (n, 128, 426) float16 zero-padded, lengths, labels."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(np.round(rng.lognormal(np.log(121), 0.6, n_items)), 20, N_FRAMES).astype(
        np.int64
    )
    labels = np.arange(n_items) % n_classes
    rng.shuffle(labels)
    bins = np.arange(N_BINS)[:, None]
    centres = rng.uniform(20, 100, n_classes)
    rates = rng.uniform(0.02, 0.12, n_classes)
    features = np.zeros((n_items, N_BINS, N_FRAMES), dtype=np.float16)
    for i, (length, label) in enumerate(zip(lengths, labels)):
        t = np.arange(length)[None, :]
        centre = centres[label] + 8 * np.sin(2 * np.pi * rates[label] * t + rng.uniform(0, 6))
        envelope = np.exp(-0.5 * ((bins - centre) / 6.0) ** 2)
        noise = rng.standard_normal((N_BINS, length))
        features[i, :, :length] = (3.0 * envelope + 2.5 * noise - 1.0).astype(np.float16)
    return features, lengths, labels


def model_options(name: str) -> dict:
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    return dict(config["train"]["model_options"][name])


def epoch_throughput(
    name,
    features,
    lengths,
    labels,
    *,
    layout,
    batch_size,
    seed=0,
    device="cpu",
    amp=False,
    warmup_epochs=0,
    width_multiple=1,
):
    """Items per second of one optimisation pass (forward, backward, Adam step).

    On CUDA with ``amp`` the step is the workflow's: float16 autocast and gradient scaling.
    """
    torch.manual_seed(seed)
    device = torch.device(device)
    amp = amp and device.type == "cuda"
    n_classes = int(labels.max()) + 1
    options = {**model_options(name), "n_bins": N_BINS}
    model = build_model(name, n_classes=n_classes, **options).to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    order = np.arange(len(labels))
    if layout == "bucketed":
        order = order[np.argsort(lengths, kind="stable")]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng = np.random.default_rng(seed)
    batches = [batches[i] for i in rng.permutation(len(batches))]
    # Warm-up outside the clock: one step (allocator, kernel selection), or whole
    # epochs, which on a GPU also build the per-shape kernel plans of every batch width.
    warmup = batches * warmup_epochs if warmup_epochs else [batches[0]]
    for step, batch in enumerate([*warmup, *batches]):
        if step == len(warmup):
            synchronize(device)
            start, cpu_start = time.perf_counter(), time.process_time()
        batch_lengths = lengths[batch] if layout == "bucketed" else np.full(len(batch), N_FRAMES)
        width = batch_width(batch_lengths.max(), width_multiple, N_FRAMES)
        x = torch.from_numpy(features[batch, :, :width].astype(np.float32)).to(device)
        y = torch.from_numpy(labels[batch]).to(device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device.type, enabled=amp):
            loss = F.cross_entropy(model(x, torch.from_numpy(batch_lengths)), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    synchronize(device)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    return len(order) / seconds, seconds, len(order) / cpu_seconds


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def split_60_20_20(n: int, seed: int = 0):
    """Train, validation and test indices: a seeded 60/20/20 permutation of ``range(n)``."""
    order = np.random.default_rng(seed).permutation(n)
    return np.split(order, [int(0.6 * n), int(0.8 * n)])


def accuracy(features, lengths, labels, *, layout, epochs, seed=0, device="cpu"):
    """Test accuracy of the Residual-BLSTM trained to early stopping in ``layout``."""
    n = len(labels)
    train_idx, val_idx, test_idx = split_60_20_20(n, seed)
    seen = lengths if layout == "bucketed" else np.full(n, N_FRAMES)
    result = train_model(
        features=features,
        lengths=seen,
        labels=labels,
        train_idx=train_idx,
        val_idx=val_idx,
        n_classes=int(labels.max()) + 1,
        model_name="residual_blstm",
        model_options=model_options("residual_blstm"),
        config=TrainConfig(
            epochs=epochs, seed=seed, bucket_by_length=layout == "bucketed", device=device
        ),
    )
    proba = predict_proba(
        result.model, features=features, lengths=seen, indices=test_idx, device=device
    )
    return {
        "layout": layout,
        "test_accuracy": round(float((proba.argmax(axis=1) == labels[test_idx]).mean()), 4),
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "train_s": round(float(result.history["seconds"].sum()), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=512, help="items per throughput epoch")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=["residual_blstm", "crnn", "residual50"])
    parser.add_argument("--accuracy", action="store_true", help="also train to early stopping")
    parser.add_argument("--accuracy-items", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--warmup-epochs", type=int, default=0, help="untimed epochs first (0: one step)"
    )
    parser.add_argument(
        "--width-multiple",
        type=int,
        help="round bucketed batch widths up to a multiple of this many frames "
        "(default: as training does, 16 on CUDA, 1 on the CPU)",
    )
    parser.add_argument(
        "--no-amp",
        dest="amp",
        action="store_false",
        help="on CUDA, train in float32 instead of the workflow's float16 autocast",
    )
    parser.add_argument(
        "--project-items",
        type=int,
        default=11163,
        help="items for the projected 20-epoch training time (the paper's motif count)",
    )
    args = parser.parse_args()
    if args.width_multiple is None:
        args.width_multiple = CUDA_WIDTH_MULTIPLE if args.device == "cuda" else 1
    torch.set_num_threads(args.threads)
    card = ""
    if args.device == "cuda":
        card = f", {torch.cuda.get_device_name()}, amp {'on' if args.amp else 'off'}"
    else:
        torch.use_deterministic_algorithms(True)
    print(
        f"# {platform.node()}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__} threads {args.threads}, "
        f"load {os.getloadavg()[0]:.1f}, device {args.device}{card}, "
        f"widths rounded to {args.width_multiple}, {args.warmup_epochs} warm-up epochs"
    )
    features, lengths, labels = synthetic_items(args.items, args.classes)
    print(f"# items: {args.items}, median length {int(np.median(lengths))} frames")
    rows = []
    for name in args.models:
        row = {"model": name}
        for layout in ("fixed426", "bucketed"):
            items_per_s, seconds, items_per_cpu_s = epoch_throughput(
                name,
                features,
                lengths,
                labels,
                layout=layout,
                batch_size=args.batch_size,
                device=args.device,
                amp=args.amp,
                warmup_epochs=args.warmup_epochs,
                width_multiple=args.width_multiple,
            )
            row[f"{layout}_items_per_s"] = round(items_per_s, 1)
            row[f"{layout}_epoch_s"] = round(seconds, 1)
            row[f"{layout}_items_per_cpu_s"] = round(items_per_cpu_s, 2)
        row["speed_up_wall"] = round(row["bucketed_items_per_s"] / row["fixed426_items_per_s"], 2)
        row["speed_up_cpu"] = round(
            row["bucketed_items_per_cpu_s"] / row["fixed426_items_per_cpu_s"], 2
        )
        # One training pass per epoch over the paper's item count, 20 epochs, bucketed.
        row["projected_20_epochs_min"] = round(
            20 * args.project_items / row["bucketed_items_per_s"] / 60, 1
        )
        row["load_after"] = round(os.getloadavg()[0], 1)
        rows.append(row)
        print(pd.DataFrame(rows).to_markdown(index=False), flush=True)
    print("\n## Throughput (one training pass)\n")
    print(pd.DataFrame(rows).to_markdown(index=False))
    if args.accuracy:
        features, lengths, labels = synthetic_items(args.accuracy_items, args.classes, seed=1)
        table = pd.DataFrame(
            [
                accuracy(
                    features, lengths, labels, layout=layout, epochs=args.epochs, device=args.device
                )
                for layout in ("fixed426", "bucketed")
            ]
        )
        print("\n## Accuracy, Residual-BLSTM to early stopping\n")
        print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
