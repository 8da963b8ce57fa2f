"""Time cantaor.mining.mine_closed on synthetic contour databases.

Run ``python benchmarks/bench_mining.py`` from the repository root; it prints
one table row per case: database size, gap setting, options, closed patterns
found and seconds (one run, one core). The first row is the reference case:
contiguous patterns over 2,000 phrases of 20-80 symbols from 6 symbols.
"""

from __future__ import annotations

import argparse
import random
import time

from cantaor.mining import mine_closed

SYMBOLS = ("-3", "-2", "-1", "+1", "+2", "+3")


def random_database(n_sequences, *, shortest, longest, seed, planted=0):
    """Uniformly random phrases; ``planted`` motifs (6-15 symbols) are copied into them.

    Each phrase then receives one to three copies of randomly chosen motifs, which
    gives the long, repeated patterns that real melodic material has and uniform
    noise lacks.
    """
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", type=int, default=len(CASES), help="run only the first N cases")
    args = parser.parse_args()
    header = (
        f"{'sequences':>9} {'lengths':>7} {'motifs':>6} {'gap':>9} {'min_sup':>7} "
        f"{'pattern len':>11} {'patterns':>8} {'seconds':>8}"
    )
    print(header)
    print("-" * len(header))
    for case in CASES[: args.first]:
        n, shortest, longest, planted, min_gap, max_gap, min_support, min_len, max_len = case
        database = random_database(
            n, shortest=shortest, longest=longest, seed=args.seed, planted=planted
        )
        start = time.perf_counter()
        patterns = mine_closed(
            database,
            min_support=min_support,
            min_gap=min_gap,
            max_gap=max_gap,
            min_length=min_len,
            max_length=max_len,
        )
        seconds = time.perf_counter() - start
        gap = f"[{min_gap},{'inf' if max_gap is None else max_gap}]"
        lengths = f"{min_len}-{'inf' if max_len is None else max_len}"
        print(
            f"{n:>9} {f'{shortest}-{longest}':>7} {planted:>6} {gap:>9} {min_support!s:>7} "
            f"{lengths:>11} {len(patterns):>8} {seconds:>8.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
