import numpy as np
import pytest

from cantaor.util.jitcache import import_librosa

# Seed this session's private numba cache before any test module imports librosa.
import_librosa()


def sung_tone(
    *,
    sample_rate=44100,
    duration_s=2.0,
    base_hz=220.0,
    vibrato_hz=5.5,
    vibrato_cents=40.0,
    glide_cents=300.0,
):
    """A harmonic tone with vibrato and a glide; returns (audio, time_s, f0_hz at sample rate)."""
    time_s = np.arange(int(duration_s * sample_rate)) / sample_rate
    cents = glide_cents * np.clip((time_s - 0.8) / 0.3, 0, 1)
    cents = cents + vibrato_cents * np.sin(2 * np.pi * vibrato_hz * time_s)
    f0_hz = base_hz * 2 ** (cents / 1200)
    phase = 2 * np.pi * np.cumsum(f0_hz) / sample_rate
    audio = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.3 * audio).astype(np.float32), time_s, f0_hz


@pytest.fixture
def tone():
    return sung_tone()
