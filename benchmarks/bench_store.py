"""Feature store build: wall time and peak memory for a store of 10,000 items.

Writes synthetic recordings (tones with vibrato and noise, 44.1 kHz) and an
item table of motif-like spans over them, then builds each feature's store with
:func:`cantaor.features.store.build_store`, the function the ``feature_store`` rule
calls, in a fresh subprocess per run so that its peak resident memory (from
``wait4``) is the build's alone. Prints one row per feature: items, recordings,
feature, store size, wall seconds and peak RSS (the minimum of ``--repeat``
runs for both). Target: peak RSS under 1 GB.

    python benchmarks/bench_store.py                  # 10,000 items, every feature
    python benchmarks/bench_store.py --items 2000 --features logmel
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from cantaor.features.acoustic import FEATURES

RATE = 44100


def make_corpus(folder: Path, *, n_items: int, n_recordings: int, duration_s: float, seed: int):
    """Recordings on disk and an item table of ``n_items`` spans over them."""
    rng = np.random.default_rng(seed)
    paths = {}
    for r in range(n_recordings):
        t = np.arange(round(duration_s * RATE)) / RATE
        f0_hz = 180 + 60 * r / n_recordings
        phase = 2 * np.pi * f0_hz * t + 4 * np.sin(2 * np.pi * 5.5 * t)
        audio = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2
        audio += rng.normal(scale=0.01, size=len(t))
        path = folder / f"R{r:03d}.wav"
        soundfile.write(path, audio.astype(np.float32), RATE, subtype="PCM_16")
        paths[f"R{r:03d}"] = str(path)
    per_recording = np.diff(np.linspace(0, n_items, n_recordings + 1).round().astype(int))
    rows = []
    for r, count in enumerate(per_recording):
        durations = np.clip(rng.lognormal(np.log(0.5), 0.6, size=count), 0.15, 4.0)
        starts = rng.uniform(0, duration_s - durations)
        for k, (start, length) in enumerate(zip(starts, durations, strict=True)):
            rows.append(
                {
                    "item_id": f"m{k}@R{r:03d}/0/{k}",
                    "singer": f"S{r % 5}",
                    "recording": f"R{r:03d}",
                    "group": f"R{r:03d}",
                    "motif_id": f"m{k}",
                    "start_s": float(start),
                    "end_s": float(start + length),
                }
            )
    return pd.DataFrame(rows), paths


def child(args) -> None:
    from cantaor.features.store import build_store

    items = pd.read_parquet(args.items_path)
    paths = dict(pd.read_csv(args.paths_csv).itertuples(index=False, name=None))
    started = time.perf_counter()
    build_store(
        items,
        paths,
        tensor_path=args.tensor,
        index_path=args.tensor + ".index.parquet",
        kind=args.feature,
        n_frames=426,
    )
    print(f"{time.perf_counter() - started:.3f}")


def run_once(
    feature: str, items_path: Path, paths_csv: Path, folder: Path
) -> tuple[float, float, int]:
    """Wall seconds of the build, peak RSS of the process in MB, store bytes."""
    tensor = folder / f"{feature}.npy"
    command = [
        sys.executable,
        __file__,
        "--child",
        "--feature",
        feature,
        "--items-path",
        str(items_path),
        "--paths-csv",
        str(paths_csv),
        "--tensor",
        str(tensor),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"build of {feature} failed")
    size = tensor.stat().st_size
    tensor.unlink()
    return float(output.strip()), usage.ru_maxrss / 1024, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--recordings", type=int, default=40)
    parser.add_argument("--duration-s", type=float, default=90.0)
    parser.add_argument("--features", nargs="+", default=list(FEATURES), choices=FEATURES)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--feature", help=argparse.SUPPRESS)
    parser.add_argument("--items-path", help=argparse.SUPPRESS)
    parser.add_argument("--paths-csv", help=argparse.SUPPRESS)
    parser.add_argument("--tensor", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench_store_") as tmp:
        folder = Path(tmp)
        items, paths = make_corpus(
            folder,
            n_items=args.items,
            n_recordings=args.recordings,
            duration_s=args.duration_s,
            seed=args.seed,
        )
        items_path = folder / "items.parquet"
        items.to_parquet(items_path, index=False)
        paths_csv = folder / "paths.csv"
        pd.DataFrame(list(paths.items()), columns=["recording", "path"]).to_csv(
            paths_csv, index=False
        )
        audio_s = args.recordings * args.duration_s
        print(
            f"{len(items)} items over {args.recordings} recordings ({audio_s / 60:.0f} min of "
            f"audio), 426 frames, float16; min of {args.repeat} run(s)\n"
        )
        print("| items | feature | store MB | wall s | peak RSS MB |")
        print("|---:|---|---:|---:|---:|")
        for feature in args.features:
            runs = [run_once(feature, items_path, paths_csv, folder) for _ in range(args.repeat)]
            wall = min(run[0] for run in runs)
            peak = min(run[1] for run in runs)
            store_mb = runs[0][2] / 2**20
            print(
                f"| {len(items)} | {feature} | {store_mb:.0f} | {wall:.1f} | {peak:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
