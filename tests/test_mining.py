"""Tests for cantaor.mining.bide: exact examples and a brute-force reference."""

from __future__ import annotations

import itertools
import math
import random
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.mining import bide as mining
from cantaor.mining.bide import find_occurrences, mine_closed, read_sequences, write_patterns_tsv

GAP_SETTINGS = [(0, 0), (0, 1), (1, 2), (0, None), (1, None), (2, None), (0, 2), (2, 2)]


# --- brute-force reference -----------------------------------------------------


def matches(sequence, pattern, min_gap, max_gap):
    """Every index tuple at which ``pattern`` occurs in ``sequence``."""
    for positions in itertools.combinations(range(len(sequence)), len(pattern)):
        if all(sequence[i] == symbol for i, symbol in zip(positions, pattern, strict=True)) and all(
            min_gap <= b - a - 1 and (max_gap is None or b - a - 1 <= max_gap)
            for a, b in itertools.pairwise(positions)
        ):
            yield positions


def occurring_patterns(sequence, min_gap, max_gap):
    """Every pattern that occurs in ``sequence`` (by enumerating index tuples)."""
    found = set()
    for size in range(1, len(sequence) + 1):
        for positions in itertools.combinations(range(len(sequence)), size):
            if all(
                min_gap <= b - a - 1 and (max_gap is None or b - a - 1 <= max_gap)
                for a, b in itertools.pairwise(positions)
            ):
                found.add(tuple(sequence[i] for i in positions))
    return found


def reference_threshold(min_support, n_sequences):
    if isinstance(min_support, int):
        return min_support
    return math.ceil(Fraction(str(min_support)) * n_sequences)


def brute_force_closed(sequences, *, min_support, min_gap, max_gap, min_length=1, max_length=None):
    threshold = reference_threshold(min_support, len(sequences))
    per_sequence = [occurring_patterns(seq, min_gap, max_gap) for seq in sequences]
    support = Counter(pattern for patterns in per_sequence for pattern in patterns)
    frequent = {pattern: count for pattern, count in support.items() if count >= threshold}
    inside = {pattern: occurring_patterns(pattern, min_gap, max_gap) for pattern in frequent}
    closed = [
        (pattern, count)
        for pattern, count in frequent.items()
        if not any(
            len(other) > len(pattern) and other_count == count and pattern in inside[other]
            for other, other_count in frequent.items()
        )
        and min_length <= len(pattern) <= (len(pattern) if max_length is None else max_length)
    ]
    return sorted(closed, key=lambda item: (-item[1], -len(item[0]), tuple(map(str, item[0]))))


# --- exact examples --------------------------------------------------------------


def test_bide_paper_example():
    # Wang & Han (ICDE 2004), Table 1, min_sup 2: six closed sequences.
    database = ["CAABC", "ABCB", "CABC", "ABBCA"]
    mined = mine_closed(database, min_support=2, max_gap=None)
    expected = {("A", "B", "C"): 4, ("C", "A"): 3, ("C", "B"): 3, ("A", "A"): 2}
    expected |= {("A", "B", "B"): 2, ("C", "A", "B", "C"): 2}
    assert dict(mined) == expected
    assert mined == brute_force_closed(database, min_support=2, min_gap=0, max_gap=None)
    assert mined[0] == (("A", "B", "C"), 4)


def test_contiguous_example():
    database = [list("abcab"), list("abcd"), list("xabc")]
    assert mine_closed(database, min_support=2) == [(("a", "b", "c"), 3)]
    assert mine_closed(database, min_support=1, min_length=4) == [
        (("a", "b", "c", "a", "b"), 1),
        (("a", "b", "c", "d"), 1),
        (("x", "a", "b", "c"), 1),
    ]


def test_bounded_gap_needs_long_witness():
    # (b, b) has support 2 under [0, 1]; its one-symbol super-patterns bab, abb and bba
    # have supports 3, 1 and 1, yet abab (support 2) contains it: not closed.
    database = ["aabab", "abaab", "baba"]
    mined = dict(mine_closed(database, min_support=1, max_gap=1, max_length=2))
    assert ("b", "b") not in mined
    assert dict(mine_closed(database, min_support=1, max_gap=1))[tuple("abab")] == 2
    assert mine_closed(database, min_support=1, max_gap=1, max_length=2) == brute_force_closed(
        database, min_support=1, min_gap=0, max_gap=1, max_length=2
    )


def test_max_length_pattern_with_longer_equal_extension_not_reported():
    database = [list("abcd"), list("abcd"), list("xabcd")]
    for gaps in [(0, 0), (0, 1), (0, None)]:
        options = {"min_support": 2, "min_gap": gaps[0], "max_gap": gaps[1]}
        assert mine_closed(database, max_length=3, **options) == []
    assert mine_closed(database, min_support=2) == [(tuple("abcd"), 3)]


def test_fractional_support_rounds_up_at_decimal_value():
    database = [["a"]] * 3 + [["b"]] * 7
    assert mine_closed(database, min_support=0.3) == [(("b",), 7), (("a",), 3)]
    assert mine_closed(database, min_support=0.31) == [(("b",), 7)]
    assert mine_closed(database, min_support=1.0) == []


def test_empty_and_degenerate_databases():
    assert mine_closed([], min_support=0.5) == []
    assert mine_closed([[], []], min_support=1) == []
    assert mine_closed([[], ["a"]], min_support=0.5) == [(("a",), 1)]
    assert mine_closed([["a"]], min_support=2) == []


@pytest.mark.parametrize("gaps", [(0, 0), (0, None)])
def test_long_identical_sequences_do_not_hit_recursion_limits(gaps):
    rng = random.Random(7)
    sequence = [rng.choice("abcdef") for _ in range(400)]
    min_gap, max_gap = gaps
    mined = mine_closed([sequence, sequence], min_support=2, min_gap=min_gap, max_gap=max_gap)
    assert mined == [(tuple(sequence), 2)]


def test_symbols_keep_their_type():
    mined = mine_closed([[1, 2, 3], [1, 2, 4]], min_support=2)
    assert mined == [((1, 2), 2)]


@pytest.mark.parametrize("bad", [0, -1, 0.0, 1.5, 2.0, True, "3", None, float("nan")])
def test_bad_min_support_raises(bad):
    with pytest.raises(ValueError, match="min_support"):
        mine_closed([["a"]], min_support=bad)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"min_gap": -1}, "min_gap"),
        ({"min_gap": 2, "max_gap": 1}, "max_gap"),
        ({"max_gap": 1.0}, "max_gap"),
        ({"min_length": 0}, "min_length"),
        ({"min_length": 3, "max_length": 2}, "max_length"),
    ],
)
def test_bad_options_raise(options, name):
    with pytest.raises(ValueError, match=name):
        mine_closed([["a"]], min_support=1, **options)


def test_find_occurrences_examples():
    assert find_occurrences("aaab", "aa") == [(0, 1), (1, 2)]
    assert find_occurrences("abxab", "ab", max_gap=None) == [(0, 1), (3, 4)]
    assert find_occurrences("axbyb", "ab", min_gap=1, max_gap=2) == [(0, 2)]
    assert find_occurrences("abc", "d") == []
    with pytest.raises(ValueError, match="empty"):
        find_occurrences("abc", "")


# --- properties against the brute force --------------------------------------------


@st.composite
def databases(draw):
    alphabet = "abcd"[: draw(st.integers(2, 4))]
    symbols = st.sampled_from(alphabet)
    return draw(st.lists(st.lists(symbols, max_size=8), min_size=1, max_size=6))


min_supports = st.one_of(st.integers(1, 4), st.sampled_from([0.2, 0.3, 0.5, 2 / 3, 0.75, 1.0]))


@settings(max_examples=1500, deadline=None)
@given(
    database=databases(),
    gaps=st.sampled_from(GAP_SETTINGS),
    min_support=min_supports,
    min_length=st.integers(1, 3),
    extra_length=st.one_of(st.none(), st.integers(0, 3)),
)
def test_mine_closed_matches_brute_force(database, gaps, min_support, min_length, extra_length):
    min_gap, max_gap = gaps
    max_length = None if extra_length is None else min_length + extra_length
    options = {"min_gap": min_gap, "max_gap": max_gap, "min_length": min_length}
    mined = mine_closed(database, min_support=min_support, max_length=max_length, **options)
    expected = brute_force_closed(
        database, min_support=min_support, max_length=max_length, **options
    )
    assert mined == expected


@settings(max_examples=300, deadline=None)
@given(
    database=databases(),
    min_gap=st.integers(0, 2),
    min_support=min_supports,
    min_length=st.integers(1, 3),
)
def test_unbounded_without_position_tables_matches_brute_force(
    database, min_gap, min_support, min_length
):
    # Databases too large for the position tables are mined from per-sequence lists.
    options = {"min_gap": min_gap, "max_gap": None, "min_length": min_length}
    with mock.patch.object(mining, "_TABLE_BUDGET", 0):
        mined = mine_closed(database, min_support=min_support, **options)
    assert mined == brute_force_closed(database, min_support=min_support, **options)


@settings(max_examples=200, deadline=None)
@given(
    database=databases(),
    gaps=st.sampled_from([(0, 1), (1, 2), (0, 2), (2, 2)]),
    min_support=min_supports,
    max_length=st.one_of(st.none(), st.integers(1, 4)),
)
def test_bounded_walks_in_small_chunks_match_brute_force(database, gaps, min_support, max_length):
    # The closure walks go over the witnesses a chunk at a time; tiny chunks must agree.
    options = {"min_gap": gaps[0], "max_gap": gaps[1], "max_length": max_length}
    with mock.patch.object(mining, "_WALK_CHUNK", 2):
        mined = mine_closed(database, min_support=min_support, **options)
    assert mined == brute_force_closed(database, min_support=min_support, **options)


@pytest.mark.parametrize("support", [2, 3])
def test_unbounded_backscan_on_copies_of_a_long_phrase(support):
    # Every subsequence of the phrase is frequent; BackScan keeps the search to one path.
    rng = random.Random(support)
    phrase = [rng.choice("abcdef") for _ in range(60)]
    other = [rng.choice("abcdef") for _ in range(30)]
    database = [phrase] * support + [other]
    mined = mine_closed(database, min_support=support, max_gap=None)
    assert [pattern for pattern, count in mined if count == support] == [tuple(phrase)]
    assert all(count == support + 1 for pattern, count in mined if pattern != tuple(phrase))
    with mock.patch.object(mining, "_TABLE_BUDGET", 0):
        assert mine_closed(database, min_support=support, max_gap=None) == mined


@settings(max_examples=500, deadline=None)
@given(
    sequence=st.lists(st.sampled_from("abc"), max_size=10),
    pattern=st.lists(st.sampled_from("abc"), min_size=1, max_size=4),
    gaps=st.sampled_from(GAP_SETTINGS),
)
def test_find_occurrences_matches_brute_force(sequence, pattern, gaps):
    min_gap, max_gap = gaps
    by_start: dict[int, list[tuple[int, ...]]] = {}
    for positions in matches(sequence, pattern, min_gap, max_gap):
        by_start.setdefault(positions[0], []).append(positions)
    expected = [min(found) for _, found in sorted(by_start.items())]
    # The leftmost-feasible completion is also an earliest-ending one.
    for chosen, (_, found) in zip(expected, sorted(by_start.items()), strict=True):
        assert chosen[-1] == min(positions[-1] for positions in found)
    assert find_occurrences(sequence, pattern, min_gap=min_gap, max_gap=max_gap) == expected


# --- files --------------------------------------------------------------------------


def test_read_sequences_keeps_blank_lines_as_empty_sequences(tmp_path):
    path = tmp_path / "phrases.txt"
    path.write_text("+1 -2  +1\n\n   \n-3\t+2\r\n", encoding="utf-8")
    assert read_sequences(path) == [["+1", "-2", "+1"], [], [], ["-3", "+2"]]
    path.write_text("", encoding="utf-8")
    assert read_sequences(path) == []
    path.write_text("a b", encoding="utf-8")  # no final newline
    assert read_sequences(path) == [["a", "b"]]


def test_read_sequences_unreadable_input_names_the_file(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(ValueError, match=r"missing\.txt"):
        read_sequences(missing)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00a")
    with pytest.raises(ValueError, match=r"binary\.txt"):
        read_sequences(binary)
    with pytest.raises(ValueError, match=str(tmp_path.name)):
        read_sequences(tmp_path)


def test_round_trip_through_files(tmp_path):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("+1 -2 +1 -2\n+1 -2 +3\n\n-2 +1 -2\n", encoding="utf-8")
    mined = mine_closed(read_sequences(phrases), min_support=2)
    assert mined == [(("+1", "-2"), 3), (("-2", "+1", "-2"), 2)]
    table = tmp_path / "patterns.tsv"
    write_patterns_tsv(mined, table)
    lines = table.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "pattern\tsupport\tlength"
    rows = [line.split("\t") for line in lines[1:]]
    assert [(tuple(p.split(" ")), int(s)) for p, s, _ in rows] == mined
    assert [int(n) for _, _, n in rows] == [2, 3]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["patterns.tsv", "phrases.txt"]


def test_write_patterns_tsv_replaces_atomically_and_rejects_bad_symbols(tmp_path):
    table = tmp_path / "patterns.tsv"
    table.write_text("old\n", encoding="utf-8")
    write_patterns_tsv([], table)
    assert table.read_text(encoding="utf-8") == "pattern\tsupport\tlength\n"
    with pytest.raises(ValueError, match="whitespace"):
        write_patterns_tsv([(("a b",), 2)], table)
    with pytest.raises(ValueError, match="empty"):
        write_patterns_tsv([((), 2)], table)
    assert table.read_text(encoding="utf-8") == "pattern\tsupport\tlength\n"
    assert [path.name for path in tmp_path.iterdir()] == ["patterns.tsv"]


def test_mine_command_imports_neither_pandas_nor_audio_libraries(tmp_path):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("+1 -2 +1\n+1 -2\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from cantaor.cli import main\n"
        "for gap in ('0', 'none', '1'):\n"
        "    args = ['mine', sys.argv[1], '--min-support', '2', '--max-gap', gap]\n"
        "    assert main([*args, '-o', sys.argv[2], '-q']) == 0\n"
        "heavy = {'pandas', 'torch', 'librosa', 'soundfile', 'soxr', 'essentia',\n"
        "         'cantaor.util.audio'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(phrases), str(tmp_path / "patterns.tsv")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "patterns.tsv").read_text(encoding="utf-8").splitlines()[1] == "+1 -2\t2\t2"
