"""Figure of one recording's f0 over time, with its voiced regions and phrases.

Drawn in the style of :mod:`cantaor.report.figures` (:data:`cantaor.report.figures.STYLE`),
written as PNG and SVG with the volatile metadata left out. The phrases are the
ones :func:`cantaor.contour.symbols.segment_phrases` gives, passed in by the caller, so
the figure shows exactly what the contour stage segments.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from cantaor.pitch.f0 import hz_to_cents
from cantaor.report.figures import F0_COLOUR, STYLE, import_matplotlib
from cantaor.util.atomic import atomic_path

VOICED_COLOUR = "#92c5de"
PHRASE_COLOUR = "#b2182b"
TRUTH_COLOUR = "#f4a582"


def phrase_spans(time_s: np.ndarray, phrase: np.ndarray) -> list[tuple[int, float, float]]:
    """(phrase, start_s, end_s) of every phrase: first to last frame time plus one hop.

    Parameters
    ----------
    time_s : np.ndarray, shape (n_frames,)
        Frame times in seconds.
    phrase : np.ndarray of int, shape (n_frames,)
        Phrase index per frame, -1 outside phrases
        (:func:`cantaor.contour.symbols.segment_phrases`).
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    phrase = np.asarray(phrase)
    hop_s = float(np.median(np.diff(time_s))) if time_s.size > 1 else 0.0
    spans = []
    for index in np.unique(phrase[phrase >= 0]):
        frames = np.flatnonzero(phrase == index)
        spans.append((int(index), float(time_s[frames[0]]), float(time_s[frames[-1]] + hop_s)))
    return spans


def voiced_runs(time_s: np.ndarray, voiced: np.ndarray) -> list[tuple[float, float]]:
    """(start_s, end_s) of every run of voiced frames, end one hop after its last frame."""
    time_s = np.asarray(time_s, dtype=np.float64)
    voiced = np.asarray(voiced, dtype=bool)
    if not voiced.any():
        return []
    hop_s = float(np.median(np.diff(time_s))) if time_s.size > 1 else 0.0
    edges = np.diff(np.r_[0, voiced.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(float(time_s[a]), float(time_s[b] + hop_s)) for a, b in zip(starts, ends)]


def plot_f0_phrases(
    f0_table: pd.DataFrame,
    phrase: np.ndarray,
    *,
    path: str | os.PathLike,
    truth: pd.DataFrame | None = None,
    reference_hz: float = 55.0,
    title: str | None = None,
) -> tuple[Path, Path]:
    """Draw f0 (cents) over time with voiced regions shaded and phrases marked.

    Parameters
    ----------
    f0_table : pd.DataFrame
        An f0 table (:data:`cantaor.pitch.f0.F0_COLUMNS`); may be empty (a
        skipped or silent recording), which draws empty axes saying so.
    phrase : np.ndarray of int, shape (len(f0_table),)
        Phrase index per frame, -1 outside phrases.
    path : path
        Destination without suffix (a ``.png``/``.svg`` suffix is dropped);
        ``path.png`` and ``path.svg`` are written.
    truth : pd.DataFrame, optional
        A ground-truth f0 (``time_s``, ``f0_hz`` with 0 where unvoiced) drawn underneath.
    reference_hz : float
        0 cents of the truth's pitch; that of ``f0_table["pitch_cents"]``.
    title : str, optional

    Returns
    -------
    (png, svg) : Path
    """
    mpl = import_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    time_s = f0_table["time_s"].to_numpy(dtype=np.float64)
    cents = f0_table["pitch_cents"].to_numpy(dtype=np.float64)
    voiced = f0_table["voiced"].to_numpy(dtype=bool)
    phrase = np.asarray(phrase)
    if phrase.shape != time_s.shape:
        raise ValueError(f"phrase has {phrase.size} frames, the f0 table {time_s.size}")

    path = Path(path)
    if path.suffix.lower() in {".png", ".svg"}:
        path = path.with_suffix("")
    png, svg = Path(f"{path}.png"), Path(f"{path}.svg")
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(12, 3.6), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots()
        # One collection for every voiced run (a long recording has thousands).
        axes.broken_barh(
            [(start, end - start) for start, end in voiced_runs(time_s, voiced)],
            (0, 1),
            transform=axes.get_xaxis_transform(),
            color=VOICED_COLOUR,
            alpha=0.25,
            linewidth=0,
        )
        if truth is not None:
            axes.plot(
                truth["time_s"].to_numpy(dtype=np.float64),
                hz_to_cents(truth["f0_hz"].to_numpy(), reference_hz=reference_hz),
                color=TRUTH_COLOUR,
                linewidth=2.5,
                label="truth",
            )
        axes.plot(time_s, cents, color=F0_COLOUR, linewidth=0.9, label="f0")
        # Phrase spans as bars along the top, numbered, with their edges as dashed lines.
        top = axes.get_xaxis_transform()
        for index, start, end in phrase_spans(time_s, phrase):
            axes.plot([start, end], [0.97, 0.97], color=PHRASE_COLOUR, linewidth=3, transform=top)
            axes.axvline(start, color=PHRASE_COLOUR, linewidth=0.7, linestyle="--")
            axes.axvline(end, color=PHRASE_COLOUR, linewidth=0.7, linestyle=":")
            axes.text(
                (start + end) / 2.0,
                0.92,
                str(index),
                transform=top,
                ha="center",
                va="top",
                fontsize=7,
                color=PHRASE_COLOUR,
            )
        if not voiced.any():
            axes.text(
                0.5, 0.5, "no voiced frames", transform=axes.transAxes, ha="center", va="center"
            )
        if time_s.size:
            axes.set_xlim(time_s[0], time_s[-1])
        axes.set_xlabel("time (s)")
        axes.set_ylabel("pitch (cents)")
        if truth is not None:
            axes.legend(loc="lower right", fontsize=7)
        axes.set_title(title if title is not None else "f0, voiced regions and phrases")
        for destination, metadata in ((png, {"Software": None}), (svg, {"Date": None})):
            with atomic_path(destination) as tmp:
                figure.savefig(tmp, format=destination.suffix[1:], metadata=metadata)
    return png, svg
