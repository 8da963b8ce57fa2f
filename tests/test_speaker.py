"""The speaker-encoder baseline against resemblyzer's own embedding of the same audio."""

import numpy as np
import pytest

resemblyzer = pytest.importorskip("resemblyzer")  # pyproject extra 'speaker' (--no-deps)

from cantaor.evaluation.speaker import (  # noqa: E402
    ENCODER_RATE,
    embed_spans,
    encoder_mel,
    load_encoder,
    normalize_volume,
)


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("cpu")


def _voice(seconds, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * ENCODER_RATE)) / ENCODER_RATE
    f0 = 180 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / ENCODER_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    return (0.02 * voice + 0.002 * rng.standard_normal(t.size)).astype(np.float32)


def test_mel_frames_are_resemblyzers(encoder):
    from resemblyzer.audio import wav_to_mel_spectrogram

    wav = _voice(2.0, 0)
    np.testing.assert_allclose(encoder_mel(wav), wav_to_mel_spectrogram(wav), rtol=1e-5)


@pytest.mark.parametrize("span", [(0.1, 0.4), (0.5, 2.2), (0.0, 6.0), (3.0, 4.65)])
def test_batched_span_embeddings_equal_embed_utterance(encoder, span):
    audio = _voice(6.0, 1)
    others = [(0.2, 0.9), (1.0, 5.5)]  # batched with other spans of the recording
    got = embed_spans(audio, [*others, span], encoder=encoder)
    start, end = (round(s * ENCODER_RATE) for s in span)
    expected = encoder.embed_utterance(normalize_volume(audio[start:end]))
    np.testing.assert_allclose(got[-1], expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)


def test_volume_is_raised_to_minus_30_dbfs_never_lowered():
    quiet = _voice(1.0, 2) * 0.01
    raised = normalize_volume(quiet)
    rms_db = 20 * np.log10(np.sqrt(np.mean(raised.astype(np.float64) ** 2)))
    assert rms_db == pytest.approx(-30.0, abs=1e-3)
    loud = _voice(1.0, 3) * 10
    np.testing.assert_array_equal(normalize_volume(loud), loud)


def test_an_empty_span_is_named(encoder):
    with pytest.raises(ValueError, match=r"span 1 \(7.000-8.000 s\) holds no audio"):
        embed_spans(_voice(2.0, 4), [(0.0, 1.0), (7.0, 8.0)], encoder=encoder)
