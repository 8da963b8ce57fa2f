import os

import numpy as np
import pytest
import soundfile as sf

from cantaor.io import AudioError, atomic_path, load_audio, write_text


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
