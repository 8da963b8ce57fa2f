"""What the private numba cache costs a job, and how often the unprotected race crashes.

Prints two tables:

1. CPU seconds of one process that imports librosa through cantaor and runs pYIN on 1 s of
   audio, under each cache arrangement: cantaor's (private directory seeded from the
   snapshot), a private directory compiled from nothing (no snapshot), and numba's default
   shared cache already warm (the unprotected arrangement, for reference); plus the
   one-off cost of building the snapshot.
2. ``--race-rounds N``: N rounds of ``--processes`` processes started at once on an empty
   cache directory, unprotected (a shared directory, numba's default behaviour) and
   protected (cantaor's), then a reader; counts the rounds whose reader or writers crashed.

Usage: python benchmarks/bench_jitcache.py [--repeats 3] [--race-rounds 3 --processes 4]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOB = (
    "import numpy as np\n"
    "from cantaor.util.jitcache import import_librosa\n"
    "librosa = import_librosa()\n"
    "audio = (0.3 * np.sin(np.arange(22050) * 2 * np.pi * 220 / 22050)).astype(np.float32)\n"
    "librosa.pyin(audio, fmin=80.0, fmax=1000.0, sr=22050)\n"
)
# cantaor is imported first, as every cantaor entry point does (numba reads its cache
# location when it is imported); the racers then shift their compile order, as processes
# that found part of the cache already written do.
RACER = (
    "import time, sys\n"
    "import cantaor\n"
    "time.sleep(float(sys.argv[1]))\n"
    "import numba\n"
    "for i in range(int(sys.argv[2])):\n"
    "    numba.njit(lambda x, i=i: x + i)(1.0)\n" + JOB
)


def _cpu_s(args, env) -> tuple[float, int]:
    """CPU seconds (user + system) of one child process, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = subprocess.run(args, env=env, capture_output=True, check=False).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), code


def per_job_costs(repeats: int) -> list[tuple[str, float, str]]:
    rows = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-jitcache-"))
    try:
        root = scratch / "root"
        build, code = _cpu_s(
            [sys.executable, "-c", JOB], {**os.environ, "CANTAOR_CACHE_DIR": str(root)}
        )
        rows.append(
            (
                "build the snapshot (once per install and CPU type), incl. one job",
                build,
                f"exit {code}",
            )
        )
        arrangements = {
            "cantaor: private directory seeded from the snapshot": {"CANTAOR_CACHE_DIR": str(root)},
            "private directory compiled from nothing": {"CANTAOR_CACHE_DIR": str(scratch / "none")},
        }
        shared = scratch / "shared"
        unsafe = {"CANTAOR_UNSAFE_SHARED_NUMBA_CACHE": "1", "NUMBA_CACHE_DIR": str(shared)}
        _cpu_s([sys.executable, "-c", JOB], {**os.environ, **unsafe})  # warm it
        arrangements["numba's shared cache, warm (unprotected)"] = unsafe
        for name, extra in arrangements.items():
            costs = []
            for _ in range(repeats):
                if "nothing" in name:
                    shutil.rmtree(scratch / "none", ignore_errors=True)
                    extra = {**extra, "CANTAOR_CACHE_DIR": str(scratch / "none")}
                    # no snapshot can be built there: make the root unwritable for builders
                    (scratch / "none").write_text("not a directory")
                cost, code = _cpu_s([sys.executable, "-c", JOB], {**os.environ, **extra})
                costs.append(cost)
                if "nothing" in name:
                    (scratch / "none").unlink()
            rows.append((name, statistics.median(costs), f"median of {repeats}, exit {code}"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows


def race(rounds: int, processes: int, protected: bool) -> tuple[int, int]:
    """Rounds with a crash, and rounds run."""
    crashed = 0
    for _ in range(rounds):
        scratch = Path(tempfile.mkdtemp(prefix="bench-race-"))
        env = {**os.environ, "CANTAOR_CACHE_DIR": str(scratch / "root")}
        if not protected:
            env.update(
                {
                    "CANTAOR_UNSAFE_SHARED_NUMBA_CACHE": "1",
                    "NUMBA_CACHE_DIR": str(scratch / "shared"),
                }
            )
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, f"{0.3 * k:.1f}", str(k)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for k in range(processes)
        ]
        codes = [racer.wait() for racer in racers]
        reader = subprocess.run(
            [sys.executable, "-c", RACER, "0", "0"], env=env, capture_output=True
        ).returncode
        crashed += any(code != 0 for code in [*codes, reader])
        shutil.rmtree(scratch, ignore_errors=True)
    return crashed, rounds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--race-rounds", type=int, default=0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--only-protected", action="store_true", help="skip the unprotected rounds")
    parser.add_argument("--skip-costs", action="store_true", help="only the race table")
    args = parser.parse_args()
    started = time.time()
    if not args.skip_costs:
        print("| cache arrangement | CPU s per process (import librosa + pYIN on 1 s) | note |")
        print("|---|---:|---|")
        for name, cost, note in per_job_costs(args.repeats):
            print(f"| {name} | {cost:.2f} | {note} |")
    if args.race_rounds:
        print()
        print(f"| {args.processes} processes at once on an empty cache | rounds with a crash |")
        print("|---|---:|")
        for protected in (True,) if args.only_protected else (False, True):
            crashed, rounds = race(args.race_rounds, args.processes, protected)
            label = "cantaor (private, snapshot)" if protected else "unprotected (shared directory)"
            print(f"| {label} | {crashed} of {rounds} |")
    print(f"\n{time.time() - started:.0f} s wall, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
