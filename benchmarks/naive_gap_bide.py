"""A straightforward pure-Python Gap-BIDE, the baseline of ``bench_mining.py``.

The textbook approach (Li & Wang, "Efficiently mining closed subsequences with
gap constraints", SDM 2008), written plainly:

- pattern growth, depth first, one appended symbol at a time;
- the projected database of a pattern maps each sequence that contains it to
  the list of its occurrences there, as ``(start, end)`` positions;
- a pattern is closed if no forward extension (a symbol appended within the
  gap window after an occurrence's end) and no backward extension (a symbol
  prepended within the gap window before an occurrence's start) has the same
  support; both are found by rescanning the sequences around the occurrences;
- no BackScan pruning, no precomputed indexes, no flattened database.

Closedness, as in :func:`cantaor.mining.bide.mine_closed`, is judged over patterns
of every length: ``min_length`` and ``max_length`` only select what is
reported. The one-symbol extension checks are exact for contiguous patterns
(``max_gap=0``, the setting the benchmark compares); for other bounded gaps
they are Gap-BIDE's checks, which ``cantaor.mining.bide``'s docstring shows can
miss a longer witness. Unbounded gaps (``max_gap=None``) are not supported.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from fractions import Fraction

__all__ = ["mine_closed_naive"]


def mine_closed_naive(
    sequences: Sequence[Sequence[Hashable]],
    *,
    min_support: int | float,
    min_gap: int = 0,
    max_gap: int = 0,
    min_length: int = 1,
    max_length: int | None = None,
) -> list[tuple[tuple, int]]:
    """Closed patterns under a bounded gap constraint, by plain Gap-BIDE.

    Same arguments and output as :func:`cantaor.mining.bide.mine_closed` (``max_gap``
    must be an integer): ``(pattern, support)`` pairs sorted by decreasing
    support, then decreasing length, then the symbols as strings.
    """
    if max_gap is None:
        raise ValueError("the naive Gap-BIDE needs a bounded max_gap")
    if isinstance(min_support, int):
        threshold = min_support
    else:
        threshold = math.ceil(Fraction(repr(float(min_support))) * len(sequences))
    # Several occurrences can reach the same (start, end) only through a window
    # wider than one position.
    unique_occurrences = max_gap > min_gap

    roots: dict[Hashable, dict[int, list[tuple[int, int]]]] = defaultdict(dict)
    for sid, seq in enumerate(sequences):
        for position, symbol in enumerate(seq):
            roots[symbol].setdefault(sid, []).append((position, position))
    stack = [
        ((symbol,), projected) for symbol, projected in roots.items() if len(projected) >= threshold
    ]

    closed = []
    while stack:
        pattern, projected = stack.pop()
        support = len(projected)
        length = len(pattern)

        # Forward extensions: rescan the window after every occurrence.
        forward: dict[Hashable, dict[int, list[tuple[int, int]]]] = defaultdict(dict)
        for sid, occurrences in projected.items():
            seq = sequences[sid]
            last = len(seq) - 1
            for start, end in occurrences:
                for position in range(end + 1 + min_gap, min(end + 1 + max_gap, last) + 1):
                    forward[seq[position]].setdefault(sid, []).append((start, position))
        if unique_occurrences:
            for children in forward.values():
                for sid, occurrences in children.items():
                    children[sid] = sorted(set(occurrences))
        is_closed = all(len(children) < support for children in forward.values())

        # Backward extensions: rescan the window before every occurrence.
        if is_closed:
            backward: dict[Hashable, int] = defaultdict(int)
            for sid, occurrences in projected.items():
                seq = sequences[sid]
                before = set()
                for start, _ in occurrences:
                    for position in range(max(start - 1 - max_gap, 0), start - min_gap):
                        before.add(seq[position])
                for symbol in before:
                    backward[symbol] += 1
            is_closed = all(count < support for count in backward.values())

        if is_closed and length >= min_length and (max_length is None or length <= max_length):
            closed.append((pattern, support))
        if max_length is None or length < max_length:
            for symbol, children in forward.items():
                if len(children) >= threshold:
                    stack.append(((*pattern, symbol), children))

    closed.sort(key=lambda item: (-item[1], -len(item[0]), tuple(map(str, item[0]))))
    return closed
