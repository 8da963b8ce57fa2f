"""Tests of the synthetic demo corpus (cantaor.demo.corpus)."""

import functools
import itertools
import re

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile

from cantaor.demo import corpus as demo
from cantaor.demo.corpus import (
    SINGER_PREFIX,
    DemoRecording,
    demo_sample_sheet,
    synthesize_recording,
    write_demo_recording,
)

# Low enough to keep the suite fast, high enough for formants and a pitch tracker.
SAMPLE_RATE = 16000
N_SINGERS = 4
SEED = 11
DURATION_S = 40.0

# Tonics lie in 150-400 Hz and melodies within -300..+900 cents of the tonic;
# vibrato, drift and jitter add well under 150 cents.
LOWEST_F0_HZ = 150.0 * 2 ** (-450 / 1200)
HIGHEST_F0_HZ = 400.0 * 2 ** (1050 / 1200)


@functools.cache
def recording(singer_index, recording_index, seed=SEED):
    return synthesize_recording(
        singer_index=singer_index,
        recording_index=recording_index,
        n_singers=N_SINGERS,
        duration_s=DURATION_S,
        seed=seed,
        sample_rate=SAMPLE_RATE,
    )


def cents(f0_hz):
    return 1200.0 * np.log2(np.asarray(f0_hz) / 55.0)


def voiced_runs(f0):
    """(start_s, end_s) of each run of voiced frames; end_s is the last voiced frame."""
    voiced = f0["voiced"].to_numpy()
    edges = np.diff(np.concatenate([[0], voiced.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    time_s = f0["time_s"].to_numpy()
    return list(zip(time_s[starts], time_s[stops], strict=True))


def motif_contour_cents(rec, row, n_points=64):
    """Truth pitch of one motif occurrence, resampled to a fixed number of points."""
    inside = (rec.f0["time_s"] >= row.start_s) & (rec.f0["time_s"] <= row.end_s)
    time_s = rec.f0["time_s"][inside].to_numpy()
    return np.interp(
        np.linspace(time_s[0], time_s[-1], n_points),
        time_s,
        cents(rec.f0["f0_hz"][inside]),
    )


def tonic_cents(rec):
    """Median pitch near the end of each phrase, where every phrase cadences on the tonic."""
    pitches = []
    f0 = rec.f0
    for _, end_s in voiced_runs(f0):
        # Before the release, well inside the cadence note (>= 450 ms).
        window = (f0["time_s"] > end_s - 0.3) & (f0["time_s"] < end_s - 0.1)
        pitches.append(np.median(cents(f0["f0_hz"][window])))
    return float(np.median(pitches))


# --- sample sheet -----------------------------------------------------------


def test_sample_sheet_describes_the_corpus():
    sheet = demo_sample_sheet(
        n_singers=3,
        recordings_per_singer=4,
        min_duration_s=20.0,
        max_duration_s=30.0,
        seed=5,
        audio_dir="results/demo/audio",
    )
    assert list(sheet.columns) == [
        "recording_id",
        "singer",
        "path",
        "style",
        "group",
        "duration_s",
    ]
    assert len(sheet) == 12
    assert sheet["recording_id"].is_unique
    assert sheet["group"].is_unique  # every recording is its own album
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", r) for r in sheet["recording_id"])
    assert sorted(sheet["singer"].unique()) == [f"{SINGER_PREFIX}{i}" for i in (1, 2, 3)]
    assert (sheet.groupby("singer").size() == 4).all()
    for row in sheet.itertuples():
        assert row.recording_id.startswith(f"{row.singer}_R")
        assert row.path == f"results/demo/audio/{row.recording_id}.wav"
    assert set(sheet["style"]) <= set(demo.STYLES)
    assert sheet["duration_s"].dtype == np.float64
    assert sheet["duration_s"].between(20.0, 30.0).all()
    assert sheet["duration_s"].nunique() == 12


def test_sample_sheet_is_deterministic_in_the_seed():
    kwargs = dict(
        n_singers=2,
        recordings_per_singer=3,
        min_duration_s=10.0,
        max_duration_s=50.0,
        audio_dir="a",
    )
    first = demo_sample_sheet(seed=1, **kwargs)
    pd.testing.assert_frame_equal(first, demo_sample_sheet(seed=1, **kwargs))
    other = demo_sample_sheet(seed=2, **kwargs)
    assert not np.allclose(first["duration_s"], other["duration_s"])


@pytest.mark.parametrize(
    ("min_duration_s", "max_duration_s"), [(30.0, 20.0), (0.5, 20.0), (-1.0, 5.0)]
)
def test_sample_sheet_rejects_bad_durations(min_duration_s, max_duration_s):
    with pytest.raises(ValueError):
        demo_sample_sheet(
            n_singers=2,
            recordings_per_singer=1,
            min_duration_s=min_duration_s,
            max_duration_s=max_duration_s,
            seed=0,
            audio_dir="a",
        )


# --- synthesis --------------------------------------------------------------


def test_synthesis_is_deterministic():
    kwargs = dict(singer_index=1, recording_index=2, n_singers=3, duration_s=6.0)
    first = synthesize_recording(seed=3, sample_rate=SAMPLE_RATE, **kwargs)
    again = synthesize_recording(seed=3, sample_rate=SAMPLE_RATE, **kwargs)
    assert first.audio.tobytes() == again.audio.tobytes()
    pd.testing.assert_frame_equal(first.f0, again.f0)
    pd.testing.assert_frame_equal(first.motifs, again.motifs)
    other_seed = synthesize_recording(seed=4, sample_rate=SAMPLE_RATE, **kwargs)
    assert not np.array_equal(first.audio, other_seed.audio)
    other_take = synthesize_recording(
        seed=3, sample_rate=SAMPLE_RATE, **{**kwargs, "recording_index": 0}
    )
    assert not np.array_equal(first.audio, other_take.audio)


def test_audio_is_a_bounded_float32_signal_of_the_requested_length():
    duration_s = 7.3
    rec = synthesize_recording(
        singer_index=0, recording_index=0, n_singers=2, duration_s=duration_s, seed=0
    )
    assert isinstance(rec, DemoRecording)
    assert rec.sample_rate == 44100
    assert rec.audio.dtype == np.float32
    assert rec.audio.shape == (round(duration_s * 44100),)
    assert np.isfinite(rec.audio).all()
    assert 0.1 < np.abs(rec.audio).max() <= 0.99


def test_f0_truth_has_one_frame_per_hop():
    rec = recording(0, 0)
    f0 = rec.f0
    assert list(f0.columns) == ["time_s", "f0_hz", "voiced"]
    assert f0["time_s"].dtype == np.float64
    assert f0["f0_hz"].dtype == np.float64
    assert f0["voiced"].dtype == bool
    assert len(f0) == 1 + len(rec.audio) // 256
    np.testing.assert_array_equal(f0["time_s"], np.arange(len(f0)) * 256 / SAMPLE_RATE)
    assert (f0["f0_hz"][~f0["voiced"]] == 0.0).all()


@pytest.mark.parametrize("singer_index", range(N_SINGERS))
def test_voiced_f0_stays_in_a_singing_range(singer_index):
    f0 = recording(singer_index, 0).f0
    voiced_hz = f0["f0_hz"][f0["voiced"]]
    assert 0.5 < f0["voiced"].mean() < 0.95
    assert voiced_hz.between(LOWEST_F0_HZ, HIGHEST_F0_HZ).all()
    # One singer's melodies span about an octave and a half, not the whole range.
    assert np.ptp(cents(voiced_hz)) < 1200 + 300 + 200


def test_phrases_and_breaths_have_plausible_lengths():
    hop_s = 256 / SAMPLE_RATE
    for singer_index in range(N_SINGERS):
        runs = voiced_runs(recording(singer_index, 0).f0)
        assert len(runs) >= 4
        lengths_s = np.array([end - start for start, end in runs])
        gaps_s = np.array([b[0] - a[1] for a, b in itertools.pairwise(runs)])
        # Frame quantisation blurs each boundary by up to a hop.
        assert (lengths_s > 2.0 - 2 * hop_s).all()
        assert (lengths_s < 6.0 + 2 * hop_s).all()
        assert (gaps_s > 0.3 - 2 * hop_s).all()
        assert (gaps_s < 1.2 + 2 * hop_s).all()


@pytest.mark.parametrize("singer_index", [0, 3])
def test_pitch_tracked_from_the_audio_matches_the_truth(singer_index):
    rec = recording(singer_index, 1)
    estimated_hz = librosa.yin(
        rec.audio,
        fmin=70.0,
        fmax=1000.0,
        sr=rec.sample_rate,
        frame_length=1024,
        hop_length=256,
        center=True,
    )
    assert len(estimated_hz) == len(rec.f0)
    voiced = rec.f0["voiced"].to_numpy()
    # Away from phrase edges, where the attack and release leave little to track.
    interior = voiced & np.roll(voiced, 4) & np.roll(voiced, -4)
    error_cents = np.abs(cents(estimated_hz[interior]) - cents(rec.f0["f0_hz"][interior]))
    assert np.mean(error_cents < 50.0) > 0.9


# --- planted motifs ---------------------------------------------------------


def test_motif_table_lists_well_formed_occurrences():
    for singer_index in range(N_SINGERS):
        motifs = recording(singer_index, 0).motifs
        assert list(motifs.columns) == ["motif_id", "owner", "start_s", "end_s", "phrase"]
        assert motifs["start_s"].dtype == np.float64
        assert motifs["end_s"].dtype == np.float64
        assert motifs["phrase"].dtype == np.int64
        assert len(motifs) >= 4
        code = f"{SINGER_PREFIX}{singer_index + 1}"
        assert set(motifs["owner"]) <= {code, "shared"}
        for row in motifs.itertuples():
            assert re.fullmatch(r"[A-Za-z0-9_]+", row.motif_id)
            assert row.motif_id.startswith(f"{row.owner}_M")
            # 3 to 6 notes of 120 to 400 ms each.
            assert 3 * 0.12 <= row.end_s - row.start_s <= 6 * 0.4
        # 1 to 3 motifs in a phrase.
        assert motifs.groupby("phrase").size().between(1, 3).all()
        # A singer's vocabulary holds 4 to 6 motifs; one recording may not use all.
        assert motifs["motif_id"].nunique() <= 6


def test_motifs_lie_inside_voiced_phrases():
    for singer_index in range(N_SINGERS):
        rec = recording(singer_index, 0)
        runs = voiced_runs(rec.f0)
        for row in rec.motifs.itertuples():
            start_s, end_s = runs[row.phrase]
            assert start_s < row.start_s < row.end_s < end_s


def test_repeated_motifs_are_sung_alike_across_recordings():
    """A motif is anchored to its singer's tonic: same absolute pitches every time."""
    for singer_index in range(N_SINGERS):
        takes = [recording(singer_index, r) for r in (0, 1)]
        contours = {}
        for rec in takes:
            for row in rec.motifs.itertuples():
                contours.setdefault(row.motif_id, []).append(motif_contour_cents(rec, row))
        common = set(takes[0].motifs["motif_id"]) & set(takes[1].motifs["motif_id"])
        assert len(common) >= 2
        for motif_id, same in contours.items():
            for a, b in itertools.combinations(same, 2):
                # Detuning (<= 10 cents each), vibrato phase and glides differ.
                assert np.median(np.abs(a - b)) < 40.0, motif_id
        for (id_a, a), (id_b, b) in itertools.combinations(contours.items(), 2):
            assert np.median(np.abs(a[0] - b[0])) > 40.0, (id_a, id_b)


def test_singers_keep_their_tonic_across_recordings_and_differ_from_each_other():
    tonics = np.array([[tonic_cents(recording(s, r)) for r in (0, 1)] for s in range(N_SINGERS)])
    assert np.abs(tonics[:, 0] - tonics[:, 1]).max() < 30.0
    assert np.diff(np.sort(tonics.mean(axis=1))).min() > 50.0


def test_personal_motifs_belong_to_one_singer_and_shared_ones_to_several():
    for seed in (SEED, SEED + 1):
        users = {}
        for singer_index in range(N_SINGERS):
            for row in recording(singer_index, 0, seed=seed).motifs.itertuples():
                users.setdefault((row.motif_id, row.owner), set()).add(singer_index)
        personal = {key: who for key, who in users.items() if key[1] != "shared"}
        shared = {key: who for key, who in users.items() if key[1] == "shared"}
        assert all(len(who) == 1 for who in personal.values())
        assert max(len(who) for who in shared.values()) >= 2


def test_shared_motifs_keep_their_shape_relative_to_each_tonic():
    contours = {}
    for singer_index in range(N_SINGERS):
        rec = recording(singer_index, 0)
        for row in rec.motifs[rec.motifs["owner"] == "shared"].itertuples():
            contour = motif_contour_cents(rec, row)
            contours.setdefault(row.motif_id, {})[singer_index] = contour - contour.mean()
    compared = 0
    for by_singer in contours.values():
        for a, b in itertools.combinations(by_singer.values(), 2):
            assert np.median(np.abs(a - b)) < 40.0
            compared += 1
    assert compared >= 1


# --- arguments, speed and files ---------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(singer_index=2, n_singers=2, duration_s=10.0),
        dict(singer_index=-1, n_singers=2, duration_s=10.0),
        dict(singer_index=0, n_singers=2, duration_s=1.0),
    ],
)
def test_synthesis_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        synthesize_recording(recording_index=0, seed=0, sample_rate=SAMPLE_RATE, **kwargs)


def test_write_demo_recording_writes_audio_and_truth(tmp_path):
    kwargs = dict(
        singer_index=1,
        recording_index=0,
        n_singers=3,
        duration_s=5.0,
        seed=2,
        sample_rate=SAMPLE_RATE,
    )
    paths = {
        "wav_path": tmp_path / "audio" / "S2_R1.wav",
        "f0_path": tmp_path / "truth" / "S2_R1.f0.parquet",
        "motifs_path": tmp_path / "truth" / "S2_R1.motifs.parquet",
    }
    write_demo_recording(**paths, **kwargs)
    expected = synthesize_recording(**kwargs)

    info = soundfile.info(paths["wav_path"])
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
    audio, _ = soundfile.read(paths["wav_path"], dtype="float32")
    np.testing.assert_allclose(audio, expected.audio, atol=1.5 / 32768)
    pd.testing.assert_frame_equal(pd.read_parquet(paths["f0_path"]), expected.f0)
    pd.testing.assert_frame_equal(pd.read_parquet(paths["motifs_path"]), expected.motifs)
    # Nothing but the three outputs: the temporary files were renamed away.
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written == [
        "audio",
        "audio/S2_R1.wav",
        "truth",
        "truth/S2_R1.f0.parquet",
        "truth/S2_R1.motifs.parquet",
    ]


def test_write_demo_recording_leaves_nothing_behind_when_a_write_fails(tmp_path, monkeypatch):
    def broken_write_table(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("pyarrow.parquet.write_table", broken_write_table)
    with pytest.raises(OSError, match="disk full"):
        write_demo_recording(
            wav_path=tmp_path / "S1_R1.wav",
            f0_path=tmp_path / "S1_R1.f0.parquet",
            motifs_path=tmp_path / "S1_R1.motifs.parquet",
            singer_index=0,
            recording_index=0,
            n_singers=2,
            duration_s=4.0,
            seed=0,
            sample_rate=SAMPLE_RATE,
        )
    assert list(tmp_path.iterdir()) == []
