import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.contour.symbols import SYMBOL_COLUMNS
from cantaor.dataset.items import ITEM_COLUMNS, motif_items
from cantaor.mining.motifs import DICTIONARY_COLUMNS, OCCURRENCE_COLUMNS, build_dictionary


def contour_table(phrases):
    """A symbol table whose symbol i of a phrase spans [i, i + 2) seconds past the phrase start."""
    rows = []
    for phrase, symbols in enumerate(phrases):
        for position, symbol in enumerate(symbols):
            start = 100.0 * phrase + position
            rows.append((phrase, position, symbol, 0.0, 0, 1, start, start + 2.0))
    return pd.DataFrame(rows, columns=list(SYMBOL_COLUMNS))


def test_every_occurrence_with_its_whole_span():
    contours = {"r1": contour_table([["+1", "-2", "+3", "+1", "-2", "+3"], ["+1", "-2", "+3"]])}
    dictionary, occurrences = build_dictionary(
        "EM", contours, min_support=2, min_length=3, max_length=3
    )
    assert list(dictionary.columns) == list(DICTIONARY_COLUMNS)
    assert dictionary["pattern"].tolist() == ["+1 -2 +3"]
    assert dictionary["support"].tolist() == [2]
    assert list(occurrences.columns) == list(OCCURRENCE_COLUMNS)
    # two occurrences in phrase 0 (not only the first) and one in phrase 1
    assert occurrences[["phrase", "first_position", "last_position"]].values.tolist() == [
        [0, 0, 2],
        [0, 3, 5],
        [1, 0, 2],
    ]
    # from the start of the first symbol's first segment to the end of the last symbol's
    assert occurrences[["start_s", "end_s"]].values.tolist() == [[0, 4], [3, 7], [100, 104]]
    assert (occurrences["duration_s"] == 4).all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["+1", "-1", "+2"]), max_size=8), min_size=1, max_size=5),
    st.integers(1, 3),
)
def test_contiguous_occurrences_match_a_brute_force_scan(phrases, min_support):
    contours = {"r1": contour_table(phrases)}
    dictionary, occurrences = build_dictionary(
        "S", contours, min_support=min_support, min_length=1, max_length=None
    )
    expected = sorted(
        (motif_id, phrase, start)
        for motif_id, pattern in zip(dictionary["motif_id"], dictionary["pattern"])
        for phrase, symbols in enumerate(phrases)
        for start in range(len(symbols))
        if symbols[start : start + len(pattern.split())] == pattern.split()
    )
    found = sorted(
        zip(occurrences["motif_id"], occurrences["phrase"], occurrences["first_position"])
    )
    assert found == expected
    for pattern, support in zip(dictionary["pattern"], dictionary["support"]):
        assert support == sum(
            any(s[i : i + len(pattern.split())] == pattern.split() for i in range(len(s)))
            for s in phrases
        )


def test_gapped_occurrences_span_skipped_symbols():
    contours = {"r1": contour_table([["+1", "-1", "+2"], ["+1", "+3", "+2"]])}
    dictionary, occurrences = build_dictionary(
        "S", contours, min_support=2, min_gap=1, max_gap=1, min_length=2, max_length=2
    )
    assert dictionary["pattern"].tolist() == ["+1 +2"]
    assert occurrences[["first_position", "last_position"]].values.tolist() == [[0, 2], [0, 2]]


def test_recording_scope_mines_each_recording_alone():
    shared = ["+1", "-2", "+3"]
    contours = {
        "r1": contour_table([shared, shared]),
        "r2": contour_table([shared, ["-1"]]),
    }
    per_singer, _ = build_dictionary("S", contours, min_support=3, min_length=3)
    assert per_singer["pattern"].tolist() == ["+1 -2 +3"] and per_singer["scope"].tolist() == ["*"]
    per_recording, occurrences = build_dictionary(
        "S", contours, min_support=2, min_length=3, scope="recording"
    )
    assert per_recording["scope"].tolist() == ["r1"]
    assert set(occurrences["recording"]) == {"r1"}
    with pytest.raises(ValueError, match="unknown mining scope"):
        build_dictionary("S", contours, scope="album")


def test_motif_items_drop_short_occurrences_and_carry_groups():
    contours = {"r1": contour_table([["+1", "-2", "+3"], ["+1", "-2", "+3"]])}
    _, occurrences = build_dictionary("EM", contours, min_support=2, min_length=3)
    occurrences.loc[0, "duration_s"] = 0.1
    items = motif_items(occurrences, {"r1": "album"}, min_duration_s=0.15)
    assert list(items.columns) == list(ITEM_COLUMNS)
    assert len(items) == 1 and items["group"].tolist() == ["album"]
    assert items["item_id"].tolist() == ["EM_m00001@r1/1/0"]


def test_dictionary_summary_counts_per_singer_and_in_all():
    from cantaor.mining.motifs import dictionary_summary

    a_dict, a_occ = build_dictionary(
        "A", {"r1": contour_table([["+1", "-2", "+3"]] * 3)}, min_support=2, min_length=3
    )
    b_dict, b_occ = build_dictionary(
        "B", {"r2": contour_table([["-1", "-1", "+2", "+2"]] * 2)}, min_support=2, min_length=2
    )
    table = dictionary_summary([a_dict, b_dict], [a_occ, b_occ]).set_index("singer")
    assert table.loc["A", "motifs"] == 1 and table.loc["A", "instances"] == 3
    assert table.loc["B", "motifs"] == len(b_dict)
    assert table.loc["B", "instances"] == len(b_occ)
    assert table.loc["all", "instances"] == 3 + len(b_occ)
