"""Time cantaor.mining.bide.mine_closed on synthetic contour databases (issues 4 and 20).

Run from the repository root; it prints markdown tables:

    python benchmarks/bench_mining.py                      # every section, about 20 min on 2 cores
    python benchmarks/bench_mining.py --sections prefixspan bounded startup --repeats 1

Sections (``--sections``, all by default):

``prefixspan``
    Issue 20's table: unbounded gaps (``[0,None]``, classic BIDE, every pattern
    length) on contour-shaped databases (symbols -3..3 without 0, phrases of
    5-60 symbols, 20 planted motifs) of 200, 1,000 and 5,000 sequences at
    supports 0.8 and 0.6, against the closed mode of PyPI's prefixspan 0.5.2
    (``pip install prefixspan==0.5.2``; skipped when not installed), with the
    growth of the time per doubling of the database beside the growth of the
    output. Then a few other cases (the BIDE paper's example, where prefixspan
    reports patterns that are not closed). Outputs are compared; patterns that
    only one side reports are checked by brute force.
``bounded``
    Bounded gaps ``[0,1]`` (phrases of 20-80 symbols, min_support 3, lengths
    3-12) at 125 to 1,000 sequences, each run capped at ``--cpu-limit`` CPU
    seconds.
``scaling``
    Contiguous mining (``[0,0]``, min_support 20, lengths 3-12) of a database like
    the real one (phrases of 10-60 symbols over the 6 contour symbols, 40 planted
    motifs) at 1x, 2x and 4x its 20,000 phrases; the 2x and 4x databases extend
    the 1x one. Also with the support scaled with the database (same fraction).
``cases``
    One run per case (``--first N`` keeps the first N); the first row is the
    reference case, contiguous patterns over 2,000 phrases of 20-80 symbols.
``naive``
    Contiguous mining against the plain Gap-BIDE of ``naive_gap_bide.py`` (same
    input, identical output asserted).
``startup``
    CPU seconds of a whole ``cantaor mine`` process on a two-line file, beside a
    bare ``python -c pass``, and whether pandas or an audio library was imported.

Every measurement runs in a fresh Python subprocess that builds the database,
imports every miner (so that all runs start from the same memory), and reports
the mining time as CPU seconds (user + system, ``getrusage``: the machine may be
shared, and CPU time is what load disturbs least) and its peak resident memory
(``ru_maxrss``): "peak RSS" is the whole process (interpreter, imports,
database); "+mining" is how much mining raised that peak above its level just
before mining started. Comparisons alternate the miners within each repeat, so
that load from other jobs on the machine falls on both alike; seconds are the
median over ``--repeats``.
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

# Issue 20's contour-shaped databases: phrases of 5-60 symbols, 20 planted motifs.
CONTOUR = {"shortest": 5, "longest": 60, "planted": 20}


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

    from cantaor.mining.bide import _support_threshold, mine_closed

    try:
        from prefixspan import PrefixSpan
    except ImportError:
        PrefixSpan = None

    database = build_database(spec["database"])
    params = spec["params"]
    if spec["miner"] == "cantaor":
        import numpy  # noqa: F401  (imported by unbounded mining; not part of its time)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = cpu_seconds()
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
        # prefixspan takes a number of sequences: the threshold mine_closed derives.
        threshold = _support_threshold(params["min_support"], len(database))
        found = miner.frequent(threshold, closed=True)
    else:
        raise ValueError(f"unknown miner {spec['miner']!r}")
    seconds = cpu_seconds() - start
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


def cpu_seconds(who=resource.RUSAGE_SELF):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure(miner, database, params, tmpdir, cpu_limit=None):
    """Run one measurement in a subprocess; return its figures and patterns.

    With ``cpu_limit`` (CPU seconds) a run that exceeds it is killed and None
    returned.
    """
    spec = {"miner": miner, "database": database, "params": params}
    output = Path(tmpdir) / "patterns.pkl"

    def limit():
        if cpu_limit is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit, cpu_limit + 5))

    done = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec), "--output", str(output)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
    )
    if cpu_limit is not None and done.returncode < 0:
        return None  # killed by SIGXCPU (or SIGKILL past the hard limit)
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
    digits = 3 if run["high"] < 1 else 2
    if run["low"] == run["high"]:
        return f"{run['seconds']:.{digits}f}"
    return f"{run['seconds']:.{digits}f} ({run['low']:.{digits}f}-{run['high']:.{digits}f})"


def speedup_of(ours, other):
    """Seconds of ``other`` over ours; None when either is too short to compare."""
    if min(ours["seconds"], other["seconds"]) < 0.001:
        return None
    return other["seconds"] / ours["seconds"]


def target_cell(speedup, target, identical):
    if not identical:
        return "no (output differs)"
    if speedup is None:
        return "n/a (under 1 ms)"
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


def compare_with_prefixspan(database, params, args, tmpdir):
    """Both miners on one case: their runs, whether outputs agree, and notes on differences."""
    runs = measure_repeated(["cantaor", "prefixspan"], database, params, args.repeats, tmpdir)
    ours, theirs = runs["cantaor"], runs["prefixspan"]
    identical = ours["patterns"] == theirs["patterns"]
    note = None
    if not identical:
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
        note = (
            f"- {describe_database(database)}, min_support {params['min_support']}: prefixspan "
            f"reports {len(only_theirs)} patterns that ours does not, "
            f"{len(not_closed)} of them verified not closed{example}; ours reports "
            f"{len(only_ours)} that prefixspan does not"
            + (f", {len(closed)} of them verified closed." if only_ours else ".")
        )
    return ours, theirs, identical, note


def section_prefixspan(args, tmpdir):
    try:
        import prefixspan  # noqa: F401
    except ImportError:
        print("## [0,None] against prefixspan: skipped (pip install prefixspan==0.5.2)\n")
        return
    print(
        "## Unbounded gaps ([0,None]) against prefixspan 0.5.2 closed mode\n\n"
        f"Contour-shaped databases ({CONTOUR['shortest']}-{CONTOUR['longest']} symbols "
        f"from -3..3 without 0, {CONTOUR['planted']} planted motifs), every pattern length. "
        f"CPU seconds: median of {args.repeats} (range), the two miners alternating. "
        "Targets: ours at least 10x faster with identical output; each doubling of the "
        "database at most ~2.2x time (column 'per doubling': the time ratio to the "
        "previous size, taken to the power 1/log2 of the size ratio) while the output "
        "stays of the same order.\n"
    )
    rows = []
    notes = []
    for min_support in (0.8, 0.6):
        previous = None
        for n in (200, 1000, 5000):
            database = dict(CONTOUR, n=n, seed=args.seed)
            params = params_of(min_support, 0, None, 1, None)
            ours, theirs, identical, note = compare_with_prefixspan(database, params, args, tmpdir)
            if note:
                notes.append(note)
            speedup = speedup_of(ours, theirs)
            if previous is None:
                doubling = output_growth = "-"
            else:
                doublings = math.log2(n / previous[0])
                doubling = f"{(ours['seconds'] / previous[1]['seconds']) ** (1 / doublings):.2f}x"
                output_growth = f"{len(ours['patterns']) / len(previous[1]['patterns']):.2f}x"
            previous = (n, ours)
            rows.append(
                [
                    n,
                    min_support,
                    len(ours["patterns"]),
                    "yes" if identical else "**no**",
                    seconds_cell(ours),
                    seconds_cell(theirs),
                    "n/a" if speedup is None else f"{speedup:.1f}x",
                    target_cell(speedup, 10, identical),
                    doubling,
                    output_growth,
                    memory_cell(ours),
                    memory_cell(theirs),
                ]
            )
    headers = [
        "sequences:",
        "min_support:",
        "closed patterns:",
        "identical",
        "ours CPU s:",
        "prefixspan CPU s:",
        "speed-up:",
        "10x target",
        "ours per doubling:",
        "output vs previous size:",
        "ours peak RSS MB (+mining):",
        "prefixspan peak RSS MB (+mining):",
    ]
    table(headers, rows)
    print("Other cases:\n")
    rows = []
    for spec, min_support, min_len, max_len in PREFIXSPAN_CASES:
        database = dict(spec, seed=args.seed)
        params = params_of(min_support, 0, None, min_len, max_len)
        ours, theirs, identical, note = compare_with_prefixspan(database, params, args, tmpdir)
        if note:
            notes.append(note)
        speedup = speedup_of(ours, theirs)
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
        "ours CPU s:",
        "prefixspan CPU s:",
        "speed-up:",
        "ours peak RSS MB (+mining):",
        "prefixspan peak RSS MB (+mining):",
    ]
    table(headers, rows)
    for note in notes:
        print(note)
    print(flush=True)


def section_bounded(args, tmpdir):
    print(
        "## Bounded gaps [0,1]\n\n"
        "Phrases of 20-80 symbols (6 symbols, no planted motifs), min_support 3, lengths "
        f"3-12; one run each, capped at {args.cpu_limit} CPU s. Target: 1,000 sequences "
        "under 60 CPU s.\n"
    )
    rows = []
    for n in (125, 250, 500, 1000):
        database = {"n": n, "shortest": 20, "longest": 80, "planted": 0, "seed": args.seed}
        params = params_of(3, 0, 1, 3, 12)
        run = measure("cantaor", database, params, tmpdir, cpu_limit=args.cpu_limit)
        if run is None:
            rows.append([n, "-", f"over {args.cpu_limit}", "-"])
            continue
        run["low"] = run["high"] = run["seconds"]
        run["peak_mb"] = run["rss_peak_kb"] / 1024
        run["mining_mb"] = (run["rss_peak_kb"] - run["rss_before_kb"]) / 1024
        rows.append([n, len(run["patterns"]), seconds_cell(run), memory_cell(run)])
    table(["sequences:", "closed patterns:", "CPU s:", "peak RSS MB (+mining):"], rows)


HEAVY_MODULES = (
    "pandas",
    "torch",
    "librosa",
    "soundfile",
    "soxr",
    "essentia",
    "cantaor.util.audio",
)


def section_startup(args, tmpdir):
    print(
        "## `cantaor mine` start-up\n\n"
        f"Whole-process CPU s (median of {max(args.repeats, 5)}) of `python -m cantaor.cli mine` "
        "on a two-line file, for each gap setting, beside `python -c pass`. Target: under "
        "0.3 CPU s, no pandas or audio imports.\n"
    )
    phrases = Path(tmpdir) / "two.txt"
    phrases.write_text("+1 -2 +1 -2\n+1 -2 +3\n", encoding="utf-8")
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['cantaor', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('cantaor.cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = sorted(set({HEAVY_MODULES!r}) & set(sys.modules))\n"
        "print('heavy:', ' '.join(heavy) or 'none', file=sys.stderr)\n"
    )
    commands = {"python -c pass": [sys.executable, "-c", "pass"]}
    for gap in ("0", "1", "none"):
        commands[f"cantaor mine --max-gap {gap}"] = [
            sys.executable,
            *("-c", probe, "mine", str(phrases), "--max-gap", gap, "-q", "-o"),
            str(Path(tmpdir) / "patterns.tsv"),
        ]
    rows = []
    for name, command in commands.items():
        seconds = []
        heavy = "-"
        for _ in range(max(args.repeats, 5)):
            before = cpu_seconds(resource.RUSAGE_CHILDREN)
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            seconds.append(cpu_seconds(resource.RUSAGE_CHILDREN) - before)
            for line in done.stderr.splitlines():
                if line.startswith("heavy:"):
                    heavy = line.split(":", 1)[1].strip()
        median = statistics.median(seconds)
        rows.append([name, f"{median:.3f}", heavy, "met" if median < 0.3 else "NOT met"])
    table(["command", "CPU s:", "heavy modules imported", "0.3 s target"], rows)


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
    "prefixspan": section_prefixspan,
    "bounded": section_bounded,
    "scaling": section_scaling,
    "cases": section_cases,
    "naive": section_naive,
    "startup": section_startup,
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
    parser.add_argument(
        "--cpu-limit", type=int, default=300, help="bounded: CPU seconds allowed per run"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker), args.output)
        return

    started = time.perf_counter()
    print("# cantaor.mining.bide benchmarks\n")
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
