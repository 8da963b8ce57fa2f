"""Time cantaor.mining.mine_closed on synthetic contour databases (issue 4).

Run from the repository root; it prints markdown tables:

    python benchmarks/bench_mining.py                      # every section, about 7 min on 2 cores
    python benchmarks/bench_mining.py --sections scaling naive --repeats 1

Sections (``--sections``, all by default):

``cases``
    The original table: one run per case (``--first N`` keeps the first N); the
    first row is the reference case, contiguous patterns over 2,000 phrases of
    20-80 symbols from 6 symbols.
``scaling``
    Contiguous mining (``[0,0]``, min_support 20, lengths 3-12) of a database like
    the real one (phrases of 10-60 symbols over the 6 contour symbols, 40 planted
    motifs) at 1x, 2x and 4x its 20,000 phrases; the 2x and 4x databases extend
    the 1x one. Also with the support scaled with the database (same fraction).
``prefixspan``
    Unbounded-gap mining (``[0,None]``, classic BIDE) against the closed mode of
    PyPI's prefixspan 0.5.2 (``pip install prefixspan==0.5.2``; skipped when not
    installed), on smaller databases. Outputs are compared; patterns that only
    one side reports are checked by brute force (``[0,None]`` closedness is
    decided by one-symbol insertions, see ``cantaor.mining``).
``naive``
    Contiguous mining against the plain Gap-BIDE of ``naive_gap_bide.py`` (same
    input, identical output asserted).

Every measurement runs in a fresh Python subprocess that builds the database,
imports every miner (so that all runs start from the same memory), and reports
the mining time and its peak resident memory (``ru_maxrss``): "peak RSS" is the
whole process (interpreter, imports, database); "+mining" is how much mining
raised that peak above its level just before mining started. Comparisons
alternate the two miners within each repeat, so that load from other jobs on
the machine falls on both alike; seconds are the median over ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYMBOLS = ("-3", "-2", "-1", "+1", "+2", "+3")

# Phrases like the real ones: 10-60 contour symbols, with repeated motifs.
REAL_LIKE = {"shortest": 10, "longest": 60, "planted": 40}
REAL_SIZE = 20000


def random_database(n_sequences, *, shortest, longest, seed, planted=0):
    """Uniformly random phrases; ``planted`` motifs (6-15 symbols) are copied into them.

    Each phrase then receives one to three copies of randomly chosen motifs, which
    gives the long, repeated patterns that real melodic material has and uniform
    noise lacks. The phrases are drawn one after the other from one seeded
    generator, so a larger database starts with the phrases of a smaller one.
    """
    import random

    rng = random.Random(seed)
    motifs = [[rng.choice(SYMBOLS) for _ in range(rng.randint(6, 15))] for _ in range(planted)]
    database = []
    for _ in range(n_sequences):
        phrase = [rng.choice(SYMBOLS) for _ in range(rng.randint(shortest, longest))]
        for _ in range(rng.randint(1, 3) if motifs else 0):
            motif = rng.choice(motifs)
            start = rng.randint(0, max(len(phrase) - len(motif), 0))
            phrase[start : start + len(motif)] = motif
        database.append(phrase)
    return database


# Wang & Han (ICDE 2004), Table 1: the BIDE paper's example (min_sup 2).
BIDE_EXAMPLE = [list("CAABC"), list("ABCB"), list("CABC"), list("ABBCA")]


def build_database(spec):
    if spec.get("example") == "bide":
        return [list(seq) for seq in BIDE_EXAMPLE]
    return random_database(
        spec["n"],
        shortest=spec["shortest"],
        longest=spec["longest"],
        seed=spec["seed"],
        planted=spec["planted"],
    )


def describe_database(spec):
    if spec.get("example") == "bide":
        return "BIDE paper example (4 sequences)"
    motifs = f", {spec['planted']} motifs" if spec["planted"] else ""
    return f"{spec['n']} x {spec['shortest']}-{spec['longest']}{motifs}"


# --- the worker: one measurement in a fresh process ------------------------------


def sort_patterns(patterns):
    return sorted(patterns, key=lambda item: (-item[1], -len(item[0]), tuple(map(str, item[0]))))


def worker(spec: dict, output: Path) -> None:
    """Mine once, pickle the patterns to ``output``, print the measurements as JSON."""
    from naive_gap_bide import mine_closed_naive

    from cantaor.mining import mine_closed

    try:
        from prefixspan import PrefixSpan
    except ImportError:
        PrefixSpan = None

    database = build_database(spec["database"])
    params = spec["params"]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if spec["miner"] == "cantaor":
        patterns = mine_closed(database, **params)
    elif spec["miner"] == "naive":
        patterns = mine_closed_naive(database, **params)
    elif spec["miner"] == "prefixspan":
        if params["min_gap"] != 0 or params["max_gap"] is not None:
            raise ValueError("prefixspan mines [0, None] patterns only")
        miner = PrefixSpan(database)
        miner.minlen = params["min_length"]
        if params["max_length"] is not None:
            miner.maxlen = params["max_length"]  # its default is 1000
        found = miner.frequent(params["min_support"], closed=True)
    else:
        raise ValueError(f"unknown miner {spec['miner']!r}")
    seconds = time.perf_counter() - start
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if spec["miner"] == "prefixspan":
        patterns = sort_patterns((tuple(pattern), support) for support, pattern in found)
    with output.open("wb") as handle:
        pickle.dump(patterns, handle)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_before_kb": rss_before,
                "rss_peak_kb": rss_peak,
                "symbols": sum(map(len, database)),
            }
        )
    )


def measure(miner, database, params, tmpdir):
    """Run one measurement in a subprocess; return its figures and patterns."""
    spec = {"miner": miner, "database": database, "params": params}
    output = Path(tmpdir) / "patterns.pkl"
    done = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec), "--output", str(output)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{miner} failed on {spec}:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    with output.open("rb") as handle:
        figures["patterns"] = pickle.load(handle)
    return figures


_MEASURED: dict[str, dict] = {}


def measure_repeated(miners, database, params, repeats, tmpdir):
    """Alternate the miners ``repeats`` times; per miner: median seconds, memory, output.

    A measurement asked for twice (same miners, database and options) is run once.
    """
    key = json.dumps([miners, database, params, repeats], sort_keys=True)
    if key not in _MEASURED:
        _MEASURED[key] = _measure_repeated(miners, database, params, repeats, tmpdir)
    return _MEASURED[key]


def _measure_repeated(miners, database, params, repeats, tmpdir):
    runs = {miner: [] for miner in miners}
    for _ in range(repeats):
        for miner in miners:
            runs[miner].append(measure(miner, database, params, tmpdir))
    summary = {}
    for miner, figures in runs.items():
        outputs = {tuple(run["patterns"]) for run in figures}
        if len(outputs) != 1:
            raise AssertionError(f"{miner} gave different outputs over repeats")
        seconds = [run["seconds"] for run in figures]
        summary[miner] = {
            "seconds": statistics.median(seconds),
            "low": min(seconds),
            "high": max(seconds),
            "peak_mb": max(run["rss_peak_kb"] for run in figures) / 1024,
            "mining_mb": max(run["rss_peak_kb"] - run["rss_before_kb"] for run in figures) / 1024,
            "symbols": figures[0]["symbols"],
            "patterns": figures[0]["patterns"],
        }
    return summary


# --- output ----------------------------------------------------------------------


def table(headers, rows):
    """Print a markdown table; a header ending in ':' is right-aligned."""
    names = [header.rstrip(":") for header in headers]
    rules = ["---:" if header.endswith(":") else "---" for header in headers]
    print("| " + " | ".join(names) + " |")
    print("| " + " | ".join(rules) + " |")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print(flush=True)


def seconds_cell(run):
    if run["low"] == run["high"]:
        return f"{run['seconds']:.2f}"
    return f"{run['seconds']:.2f} ({run['low']:.2f}-{run['high']:.2f})"


def speedup_of(ours, other):
    """Seconds of ``other`` over ours; None when either is too short to compare."""
    if min(ours["seconds"], other["seconds"]) < 0.01:
        return None
    return other["seconds"] / ours["seconds"]


def target_cell(speedup, target, identical):
    if not identical:
        return "no (output differs)"
    if speedup is None:
        return "n/a (under 10 ms)"
    if speedup >= target:
        return "met"
    return f"NOT met ({speedup / target:.0%} of {target}x)"


def memory_cell(run):
    return f"{run['peak_mb']:.0f} (+{run['mining_mb']:.0f})"


def gap_cell(min_gap, max_gap):
    return f"[{min_gap},{'None' if max_gap is None else max_gap}]"


def lengths_cell(min_length, max_length):
    return f"{min_length}-{'inf' if max_length is None else max_length}"


def params_of(min_support, min_gap, max_gap, min_length, max_length):
    return {
        "min_support": min_support,
        "min_gap": min_gap,
        "max_gap": max_gap,
        "min_length": min_length,
        "max_length": max_length,
    }


def machine_lines():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        prefixspan_version = version("prefixspan")
    except Exception:
        prefixspan_version = "not installed"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"- machine: {platform.platform()}, {platform.machine()}, {cpu}, "
        f"{os.cpu_count()} CPUs (every run uses one)",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"prefixspan {prefixspan_version}",
        f"- load average (1, 5, 15 min) at start: {load}",
    ]


# --- sections --------------------------------------------------------------------

# (sequences, shortest, longest, planted motifs, min_gap, max_gap, min_support,
#  min_length, max_length)
CASES = [
    (2000, 20, 80, 0, 0, 0, 3, 3, 12),
    (2000, 20, 80, 0, 0, 0, 3, 3, None),
    (2000, 20, 80, 40, 0, 0, 3, 3, 12),
    (2000, 5, 20, 0, 0, 0, 3, 3, 12),
    (2000, 5, 20, 0, 0, 1, 3, 3, 12),
    (200, 20, 80, 0, 0, 1, 3, 3, 12),
    (200, 20, 80, 0, 1, 2, 3, 3, 12),
    (2000, 5, 20, 0, 0, None, 0.05, 3, 8),
    (50, 20, 80, 0, 0, None, 0.5, 3, 5),
    (200, 5, 20, 0, 1, None, 0.1, 3, 8),
]


def section_cases(args, tmpdir):
    print("## Cases (one run each)\n")
    rows = []
    for case in CASES[: args.first]:
        n, shortest, longest, planted, min_gap, max_gap, min_support, min_len, max_len = case
        database = {
            "n": n,
            "shortest": shortest,
            "longest": longest,
            "planted": planted,
            "seed": args.seed,
        }
        params = params_of(min_support, min_gap, max_gap, min_len, max_len)
        run = measure_repeated(["cantaor"], database, params, 1, tmpdir)["cantaor"]
        rows.append(
            [
                n,
                f"{shortest}-{longest}",
                planted,
                gap_cell(min_gap, max_gap),
                min_support,
                lengths_cell(min_len, max_len),
                len(run["patterns"]),
                seconds_cell(run),
                memory_cell(run),
            ]
        )
    headers = [
        "sequences:",
        "lengths",
        "motifs:",
        "gap",
        "min_support:",
        "pattern lengths",
        "patterns:",
        "seconds:",
        "peak RSS MB (+mining):",
    ]
    table(headers, rows)


def section_scaling(args, tmpdir):
    print(
        "## Contiguous mining at 1x, 2x, 4x the database\n\n"
        f"[0,0], lengths 3-12, phrases of {REAL_LIKE['shortest']}-{REAL_LIKE['longest']} "
        f"symbols with {REAL_LIKE['planted']} planted motifs; seconds: median of "
        f"{args.repeats} (range). Near-linear: the time ratio stays close to the symbol "
        "ratio (last column close to 1).\n"
    )
    rows = []
    for rule, support_of in (
        ("fixed", lambda scale: 20),
        ("scaled with the database", lambda scale: 20 * scale),
    ):
        base = None
        for scale in (1, 2, 4):
            database = {"n": REAL_SIZE * scale, "seed": args.seed, **REAL_LIKE}
            params = params_of(support_of(scale), 0, 0, 3, 12)
            run = measure_repeated(["cantaor"], database, params, args.repeats, tmpdir)["cantaor"]
            base = base or run
            time_ratio = run["seconds"] / base["seconds"]
            symbol_ratio = run["symbols"] / base["symbols"]
            rows.append(
                [
                    f"{scale}x",
                    REAL_SIZE * scale,
                    run["symbols"],
                    support_of(scale),
                    rule,
                    len(run["patterns"]),
                    seconds_cell(run),
                    f"{time_ratio:.2f}",
                    f"{symbol_ratio:.2f}",
                    f"{time_ratio / symbol_ratio:.2f}",
                    memory_cell(run),
                ]
            )
    headers = [
        "scale",
        "sequences:",
        "symbols:",
        "min_support:",
        "support rule",
        "patterns:",
        "seconds:",
        "time ratio:",
        "symbol ratio:",
        "time ratio / symbol ratio:",
        "peak RSS MB (+mining):",
    ]
    table(headers, rows)


def contains(sequence, pattern):
    """Whether ``pattern`` is a subsequence of ``sequence`` (gaps unbounded)."""
    remaining = iter(sequence)
    return all(symbol in remaining for symbol in pattern)


def insertion_witness(sequences, pattern, support):
    """Check a reported ``(pattern, support)`` by brute force ([0,None] only).

    Returns None if the support is right and no one-symbol insertion into the
    pattern has the same support (the pattern is closed); otherwise a string saying
    why it is not a closed pattern of that support.
    """
    holding = [seq for seq in sequences if contains(seq, pattern)]
    if len(holding) != support:
        return f"its support is {len(holding)}"
    alphabet = sorted({symbol for seq in holding for symbol in seq}, key=str)
    for slot in range(len(pattern) + 1):
        for symbol in alphabet:
            longer = (*pattern[:slot], symbol, *pattern[slot:])
            if all(contains(seq, longer) for seq in holding):
                return f"{' '.join(map(str, longer))} has the same support"
    return None


# (database, min_support, min_length, max_length); [0,None] throughout.
PREFIXSPAN_CASES = [
    ({"example": "bide"}, 2, 1, None),
    ({"n": 50, "shortest": 20, "longest": 80, "planted": 0}, 25, 3, 5),
    ({"n": 200, **REAL_LIKE}, 100, 3, 5),
    ({"n": 500, **REAL_LIKE}, 250, 3, 4),
    ({"n": 2000, **REAL_LIKE}, 1800, 1, None),
    ({"n": 2000, "shortest": 5, "longest": 20, "planted": 0}, 100, 3, 8),
]


def section_prefixspan(args, tmpdir):
    try:
        import prefixspan  # noqa: F401
    except ImportError:
        print("## [0,None] against prefixspan: skipped (pip install prefixspan==0.5.2)\n")
        return
    print(
        "## Unbounded gaps ([0,None]) against prefixspan 0.5.2 closed mode\n\n"
        f"Seconds: median of {args.repeats} (range), the two miners alternating. "
        "Target: ours at least 10x faster with identical output.\n"
    )
    rows = []
    notes = []
    speedups_identical = []
    for spec, min_support, min_len, max_len in PREFIXSPAN_CASES:
        database = dict(spec, seed=args.seed)
        params = params_of(min_support, 0, None, min_len, max_len)
        runs = measure_repeated(["cantaor", "prefixspan"], database, params, args.repeats, tmpdir)
        ours, theirs = runs["cantaor"], runs["prefixspan"]
        identical = ours["patterns"] == theirs["patterns"]
        speedup = speedup_of(ours, theirs)
        if identical and speedup is not None:
            speedups_identical.append(speedup)
        else:
            sequences = build_database(database)
            only_theirs = sorted(set(theirs["patterns"]) - set(ours["patterns"]), key=str)
            only_ours = sorted(set(ours["patterns"]) - set(theirs["patterns"]), key=str)
            not_closed = [
                (p, s, why) for p, s in only_theirs if (why := insertion_witness(sequences, p, s))
            ]
            closed = [p for p, s in only_ours if insertion_witness(sequences, p, s) is None]
            example = ""
            if not_closed:
                pattern, support, why = not_closed[0]
                example = f" (e.g. {' '.join(map(str, pattern))} : {support}, while {why})"
            notes.append(
                f"- {describe_database(database)}, min_support {min_support}: prefixspan "
                f"reports {len(only_theirs)} patterns that ours does not, "
                f"{len(not_closed)} of them verified not closed{example}; ours reports "
                f"{len(only_ours)} that prefixspan does not"
                + (f", {len(closed)} of them verified closed." if only_ours else ".")
            )
        rows.append(
            [
                describe_database(database),
                min_support,
                lengths_cell(min_len, max_len),
                len(ours["patterns"]),
                len(theirs["patterns"]),
                "yes" if identical else "**no**",
                seconds_cell(ours),
                seconds_cell(theirs),
                "n/a" if speedup is None else f"{speedup:.1f}x",
                target_cell(speedup, 10, identical),
                memory_cell(ours),
                memory_cell(theirs),
            ]
        )
    headers = [
        "database (sequences x lengths)",
        "min_support:",
        "pattern lengths",
        "ours: patterns:",
        "prefixspan: patterns:",
        "identical",
        "ours s:",
        "prefixspan s:",
        "speed-up:",
        "10x target",
        "ours peak RSS MB (+mining):",
        "prefixspan peak RSS MB (+mining):",
    ]
    table(headers, rows)
    for note in notes:
        print(note)
    if speedups_identical:
        met = "met" if min(speedups_identical) >= 10 else "NOT met"
        print(
            f"- Rows with identical output (timed over 10 ms): speed-up "
            f"{min(speedups_identical):.1f}x to {max(speedups_identical):.1f}x; "
            f"10x target {met}."
        )
    print(flush=True)


# (database, min_support, min_length, max_length); [0,0] throughout.
NAIVE_CASES = [
    ({"n": REAL_SIZE, **REAL_LIKE}, 20, 3, 12),
    ({"n": 2000, "shortest": 20, "longest": 80, "planted": 0}, 3, 3, 12),
]


def section_naive(args, tmpdir):
    print(
        "## Contiguous mining ([0,0]) against a plain pure-Python Gap-BIDE\n\n"
        "benchmarks/naive_gap_bide.py: projected databases of occurrence positions, "
        "forward/backward one-symbol closure checks by rescanning, no BackScan. "
        f"Seconds: median of {args.repeats} (range). Target: ours at least 20x faster, "
        "identical output.\n"
    )
    rows = []
    mismatches = []
    for spec, min_support, min_len, max_len in NAIVE_CASES:
        database = dict(spec, seed=args.seed)
        params = params_of(min_support, 0, 0, min_len, max_len)
        runs = measure_repeated(["cantaor", "naive"], database, params, args.repeats, tmpdir)
        ours, naive = runs["cantaor"], runs["naive"]
        identical = ours["patterns"] == naive["patterns"]
        if not identical:
            mismatches.append(describe_database(database))
        speedup = speedup_of(ours, naive)
        rows.append(
            [
                describe_database(database),
                min_support,
                lengths_cell(min_len, max_len),
                len(ours["patterns"]),
                "yes" if identical else "**no**",
                seconds_cell(ours),
                seconds_cell(naive),
                "n/a" if speedup is None else f"{speedup:.1f}x",
                target_cell(speedup, 20, identical),
                memory_cell(ours),
                memory_cell(naive),
            ]
        )
    headers = [
        "database (sequences x lengths)",
        "min_support:",
        "pattern lengths",
        "patterns:",
        "identical",
        "ours s:",
        "naive s:",
        "speed-up:",
        "20x target",
        "ours peak RSS MB (+mining):",
        "naive peak RSS MB (+mining):",
    ]
    table(headers, rows)
    assert not mismatches, f"naive Gap-BIDE and mine_closed differ on: {mismatches}"


SECTIONS = {
    "cases": section_cases,
    "scaling": section_scaling,
    "prefixspan": section_prefixspan,
    "naive": section_naive,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=list(SECTIONS),
        default=list(SECTIONS),
        help="which tables to print (all by default)",
    )
    parser.add_argument("--first", type=int, default=len(CASES), help="cases: the first N only")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (not cases)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker), args.output)
        return

    started = time.perf_counter()
    print("# cantaor.mining benchmarks\n")
    print("\n".join(machine_lines()))
    print(
        "- every figure comes from a fresh subprocess; peak RSS MB (+mining): the "
        "process's peak resident memory, and how much mining raised it\n",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmpdir:
        for name in args.sections:
            SECTIONS[name](args, tmpdir)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Total {math.ceil(time.perf_counter() - started)} s; load average at end: {load}")


if __name__ == "__main__":
    main()
