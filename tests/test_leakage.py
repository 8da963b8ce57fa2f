import json
import uuid

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.dataset.leakage import (
    assign_groups,
    components,
    deduplicate,
    find_duplicates,
    leakage_markdown,
    leakage_report,
    phrase_keys,
)
from cantaor.dataset.split import split_with_report

# item_id, singer, recording (= group), start_s, end_s, content_hash
HAND = [
    ("a1", "A", "rA1", 0.0, 1.0, "h1"),
    ("a2", "A", "rA1", 0.5, 1.5, "h2"),  # overlaps a1
    ("a3", "A", "rA1", 5.0, 6.0, "h1"),  # identical to a1
    ("a4", "A", "rA2", 0.0, 1.0, "h3"),
    ("a5", "A", "rA2", 2.0, 3.0, "h4"),
    ("a6", "A", "rA3", 0.0, 1.0, "h5"),
    ("a7", "A", "rA3", 3.0, 4.0, "h6"),
    ("b1", "B", "rB1", 0.0, 1.0, "h7"),
    ("b2", "B", "rB1", 1.0, 2.0, "h8"),  # touches b1: no overlap
    ("b3", "B", "rB2", 0.0, 1.0, "h9"),
    ("b4", "B", "rB2", 0.2, 0.8, "h3"),  # same clip as a4 under another singer
    ("b5", "B", "rB3", 0.0, 1.0, "h10"),
    ("c1", "C", "rC1", 0.0, 1.0, "h11"),
    ("c2", "C", "rC1", 0.5, 2.0, "h12"),
]


def hand_index():
    index = pd.DataFrame(
        HAND, columns=["item_id", "singer", "recording", "start_s", "end_s", "content_hash"]
    )
    return index.assign(group="g" + index["recording"])


def test_find_duplicates_flags_cross_singer_contents():
    duplicates = find_duplicates(hand_index())
    assert duplicates.to_dict("records") == [
        {
            "content_hash": "h1",
            "n_items": 2,
            "n_singers": 1,
            "n_recordings": 1,
            "singers": "A",
            "cross_singer": False,
        },
        {
            "content_hash": "h3",
            "n_items": 2,
            "n_singers": 2,
            "n_recordings": 2,
            "singers": "A,B",
            "cross_singer": True,
        },
    ]


def test_deduplicate_keeps_one_per_content_and_drops_cross_singer_clips():
    index = hand_index()
    # the kept copy does not depend on the row order
    shuffled = index.sample(frac=1, random_state=4)
    kept, report = deduplicate(shuffled)
    assert sorted(kept["item_id"]) == sorted(set(index["item_id"]) - {"a3", "a4", "b4"})
    assert kept.index.equals(shuffled.index[~shuffled["item_id"].isin(["a3", "a4", "b4"])])
    assert kept["content_hash"].is_unique
    assert report == {
        "n_items": 14,
        "n_kept": 11,
        "n_dropped_copies": 1,
        "n_dropped_cross_singer": 2,
        "cross_singer_contents": 1,
        "dropped_cross_singer": ["a4", "b4"],
        "dropped_copies": {"a3": "a1"},
    }
    json.dumps(report)


def test_assign_groups_on_the_hand_case():
    groups = assign_groups(hand_index())
    assert groups.name == "split_group"
    assert groups.tolist() == [
        *["a1"] * 3,
        *["a4"] * 2,
        *["a6"] * 2,
        *["b1"] * 2,
        *["a4"] * 2,  # b3, b4: linked to a4 by identical content
        "b5",
        *["c1"] * 2,
    ]
    # without the group link: content and overlap only
    parts = components(hand_index(), link=("content", "overlap"))
    assert parts.tolist() == [
        *["a1"] * 3,
        "a4",
        "a5",
        "a6",
        "a7",
        "b1",
        "b2",
        "a4",
        "a4",
        "b5",
        "c1",
        "c1",
    ]
    with pytest.raises(ValueError, match="unknown link"):
        components(hand_index(), link=("album",))


def test_phrase_keys_of_each_id_scheme():
    ids = pd.Series(["EM_m1@r1/3/0", "segment:EM_m1@r1/3/0", "random@r1/4", "plain"])
    assert phrase_keys(ids).tolist() == ["r1/3", "r1/3", "", ""]


def _brute_force_components(rows):
    n = len(rows)
    linked = [[False] * n for _ in range(n)]
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            linked[i][j] = (
                i == j
                or a["group"] == b["group"]
                or a["content_hash"] == b["content_hash"]
                or (
                    a["recording"] == b["recording"]
                    and a["start_s"] < b["end_s"]
                    and b["start_s"] < a["end_s"]
                )
            )
    # transitive closure (Floyd-Warshall)
    for k in range(n):
        for i in range(n):
            if linked[i][k]:
                for j in range(n):
                    linked[i][j] = linked[i][j] or linked[k][j]
    return [min(rows[j]["item_id"] for j in range(n) if linked[i][j]) for i in range(n)]


item_rows = st.lists(
    st.fixed_dictionaries(
        {
            "recording": st.sampled_from(["r1", "r2", "r3"]),
            "group": st.sampled_from(["g1", "g2", "g3", "g4", "g5"]),
            "content_hash": st.sampled_from([f"h{k}" for k in range(8)]),
            "start_s": st.integers(0, 12).map(lambda x: x / 2),
            "length": st.integers(0, 6).map(lambda x: x / 2),
        }
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=150, deadline=None)
@given(item_rows, st.randoms(use_true_random=False))
def test_assign_groups_equals_brute_force_components(rows, random):
    rows = [
        {
            "item_id": f"i{k:02d}",
            "singer": "S",
            **{key: value for key, value in row.items() if key != "length"},
            "end_s": row["start_s"] + row["length"],
        }
        for k, row in enumerate(rows)
    ]
    index = pd.DataFrame(rows)
    expected = _brute_force_components(rows)
    assert assign_groups(index).tolist() == expected
    # the labels do not depend on the row order or the row labels
    order = list(range(len(rows)))
    random.shuffle(order)
    shuffled = index.iloc[order].set_axis([f"x{k}" for k in range(len(rows))])
    assert assign_groups(shuffled).tolist() == [expected[k] for k in order]


def test_leakage_report_of_the_index():
    report = leakage_report(hand_index())
    json.dumps(report)
    assert report == {
        "n_items": 14,
        "n_distinct_contents": 12,
        "n_redundant_copies": 2,
        "n_items_duplicated_within_singer": 2,
        "n_items_cross_singer": 2,
        "n_cross_singer_contents": 1,
        "n_items_in_shared_contents": 4,
        "items_per_singer": {"A": 7, "B": 5, "C": 2},
        "recordings_per_singer": {"A": 3, "B": 3, "C": 1},
        "groups_per_singer": {"A": 3, "B": 3, "C": 1},
        "split_groups_per_singer": {"A": 3, "B": 3, "C": 1},
        # a4, a5 (A) and b3, b4 (B) tie in one group: its home is the first name, A
        "own_split_groups_per_singer": {"A": 3, "B": 2, "C": 1},
        "n_split_groups": 6,
        "untestable_singers": ["C"],
        "untestable_reasons": {"C": "all its items come from one recording, rC1"},
        "recording_links": [
            {
                "recording_a": "rA2",
                "recording_b": "rB2",
                "singers_a": "A",
                "singers_b": "B",
                "identical_contents": 1,
                "shared_audio_groups": 0,
                "copied_share_a": 0.5,
                "copied_share_b": 0.5,
            }
        ],
    }


def test_leakage_report_of_a_leaking_random_split():
    index = hand_index()
    test = {"a2", "a3", "a7", "b2", "b4", "c2"}
    split = pd.DataFrame(
        {
            "item_id": index["item_id"],
            "subset": ["test" if i in test else "train" for i in index["item_id"]],
        }
    )
    report = leakage_report(index, split)["split"]
    assert report == {
        "n_train": 8,
        "n_validation": 0,
        "n_test": 6,
        "n_unassigned": 0,
        # a3 (copy of a1), b4 (copy of a4, other singer)
        "test_identical_in_train": 2 / 6,
        # a2 (a1), b4 (b3), c2 (c1); b2 only touches b1
        "test_overlap_in_train": 3 / 6,
        "test_recording_in_train": 1.0,
        "test_group_in_train": 1.0,
        "test_linked_recording_in_train": 1.0,
        # only a3's copy carries the right singer
        "test_label_copy_correct": 1 / 6,
        "counts": {
            "test_identical_in_train": 2,
            "test_overlap_in_train": 3,
            "test_recording_in_train": 6,
            "test_group_in_train": 6,
            "test_linked_recording_in_train": 6,
            "test_label_copy_correct": 1,
        },
        "untested_singers": [],
    }
    text = leakage_markdown(leakage_report(index, split))
    assert "This split leaks audio" in text
    assert "| with an identical clip in train | 33.3% | 2 |" in text
    assert "cannot be tested on audio unseen in training (C):" in text
    assert "- **C**: all its items come from one recording, rC1." in text


def test_leakage_report_of_a_group_split_on_split_groups():
    index = hand_index()
    split, split_report = split_with_report(
        index, groups=assign_groups(index), test_fraction=0.3, validation_fraction=0.3, seed=0
    )
    assert split_report["untestable_singers"] == ["C"]
    report = leakage_report(index, split)
    n_test = int((split["subset"] == "test").sum())
    assert n_test > 0
    assert report["split"]["n_test"] == n_test
    assert report["split"]["counts"] == {
        "test_identical_in_train": 0,
        "test_overlap_in_train": 0,
        "test_recording_in_train": 0,
        "test_group_in_train": 0,
        "test_linked_recording_in_train": 0,
        "test_label_copy_correct": 0,
    }
    assert report["split"]["untested_singers"] == ["C"]
    text = leakage_markdown(report)
    assert "No test item shares audio or a recording with training." in text
    assert "Singers with no test item: C." in text
    # splits on the sample-sheet groups alone can put a4 and its copy b4 on
    # opposite sides; splits on the split groups never do
    leaks = []
    for seed in range(10):
        for groups in (None, assign_groups(index)):
            split, _ = split_with_report(index, groups=groups, test_fraction=0.3, seed=seed)
            counts = leakage_report(index, split)["split"]["counts"]
            assert counts["test_recording_in_train"] == counts["test_overlap_in_train"] == 0
            leaks.append((groups is None, counts["test_identical_in_train"]))
    assert any(n > 0 for on_sheet, n in leaks if on_sheet)
    assert all(n == 0 for on_sheet, n in leaks if not on_sheet)


# --- a clip folder built to show each leak ----------------------------------------


def build_leaky_clip_folder(root, rate=22050):
    """Clips that hide leaks from a split made after deduplication.

    - ``jt``: recording J0's two clips are copies of clips of J1 (J0 is J1
      under another id, as M1048 is M1050 in the authors' set); J2 stands alone.
    - ``am`` and ``ec``: A1, E1 and E2 are chained by shared audio (E1's clip
      and one of E2's are cut from A1, overlapping A1's clips), so ``ec`` has
      no split group of its own; ``am`` has A2 and A3 besides.
    - ``tv`` and ``tw``: one recording each, the same two clips under both
      names: deduplication drops every item of both.
    """
    from test_clips import tone_recording, write_clip

    def cut(audio, start_s, length_s=0.45):
        start = round(start_s * rate)
        return audio[start : start + round(length_s * rate)]

    def clip(singer, recording, number, audio):
        write_clip(
            root / singer / f"{recording}_p{number}_{uuid.UUID(int=number)}.wav", audio, rate
        )

    tones = {
        name: tone_recording(200 + 37 * k, seed=k)
        for k, name in enumerate(["J1", "J2", "A1", "A2", "A3", "E1", "E2", "V1"])
    }
    for k in range(4):
        clip("jt", "J1", k, cut(tones["J1"], 0.6 * k))
        clip("am", "A1", 10 + k, cut(tones["A1"], 0.6 * k))
    for k in range(2):
        clip("jt", "J0", 20 + k, cut(tones["J1"], 0.6 * k))
    for k in range(3):
        clip("jt", "J2", 30 + k, cut(tones["J2"], 0.6 * k))
        clip("am", "A2", 40 + k, cut(tones["A2"], 0.6 * k))
        clip("am", "A3", 50 + k, cut(tones["A3"], 0.6 * k))
    clip("ec", "E1", 60, cut(tones["A1"], 0.2))
    clip("ec", "E2", 61, cut(tones["A1"], 0.8))
    clip("ec", "E2", 62, cut(tones["E2"], 0.0))
    for k in range(2):
        clip("tv", "V1", 70 + k, cut(tones["V1"], 0.6 * k))
        clip("tw", "W1", 80 + k, cut(tones["V1"], 0.6 * k))
    return root


@pytest.fixture(scope="module")
def leaky_items(tmp_path_factory):
    from cantaor.dataset.clips import clip_items, scan_clip_folder

    folder = build_leaky_clip_folder(tmp_path_factory.mktemp("leaky") / "clips")
    clips, _ = scan_clip_folder(folder)
    items, skipped = clip_items(clips, min_shared_s=0.02)
    assert skipped.empty
    return items


def _recording_subsets(subsets, items):
    merged = subsets.merge(items[["item_id", "recording"]])
    merged = merged[merged["subset"] != "excluded"]
    return merged.groupby("recording")["subset"].agg(lambda s: set(s) - {"validation"} or {"train"})


def test_copied_recording_joins_its_original_before_deduplication(leaky_items):
    from cantaor.dataset.split import split_dataset

    groups = assign_groups(leaky_items).groupby(leaky_items["recording"]).agg(set)
    assert groups["J0"] == groups["J1"] and len(groups["J0"]) == 1
    assert groups["A1"] == groups["E1"] == groups["E2"]
    links = pd.DataFrame(leakage_report(leaky_items)["recording_links"])
    j0 = links[(links["recording_a"] == "J0") & (links["recording_b"] == "J1")].iloc[0]
    assert j0["identical_contents"] == 2 and j0["copied_share_a"] == 1.0
    assert j0["copied_share_b"] == 0.5
    old_leaks = 0
    for seed in range(12):
        subsets, report, markdown = split_dataset(leaky_items, "group", seed=seed)
        sides = _recording_subsets(subsets, leaky_items)
        # J0's copies are dropped: J1 carries the group; J0 never sits opposite J1
        assert report["split"]["counts"]["test_linked_recording_in_train"] == 0
        assert "| J0 | jt | J1 | jt | 2 |" in markdown
        assert "J0" not in sides or sides["J0"] == sides["J1"]
        # Grouping after deduplication (the old order) lets J1 be tested against J0 in train.
        kept, _ = deduplicate(leaky_items)
        old, _ = split_with_report(kept, groups=assign_groups(kept), seed=seed)
        old_report = leakage_report(leaky_items, leaky_items[["item_id"]].merge(old, how="left"))
        old_leaks += old_report["split"]["counts"]["test_linked_recording_in_train"]
    assert old_leaks > 0


def test_one_list_of_untestable_singers_with_reasons(leaky_items):
    from cantaor.dataset.split import split_dataset

    _, report, markdown = split_dataset(leaky_items, "group", seed=3)
    reasons = report["untestable_reasons"]
    assert list(reasons) == ["ec", "tv", "tw"]
    assert report["untestable_singers"] == report["split_units"]["untestable_singers"]
    assert report["split_units"]["untestable_reasons"] == reasons
    assert report["split"]["untested_singers"] == ["ec", "tv", "tw"]
    assert reasons["ec"].startswith("no split group of its own")
    assert "held mostly by am" in reasons["ec"]
    assert "A1 (am) and E1 (ec) share audio in 1 clip group(s)" in reasons["ec"]
    assert "A1 (am) and E2 (ec) share" in reasons["ec"]
    assert "tw" in reasons["tv"] and "does not know tv" in reasons["tv"]
    assert report["split_units"]["singers_without_items"] == ["tv", "tw"]
    assert "**No item of tv, tw is left after deduplication" in markdown
    for singer, reason in reasons.items():
        assert f"- **{singer}**: {reason}." in markdown
    assert "Singers with no test item: ec, tv, tw." in markdown
    assert report["own_split_groups_per_singer"] == {
        "am": 3,
        "ec": 0,
        "jt": 2,
        "tv": 0,
        "tw": 0,
    }


def test_random_paper_keeps_copies_and_prints_its_leak(leaky_items):
    from cantaor.dataset.split import split_dataset

    shares = []
    for seed in range(6):
        paper_split, paper, markdown = split_dataset(leaky_items, "random_paper", seed=seed)
        assert not paper["deduplicated"] and paper["deduplication"] is None
        assert (paper_split["subset"] != "excluded").all()
        assert markdown.startswith("**The paper's protocol as it was")
        assert f"{paper['split']['test_identical_in_train']:.1%} of test items" in markdown
        shares.append(paper["split"]["test_identical_in_train"])
        _, random, markdown = split_dataset(leaky_items, "random", seed=seed)
        assert random["deduplicated"] and random["split"]["counts"]["test_identical_in_train"] == 0
        assert markdown.startswith("**Random split of the deduplicated items")
    assert max(shares) > 0
