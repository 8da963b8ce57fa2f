import numpy as np
import pytest

from cantaor.pitch.f0 import F0_COLUMNS, chunked_frames, extract_f0, f0_arguments, hz_to_cents, pyin


def test_hz_to_cents_reference_and_octaves():
    cents = hz_to_cents(np.array([55.0, 110.0, 220.0, 0.0, -3.0]), reference_hz=55.0)
    np.testing.assert_allclose(cents[:3], [0.0, 1200.0, 2400.0])
    assert np.isnan(cents[3:]).all()
    assert hz_to_cents(np.array([100.0]), reference_hz=100.0)[0] == 0.0


@pytest.mark.parametrize("method", ["swift", "melodia", "pyin"])
def test_backend_tracks_a_sung_tone(method, tone):
    audio, time_s, f0_hz = tone
    table = extract_f0(audio, sample_rate=44100, method=method, hop_length=256)
    assert list(table.columns) == list(F0_COLUMNS)
    assert table["voiced"].dtype == bool
    np.testing.assert_allclose(np.diff(table["time_s"]), 256 / 44100)
    truth = np.interp(table["time_s"], time_s, f0_hz)
    inner = (table["time_s"] > 0.1) & (table["time_s"] < 1.9)
    voiced = table["voiced"] & inner
    assert voiced.sum() > 0.8 * inner.sum()
    error = np.abs(1200 * np.log2(table.loc[voiced, "f0_hz"] / truth[voiced]))
    assert np.mean(error < 50) > 0.9
    np.testing.assert_allclose(
        table.loc[voiced, "pitch_cents"], 1200 * np.log2(table.loc[voiced, "f0_hz"] / 55.0)
    )
    assert np.isnan(table.loc[~table["voiced"], "pitch_cents"]).all()


def test_silence_has_no_voiced_frames():
    table = extract_f0(np.zeros(44100, dtype=np.float32), sample_rate=44100)
    assert not table["voiced"].any()
    assert (table["f0_hz"] == 0).all()


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown f0 method 'yin'"):
        extract_f0(np.zeros(4410, dtype=np.float32), sample_rate=44100, method="yin")


def test_chunked_pyin_matches_the_whole_signal(tone):
    audio = tone[0][: 44100 * 3 // 2]
    options = dict(sample_rate=44100, hop_length=256, fmin_hz=80.0, fmax_hz=1000.0)
    _, whole_f0, whole_confidence = pyin(audio, **options)
    time_s, f0_hz, confidence = chunked_frames(pyin, audio, chunk_s=0.4, overlap_s=0.25, **options)
    assert f0_hz.shape == whole_f0.shape
    np.testing.assert_allclose(time_s, np.arange(f0_hz.size) * 256 / 44100)
    np.testing.assert_array_equal(f0_hz > 0, whole_f0 > 0)
    np.testing.assert_allclose(f0_hz, whole_f0, rtol=1e-6)
    np.testing.assert_allclose(confidence, whole_confidence, atol=1e-5)


def test_chunks_cover_every_frame_once():
    def frame_index(segment, *, sample_rate, hop_length):
        n_frames = 1 + segment.size // hop_length
        first = segment[0]  # the segment's first sample is its first frame's global index
        return np.zeros(n_frames), first + np.arange(n_frames, dtype=float), np.ones(n_frames)

    audio = np.repeat(np.arange(1000, dtype=float), 10)  # sample k*10 holds frame index k
    _, f0_hz, _ = chunked_frames(
        frame_index, audio, sample_rate=100, hop_length=10, chunk_s=0.7, overlap_s=0.15
    )
    np.testing.assert_array_equal(f0_hz, np.arange(1 + audio.size // 10))


def test_f0_arguments_pass_every_f0_setting_of_the_config():
    import inspect
    from pathlib import Path

    import yaml

    section = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "config/config.yaml").read_text()
    )["f0"]
    arguments = f0_arguments(section, num_threads=2)
    # Every setting but the sample rate (the audio is read at it) reaches extract_f0.
    # less sample_rate and the crepe and swift blocks, plus each block's keys
    n_settings = len(section) - 3 + len(section["crepe"]) + len(section["swift"])
    assert len(arguments) == n_settings + 1  # and num_threads
    assert set(arguments) <= set(inspect.signature(extract_f0).parameters)
    assert arguments["crepe_model"] == section["crepe"]["model"]
    assert arguments["swift_lowpass_hz"] == section["swift"]["lowpass_hz"]
    assert arguments["chunk_s"] == section["chunk_s"]
    # A section from before chunking and CREPE existed keeps extract_f0's defaults.
    old = {key: section[key] for key in ("method", "hop_length", "fmin_hz", "fmax_hz")}
    assert f0_arguments(old) == old
