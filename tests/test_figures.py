import json
import os
import time

import numpy as np
import pandas as pd
import pytest

from cantaor.contour.symbols import (
    contour_segments,
    contour_symbols,
    contour_symbols_bands,
    segment_phrases,
)
from cantaor.report.figures import plot_contour  # imports matplotlib only when drawing

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


# --- report figures -------------------------------------------------------------------

from cantaor.report.figures import (  # noqa: E402
    MODEL_COLOURS,
    plot_confusion_matrices,
    plot_embedding_maps,
    plot_motif_statistics,
    plot_results_grid,
    plot_training_curves,
)


def _svg_text(svg):
    return svg.read_text(encoding="utf-8")


def test_motif_statistics_bars_and_totals(tmp_path):
    summary = pd.DataFrame(
        {
            "singer": ["EM", "AM", "all"],
            "motifs": [40, 61, 101],
            "instances": [1125, 3467, 4592],
            "recordings_with_motifs": [3, 4, 7],
            "mean_length": [5.2, 6.1, 5.7],
            "mean_duration_s": [0.31, 0.42, 0.39],
        }
    )
    png, svg = plot_motif_statistics(summary, path=tmp_path / "motifs")
    _check_files(png, svg)
    text = _svg_text(svg)
    assert "4592 instances of 101 motifs" in text and "3467" in text and "0.42" in text
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['instances'\]"):
        plot_motif_statistics(summary.drop(columns="instances"), path=tmp_path / "x")


def _history(losses):
    n = len(losses)
    return pd.DataFrame(
        {
            "epoch": np.arange(1, n + 1),
            "train_loss": np.linspace(1.5, 0.5, n),
            "train_accuracy": np.linspace(0.4, 0.9, n),
            "val_loss": losses,
            "val_accuracy": np.linspace(0.3, 0.8, n),
            "seconds": 1.0,
        }
    )


def test_training_curves(tmp_path):
    histories = {"residual_blstm": _history([1.2, 0.9, 1.0]), "crnn": _history([1.4, 1.3])}
    png, svg = plot_training_curves(histories, path=tmp_path / "curves", title="cell")
    _check_files(png, svg)
    text = _svg_text(svg)
    assert "residual_blstm" in text and "crnn" in text and "validation" in text
    assert MODEL_COLOURS["residual_blstm"].lower() in text.lower()
    with pytest.raises(ValueError, match="history of crnn has no epochs"):
        plot_training_curves({"crnn": _history([])}, path=tmp_path / "x", title="t")


def test_confusion_matrices_are_normalised_per_true_singer(tmp_path):
    confusions = {
        "residual_blstm": {
            "labels": ["S1", "S2", "S3"],
            "matrix": [[2, 1, 0], [0, 4, 0], [0, 0, 0]],
            "accuracy": 6 / 7,
        }
    }
    png, svg = plot_confusion_matrices(confusions, path=tmp_path / "confusion", title="cell")
    _check_files(png, svg)
    text = _svg_text(svg)
    # Row S1: 2 of 3 and 1 of 3; row S2: 4 of 4; row S3 has no items (no percent).
    for label in ("67%", "33%", "100%", "(4)", "accuracy 85.7%"):
        assert label in text, label
    assert text.count("%") == 6 + 1  # six cells with a share, and the accuracy
    bad = {"m": {"labels": ["a", "b"], "matrix": [[1, 0]], "accuracy": 1.0}}
    with pytest.raises(ValueError, match=r"confusion matrix of m has shape \(1, 2\) for 2 labels"):
        plot_confusion_matrices(bad, path=tmp_path / "x", title="t")


def test_embedding_maps(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=30),
            "y": rng.normal(size=30),
            "singer": np.repeat(["S1", "S2", "S3"], 10),
            "subset": np.tile(["train", "train", "validation", "test", "train"], 6),
        }
    )
    # A singer the grouped split cannot test (one recording) keeps its items as "excluded".
    frame.loc[frame["singer"] == "S3", "subset"] = "excluded"
    maps = {"residual_blstm": frame, "crnn": frame.iloc[:12]}
    png, svg = plot_embedding_maps(maps, path=tmp_path / "map", title="cell")
    _check_files(png, svg)
    text = _svg_text(svg)
    assert "residual_blstm (30 items)" in text and "crnn (12 items)" in text
    assert all(word in text for word in ("S3", "train", "validation", "test", "excluded"))
    with pytest.raises(ValueError, match=r"unknown subset\(s\) \['holdout'\]"):
        plot_embedding_maps({"m": frame.assign(subset="holdout")}, path=tmp_path / "x", title="t")


def test_results_grid(tmp_path):
    rows = []
    for split in ("random", "group"):
        for feature, paper in (("logmel", 96.29), ("mfcc", 94.78)):
            rows.append(("motifs", feature, "residual_blstm", split, 0.9, paper))
            rows.append(("motifs", feature, "crnn", split, 0.7, paper - 6))
            rows.append(("motifs", feature, "baseline: majority", split, 0.4, None))
    results = pd.DataFrame(
        rows, columns=["dataset", "feature", "model", "split", "accuracy", "paper_accuracy"]
    )
    png, svg = plot_results_grid(results, path=tmp_path / "grid")
    _check_files(png, svg)
    text = _svg_text(svg)
    # The grouped split comes first, whatever the table's order.
    assert text.index("group split") < text.index("random split")
    assert "paper (Table 2)" in text and "best baseline" in text
    with pytest.raises(ValueError, match="results table has no model rows"):
        plot_results_grid(results[results["model"].str.startswith("baseline")], path=tmp_path / "x")


@pytest.mark.parametrize("guarded", [False, True])
def test_a_stale_font_cache_lock_does_not_break_figures(tmp_path, guarded):
    """A process killed while writing matplotlib's font cache leaves its lock and a torn cache.

    matplotlib then rebuilds the cache in every later process, waits 5 s for the lock and
    cannot save it; the guard removes a lock that old so the next process repairs the cache.
    """
    import subprocess
    import sys

    config = tmp_path / "mpl"
    config.mkdir()
    script = (
        "import matplotlib\n"
        "version = __import__('matplotlib.font_manager').font_manager.FontManager.__version__\n"
    )
    probe = subprocess.run(
        [sys.executable, "-c", script + "print(version)"],
        env={**os.environ, "MPLCONFIGDIR": str(config)},
        capture_output=True,
        text=True,
        check=True,
    )
    cache = config / f"fontlist-v{probe.stdout.strip()}.json"
    cache.write_text('{"_version": ')  # torn by the kill
    lock = cache.with_name(cache.name + ".matplotlib-lock")
    lock.touch()
    stale = time.time() - 600
    os.utime(lock, (stale, stale))
    draw = (
        "from cantaor.report.figures import import_matplotlib\nimport_matplotlib()\n"
        if guarded
        else ""
    )
    result = subprocess.run(
        [sys.executable, "-c", draw + script],
        env={**os.environ, "MPLCONFIGDIR": str(config)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    if guarded:
        assert not lock.exists()
        assert json.loads(cache.read_text())["_version"]
    else:  # what the guard prevents: every process waits 5 s, rebuilds the cache, cannot save it
        assert lock.exists()
        assert "Could not save font_manager cache" in result.stderr
