import numpy as np
import pandas as pd
import pytest

from cantaor.contour import (
    contour_segments,
    contour_symbols,
    contour_symbols_bands,
    segment_phrases,
)
from cantaor.figures import plot_contour  # imports matplotlib only when drawing

pytest.importorskip("matplotlib")

HOP_S = 0.01


@pytest.fixture
def recording():
    levels = [2000, 2150, 2400, 2050, 2000]
    cents = np.repeat(levels, 20).astype(float)
    cents += 10 * np.sin(np.arange(cents.size) / 3)
    cents = np.concatenate([np.full(30, np.nan), cents, np.full(30, np.nan), cents[:60]])
    time_s = np.arange(cents.size) * HOP_S
    f0 = pd.DataFrame({"time_s": time_s, "pitch_cents": cents, "voiced": np.isfinite(cents)})
    phrase = segment_phrases(time_s, f0["voiced"].to_numpy())
    return f0, phrase


def _check_files(png, svg):
    assert png.suffix == ".png" and svg.suffix == ".svg"
    assert png.stat().st_size > 1000 and svg.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text(encoding="utf-8")


def test_plot_contour_kmeans_writes_png_and_svg(tmp_path, recording):
    f0, phrase = recording
    centers = np.array([2000.0, 2050.0, 2150.0, 2400.0])
    symbols = contour_symbols(
        f0["time_s"], f0["pitch_cents"], phrase, centers_cents=centers, smooth_s=0.05
    )
    assert symbols[symbols["phrase"] == 0]["symbol"].tolist() == ["+3", "+3", "-3", "-1"]
    png, svg = plot_contour(f0, symbols, 0, path=tmp_path / "fig" / "phrase0.png")
    assert png == tmp_path / "fig" / "phrase0.png" and svg == tmp_path / "fig" / "phrase0.svg"
    _check_files(png, svg)
    # with the centres and the phrase column, and again: the SVG is reproducible
    f0 = f0.assign(phrase=phrase)
    first = plot_contour(f0, symbols, 0, path=tmp_path / "a", centers_cents=centers)[1]
    second = plot_contour(f0, symbols, 0, path=tmp_path / "b", centers_cents=centers)[1]
    assert first.read_bytes() == second.read_bytes()


def test_plot_contour_bands_with_segments(tmp_path, recording):
    f0, phrase = recording
    symbols = contour_symbols_bands(f0["time_s"], f0["pitch_cents"], phrase)
    segments = contour_segments(
        f0["time_s"], f0["pitch_cents"], phrase, method="bands", smooth_s=0, min_segment_s=0
    )
    _check_files(*plot_contour(f0, symbols, 1, path=tmp_path / "bands", segments=segments))
    _check_files(*plot_contour(f0, symbols, 1, path=tmp_path / "rebuilt", title="bands"))


def test_plot_contour_rejects_a_phrase_without_symbols(tmp_path, recording):
    f0, phrase = recording
    symbols = contour_symbols_bands(f0["time_s"], f0["pitch_cents"], phrase)
    with pytest.raises(ValueError, match="no symbols"):
        plot_contour(f0, symbols, 7, path=tmp_path / "none")
    segments = contour_segments(
        f0["time_s"], f0["pitch_cents"], phrase, method="bands", smooth_s=0, min_segment_s=0
    )
    with pytest.raises(ValueError, match="one fewer symbol"):
        plot_contour(
            f0, symbols[symbols["position"] > 0], 0, path=tmp_path / "x", segments=segments
        )
    assert not list(tmp_path.iterdir())
