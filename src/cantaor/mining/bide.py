"""Closed sequential patterns with a gap constraint (BIDE and Gap-BIDE).

A phrase is a sequence of hashable symbols (contour symbols such as ``"+1"``);
a database is a list of phrases. The miner reports the *closed* patterns:
frequent patterns that no longer pattern with the same support contains.

Definitions
-----------
Gap constraint ``[min_gap, max_gap]``
    A pattern ``P = (p1, ..., pn)`` *occurs* in a sequence ``S`` if there are
    indices ``i1 < ... < in`` with ``S[ij] == pj`` and
    ``min_gap <= i(j+1) - ij - 1 <= max_gap`` for every ``j`` (the number of
    symbols skipped between consecutive matched symbols). ``max_gap=None`` is
    unbounded. ``[0, 0]`` (the default) means contiguous patterns (substrings);
    ``[0, None]`` gives classic sequential patterns (subsequences). Below,
    ``P ⊑ S`` means "P occurs in S" under the gap constraint in use.
Support
    ``support(P)`` is the number of sequences of the database in which ``P``
    occurs at least once (several occurrences in one sequence count once).
``min_support``
    An ``int >= 1`` is an absolute number of sequences; a ``float`` in
    ``(0, 1]`` is a fraction of the number of sequences (empty ones included),
    rounded up. The fraction is taken at its shortest decimal value
    (``repr``), so ``0.3`` of 10 sequences is 3, not 4 as binary rounding of
    ``0.3 * 10`` would give. Anything else raises ``ValueError``.
Super-pattern, closed
    ``Q`` is a super-pattern of ``P`` if ``len(Q) > len(P)`` and ``P ⊑ Q``
    (``Q`` read as a sequence, same gap constraint). ``P`` is *closed* if it
    is frequent (``support(P) >= min_support``) and no super-pattern ``Q`` has
    ``support(Q) == support(P)``. Closedness is judged over patterns of every
    length; ``min_length`` and ``max_length`` only select which closed
    patterns are reported (a pattern of length ``max_length`` with an equally
    supported longer super-pattern is not reported).

Algorithm and why each closure check is exact
---------------------------------------------
All settings grow patterns by appending one symbol (a prefix of an occurrence
is an occurrence, so every frequent pattern is reached from its frequent
prefixes). The projected database of a pattern keeps, per sequence, what growth
under the gap setting needs: all end positions of occurrences when ``max_gap``
is bounded, only the earliest-ending occurrence when it is not (any
continuation of a later occurrence also continues the earliest one).

How the work is laid out: ``[0, 0]`` runs depth first over one flat list of
symbols (an occurrence is its end index). Unbounded gaps run depth first with an
explicit stack, a projection being a numpy matrix of first-instance positions
and two tables giving the next and previous position of every frequent symbol,
so that growth and both BIDE checks are a few gathers per pattern whatever the
number of sequences (databases whose tables would exceed ``_TABLE_BUDGET`` use
per-sequence Python lists instead). Other bounded gaps run breadth first, one
pattern length at a time, on arrays of all occurrences (frequent set) and all
walk states (closure), so that their cost follows the number of occurrences.

The closure check depends on whether occurrence composes: if ``P ⊑ Q`` and
``Q ⊑ S``, does ``P ⊑ S`` follow? It does for ``[0, 0]`` (a substring of a
substring) and for every unbounded setting ``[g, None]`` (two symbols ``b - a``
apart in ``Q`` land at least ``(b - a)(g + 1) - 1 >= g`` apart in ``S``). It
fails for every other bounded setting: with ``P = (a, b)`` and ``Q = a x..x b``
(``g`` fillers, or one filler when ``g == 0``), ``P ⊑ Q``, and ``Q`` occurs in
an ``S`` that puts ``max_gap`` symbols between ``a`` and the first ``x``, where
``a`` and ``b`` end up more than ``max_gap`` apart. Where composition holds, support
can only fall from a pattern to its super-patterns; where it fails, a
super-pattern can even have a larger support than the pattern.

``[0, 0]`` (BIDE, contiguous)
    If ``Q = A + P + B`` has the support of ``P``, then ``(a,) + P`` (``a`` the
    last symbol of ``A``) or ``P + (b,)`` (``b`` the first of ``B``) is a
    substring of ``Q``, so its support is at least ``support(Q)`` and, as a
    super-pattern of ``P``, at most ``support(P)``. Checking the one-symbol
    forward extensions ``P + (e,)`` and backward extensions ``(e,) + P`` is
    therefore exact. BackScan: if every occurrence of ``P`` in every sequence
    is preceded by the same symbol ``e``, then every pattern ``P + X`` grown
    from ``P`` has ``(e,) + P + X`` with equal support, so the subtree is
    pruned.
``[0, None]`` (BIDE, classic)
    If ``Q`` has the support of ``P``, an occurrence of ``P`` in ``Q`` plus
    one more position of ``Q`` spells a pattern ``Q'`` of length ``n + 1``
    with ``P ⊑ Q' ⊑ Q``, so ``support(Q')`` is squeezed to ``support(P)``.
    One-symbol insertions are therefore exact: forward extensions (appended
    symbols) from the projected database, backward extensions (a symbol
    inserted before some ``pi``) from the *maximum periods* (the stretch
    between the first instance of ``p1..p(i-1)`` and the last-in-last
    position of ``pi``, which is the widest room any occurrence leaves
    there). BackScan prunes the subtree when a symbol lies in the same *semi-
    maximum period* (bounded by the last-in-first positions, the occurrence
    ending earliest) of every sequence: every continuation ``X`` of ``P`` can
    be placed after that occurrence, so the insertion survives in ``P + X``.
``[g, None]`` with ``g >= 1``
    Composition holds, but one-symbol insertions are not super-patterns:
    ``P`` needs ``g`` symbols between its symbols, so super-patterns of a
    pattern of length ``n >= 2`` have length at least ``n + (n - 1) g``.
    If ``Q`` has the support of ``P`` and ``P`` occurs in ``Q`` at
    ``k1 < ... < kn``, let ``Q'`` be ``Q`` read at ``k1``, at ``g`` of the
    positions between each ``kj`` and ``k(j+1)``, and at ``kn``. Any two
    positions of ``Q`` land at least ``g`` symbols apart in a sequence that
    contains ``Q``, so ``Q'`` occurs wherever ``Q`` does and
    ``support(Q') >= support(Q)``; and ``P ⊑ Q'`` (gaps of exactly ``g``), so
    ``support(Q') <= support(P)``. Hence ``P`` is closed exactly when no
    *template* pattern (``P``'s symbols at every ``(g + 1)``-th slot, any
    symbols in the ``g`` slots between) occurs in all the sequences that
    contain ``P``; this is searched slot by slot over those sequences. For
    ``n == 1``, ``Q'`` is the symbol and one neighbour in ``Q``: a pair
    ``(p, e)`` or ``(e, p)`` in all the sequences that contain ``p``.
Any other bounded ``[min_gap, max_gap]`` (Gap-BIDE's setting)
    Without composition no short super-pattern has to witness
    non-closedness, so checking one-symbol extensions (as Gap-BIDE does)
    misses some: with ``[0, 1]`` over ``aabab, abaab, baba``, ``(b, b)`` has
    support 2 like its super-pattern ``(a, b, a, b)``, while its one-symbol
    super-patterns ``bab``, ``abb`` and ``bba`` have supports 3, 1 and 1. A
    witness can also be longer than ``max_length``. But a witness has the
    support of ``P``, so it is frequent: the exact check enumerates the
    complete frequent set (no length cap) and, for each frequent ``Q``, walks
    the patterns that occur in ``Q`` (only through prefixes at least as
    supported as ``Q``: a prefix of a pattern occurs wherever the pattern
    does), marking those with the support of ``Q``. Both steps run level by
    level (one pattern length at a time) on numpy arrays of all occurrences or
    walk states, so the cost follows the number of occurrences. It still costs
    more than the other settings on large databases (see
    ``benchmarks/bench_mining.py``), and highly repetitive data (many copies of
    one long phrase) makes the frequent set explode.
"""

from __future__ import annotations

import math
import os
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from fractions import Fraction
from itertools import chain
from numbers import Integral, Real
from pathlib import Path
from typing import Any, NamedTuple

from cantaor.util.atomic import write_text

__all__ = ["find_occurrences", "mine_closed", "read_sequences", "write_patterns_tsv"]

# Separator in the concatenated contiguous database; symbol codes are >= 0.
_BOUNDARY = -1


def mine_closed(
    sequences: Sequence[Sequence[Hashable]],
    *,
    min_support: int | float,
    min_gap: int = 0,
    max_gap: int | None = 0,
    min_length: int = 1,
    max_length: int | None = None,
) -> list[tuple[tuple, int]]:
    """Mine the closed patterns of a database under a gap constraint.

    Parameters
    ----------
    sequences : sequence of sequences of hashable symbols
        The database, one sequence per phrase; empty sequences are allowed
        (they count towards a fractional ``min_support``).
    min_support : int or float
        Sequences that must contain a pattern: an ``int >= 1``, or a ``float``
        in ``(0, 1]`` taken as a fraction of ``len(sequences)`` rounded up.
    min_gap, max_gap : int
        Symbols skipped between consecutive pattern symbols must lie in
        ``[min_gap, max_gap]``; ``max_gap=None`` is unbounded. The default
        ``[0, 0]`` gives contiguous patterns.
    min_length, max_length : int
        Report closed patterns whose length lies in this range
        (``max_length=None``: no upper bound). Closedness itself is judged
        against patterns of every length.

    Returns
    -------
    list of (tuple, int)
        ``(pattern, support)`` pairs sorted by decreasing support, then
        decreasing length, then the pattern's symbols as strings.

    Raises
    ------
    ValueError
        If an option is out of range.
    """
    min_gap, max_gap = _check_gaps(min_gap, max_gap)
    if _is_int(min_length) and min_length >= 1:
        min_length = int(min_length)
    else:
        raise ValueError(f"min_length must be an integer >= 1, got {min_length!r}")
    if max_length is not None:
        if not (_is_int(max_length) and max_length >= min_length):
            raise ValueError(
                f"max_length must be None or an integer >= min_length, got {max_length!r}"
            )
        max_length = int(max_length)
    threshold = _support_threshold(min_support, len(sequences))

    codes: dict[Hashable, int] = {}
    encoded = [tuple(codes.setdefault(symbol, len(codes)) for symbol in seq) for seq in sequences]
    symbols = list(codes)
    lengths = {"min_length": min_length, "max_length": max_length}
    if max_gap == 0:
        closed = _mine_contiguous(encoded, threshold=threshold, **lengths)
    elif max_gap is None:
        closed = _mine_unbounded(encoded, threshold=threshold, min_gap=min_gap, **lengths)
    else:
        closed = _mine_bounded(
            encoded, threshold=threshold, min_gap=min_gap, max_gap=max_gap, **lengths
        )
    result = [
        (tuple(symbols[code] for code in pattern), support) for pattern, support in closed.items()
    ]
    result.sort(key=lambda item: (-item[1], -len(item[0]), tuple(map(str, item[0]))))
    return result


def find_occurrences(
    sequence: Sequence[Hashable],
    pattern: Sequence[Hashable],
    *,
    min_gap: int = 0,
    max_gap: int | None = 0,
) -> list[tuple[int, ...]]:
    """Locate a pattern in a sequence, one occurrence per start position.

    Parameters
    ----------
    sequence : sequence of hashable symbols
    pattern : sequence of hashable symbols
        Non-empty.
    min_gap, max_gap : int
        Gap constraint, as in :func:`mine_closed`.

    Returns
    -------
    list of tuple of int
        For every start index ``i`` with ``sequence[i] == pattern[0]`` from
        which the pattern can be completed, the positions of the completion
        that picks the leftmost feasible position at each step. That
        completion also ends earliest: the earliest reachable end is a
        non-decreasing function of the position a symbol is matched at.
        Tuples are in order of start; for contiguous patterns this is every
        substring match, overlapping ones included.

    Raises
    ------
    ValueError
        If the pattern is empty or the gap constraint is invalid.
    """
    min_gap, max_gap = _check_gaps(min_gap, max_gap)
    pattern = tuple(pattern)
    if not pattern:
        raise ValueError("pattern must not be empty")
    # feasible[k]: sorted positions matching pattern[k] from which pattern[k:] completes.
    feasible: list[list[int]] = [[] for _ in pattern]
    feasible[-1] = [i for i, symbol in enumerate(sequence) if symbol == pattern[-1]]
    for k in range(len(pattern) - 2, -1, -1):
        feasible[k] = [
            i
            for i, symbol in enumerate(sequence)
            if symbol == pattern[k] and _first_in_window(feasible[k + 1], i, min_gap, max_gap) >= 0
        ]
    found = []
    for start in feasible[0]:
        positions = [start]
        for following in feasible[1:]:
            positions.append(_first_in_window(following, positions[-1], min_gap, max_gap))
        found.append(tuple(positions))
    return found


def read_sequences(path: str | os.PathLike) -> list[list[str]]:
    """Read a database: one sequence per line, symbols separated by whitespace.

    Every line is one sequence, so ``result[i]`` is line ``i + 1``: a blank
    (or whitespace-only) line is an empty sequence, kept so that line numbers
    keep indexing phrases and a fractional ``min_support`` counts it. A final
    newline does not start another sequence.

    Parameters
    ----------
    path : str or PathLike
        UTF-8 text file.

    Returns
    -------
    list of list of str

    Raises
    ------
    ValueError
        If the file cannot be read or is not UTF-8 text; the message names it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read sequences from {path}: {error}") from error
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.split() for line in lines]


def write_patterns_tsv(
    patterns: Iterable[tuple[Sequence[Hashable], int]], path: str | os.PathLike
) -> None:
    """Write patterns as a tab-separated table, atomically.

    Columns ``pattern`` (symbols joined by single spaces), ``support`` and
    ``length``. The table is written atomically (:func:`cantaor.util.atomic.write_text`),
    so readers never see a partial file.

    Parameters
    ----------
    patterns : iterable of (sequence of symbols, int)
        For example the output of :func:`mine_closed`.
    path : str or PathLike
        Destination; its directory must exist.

    Raises
    ------
    ValueError
        If a pattern is empty or a symbol's ``str`` is empty or contains
        whitespace (it could not be read back).
    """
    path = Path(path)
    rows = ["pattern\tsupport\tlength"]
    for pattern, support in patterns:
        names = [str(symbol) for symbol in pattern]
        if not names:
            raise ValueError("cannot write an empty pattern")
        for name in names:
            if not name or name != "".join(name.split()):
                raise ValueError(f"symbol {name!r} is empty or contains whitespace")
        rows.append(f"{' '.join(names)}\t{int(support)}\t{len(names)}")
    write_text("\n".join(rows) + "\n", path)


# --- options ---------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _check_gaps(min_gap: int, max_gap: int | None) -> tuple[int, int | None]:
    if not (_is_int(min_gap) and min_gap >= 0):
        raise ValueError(f"min_gap must be an integer >= 0, got {min_gap!r}")
    if max_gap is None:
        return int(min_gap), None
    if not (_is_int(max_gap) and max_gap >= min_gap):
        raise ValueError(f"max_gap must be None or an integer >= min_gap, got {max_gap!r}")
    return int(min_gap), int(max_gap)


def _support_threshold(min_support: int | float, n_sequences: int) -> int:
    if _is_int(min_support):
        if min_support >= 1:
            return int(min_support)
    elif isinstance(min_support, Real) and not isinstance(min_support, bool):
        fraction = float(min_support)
        if 0 < fraction <= 1:
            return math.ceil(Fraction(repr(fraction)) * n_sequences)
    raise ValueError(
        f"min_support must be an integer >= 1 or a float in (0, 1], got {min_support!r}"
    )


# --- [0, 0]: contiguous BIDE --------------------------------------------------


def _mine_contiguous(
    encoded: list[tuple[int, ...]], *, threshold: int, min_length: int, max_length: int | None
) -> dict[tuple[int, ...], int]:
    # One flat list with a boundary before, between and after the sequences, so that
    # the symbol after an end (or before a start) is a plain lookup that never leaks
    # into a neighbouring sequence. An occurrence is its end index in this list.
    data = [_BOUNDARY]
    owner = [-1]
    for sid, seq in enumerate(encoded):
        data.extend(seq)
        owner.extend([sid] * len(seq))
        data.append(_BOUNDARY)
        owner.append(-1)
    occurrences: dict[int, list[int]] = defaultdict(list)
    for position, symbol in enumerate(data):
        if symbol != _BOUNDARY:
            occurrences[symbol].append(position)

    def support_of(ends: list[int]) -> int:
        return len(set(map(owner.__getitem__, ends)))

    stack = []
    for symbol, ends in occurrences.items():
        support = support_of(ends)
        if support >= threshold:
            stack.append(((symbol,), ends, support))
    closed = {}
    while stack:
        pattern, ends, support = stack.pop()
        n = len(pattern)
        preceding = {data[end - n] for end in ends}
        if len(preceding) == 1 and _BOUNDARY not in preceding:
            continue  # BackScan: the same symbol precedes every occurrence
        extensions: dict[int, list[int]] = defaultdict(list)
        for end in ends:
            extensions[data[end + 1]].append(end + 1)
        extensions.pop(_BOUNDARY, None)
        grow = max_length is None or n < max_length
        forward_closed = True
        for symbol, child_ends in extensions.items():
            # The occurrence count bounds the support: a cheap filter before counting sequences.
            if len(child_ends) < threshold:
                continue
            child_support = support_of(child_ends)
            if child_support == support:
                forward_closed = False
            if grow and child_support >= threshold:
                stack.append(((*pattern, symbol), child_ends, child_support))
        if n >= min_length and forward_closed:
            backward = Counter(
                symbol for symbol, _ in {(data[end - n], owner[end]) for end in ends}
            )
            if all(count < support for symbol, count in backward.items() if symbol != _BOUNDARY):
                closed[pattern] = support
    return closed


# --- [g, None]: classic BIDE (g == 0) and template closure (g >= 1) ---------------


# Entries (8 bytes each) of the two position tables (next and previous position of
# each frequent symbol) above which unbounded mining falls back to per-sequence
# Python lists: 128 MB.
_TABLE_BUDGET = 1 << 24


def _mine_unbounded(
    encoded: list[tuple[int, ...]],
    *,
    threshold: int,
    min_gap: int,
    min_length: int,
    max_length: int | None,
) -> dict[tuple[int, ...], int]:
    """Unbounded gaps on arrays: each projection is a matrix of first-instance positions.

    The sequences are laid out in one flat array with a separator before each
    sequence and after the last. ``after[f, g]`` is the first position at or after
    ``g`` holding frequent symbol ``f`` in the same sequence (else the separator
    that ends it), ``before[f, g]`` the last at or before ``g`` (else the separator
    that starts it). A pattern's projection is a ``(length, support)`` matrix: for
    each sequence that contains it, the positions of its first instance (greedy
    leftmost, so the last row holds the earliest end). Growing, BackScan and the
    backward-extension check are then a few gathers per pattern, whatever the
    number of sequences.
    """
    import numpy as np

    n_codes = 1 + max((max(seq) for seq in encoded if seq), default=-1)
    containing = [0] * n_codes
    for seq in encoded:
        for code in set(seq):
            containing[code] += 1
    frequent_codes = [code for code in range(n_codes) if containing[code] >= threshold]
    if not frequent_codes:
        return {}
    n_frequent = len(frequent_codes)
    size = sum(map(len, encoded)) + len(encoded) + 1
    if 2 * size * n_frequent > _TABLE_BUDGET:
        return _mine_unbounded_lists(
            encoded,
            threshold=threshold,
            min_gap=min_gap,
            min_length=min_length,
            max_length=max_length,
        )
    column_of = np.full(n_codes + 1, -1, dtype=np.int64)  # the last entry: separators
    column_of[frequent_codes] = np.arange(n_frequent)
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    # Separator k sits before sequence k; sequence k starts at starts[k].
    separators = np.concatenate(([0], np.cumsum(lengths + 1)))
    starts = separators[:-1] + 1
    flat = np.full(size, n_codes, dtype=np.int64)
    is_symbol = np.ones(size, dtype=bool)
    is_symbol[separators] = False
    flat[is_symbol] = np.fromiter(
        chain.from_iterable(encoded), dtype=np.int64, count=size - len(separators)
    )
    columns = column_of[flat]
    # The separators that close and open the sequence of every position.
    closing = separators[np.searchsorted(separators, np.arange(size), side="left")]
    opening = separators[np.searchsorted(separators, np.arange(size), side="right") - 1]
    # One row per frequent symbol (gathers along a row are the fast ones).
    after = np.empty((n_frequent, size), dtype=np.int64)
    before = np.empty((n_frequent, size), dtype=np.int64)
    everywhere = np.arange(size)
    for column in range(n_frequent):
        at = np.flatnonzero(columns == column)
        nxt = np.append(at, size)[np.searchsorted(at, everywhere, side="left")]
        after[column] = np.where(nxt < closing, nxt, closing)
        prv = np.insert(at, 0, -1)[np.searchsorted(at, everywhere, side="right")]
        before[column] = np.where(prv > opening, prv, opening)
    # Separators lead nowhere: after[:, sep] == before[:, sep] == sep.
    after[:, separators] = separators
    before[:, separators] = separators

    stack = []
    for column in range(n_frequent):
        firsts = after[column, starts]
        firsts = firsts[firsts < starts + lengths]
        if firsts.size >= threshold:
            stack.append(((column,), firsts[None, :]))
    closed = {}
    while stack:
        pattern, firsts = stack.pop()
        n, support = firsts.shape
        ends = firsts[-1]
        sequence_ends = closing[ends]
        reach = ends + 1 if min_gap == 0 else np.minimum(ends + 1 + min_gap, sequence_ends)
        following = after.take(reach, axis=1)  # (n_frequent, support)
        present = following < sequence_ends
        counts = present.sum(axis=1)
        if min_gap == 0:
            # BackScan (semi-maximum periods) and, for a pattern that no forward extension
            # matches, the backward extensions (maximum periods), in one pass.
            starts_of_match = [ends]
            if n >= min_length and not (counts == support).any():
                starts_of_match.append(before[pattern[-1]].take(sequence_ends - 1))
            shared = _shared_period_columns(
                after, before, opening, pattern, firsts, starts_of_match
            )
            if shared[0]:
                continue  # BackScan: a symbol lies in the same semi-maximum period everywhere
            is_closed = len(shared) == 2 and not shared[1]
        elif n >= min_length:
            sequence_ids = np.searchsorted(separators, ends) - 1
            local = (firsts - starts[sequence_ids]).T.tolist()
            projection = list(zip(sequence_ids.tolist(), map(tuple, local), strict=True))
            codes = tuple(frequent_codes[column] for column in pattern)
            is_closed = not _template_witness(encoded, codes, projection, min_gap)
        else:
            is_closed = False
        if is_closed:
            closed[tuple(frequent_codes[column] for column in pattern)] = support
        if max_length is None or n < max_length:
            for column in np.flatnonzero(counts >= threshold).tolist():
                keep = present[column]
                grown = np.vstack((firsts[:, keep], following[column, keep]))
                stack.append(((*pattern, column), grown))
    return closed


def _shared_period_columns(after, before, opening, pattern, firsts, starts_of_match):
    """For each array of match starts: whether a frequent symbol lies in one period everywhere.

    The pattern is matched from the right, starting at ``last`` (one position per
    sequence): its earliest end (``firsts[-1]``) gives the semi-maximum periods
    (BackScan), the last position of its last symbol the maximum periods
    (backward extensions); see :func:`_shared_period_symbol`. With many sequences,
    a few are tried first, for every period and symbol, and the others only for
    the (period, symbol) pairs that survived: most patterns share nothing even
    there.
    """
    import numpy as np

    support = firsts.shape[1]
    few = support if support <= _ALL_AT_ONCE else _FIRST_TRY
    checks = len(starts_of_match)
    sample = np.hstack([firsts[:, :few]] * checks) if checks > 1 else firsts[:, :few]
    lasts = np.concatenate([last[:few] for last in starts_of_match])
    right, low = _periods(before, opening, pattern, sample, lasts)
    inside = (after.take(low, axis=1) < right).reshape(-1, len(pattern), checks, few)
    shared = inside.all(axis=3).transpose(1, 2, 0)  # (n, checks, n_frequent)
    verdicts = []
    for check, last in enumerate(starts_of_match):
        candidates = shared[:, check]
        if few == support or not candidates.any():
            verdicts.append(bool(candidates.any()))
            continue
        periods, columns = np.nonzero(candidates)
        right, low = _periods(before, opening, pattern, firsts[:, few:], last[few:])
        inside = after[columns[:, None], low[periods]] < right[periods]  # (pairs, sequences)
        verdicts.append(bool(inside.all(axis=1).any()))
    return verdicts


# Sequences :func:`_shared_period_columns` tries before all the others, when there
# are more than _ALL_AT_ONCE (below that, one pass over all costs less than two).
_FIRST_TRY = 8
_ALL_AT_ONCE = 256


def _periods(before, opening, pattern, firsts, last):
    """Bounds of the periods: period k of a sequence runs from ``low[k]`` to ``right[k] - 1``."""
    import numpy as np

    right = np.empty_like(firsts)
    right[-1] = last
    for k in range(len(pattern) - 2, -1, -1):
        right[k] = before[pattern[k]].take(right[k + 1] - 1)
    low = np.empty_like(firsts)
    low[0] = opening[last] + 1
    low[1:] = firsts[:-1] + 1
    return right, low


def _mine_unbounded_lists(
    encoded: list[tuple[int, ...]],
    *,
    threshold: int,
    min_gap: int,
    min_length: int,
    max_length: int | None,
) -> dict[tuple[int, ...], int]:
    # following[sid][i]: (symbol, position) of the first occurrence of each symbol at or
    # after position i, so that growing an entry costs one lookup per symbol grown.
    following = []
    for seq in encoded:
        table: list[tuple[tuple[int, int], ...]] = [()] * (len(seq) + 1)
        first: dict[int, int] = {}
        for position in range(len(seq) - 1, -1, -1):
            first[seq[position]] = position
            table[position] = tuple(first.items())
        following.append(table)
    # Sorted positions of each symbol per sequence, for matching from the right.
    positions_of = []
    for seq in encoded:
        positions: dict[int, list[int]] = defaultdict(list)
        for position, symbol in enumerate(seq):
            positions[symbol].append(position)
        positions_of.append(positions)

    # Projection entry: (sequence id, positions of the first instance of the pattern),
    # the greedy leftmost occurrence, whose last position is the earliest end.
    roots: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    for sid, table in enumerate(following):
        for symbol, position in table[0]:
            roots[symbol].append((sid, (position,)))
    stack = [
        ((symbol,), projection)
        for symbol, projection in roots.items()
        if len(projection) >= threshold
    ]
    closed = {}
    while stack:
        pattern, projection = stack.pop()
        n = len(pattern)
        support = len(projection)
        if min_gap == 0 and _shared_period_symbol(
            encoded, positions_of, pattern, projection, semi=True
        ):
            continue  # BackScan
        children: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        for sid, firsts in projection:
            table = following[sid]
            for symbol, position in table[min(firsts[-1] + 1 + min_gap, len(table) - 1)]:
                children[symbol].append((sid, (*firsts, position)))
        if n >= min_length:
            if min_gap == 0:
                is_closed = all(len(child) < support for child in children.values()) and not (
                    _shared_period_symbol(encoded, positions_of, pattern, projection, semi=False)
                )
            else:
                is_closed = not _template_witness(encoded, pattern, projection, min_gap)
            if is_closed:
                closed[pattern] = support
        if max_length is None or n < max_length:
            stack.extend(
                ((*pattern, symbol), child)
                for symbol, child in children.items()
                if len(child) >= threshold
            )
    return closed


def _shared_period_symbol(
    encoded: list[tuple[int, ...]],
    positions_of: list[dict[int, list[int]]],
    pattern: tuple[int, ...],
    projection: list[tuple[int, tuple[int, ...]]],
    *,
    semi: bool,
) -> bool:
    """Whether some symbol lies in the same (semi-)maximum period of every sequence.

    The i-th period runs from just after the first instance of ``pattern[:i]`` to
    just before the i-th position of the pattern matched greedily from the right,
    starting at the last position of the sequence (last-in-last appearance: the
    maximum period, ``semi=False``) or at the end of the first instance
    (last-in-first appearance: the semi-maximum period, ``semi=True``).
    """
    common: list[set[int] | None] = [None] * len(pattern)
    alive = range(len(pattern))
    for sid, firsts in projection:
        seq = encoded[sid]
        positions = positions_of[sid]
        # Match from the right: the last position of each symbol before the next one.
        right = [0] * len(pattern)
        bound = firsts[-1] if semi else len(seq) - 1
        for k in range(len(pattern) - 1, -1, -1):
            candidates = positions[pattern[k]]
            bound = candidates[bisect_right(candidates, bound) - 1]
            right[k] = bound
            bound -= 1
        still = []
        for i in alive:
            symbols = set(seq[firsts[i - 1] + 1 if i else 0 : right[i]])
            shared = common[i]
            common[i] = symbols if shared is None else shared & symbols
            if common[i]:
                still.append(i)
        if not still:
            return False
        alive = still
    return True


def _template_witness(
    encoded: list[tuple[int, ...]],
    pattern: tuple[int, ...],
    projection: list[tuple[int, tuple[int, ...]]],
    min_gap: int,
) -> bool:
    """Whether a super-pattern of ``pattern`` occurs in all its sequences (``[g, None]``, g >= 1).

    The super-patterns tried are the templates of the module docstring.
    """
    seqs = [encoded[sid] for sid, _ in projection]
    if len(pattern) == 1:
        symbol = pattern[0]
        after: set[int] | None = None
        before: set[int] | None = None
        for seq, (_, firsts) in zip(seqs, projection, strict=True):
            last = len(seq) - 1 - seq[::-1].index(symbol)
            after_here = set(seq[firsts[0] + 1 + min_gap :])
            before_here = set(seq[: max(last - min_gap, 0)])
            after = after_here if after is None else after & after_here
            before = before_here if before is None else before & before_here
        return bool(after) or bool(before)
    # Slots of the template: pattern symbols at multiples of (min_gap + 1), free symbols
    # between. A state is (slot, earliest end per sequence); an earliest end dominates
    # any later one, so states reached twice are explored once.
    slots = len(pattern) + (len(pattern) - 1) * min_gap
    start = (0, tuple(firsts[0] for _, firsts in projection))
    stack = [start]
    seen = {start}
    while stack:
        slot, ends = stack.pop()
        if slot == slots - 1:
            return True
        nxt = slot + 1
        if nxt % (min_gap + 1) == 0:
            candidates: Iterable[int] = (pattern[nxt // (min_gap + 1)],)
        else:
            common = set(seqs[0][ends[0] + 1 + min_gap :])
            for seq, end in zip(seqs[1:], ends[1:], strict=True):
                common &= set(seq[end + 1 + min_gap :])
            candidates = common
        for symbol in candidates:
            try:
                new_ends = tuple(
                    seq.index(symbol, end + 1 + min_gap)
                    for seq, end in zip(seqs, ends, strict=True)
                )
            except ValueError:
                continue  # some sequence has no room for this symbol
            state = (nxt, new_ends)
            if state not in seen:
                seen.add(state)
                stack.append(state)
    return False


# --- other bounded gaps: complete frequent set, then exact closure -----------------


class _Trie(NamedTuple):
    """The frequent patterns of a bounded gap (see :func:`_frequent_trie`)."""

    rows: Any
    lengths: Any
    supports: Any
    parents: Any
    suffixes: Any
    offsets: list[int]
    keys: list[Any]
    n_codes: int


def _mine_bounded(
    encoded: list[tuple[int, ...]],
    *,
    threshold: int,
    min_gap: int,
    max_gap: int,
    min_length: int,
    max_length: int | None,
) -> dict[tuple[int, ...], int]:
    """Bounded gaps on arrays: the complete frequent set, then the exact closure marks.

    Both steps go level by level (one pattern length at a time) over arrays that
    hold every occurrence (frequent set) or every walk state (closure) of the
    level at once, so their cost follows the number of occurrences and states,
    with a handful of numpy operations per level instead of Python work per
    pattern.

    The closure marks: every frequent pattern (a witness) marks the reportable
    patterns that occur in it and have its support. Work is saved where the
    witness's prefix (or suffix) has the same support: that shorter witness marks
    the patterns occurring in it, so this one only walks occurrences that end at
    its last index (or start at index 0); by induction on the witness length,
    every pattern that occurs in a frequent pattern of the same support is still
    marked. The shorter witness itself occurs in this one only without gaps (or
    as a single symbol), so it is marked directly.
    """
    import numpy as np

    trie = _frequent_trie(encoded, threshold=threshold, min_gap=min_gap, max_gap=max_gap)
    if trie is None:
        return {}
    lengths, supports, parents, suffixes = trie.lengths, trie.supports, trie.parents, trie.suffixes
    longest = int(lengths.max())
    report_up_to = longest if max_length is None else min(max_length, longest)
    not_closed = np.zeros(len(supports), dtype=bool)
    prefix_same = np.zeros(len(supports), dtype=bool)
    suffix_same = np.zeros(len(supports), dtype=bool)
    longer = lengths >= 2
    prefix_same[longer] = supports[parents[longer]] == supports[longer]
    suffix_same[longer] = supports[suffixes[longer]] == supports[longer]
    # The shorter witnesses occur in a pattern only without gaps (or as single symbols).
    shorter = longer & (lengths - 1 >= min_length) & (lengths - 1 <= report_up_to)
    if min_gap > 0:
        shorter &= lengths == 2
    not_closed[parents[shorter & prefix_same]] = True
    not_closed[suffixes[shorter & suffix_same]] = True

    witnesses = np.flatnonzero(longer)
    for chunk in range(0, len(witnesses), _WALK_CHUNK):
        _mark_walks(
            witnesses[chunk : chunk + _WALK_CHUNK],
            trie,
            prefix_same,
            suffix_same,
            not_closed,
            min_gap=min_gap,
            max_gap=max_gap,
            min_length=min_length,
            report_up_to=report_up_to,
        )
    reported = np.flatnonzero((lengths >= min_length) & (lengths <= report_up_to) & ~not_closed)
    return {
        tuple(row[:length]): support
        for row, length, support in zip(
            trie.rows[reported].tolist(),
            lengths[reported].tolist(),
            supports[reported].tolist(),
            strict=True,
        )
    }


# Witnesses walked together by :func:`_mark_walks` (bounds the memory of one level).
_WALK_CHUNK = 1 << 16


def _mark_walks(
    witnesses,
    trie: _Trie,
    prefix_same,
    suffix_same,
    not_closed,
    *,
    min_gap: int,
    max_gap: int,
    min_length: int,
    report_up_to: int,
) -> None:
    """Mark the reportable proper sub-patterns of ``witnesses`` that have their support.

    A walk state is (witness, sub-pattern, index where that occurrence of the
    sub-pattern in the witness ends); all states of one sub-pattern length are
    advanced together. Where the witness's prefix has its support, only
    occurrences ending at its last index count, and where its suffix has it, only
    those starting at index 0 (the shorter witness marks the others; see
    :func:`_mine_bounded`). A sub-pattern is extended only while it is at
    least as supported as the witness (a prefix occurs wherever its pattern does).
    """
    import numpy as np

    rows, lengths, supports = trie.rows, trie.lengths, trie.supports
    size = lengths[witnesses]
    last = size - 1
    target = supports[witnesses]
    limit = np.minimum(size - 1, report_up_to)
    # Start states: every index, or only index 0 where the suffix has the same support.
    starts_all = ~suffix_same[witnesses]
    count = np.where(starts_all, size, 1)
    owner = np.repeat(np.arange(len(witnesses)), count)
    end = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    # The symbols of a frequent pattern are frequent: every start is found.
    sub = _child_ids(None, rows[witnesses[owner], end], 0, trie)
    keep = supports[sub] >= target[owner]
    owner, end, sub = owner[keep], end[keep], sub[keep]
    length = 1
    while owner.size:
        witness = witnesses[owner]
        ends_last = end == last[owner]
        same_prefix = prefix_same[witness]
        if length >= min_length:
            marked = (supports[sub] == target[owner]) & (~same_prefix | ends_last)
            marked &= length < size[owner]
            not_closed[sub[marked]] = True
        needed = -(-(last[owner] - end) // (max_gap + 1))
        go = np.where(
            same_prefix, ~ends_last & (length + needed <= limit[owner]), length < limit[owner]
        )
        owner, end, sub = owner[go], end[go], sub[go]
        if not owner.size:
            break
        grown_owner, grown_end, grown_sub = [], [], []
        for gap in range(min_gap, max_gap + 1):
            index = end + 1 + gap
            inside = index <= last[owner]
            o, i, s = owner[inside], index[inside], sub[inside]
            child = _child_ids(s, rows[witnesses[o], i], length, trie)
            found = child >= 0
            o, i, child = o[found], i[found], child[found]
            strong = supports[child] >= target[o]
            grown_owner.append(o[strong])
            grown_end.append(i[strong])
            grown_sub.append(child[strong])
        owner = np.concatenate(grown_owner)
        end = np.concatenate(grown_end)
        sub = np.concatenate(grown_sub)
        if max_gap > min_gap and owner.size:
            # The same (witness, sub-pattern, end) reached along two paths: walk it once.
            order = np.lexsort((end, sub, owner))
            owner, end, sub = owner[order], end[order], sub[order]
            first = np.ones(owner.size, dtype=bool)
            first[1:] = (owner[1:] != owner[:-1]) | (sub[1:] != sub[:-1]) | (end[1:] != end[:-1])
            owner, end, sub = owner[first], end[first], sub[first]
        length += 1


def _child_ids(parent_ids, symbols, parent_length, trie: _Trie):
    """Global ids of ``parent + (symbol,)`` (-1 where not frequent).

    ``parent_ids`` are global ids of patterns of ``parent_length`` symbols (ignored
    when ``parent_length == 0``: the children are single symbols).
    """
    import numpy as np

    offsets, n_codes = trie.offsets, trie.n_codes
    level_keys = trie.keys[parent_length]
    if parent_length == 0:
        wanted = symbols.astype(np.int64)
    else:
        wanted = (parent_ids - offsets[parent_length - 1]) * n_codes + symbols
    where = np.searchsorted(level_keys, wanted)
    where = np.minimum(where, len(level_keys) - 1)
    found = level_keys[where] == wanted
    return np.where(found, where + offsets[parent_length], -1)


def _frequent_trie(encoded, *, threshold, min_gap, max_gap):
    """Every frequent pattern under a bounded gap, level by level on arrays.

    Returns None when no symbol is frequent, else a :class:`_Trie` over global
    pattern ids (level by level, each level sorted by (parent, last symbol)):
    ``rows[i, :lengths[i]]`` the
    symbols, ``parents`` the id without the last symbol and ``suffixes`` without the
    first (-1 for single symbols); ``offsets[k]`` the first id of length ``k + 1``,
    ``keys[k]`` the sorted ``parent_local_id * n_codes + symbol`` of that level.
    An occurrence is (pattern id, end position in the flat database); extending all
    occurrences of a level by every allowed gap gives the next level's candidates.
    """
    import numpy as np

    n_codes = 1 + max((max(seq) for seq in encoded if seq), default=-1)
    total = sum(map(len, encoded))
    if total == 0:
        return None
    # Flat database: each sequence followed by max_gap + 1 separators (-1), so that a
    # position reached from an occurrence is always inside the array.
    pad = max_gap + 1
    seq_lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    starts = np.concatenate(([0], np.cumsum(seq_lengths + pad)[:-1]))
    data = np.full(total + pad * len(encoded), -1, dtype=np.int64)
    owner = np.full(data.size, -1, dtype=np.int64)
    within = np.arange(total) - np.repeat(np.cumsum(seq_lengths) - seq_lengths, seq_lengths)
    positions = np.repeat(starts, seq_lengths) + within
    data[positions] = np.fromiter(chain.from_iterable(encoded), dtype=np.int64, count=total)
    owner[positions] = np.repeat(np.arange(len(encoded)), seq_lengths)

    def frequent_groups(key, position):
        """Sort occurrences by (key, position), drop repeats, count sequences per key."""
        order = np.lexsort((position, key))
        key, position = key[order], position[order]
        fresh = np.ones(key.size, dtype=bool)
        fresh[1:] = (key[1:] != key[:-1]) | (position[1:] != position[:-1])
        key, position = key[fresh], position[fresh]
        new_key = np.ones(key.size, dtype=bool)
        new_key[1:] = key[1:] != key[:-1]
        seq = owner[position]
        new_seq = new_key.copy()
        new_seq[1:] |= seq[1:] != seq[:-1]
        group = np.cumsum(new_key) - 1
        support = np.bincount(group, weights=new_seq).astype(np.int64)
        group_keys = key[new_key]
        frequent = support >= threshold
        local = np.cumsum(frequent) - 1
        keep = frequent[group]
        return group_keys[frequent], support[frequent], local[group[keep]], position[keep]

    level_keys, level_supports, occ_id, occ_pos = frequent_groups(data[positions], positions)
    if not level_keys.size:
        return None
    keys = [level_keys]
    supports = [level_supports]
    parents = [np.full(level_keys.size, -1, dtype=np.int64)]
    symbols = [level_keys]
    offsets = [0]
    while occ_id.size:
        candidates_key, candidates_pos = [], []
        for gap in range(min_gap, max_gap + 1):
            reached = occ_pos + 1 + gap
            ok = owner[reached] == owner[occ_pos]
            candidates_key.append(occ_id[ok] * n_codes + data[reached[ok]])
            candidates_pos.append(reached[ok])
        level_keys, level_supports, occ_id, occ_pos = frequent_groups(
            np.concatenate(candidates_key), np.concatenate(candidates_pos)
        )
        if not level_keys.size:
            break
        offsets.append(offsets[-1] + keys[-1].size)
        keys.append(level_keys)
        supports.append(level_supports)
        parents.append(level_keys // n_codes + offsets[-2])
        symbols.append(level_keys % n_codes)
    n_levels = len(keys)
    offsets.append(offsets[-1] + keys[-1].size)
    n_patterns = offsets[-1]
    lengths = np.repeat(np.arange(1, n_levels + 1), [k.size for k in keys])
    supports = np.concatenate(supports)
    parents = np.concatenate(parents)
    rows = np.zeros((n_patterns, n_levels), dtype=np.int32 if n_codes < 2**31 else np.int64)
    trie = _Trie(rows, lengths, supports, parents, None, offsets, keys, n_codes)
    suffixes = np.full(n_patterns, -1, dtype=np.int64)
    for level in range(n_levels):
        ids = np.arange(offsets[level], offsets[level + 1])
        if level:
            rows[ids, :level] = rows[parents[ids], :level]
            # Q[1:] of Q = parent + (symbol,) is (parent[1:]) + (symbol,).
            parent_suffixes = suffixes[parents[ids]] if level > 1 else None
            suffixes[ids] = _child_ids(parent_suffixes, symbols[level], level - 1, trie)
        rows[ids, level] = symbols[level]
    return trie._replace(suffixes=suffixes)


def _first_in_window(positions: list[int], after: int, min_gap: int, max_gap: int | None) -> int:
    """Smallest of the sorted ``positions`` that may follow ``after``; -1 if none."""
    index = bisect_left(positions, after + 1 + min_gap)
    if index < len(positions) and (max_gap is None or positions[index] <= after + 1 + max_gap):
        return positions[index]
    return -1
