import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.demo.recovery import (
    IOU_TOLERANCE,
    interval_iou,
    match_intervals,
    motif_recovery,
    recovery_markdown,
)


def _truth(rows):
    return pd.DataFrame(rows, columns=["recording", "motif_id", "owner", "start_s", "end_s"])


def _found(rows):
    return pd.DataFrame(rows, columns=["recording", "motif_id", "start_s", "end_s"])


def test_exact_precision_recall_on_hand_made_intervals():
    truth = _truth(
        [
            ("A", "S1_M1", "S1", 0.0, 1.0),
            ("A", "shared_M1", "shared", 2.0, 3.0),
            ("B", "S1_M1", "S1", 0.0, 1.0),
            ("B", "S1_M2", "S1", 4.0, 5.0),
        ]
    )
    found = _found(
        [
            ("A", "x1", 0.0, 1.0),  # IoU 1 with S1_M1
            ("A", "x2", 2.0, 3.5),  # IoU 1/1.5 with shared_M1
            ("A", "x2", 0.1, 0.9),  # IoU 0.8 with S1_M1 (a second match of one planted)
            ("A", "x3", 5.0, 6.0),  # nothing there
            ("B", "x1", 0.5, 1.5),  # IoU 1/3 with S1_M1: below 0.5
            ("C", "x1", 0.0, 1.0),  # a recording without planted motifs
            ("B", "x4", 2.0, 3.0),  # same times as a planted one, wrong recording
        ]
    )
    report = motif_recovery(truth, found, iou=0.5)
    assert report["found_occurrences"] == 7 and report["truth_occurrences"] == 4
    assert report["matched_found"] == 3 and report["matched_truth"] == 2
    assert report["precision"] == pytest.approx(3 / 7)
    assert report["recall"] == pytest.approx(2 / 4)
    assert report["per_owner"] == {
        "S1": {"occurrences": 3, "matched": 1, "recall": pytest.approx(1 / 3)},
        "shared": {"occurrences": 1, "matched": 1, "recall": 1.0},
    }
    assert report["planted_motifs"] == 3 and report["planted_motifs_found"] == 2
    assert report["found_motifs"] == 4 and report["found_motifs_matching"] == 2
    # a lower threshold lets the IoU 1/3 occurrence in B match too
    low = motif_recovery(truth, found, iou=0.3)
    assert low["matched_found"] == 4 and low["matched_truth"] == 3
    json.dumps(report)  # JSON-ready


def test_iou_boundaries():
    truth = _truth([("A", "m", "S1", 0.0, 0.6)])
    half = _found([("A", "f", 0.0, 0.3)])  # IoU exactly 0.5 in decimal seconds
    assert motif_recovery(truth, half, iou=0.5)["matched_found"] == 1
    assert motif_recovery(truth, half, iou=0.5 + 1e-6)["matched_found"] == 0
    # touching intervals never match, however low the threshold
    touching = _found([("A", "f", 0.6, 1.2)])
    assert motif_recovery(truth, touching, iou=1e-12)["matched_found"] == 0
    # iou=1 needs the same interval
    assert motif_recovery(truth, _found([("A", "f", 0.0, 0.6)]), iou=1.0)["recall"] == 1.0
    assert motif_recovery(truth, _found([("A", "f", 0.0, 0.59)]), iou=1.0)["recall"] == 0.0
    np.testing.assert_allclose(
        interval_iou(
            np.array([0, 0, 0]), np.array([2, 2, 1]), np.array([1, 3, 1]), np.array([3, 4, 2])
        ),
        [1 / 3, 0, 0],
    )


def test_empty_and_invalid_inputs():
    truth = _truth([("A", "m", "S1", 0.0, 1.0)])
    nothing = motif_recovery(truth, _found([]))
    assert nothing["precision"] is None and nothing["recall"] == 0.0
    no_truth = motif_recovery(_truth([]), _found([("A", "f", 0.0, 1.0)]))
    assert no_truth["recall"] is None and no_truth["precision"] == 0.0
    assert no_truth["per_owner"] == {} and no_truth["planted_motifs"] == 0
    for iou in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="iou"):
            motif_recovery(truth, _found([]), iou=iou)
    with pytest.raises(ValueError, match="positive finite span"):
        motif_recovery(truth, _found([("A", "f", 1.0, 1.0)]))
    with pytest.raises(ValueError, match="lacks column"):
        motif_recovery(truth.drop(columns="owner"), _found([]))


def test_markdown_summary():
    truth = _truth([("A", "m", "S1", 0.0, 1.0), ("A", "n", "shared", 2.0, 3.0)])
    text = recovery_markdown(motif_recovery(truth, _found([("A", "f", 0.0, 1.0)])))
    assert "IoU >= 0.5" in text
    assert "| occurrence precision | 100.0% (1 of 1 found) |" in text
    assert "| occurrence recall | 50.0% (1 of 2 planted) |" in text
    assert "| S1 | 1 | 1 | 100.0% |" in text and "| shared | 1 | 0 | 0.0% |" in text
    assert "n/a" in recovery_markdown(motif_recovery(truth, _found([])))


def _brute_force(truth, found, iou):
    truth_hit = [False] * len(truth)
    found_hit = [False] * len(found)
    for i, t in enumerate(truth.itertuples()):
        for j, f in enumerate(found.itertuples()):
            if t.recording != f.recording:
                continue
            inter = min(t.end_s, f.end_s) - max(t.start_s, f.start_s)
            union = max(t.end_s, f.end_s) - min(t.start_s, f.start_s)
            if inter > 0 and inter / union >= iou - IOU_TOLERANCE:
                truth_hit[i] = found_hit[j] = True
    return truth_hit, found_hit


_interval = st.tuples(st.sampled_from(["A", "B"]), st.integers(0, 40), st.integers(1, 15)).map(
    lambda r: (r[0], r[1] / 4, (r[1] + r[2]) / 4)
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_interval, st.sampled_from(["m1", "m2", "m3"])), max_size=25),
    st.lists(_interval, max_size=25),
    st.sampled_from([0.2, 0.5, 2 / 3, 0.9, 1.0]),
)
def test_matching_equals_brute_force(truth_rows, found_rows, iou):
    truth = _truth(
        [
            (rec, motif, motif[:2] if motif != "m3" else "shared", s, e)
            for (rec, s, e), motif in truth_rows
        ]
    )
    found = _found([(rec, f"f{i % 3}", s, e) for i, (rec, s, e) in enumerate(found_rows)])
    truth_hit, found_hit = _brute_force(truth, found, iou)
    report = motif_recovery(truth, found, iou=iou)
    assert report["matched_truth"] == sum(truth_hit)
    assert report["matched_found"] == sum(found_hit)
    planted = {m for m, hit in zip(truth["motif_id"], truth_hit, strict=True) if hit}
    assert report["planted_motifs_found"] == len(planted)
    for owner, row in report["per_owner"].items():
        mask = truth["owner"] == owner
        assert row["matched"] == sum(h for h, m in zip(truth_hit, mask, strict=True) if m)
    # the same on one recording's arrays directly
    a_truth, a_found = truth[truth["recording"] == "A"], found[found["recording"] == "A"]
    t_hit, f_hit = match_intervals(
        a_truth["start_s"], a_truth["end_s"], a_found["start_s"], a_found["end_s"], iou=iou
    )
    assert t_hit.tolist() == [
        h for h, r in zip(truth_hit, truth["recording"], strict=True) if r == "A"
    ]
    assert f_hit.tolist() == [
        h for h, r in zip(found_hit, found["recording"], strict=True) if r == "A"
    ]
