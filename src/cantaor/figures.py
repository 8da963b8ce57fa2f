"""Figures: one phrase's f0 beside its contour approximation (as the paper's Figure 1).

matplotlib is imported only when a figure is drawn, and always through its Agg
canvas (no display needed). Every figure is written twice, as PNG and SVG, in
one style (:data:`STYLE`), with the volatile metadata (dates, software
versions, random ids) left out so that the same input gives the same files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cantaor.io import atomic_path

#: matplotlib rc settings shared by every figure.
STYLE = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "savefig.dpi": 150,
    "svg.hashsalt": "cantaor",
}
F0_COLOUR = "0.25"
SEGMENT_COLOUR = "#b2182b"


def _phrase_segments(
    symbols: pd.DataFrame,
    time_s: np.ndarray,
    cents: np.ndarray,
    centers_cents: Sequence[float] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start_s, end_s, pitch_cents) of a phrase's segments, rebuilt from its symbols.

    Symbol p spans segments p and p + 1, so the table gives every segment's
    start but the last one's and every end but the first one's; those two are
    taken from the neighbour (segments are contiguous in the k-means method),
    or, with a single symbol, both from the middle of its span. Pitches are the
    cluster centres when ``centers_cents`` is given and the symbols name
    clusters; otherwise the steps are chained and the chain is placed at the
    median offset of the phrase's f0 from it.
    """
    n = len(symbols)
    starts = symbols["start_s"].to_numpy(dtype=np.float64)
    ends = symbols["end_s"].to_numpy(dtype=np.float64)
    if n >= 2:
        first_end, last_start = starts[1], ends[n - 2]
    else:
        first_end = last_start = (starts[0] + ends[0]) / 2.0
    segment_start = np.append(starts, last_start)
    segment_end = np.insert(ends, 0, first_end)
    clusters = np.append(
        symbols["from_cluster"].to_numpy()[:1], symbols["to_cluster"].to_numpy()
    ).astype(np.int64)
    if centers_cents is not None and (clusters >= 0).all():
        return segment_start, segment_end, np.asarray(centers_cents, dtype=np.float64)[clusters]
    levels = np.insert(np.cumsum(symbols["step_cents"].to_numpy(dtype=np.float64)), 0, 0.0)
    finite = np.isfinite(cents)
    offset = 0.0
    if finite.any():
        which = np.searchsorted(segment_start[1:], time_s[finite], side="right")
        offset = float(np.median(cents[finite] - levels[which]))
    return segment_start, segment_end, levels + offset


def plot_contour(
    f0_table: pd.DataFrame,
    symbols_table: pd.DataFrame,
    phrase: int,
    *,
    path: str | os.PathLike,
    segments: pd.DataFrame | None = None,
    centers_cents: Sequence[float] | None = None,
    title: str | None = None,
) -> tuple[Path, Path]:
    """Draw one phrase: f0 in cents (left) and its line segments with symbols (right).

    Parameters
    ----------
    f0_table : pd.DataFrame
        One recording's f0: ``time_s`` and ``pitch_cents`` (NaN unvoiced), as
        the f0 step writes; an optional ``phrase`` column (as from
        :func:`cantaor.contour.segment_phrases`) selects the phrase's frames,
        otherwise the frames within the phrase's contour span are drawn.
    symbols_table : pd.DataFrame
        The recording's symbol table (:data:`cantaor.contour.SYMBOL_COLUMNS`).
    phrase : int
        Phrase to draw.
    path : str or PathLike
        Destination without suffix (a ``.png`` or ``.svg`` suffix is replaced):
        ``<path>.png`` and ``<path>.svg`` are written.
    segments : pd.DataFrame, optional
        The recording's segment table (:func:`cantaor.contour.contour_segments`);
        when given, segments are drawn exactly from it. Otherwise they are
        rebuilt from the symbols (boundaries from the symbols' spans, pitches
        from ``centers_cents`` or from the chained steps placed on the f0).
    centers_cents : sequence of float, optional
        k-means centres, for exact pitches when rebuilding k-means segments.
    title : str, optional
        Figure title (default: the recording-independent ``phrase N``).

    Returns
    -------
    png, svg : pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        When the phrase has neither symbols nor segments, or the two disagree.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    symbols = symbols_table[symbols_table["phrase"] == phrase].sort_values("position")
    if segments is not None:
        chosen = segments[segments["phrase"] == phrase].sort_values("segment")
        if chosen.empty:
            raise ValueError(f"phrase {phrase} has no segments")
        if len(symbols) != len(chosen) - 1:
            raise ValueError(
                f"phrase {phrase}: {len(chosen)} segments but {len(symbols)} symbols "
                "(expected one fewer symbol than segments)"
            )
        span = (float(chosen["start_s"].min()), float(chosen["end_s"].max()))
    elif symbols.empty:
        raise ValueError(f"phrase {phrase} has no symbols to draw")
    else:
        span = (float(symbols["start_s"].min()), float(symbols["end_s"].max()))

    time_s = f0_table["time_s"].to_numpy(dtype=np.float64)
    cents = f0_table["pitch_cents"].to_numpy(dtype=np.float64)
    if "phrase" in f0_table.columns:
        keep = f0_table["phrase"].to_numpy() == phrase
    else:
        keep = (time_s >= span[0] - 1e-9) & (time_s < span[1] - 1e-9)
    time_s, cents = time_s[keep], cents[keep]

    if segments is not None:
        start = chosen["start_s"].to_numpy(dtype=np.float64)
        end = chosen["end_s"].to_numpy(dtype=np.float64)
        pitch = chosen["pitch_cents"].to_numpy(dtype=np.float64)
    else:
        start, end, pitch = _phrase_segments(symbols, time_s, cents, centers_cents)
    labels = symbols["symbol"].tolist()

    path = Path(path)
    if path.suffix.lower() in {".png", ".svg"}:
        path = path.with_suffix("")
    png, svg = Path(f"{path}.png"), Path(f"{path}.svg")
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(10, 3.8), layout="constrained")
        FigureCanvasAgg(figure)
        left, right = figure.subplots(1, 2, sharey=True)
        left.plot(time_s, cents, color=F0_COLOUR, linewidth=1.0)
        left.set_title("f0")
        left.set_xlabel("time (s)")
        left.set_ylabel("pitch (cents)")
        right.plot(time_s, cents, color=F0_COLOUR, linewidth=0.8, alpha=0.2)
        right.hlines(pitch, start, end, colors=SEGMENT_COLOUR, linewidth=2.5)
        for position, label in enumerate(labels):
            x = (end[position] + start[position + 1]) / 2.0
            low, high = pitch[position], pitch[position + 1]
            right.vlines(x, low, high, colors=SEGMENT_COLOUR, linewidth=0.8, linestyles=":")
            right.annotate(
                label,
                (x, (low + high) / 2.0),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )
        right.set_title("contour approximation")
        right.set_xlabel("time (s)")
        figure.suptitle(title if title is not None else f"phrase {phrase}")
        for destination, metadata in ((png, {"Software": None}), (svg, {"Date": None})):
            with atomic_path(destination) as tmp:
                figure.savefig(tmp, format=destination.suffix[1:], metadata=metadata)
    return png, svg
