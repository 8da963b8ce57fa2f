import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.dataset.items import (
    DATASETS,
    ITEM_COLUMNS,
    build_items,
    motif_items,
    motifs_segment_items,
    random_items,
)
from cantaor.mining.motifs import OCCURRENCE_COLUMNS


def occurrence_table(spans):
    """Occurrences from (recording, singer, start_s, end_s) tuples, one phrase each."""
    rows = []
    for k, (recording, singer, start, end) in enumerate(spans):
        rows.append(
            (f"{singer}_m{k:05d}", singer, recording, "+1 -1", k, 0, 1, start, end, end - start)
        )
    return pd.DataFrame(rows, columns=list(OCCURRENCE_COLUMNS)).astype(
        {"phrase": "int64", "start_s": "float64", "end_s": "float64", "duration_s": "float64"}
    )


GROUPS = {"r1": "album1", "r2": "album1", "r3": "album3"}


def test_segment_windows_centred_clipped_or_motif_long():
    occurrences = occurrence_table(
        [
            ("r1", "A", 0.5, 1.0),  # window clipped at the start of the recording
            ("r1", "A", 4.0, 5.0),  # whole window
            ("r1", "A", 8.75, 9.75),  # window clipped at the end (10 s)
            ("r1", "A", 1.0, 5.5),  # longer than the window: the motif's own span
            ("r1", "A", 6.0, 6.1),  # too short: dropped as for motifs
        ]
    )
    items = motifs_segment_items(
        occurrences, GROUPS, recording_durations={"r1": 10.0}, segment_s=3.0
    )
    assert list(items.columns) == list(ITEM_COLUMNS)
    assert items[["start_s", "end_s"]].values.tolist() == [
        [0.0, 2.25],
        [1.0, 5.5],
        [3.0, 6.0],
        [7.75, 10.0],
    ]
    motifs = motif_items(occurrences, GROUPS)
    assert sorted(items["item_id"]) == sorted("segment:" + motifs["item_id"])
    assert set(items["item_id"]).isdisjoint(motifs["item_id"])
    assert set(items["group"]) == {"album1"}
    assert sorted(items["motif_id"]) == sorted(motifs["motif_id"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["r1", "r2"]), st.floats(0, 19), st.floats(0.15, 5)),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([1.0, 3.0, 4.5]),
)
def test_segment_windows_contain_their_motif(spans, segment_s):
    occurrences = occurrence_table([(r, "A", start, start + length) for r, start, length in spans])
    durations = {"r1": 25.0, "r2": 20.0}
    items = motifs_segment_items(
        occurrences, GROUPS, recording_durations=durations, segment_s=segment_s
    )
    motifs = motif_items(occurrences, GROUPS).set_index("item_id")
    assert len(items) == len(motifs)
    for row in items.itertuples():
        motif = motifs.loc[row.item_id.removeprefix("segment:")]
        length = durations[row.recording]
        assert row.start_s <= motif.start_s and motif.end_s <= row.end_s
        motif_length = motif.end_s - motif.start_s
        if motif_length >= segment_s:
            assert (row.start_s, row.end_s) == (motif.start_s, motif.end_s)
            continue
        assert row.start_s >= 0 and row.end_s <= max(length, motif.end_s)
        clipped = row.start_s == 0 or row.end_s >= length
        if clipped:
            assert row.end_s - row.start_s <= segment_s + 1e-9
        else:
            assert row.end_s - row.start_s == pytest.approx(segment_s)
            centre = (motif.start_s + motif.end_s) / 2
            assert (row.start_s + row.end_s) / 2 == pytest.approx(centre)


def _spans_by_recording(occurrences):
    return {
        recording: list(zip(rows["start_s"], rows["end_s"]))
        for recording, rows in occurrences.groupby("recording")
    }


RANDOM_OCCURRENCES = occurrence_table(
    [
        ("r1", "A", 1.0, 1.5),
        ("r1", "A", 1.2, 2.0),
        ("r1", "A", 5.0, 5.3),
        ("r1", "A", 7.0, 7.05),  # too short to be an item, still avoided
        ("r2", "A", 0.0, 0.4),
        ("r3", "B", 3.0, 3.9),
        ("r3", "B", 4.0, 4.2),
        ("r3", "B", 8.0, 9.0),
    ]
)
DURATIONS = {"r1": 12.0, "r2": 6.0, "r3": 15.0}


def test_random_spans_avoid_motifs_match_counts_and_resample_lengths():
    items = random_items(RANDOM_OCCURRENCES, GROUPS, recording_durations=DURATIONS, seed=7)
    assert list(items.columns) == list(ITEM_COLUMNS)
    motifs = motif_items(RANDOM_OCCURRENCES, GROUPS)
    assert items.groupby("recording").size().to_dict() == {"r1": 3, "r2": 1, "r3": 3}
    assert items.groupby("recording").size().equals(motifs.groupby("recording").size())
    assert items.attrs["shortfall"] == {}
    assert (items["motif_id"] == "").all()
    assert items["singer"].tolist() == ["A"] * 4 + ["B"] * 3
    assert items["group"].tolist() == ["album1"] * 4 + ["album3"] * 3
    assert sorted(items["item_id"]) == sorted(
        [f"random@r1/{k}" for k in range(3)]
        + ["random@r2/0"]
        + [f"random@r3/{k}" for k in range(3)]
    )
    blocked = _spans_by_recording(RANDOM_OCCURRENCES)
    lengths = {
        recording: rows["duration_s"].round(9).tolist()
        for recording, rows in motifs.assign(
            duration_s=motifs["end_s"] - motifs["start_s"]
        ).groupby("recording")
    }
    for row in items.itertuples():
        assert 0 <= row.start_s < row.end_s <= DURATIONS[row.recording]
        assert round(row.end_s - row.start_s, 9) in lengths[row.recording]
        for start, end in blocked[row.recording]:
            assert not (row.start_s < end and start < row.end_s)


def test_random_spans_are_seeded_and_per_recording():
    first = random_items(RANDOM_OCCURRENCES, GROUPS, recording_durations=DURATIONS, seed=1)
    again = random_items(RANDOM_OCCURRENCES, GROUPS, recording_durations=DURATIONS, seed=1)
    other = random_items(RANDOM_OCCURRENCES, GROUPS, recording_durations=DURATIONS, seed=2)
    assert first.equals(again)
    assert not first[["start_s", "end_s"]].equals(other[["start_s", "end_s"]])
    # dropping a recording leaves the other recordings' spans as they were
    fewer = random_items(
        RANDOM_OCCURRENCES[RANDOM_OCCURRENCES["recording"] != "r2"],
        GROUPS,
        recording_durations=DURATIONS,
        seed=1,
    )
    assert fewer.equals(first[first["recording"] != "r2"].reset_index(drop=True))


def test_random_spans_left_out_when_the_motifs_leave_no_room():
    occurrences = occurrence_table(
        [("r1", "A", 0.0, 2.0), ("r1", "A", 2.0, 4.0), ("r2", "A", 0, 1)]
    )
    durations = {"r1": 4.5, "r2": 10.0}
    items = random_items(occurrences, GROUPS, recording_durations=durations, seed=0)
    # r1: 0.5 s free, every length is 2 s: no room; r2 has room
    assert items["recording"].tolist() == ["r2"]
    assert items.attrs["shortfall"] == {"r1": 2}
    # a span that fits only by luck is given up after max_tries draws
    tight = random_items(
        occurrence_table([("r1", "A", 0.0, 2.0)]),
        GROUPS,
        recording_durations={"r1": 2.0 + 1e-9},
        seed=0,
        max_tries=5,
    )
    assert tight.empty and tight.attrs["shortfall"] == {"r1": 1}
    free = random_items(
        occurrences, GROUPS, recording_durations=durations, seed=0, avoid_motifs=False
    )
    assert free.groupby("recording").size().to_dict() == {"r1": 2, "r2": 1}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["r1", "r3"]), st.floats(0, 10), st.floats(0.15, 2)),
        min_size=1,
        max_size=15,
    ),
    st.integers(0, 2**32 - 1),
)
def test_random_spans_property(spans, seed):
    occurrences = occurrence_table(
        [(r, "A" if r == "r1" else "B", s, s + length) for r, s, length in spans]
    )
    durations = {"r1": 30.0, "r3": 20.0}
    items = random_items(occurrences, GROUPS, recording_durations=durations, seed=seed)
    motifs = motif_items(occurrences, GROUPS)
    assert (
        items.groupby("recording").size().to_dict() == motifs.groupby("recording").size().to_dict()
    )
    blocked = _spans_by_recording(occurrences)
    for row in items.itertuples():
        assert 0 <= row.start_s and row.end_s <= durations[row.recording]
        assert all(
            not (row.start_s < end and start < row.end_s) for start, end in blocked[row.recording]
        )


def test_build_items_dispatches_every_dataset():
    options = dict(recording_durations=DURATIONS, seed=3, segment_s=2.0, min_duration_s=0.15)
    built = {
        dataset: build_items(dataset, RANDOM_OCCURRENCES, GROUPS, avoid_motifs=True, **options)
        for dataset in DATASETS
    }
    assert set(built) == {"motifs", "motifs_segment", "random"}
    assert built["motifs"].equals(motif_items(RANDOM_OCCURRENCES, GROUPS))
    assert built["motifs_segment"].equals(
        motifs_segment_items(
            RANDOM_OCCURRENCES, GROUPS, recording_durations=DURATIONS, segment_s=2.0
        )
    )
    assert built["random"].equals(
        random_items(RANDOM_OCCURRENCES, GROUPS, recording_durations=DURATIONS, seed=3)
    )
    ids = [set(table["item_id"]) for table in built.values()]
    assert all(a.isdisjoint(b) for k, a in enumerate(ids) for b in ids[k + 1 :])
    assert all(list(table.columns) == list(ITEM_COLUMNS) for table in built.values())
    with pytest.raises(ValueError, match="unknown dataset"):
        build_items("segments", RANDOM_OCCURRENCES, GROUPS, **options)
    with pytest.raises(ValueError, match="needs recording_durations"):
        build_items("random", RANDOM_OCCURRENCES, GROUPS)
    with pytest.raises(ValueError, match="no duration for recording"):
        build_items("motifs_segment", RANDOM_OCCURRENCES, GROUPS, recording_durations={"r1": 12.0})
    assert np.isfinite(built["random"][["start_s", "end_s"]].to_numpy()).all()
