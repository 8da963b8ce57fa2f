import os

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

import cantaor
from cantaor.util.atomic import atomic_path, write_text
from cantaor.util.audio import AudioError, clipped_share, load_audio
from cantaor.util.parquet import write_parquet
from cantaor.util.provenance import package_versions, parquet_versions, versions_line


def test_atomic_path_moves_into_place_only_on_success(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("crash")
    assert not target.exists() and not list((tmp_path / "sub").iterdir())
    write_text("done", target)
    assert target.read_text() == "done"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_load_audio_mixes_stereo_and_resamples(tmp_path):
    time_s = np.arange(8000) / 8000
    left = 0.5 * np.sin(2 * np.pi * 440 * time_s)
    sf.write(tmp_path / "stereo.wav", np.stack([left, left], axis=1), 8000, subtype="PCM_24")
    audio, rate = load_audio(tmp_path / "stereo.wav")
    assert rate == 8000 and audio.dtype == np.float32 and audio.shape == (8000,)
    np.testing.assert_allclose(audio, left, atol=1e-4)
    resampled, rate = load_audio(tmp_path / "stereo.wav", sample_rate=16000)
    assert rate == 16000 and abs(resampled.size - 16000) <= 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "audio file not found"),
        (b"this is text", "cannot read audio"),
        (b"", "cannot read audio"),
    ],
)
def test_bad_audio_names_the_file(tmp_path, content, message):
    path = tmp_path / "bad file.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=message) as error:
        load_audio(path)
    assert "bad file.wav" in str(error.value)


def test_empty_and_non_finite_audio(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros(0), 8000)
    with pytest.raises(AudioError, match="no samples"):
        load_audio(tmp_path / "empty.wav")
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.1]), 8000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or infinite"):
        load_audio(tmp_path / "nan.wav")


def test_parquet_files_carry_the_versions_and_read_back_unchanged(tmp_path):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}, index=[7, 8, 9])
    path = tmp_path / "table.parquet"
    write_parquet(frame, path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame.reset_index(drop=True))
    versions = parquet_versions(path)
    assert versions == package_versions()
    assert versions["cantaor"] == cantaor.__version__
    assert {"numpy", "pandas", "pyarrow", "torch", "essentia"} <= set(versions)
    assert all(isinstance(value, str) and value for value in versions.values())
    # A parquet written without cantaor has none.
    frame.to_parquet(tmp_path / "plain.parquet")
    assert parquet_versions(tmp_path / "plain.parquet") == {}
    assert versions_line().startswith(f"cantaor {cantaor.__version__}, numpy ")


def _clipped_share_brute_force(audio):
    audio = audio.reshape(len(audio), -1)
    high, low = audio.max(), audio.min()
    count = 0
    for channel in audio.T:
        for rail_hit in (
            [high >= 0.9 and x >= np.float32(high) - np.float32(1e-6) for x in channel],
            [low <= -0.9 and x <= np.float32(low) + np.float32(1e-6) for x in channel],
        ):
            for i, flag in enumerate(rail_hit):
                left = i > 0 and rail_hit[i - 1]
                right = i + 1 < len(rail_hit) and rail_hit[i + 1]
                count += bool(flag and (left or right))
    return count / audio.size


@given(
    st.integers(1, 300),
    st.integers(1, 2),
    st.floats(0.3, 3.0),
    st.floats(-1.0, 1.0),
    st.integers(1, 7),
    st.integers(0, 2**32 - 1),
)
def test_clipped_share_matches_brute_force(n, channels, gain, offset, block, seed):
    rng = np.random.default_rng(seed)
    audio = gain * rng.standard_normal((n, channels)) + offset
    # Asymmetric rails, as 16- and 8-bit PCM have.
    audio = np.clip(audio, -1, 127 / 128).astype(np.float32)
    if channels == 1 and n % 2:
        audio = audio[:, 0]
    expected = _clipped_share_brute_force(audio)
    assert clipped_share(audio, block=block) == pytest.approx(expected)
    assert clipped_share(audio) == pytest.approx(expected)


def test_clipped_share_flags_clipping_not_loudness(tmp_path):
    time_s = np.arange(44100) / 44100
    loud = 0.99 * np.sin(2 * np.pi * 220 * time_s)
    assert clipped_share(loud.astype(np.float32)) == 0.0
    clipped = np.clip(3 * loud, -1, 1)
    share = clipped_share(clipped.astype(np.float32))
    assert 0.5 < share < 1.0
    # Through a 16-bit file the rail is 32767/32768, and load_audio reports it.
    sf.write(tmp_path / "clipped.wav", clipped, 44100, subtype="PCM_16")
    info = {}
    load_audio(tmp_path / "clipped.wav", info=info)
    assert info["clipped_share"] == pytest.approx(share, abs=0.01)
    sf.write(tmp_path / "loud.wav", loud, 44100, subtype="PCM_16")
    load_audio(tmp_path / "loud.wav", info=info)
    assert info["clipped_share"] == 0.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n",
            "not audio: the file holds an HTML page",
        ),
        (b"\x00\x01garbage" * 200, "not decodable audio"),
    ],
)
def test_an_existing_undecodable_file_is_not_called_missing(tmp_path, content, message):
    """libsndfile says 'File does not exist' for a web page saved as .mp3; it exists."""
    path = tmp_path / "cante.mp3"
    path.write_bytes(content)
    with pytest.raises(AudioError) as error:
        load_audio(path)
    text = str(error.value)
    assert text.startswith(f"{path}: cannot read audio") and message in text
    assert "does not exist" not in text
