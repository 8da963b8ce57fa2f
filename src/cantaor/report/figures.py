"""Figures of the pipeline, in one style, as PNG and SVG.

- :func:`plot_contour`: one phrase's f0 beside its contour approximation (the
  paper's Figure 1);
- :func:`plot_motif_statistics`: motif dictionaries per singer (Table 1);
- :func:`plot_training_curves`: loss and accuracy per epoch, train and validation;
- :func:`plot_confusion_matrices`: test confusion, normalised per true singer;
- :func:`plot_embedding_maps`: 2-D maps of the motif embeddings by singer;
- :func:`plot_results_grid`: accuracy per grid cell beside the paper's (Table 2).

matplotlib is imported only when a figure is drawn, and always through its Agg
canvas (no display needed). Every figure is drawn inside :func:`_figure` (the
rc settings of :data:`STYLE`) and written by :func:`_save`, twice, as PNG and
SVG, with the volatile metadata (dates, software versions, random ids) left
out so that the same input gives the same files. Models keep one colour
(:data:`MODEL_COLOURS`) and singers one colour each (:func:`singer_colours`)
in every figure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
import pandas as pd

from cantaor.util.atomic import atomic_path

#: matplotlib rc settings shared by every figure.
STYLE = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "savefig.dpi": 150,
    "svg.hashsalt": "cantaor",
    # Text stays text in the SVG: smaller, searchable, selectable.
    "svg.fonttype": "none",
}
F0_COLOUR = "0.25"
SEGMENT_COLOUR = "#b2182b"
#: One colour per model, in every figure (colour-blind safe, Okabe-Ito).
MODEL_COLOURS = {"residual_blstm": "#0072B2", "crnn": "#E69F00", "residual50": "#009E73"}
_OTHER_MODEL_COLOURS = ("#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Marker of each split side in the embedding maps.
# "excluded": items of a singer whom the grouped split cannot test on unseen recordings
# (cantaor.dataset.split, untestable="exclude"); they still have embeddings and are drawn.
SUBSET_MARKERS = {"train": "o", "validation": "^", "test": "s", "excluded": "D"}
BASELINE_COLOUR = "0.35"
PANEL_WIDTH_IN = 3.6


def model_colours(models: Sequence[str]) -> dict[str, str]:
    """Colour of each model: :data:`MODEL_COLOURS`, then a fixed cycle for unknown names."""
    unknown = iter(_OTHER_MODEL_COLOURS * (1 + len(models) // len(_OTHER_MODEL_COLOURS)))
    return {m: MODEL_COLOURS[m] if m in MODEL_COLOURS else next(unknown) for m in models}


def singer_colours(singers: Sequence[str]) -> dict[str, tuple]:
    """Colour of each singer, by sorted name (tab10, then tab20 beyond ten singers)."""
    import matplotlib as mpl

    names = sorted(set(singers))
    cmap = mpl.colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def _destinations(path: str | os.PathLike) -> tuple[Path, Path]:
    """``<path>.png`` and ``<path>.svg`` (a ``.png`` or ``.svg`` suffix is replaced)."""
    path = Path(path)
    if path.suffix.lower() in {".png", ".svg"}:
        path = path.with_suffix("")
    return Path(f"{path}.png"), Path(f"{path}.svg")


_STALE_LOCK_S = 300.0


def import_matplotlib():
    """Import matplotlib, first removing a font-cache lock left by a killed process.

    matplotlib writes its font cache under a lock file and gives up after waiting 5 s when
    that file exists. A process killed while writing (a cluster time limit) leaves the lock
    and a torn cache behind, so every later figure job would rebuild the font list, wait 5 s
    and fail to save it, for good. Writing takes milliseconds: a lock older than five
    minutes is stale.
    """
    import matplotlib as mpl

    cutoff = time.time() - _STALE_LOCK_S
    for lock in Path(mpl.get_cachedir()).glob("*.matplotlib-lock"):
        with suppress(OSError):
            if lock.stat().st_mtime < cutoff:
                lock.unlink()
    return mpl


@contextmanager
def _figure(width_in: float, height_in: float) -> Iterator:
    """A new Agg figure drawn under :data:`STYLE`, with constrained layout."""
    mpl = import_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
        FigureCanvasAgg(figure)
        yield figure


def _save(figure, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``figure`` as PNG and SVG (atomically, reproducibly); return both paths."""
    png, svg = _destinations(path)
    for destination, metadata in ((png, {"Software": None}), (svg, {"Date": None})):
        with atomic_path(destination) as tmp:
            figure.savefig(tmp, format=destination.suffix[1:], metadata=metadata)
    return png, svg


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
        :func:`cantaor.contour.symbols.segment_phrases`) selects the phrase's frames,
        otherwise the frames within the phrase's contour span are drawn.
    symbols_table : pd.DataFrame
        The recording's symbol table (:data:`cantaor.contour.symbols.SYMBOL_COLUMNS`).
    phrase : int
        Phrase to draw.
    path : str or PathLike
        Destination without suffix (a ``.png`` or ``.svg`` suffix is replaced):
        ``<path>.png`` and ``<path>.svg`` are written.
    segments : pd.DataFrame, optional
        The recording's segment table (:func:`cantaor.contour.symbols.contour_segments`);
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

    with _figure(10, 3.8) as figure:
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
        return _save(figure, path)


def plot_motif_statistics(
    summary: pd.DataFrame, *, path: str | os.PathLike, title: str | None = None
) -> tuple[Path, Path]:
    """Motif dictionaries per singer as bars (the paper's Table 1 as a chart).

    Parameters
    ----------
    summary : pd.DataFrame
        :func:`cantaor.mining.motifs.dictionary_summary`: ``singer``, ``motifs``,
        ``instances``, ``mean_length``, ``mean_duration_s``; a row with singer
        ``all`` (the totals) is left out of the bars and given in the title.
    path : str or PathLike
        Destination without suffix: ``<path>.png`` and ``<path>.svg`` are written.
    title : str, optional
        Figure title (default: "Motifs per singer" with the totals).

    Returns
    -------
    png, svg : pathlib.Path
    """
    required = {"singer", "motifs", "instances", "mean_length", "mean_duration_s"}
    if missing := required - set(summary.columns):
        raise ValueError(f"motif summary lacks column(s) {sorted(missing)}")
    per_singer = summary[summary["singer"].astype(str) != "all"]
    if per_singer.empty:
        raise ValueError("motif summary has no singer rows")
    singers = per_singer["singer"].astype(str).tolist()
    colours = singer_colours(singers)
    if title is None:
        title = (
            f"Motifs per singer: {int(per_singer['instances'].sum())} instances of "
            f"{int(per_singer['motifs'].sum())} motifs"
        )
    panels = (
        ("instances", "motif instances\n(occurrences)", "{:.0f}"),
        ("motifs", "motifs in the\ndictionary", "{:.0f}"),
        ("mean_length", "mean motif length\n(symbols)", "{:.1f}"),
        ("mean_duration_s", "mean instance\nduration (s)", "{:.2f}"),
    )
    with _figure(max(9.0, 0.5 * len(singers) * len(panels) + 2), 3.4) as figure:
        axes = figure.subplots(1, len(panels))
        positions = np.arange(len(singers))
        for axis, (column, label, number) in zip(axes, panels, strict=True):
            values = per_singer[column].to_numpy(dtype=np.float64)
            bars = axis.bar(positions, values, color=[colours[s] for s in singers])
            axis.bar_label(bars, labels=[number.format(v) for v in values], fontsize=7, padding=1)
            axis.set_xticks(positions, singers, rotation=45 if len(singers) > 6 else 0)
            axis.set_title(label)
            axis.grid(axis="x", visible=False)
            axis.margins(y=0.15)
        figure.suptitle(title)
        return _save(figure, path)


def plot_training_curves(
    histories: Mapping[str, pd.DataFrame], *, path: str | os.PathLike, title: str
) -> tuple[Path, Path]:
    """Loss and accuracy per epoch, training (solid) and validation (dashed), per model.

    Parameters
    ----------
    histories : mapping of str to pd.DataFrame
        Model name -> its ``history.tsv`` (:data:`cantaor.training.loop.HISTORY_COLUMNS`:
        ``epoch``, ``train_loss``, ``train_accuracy``, ``val_loss``,
        ``val_accuracy``). The epoch of lowest validation loss (the weights
        kept) is circled.
    path : str or PathLike
        Destination without suffix.
    title : str
        Figure title.

    Returns
    -------
    png, svg : pathlib.Path
    """
    from matplotlib.lines import Line2D

    if not histories:
        raise ValueError("no training histories to draw")
    required = {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    for model, history in histories.items():
        if missing := required - set(history.columns):
            raise ValueError(f"history of {model} lacks column(s) {sorted(missing)}")
        if history.empty:
            raise ValueError(f"history of {model} has no epochs")
    colours = model_colours(list(histories))
    with _figure(2 * PANEL_WIDTH_IN + 1.6, 3.2) as figure:
        loss_axis, accuracy_axis = figure.subplots(1, 2, sharex=True)
        for model, history in histories.items():
            epoch = history["epoch"].to_numpy()
            best = int(np.nanargmin(history["val_loss"].to_numpy(dtype=np.float64)))
            for axis, stem, scale in ((loss_axis, "loss", 1.0), (accuracy_axis, "accuracy", 100.0)):
                train = history[f"train_{stem}"].to_numpy(dtype=np.float64) * scale
                validation = history[f"val_{stem}"].to_numpy(dtype=np.float64) * scale
                axis.plot(epoch, train, color=colours[model], marker=".", linestyle="-")
                axis.plot(epoch, validation, color=colours[model], marker=".", linestyle="--")
                axis.plot(
                    epoch[best],
                    validation[best],
                    marker="o",
                    markersize=9,
                    markerfacecolor="none",
                    color=colours[model],
                )
        loss_axis.set_ylabel("cross-entropy loss")
        accuracy_axis.set_ylabel("accuracy (%)")
        for axis in (loss_axis, accuracy_axis):
            axis.set_xlabel("epoch")
            axis.xaxis.get_major_locator().set_params(integer=True)
        handles = [Line2D([], [], color=colours[m], linewidth=2) for m in histories]
        handles += [
            Line2D([], [], color="0.3", linestyle="-"),
            Line2D([], [], color="0.3", linestyle="--"),
            Line2D([], [], color="0.3", marker="o", markerfacecolor="none", linestyle="none"),
        ]
        labels = [*histories, "training", "validation", "kept (lowest validation loss)"]
        figure.legend(handles, labels, loc="outside right center", frameon=False)
        figure.suptitle(title)
        return _save(figure, path)


def plot_confusion_matrices(
    confusions: Mapping[str, dict], *, path: str | os.PathLike, title: str
) -> tuple[Path, Path]:
    """Test confusion matrices, one panel per model, normalised per true singer.

    Each cell is coloured by the share of the true singer's items (row) given
    to the predicted singer (column) and shows that share in percent and the
    item count; rows of singers with no test items are left grey.

    Parameters
    ----------
    confusions : mapping of str to dict
        Model name -> ``{"labels": [...], "matrix": [[...]], "accuracy": float}``
        (the ``confusion_matrix`` of :func:`cantaor.evaluation.metrics.evaluate_predictions`
        with its accuracy; rows true, columns predicted).
    path : str or PathLike
        Destination without suffix.
    title : str
        Figure title.

    Returns
    -------
    png, svg : pathlib.Path
    """
    if not confusions:
        raise ValueError("no confusion matrices to draw")
    matrices = {}
    for model, confusion in confusions.items():
        counts = np.asarray(confusion["matrix"], dtype=np.int64)
        labels = [str(label) for label in confusion["labels"]]
        if counts.shape != (len(labels), len(labels)):
            raise ValueError(
                f"confusion matrix of {model} has shape {counts.shape} for {len(labels)} labels"
            )
        matrices[model] = (labels, counts)
    n_labels = max(len(labels) for labels, _ in matrices.values())
    panel = max(2.6, 0.45 * n_labels + 1.2)
    with _figure(panel * len(matrices) + 1.0, panel + 0.6) as figure:
        axes = np.atleast_1d(figure.subplots(1, len(matrices)))
        image = None
        for axis, (model, (labels, counts)) in zip(axes, matrices.items(), strict=True):
            totals = counts.sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                shares = np.where(totals > 0, counts / totals, np.nan)
            image = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
            axis.set_facecolor("0.85")
            for row in range(len(labels)):
                for column in range(len(labels)):
                    share = shares[row, column]
                    text = "" if np.isnan(share) else f"{share * 100:.0f}%\n"
                    axis.text(
                        column,
                        row,
                        f"{text}({counts[row, column]})",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if share > 0.6 else "black",
                    )
            positions = np.arange(len(labels))
            axis.set_xticks(positions, labels, rotation=45 if len(labels) > 5 else 0)
            axis.set_yticks(positions, labels)
            axis.set_xlabel("predicted singer")
            axis.set_ylabel("true singer")
            axis.grid(False)
            accuracy = confusions[model].get("accuracy")
            suffix = "" if accuracy is None else f"\naccuracy {accuracy * 100:.1f}%"
            axis.set_title(f"{model}{suffix}")
        figure.colorbar(image, ax=list(axes), shrink=0.8, label="share of the true singer's items")
        figure.suptitle(title)
        return _save(figure, path)


def plot_embedding_maps(
    maps: Mapping[str, pd.DataFrame], *, path: str | os.PathLike, title: str
) -> tuple[Path, Path]:
    """2-D maps of item embeddings, one panel per model: colour = singer, marker = split side.

    Parameters
    ----------
    maps : mapping of str to pd.DataFrame
        Model name -> one row per item with ``x``, ``y`` (map coordinates, as
        :func:`cantaor.evaluation.embeddings.tsne_map` gives), ``singer`` and ``subset``
        (train, validation, test or excluded; test items are outlined).
    path : str or PathLike
        Destination without suffix.
    title : str
        Figure title.

    Returns
    -------
    png, svg : pathlib.Path
    """
    from matplotlib.lines import Line2D

    if not maps:
        raise ValueError("no embedding maps to draw")
    for model, frame in maps.items():
        if missing := {"x", "y", "singer", "subset"} - set(frame.columns):
            raise ValueError(f"embedding map of {model} lacks column(s) {sorted(missing)}")
        if unknown := set(frame["subset"]) - set(SUBSET_MARKERS):
            raise ValueError(f"embedding map of {model} has unknown subset(s) {sorted(unknown)}")
    singers = sorted({str(s) for frame in maps.values() for s in frame["singer"]})
    colours = singer_colours(singers)
    # Square panels, at most two a row, so that a map stays legible when the page is narrow.
    columns = min(len(maps), 2)
    rows = -(-len(maps) // columns)
    spare_panel = columns * rows > len(maps)
    width_in = PANEL_WIDTH_IN * columns + (0.0 if spare_panel else 1.4)
    with _figure(width_in, (PANEL_WIDTH_IN + 0.3) * rows + 0.4) as figure:
        grid = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
        axes = grid[: len(maps)]
        for spare in grid[len(maps) :]:
            spare.set_axis_off()
        for axis, (model, frame) in zip(axes, maps.items(), strict=True):
            for subset, marker in SUBSET_MARKERS.items():
                part = frame[frame["subset"] == subset]
                if part.empty:
                    continue
                test = subset == "test"
                axis.scatter(
                    part["x"],
                    part["y"],
                    c=[colours[str(s)] for s in part["singer"]],
                    marker=marker,
                    s=22 if test else 12,
                    alpha=0.95 if test else 0.55,
                    edgecolors="black" if test else "none",
                    linewidths=0.5,
                )
            axis.set_title(f"{model} ({len(frame)} items)")
            axis.set_xticks([])
            axis.set_yticks([])
            axis.grid(False)
            axis.set_aspect("equal", adjustable="datalim")
            for spine in axis.spines.values():
                spine.set_visible(True)
                spine.set_color("0.8")
        handles = [Line2D([], [], color=colours[s], marker="o", linestyle="none") for s in singers]
        handles += [
            Line2D([], [], color="0.4", marker=marker, linestyle="none")
            for marker in SUBSET_MARKERS.values()
        ]
        legend = {"frameon": False, "title": "singer / split side"}
        if len(grid) > len(maps):  # an empty panel holds the legend
            grid[-1].legend(handles, [*singers, *SUBSET_MARKERS], loc="center", **legend)
        else:
            figure.legend(
                handles, [*singers, *SUBSET_MARKERS], loc="outside right center", **legend
            )
        figure.suptitle(title)
        return _save(figure, path)


def plot_results_grid(
    results: pd.DataFrame, *, path: str | os.PathLike, title: str | None = None
) -> tuple[Path, Path]:
    """Test accuracy per grid cell beside the paper's (Table 2 as a chart), one panel per split.

    Per cell (dataset and feature), each model has a filled bar (ours) and an
    outlined, hatched bar (the paper's figure for that cell, where it reports
    one); a grey line across the cell marks the best baseline on the same split.

    Parameters
    ----------
    results : pd.DataFrame
        The results table (:func:`cantaor.evaluation.results.results_frame`):
        ``dataset``, ``feature``, ``model`` (baselines as ``baseline: <name>``),
        ``split``, ``accuracy`` (fraction), ``paper_accuracy`` (percent or NaN).
    path : str or PathLike
        Destination without suffix.
    title : str, optional
        Figure title.

    Returns
    -------
    png, svg : pathlib.Path
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    required = {"dataset", "feature", "model", "split", "accuracy", "paper_accuracy"}
    if missing := required - set(results.columns):
        raise ValueError(f"results table lacks column(s) {sorted(missing)}")
    is_baseline = results["model"].astype(str).str.startswith("baseline: ")
    models_frame = results[~is_baseline]
    if models_frame.empty:
        raise ValueError("results table has no model rows")
    models = list(dict.fromkeys(models_frame["model"].astype(str)))
    cells = list(dict.fromkeys(zip(results["dataset"], results["feature"], strict=True)))
    splits = sorted(set(results["split"]), key=lambda s: (s != "group", s))
    colours = model_colours(models)
    width = 0.8 / (2 * len(models))
    positions = np.arange(len(cells))
    with _figure(
        max(6.0, 0.9 * len(cells) * max(1.0, len(models) / 2) + 2.5), 2.6 * len(splits) + 0.8
    ) as figure:
        axes = np.atleast_1d(figure.subplots(len(splits), 1, sharex=True, squeeze=False)[:, 0])
        for axis, split in zip(axes, splits, strict=True):
            rows = results[results["split"] == split]
            for m, model in enumerate(models):
                ours, paper = [], []
                for dataset, feature in cells:
                    row = rows[
                        (rows["model"] == model)
                        & (rows["dataset"] == dataset)
                        & (rows["feature"] == feature)
                    ]
                    ours.append(float(row["accuracy"].iloc[0]) * 100 if len(row) else np.nan)
                    paper.append(float(row["paper_accuracy"].iloc[0]) if len(row) else np.nan)
                offset = -0.4 + (2 * m + 0.5) * width
                bars = axis.bar(positions + offset, ours, width, color=colours[model])
                axis.bar_label(bars, fmt="%.0f", fontsize=6, padding=1)
                axis.bar(
                    positions + offset + width,
                    paper,
                    width,
                    facecolor="none",
                    edgecolor=colours[model],
                    hatch="////",
                    linewidth=0.8,
                )
            baselines = rows[rows["model"].astype(str).str.startswith("baseline: ")]
            for position, (dataset, feature) in zip(positions, cells, strict=True):
                cell = baselines[
                    (baselines["dataset"] == dataset) & (baselines["feature"] == feature)
                ]
                if len(cell):
                    axis.hlines(
                        float(cell["accuracy"].max()) * 100,
                        position - 0.45,
                        position + 0.45,
                        colors=BASELINE_COLOUR,
                        linestyles="--",
                        linewidth=1.2,
                    )
            axis.set_ylim(0, 105)
            axis.set_ylabel("test accuracy (%)")
            axis.set_title(f"{split} split")
            axis.grid(axis="x", visible=False)
        axes[-1].set_xticks(positions, [f"{d}\n{f}" for d, f in cells])
        handles = [Patch(color=colours[m]) for m in models]
        handles += [
            Patch(facecolor="none", edgecolor="0.3", hatch="////"),
            Line2D([], [], color=BASELINE_COLOUR, linestyle="--"),
        ]
        labels = [*models, "paper (Table 2)", "best baseline"]
        figure.legend(handles, labels, loc="outside right center", frameon=False)
        figure.suptitle(
            title if title is not None else "Test accuracy per grid cell, ours and the paper's"
        )
        return _save(figure, path)
