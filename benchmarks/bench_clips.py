"""Shared-run detection over pre-cut clips at the scale of the authors' released set.

Cuts ``--clips`` clips (log-normal durations, median 0.3 s, 0.15-2 s, float32 at
22.05 kHz) from synthetic recordings: about half are new spans, a quarter copy
an earlier clip exactly, a quarter overlap an earlier clip's span. Times
:func:`cantaor.dataset.clips.shared_run_groups` (20 ms minimum run) and prints one row
per size: clips, samples, wall seconds (minimum of ``--repeat``), peak RSS of
the process, and the groups found against the true groups (spans of one
recording overlapping by 20 ms or more).

    python benchmarks/bench_clips.py --clips 1000 11000
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from cantaor.dataset.clips import shared_run_groups

RATE = 22050


def make_clips(n_clips: int, seed: int) -> tuple[list[np.ndarray], int]:
    """Clips and the true number of groups (spans of one recording sharing 20 ms)."""
    rng = np.random.default_rng(seed)
    recordings = [rng.normal(scale=0.1, size=60 * RATE).astype(np.float32) for _ in range(20)]
    spans: list[tuple[int, int, int]] = []
    clips = []
    for _ in range(n_clips):
        kind = rng.random() if spans else 0.0
        length = int(np.clip(rng.lognormal(np.log(0.3), 0.5), 0.15, 2.0) * RATE)
        if kind < 0.5:
            recording = int(rng.integers(len(recordings)))
            start = int(rng.integers(0, len(recordings[recording]) - length))
        else:
            source = int(rng.integers(len(spans)))
            recording, start, length_before = spans[source]
            if kind < 0.75:
                length = length_before
            else:
                # Overlap the earlier span by at least 50 ms.
                shift = int(rng.integers(-length + RATE // 20, length_before - RATE // 20))
                start = int(np.clip(start + shift, 0, len(recordings[recording]) - length))
        spans.append((recording, start, length))
        clips.append(recordings[recording][start : start + length].copy())
    return clips, true_groups(spans, round(0.02 * RATE))


def true_groups(spans: list[tuple[int, int, int]], min_samples: int) -> int:
    """Components of spans of one recording overlapping by at least ``min_samples``."""
    parent = list(range(len(spans)))

    def find(k: int) -> int:
        while parent[k] != k:
            k = parent[k]
        return k

    order = sorted(range(len(spans)), key=lambda k: spans[k][:2])
    active: list[int] = []
    for k in order:
        recording, start, length = spans[k]
        active = [
            j for j in active if spans[j][0] == recording and spans[j][1] + spans[j][2] > start
        ]
        for j in active:
            if min(spans[j][1] + spans[j][2], start + length) - start >= min_samples:
                parent[find(j)] = find(k)
        active.append(k)
    return len({find(k) for k in range(len(spans))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, nargs="+", default=[1000, 11000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("| clips | samples (M) | wall s | peak RSS MB | groups found | true groups |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n_clips in args.clips:
        clips, planted = make_clips(n_clips, args.seed)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            groups = shared_run_groups(clips, min_samples=round(0.02 * RATE))
            times.append(time.perf_counter() - started)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        samples_m = sum(map(len, clips)) / 1e6
        print(
            f"| {n_clips} | {samples_m:.1f} | {min(times):.1f} | {peak_mb:.0f} "
            f"| {len(set(groups.tolist()))} | {planted} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
