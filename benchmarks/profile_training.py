"""Profile the slowest stage of the demo pipeline: one training epoch.

On the demo corpus, training the Residual-BLSTM takes most of the pipeline's time
(BENCHMARKS.md, "Whole demo pipeline"). This script trains one epoch of a model as
``bench_training.py`` does (synthetic motif-length log-mel items, the model exactly as
the workflow builds it, length-bucketed or fixed 426 frames) under two profilers:

* ``torch.profiler`` — time per operator, forward and backward, summed over the epoch
  ("self CPU" is the time inside the operator itself, not its children);
* pyinstrument, when installed (``pip install pyinstrument``) — where the Python-level
  time goes (model code, data preparation, optimiser step).

    python benchmarks/profile_training.py --items 384 --threads 2
    python benchmarks/profile_training.py --layout fixed426 --model crnn
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import epoch_throughput, synthetic_items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="residual_blstm")
    parser.add_argument("--layout", choices=["bucketed", "fixed426"], default="bucketed")
    parser.add_argument("--items", type=int, default=384)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", type=int, default=20, help="operators listed")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    features, lengths, labels = synthetic_items(args.items, args.classes)
    run = dict(layout=args.layout, batch_size=args.batch_size)
    print(
        f"# {args.model}, {args.layout}, {args.items} items, batch {args.batch_size}, "
        f"{args.threads} threads, torch {torch.__version__}"
    )

    # Unprofiled epoch first: the reference time, and the warm-up of allocators.
    items_per_s, seconds, _ = epoch_throughput(args.model, features, lengths, labels, **run)
    print(f"\nunprofiled epoch: {seconds:.1f} s ({items_per_s:.1f} items/s)")

    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        started = time.perf_counter()
        epoch_throughput(args.model, features, lengths, labels, **run)
    print(f"\n## torch.profiler ({time.perf_counter() - started:.1f} s with the profiler on)\n")
    print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))

    if importlib.util.find_spec("pyinstrument") is None:
        print("\npyinstrument is not installed: pip install pyinstrument for the Python view")
        return
    from pyinstrument import Profiler

    python_profiler = Profiler(interval=0.005)
    python_profiler.start()
    epoch_throughput(args.model, features, lengths, labels, **run)
    python_profiler.stop()
    print("\n## pyinstrument\n")
    print(python_profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
