"""Items of a dataset: the audio spans that become training examples.

Three datasets (:data:`DATASETS`), after the paper's Table 2:

- ``motifs``: every motif occurrence's span (the paper's main dataset).
- ``motifs_segment``: every motif occurrence inside a window of ``segment_s``
  seconds centred on it (the paper's "motif inside a 3 s sample").
- ``random``: as many spans per recording as it has motif items, with lengths
  resampled from that recording's motif lengths and uniform positions, away
  from every motif span by default (a control: singer identity without motifs).

Item table schema (:data:`ITEM_COLUMNS`): ``item_id`` (str), ``singer``,
``recording``, ``group``, ``motif_id`` (str, empty for random items),
``start_s``, ``end_s`` (float64). Item ids:

- motifs: ``motif_id@recording/phrase/first_position``;
- motifs_segment: the motif item's id behind ``segment:``
  (``segment:motif_id@recording/phrase/first_position``);
- random: ``random@recording/k`` (k = 0, 1, ... in draw order).

Every table is sorted by recording, start, end and item id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

ITEM_COLUMNS = ("item_id", "singer", "recording", "group", "motif_id", "start_s", "end_s")
DATASETS = ("motifs", "motifs_segment", "random")
SEGMENT_PREFIX = "segment:"
RANDOM_PREFIX = "random@"


def _sorted(items: pd.DataFrame) -> pd.DataFrame:
    return items.sort_values(["recording", "start_s", "end_s", "item_id"], ignore_index=True)


def _kept(occurrences: pd.DataFrame, min_duration_s: float) -> pd.DataFrame:
    return occurrences[occurrences["duration_s"] >= min_duration_s]


def _durations(
    recording_durations: Mapping[str, float] | None, recordings, dataset: str
) -> dict[str, float]:
    """The durations of ``recordings``, or a ValueError naming the missing ones."""
    if recording_durations is None:
        raise ValueError(f"dataset {dataset!r} needs recording_durations")
    missing = sorted(set(recordings) - set(recording_durations))
    if missing:
        raise ValueError(
            f"dataset {dataset!r}: no duration for recording(s) {', '.join(map(str, missing))}"
        )
    return {recording: float(recording_durations[recording]) for recording in set(recordings)}


def motif_items(
    occurrences: pd.DataFrame, groups: Mapping[str, str], *, min_duration_s: float = 0.15
) -> pd.DataFrame:
    """One item per motif occurrence at least ``min_duration_s`` long.

    Parameters
    ----------
    occurrences : pd.DataFrame
        Occurrence tables of all singers (:data:`cantaor.mining.motifs.OCCURRENCE_COLUMNS`).
    groups : mapping of recording id -> group
        The sample sheet's groups (albums).
    min_duration_s : float
        Shorter occurrences are dropped (the authors dropped clips under 0.15 s).
    """
    kept = _kept(occurrences, min_duration_s)
    items = pd.DataFrame(
        {
            "item_id": kept["motif_id"]
            + "@"
            + kept["recording"]
            + "/"
            + kept["phrase"].astype(str)
            + "/"
            + kept["first_position"].astype(str),
            "singer": kept["singer"],
            "recording": kept["recording"],
            "group": kept["recording"].map(groups),
            "motif_id": kept["motif_id"],
            "start_s": kept["start_s"].astype("float64"),
            "end_s": kept["end_s"].astype("float64"),
        }
    )
    return _sorted(items)


def motifs_segment_items(
    occurrences: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    recording_durations: Mapping[str, float],
    segment_s: float = 3.0,
    min_duration_s: float = 0.15,
) -> pd.DataFrame:
    """Every motif item inside a window of ``segment_s`` seconds centred on it.

    The window ``[centre - segment_s / 2, centre + segment_s / 2]`` is clipped
    to the recording ``[0, duration]`` (so windows near either end are shorter
    than ``segment_s``, never shifted); a motif longer than ``segment_s`` keeps
    its own span. The window always contains the motif, even where a motif
    ends a hair past the recording's stated duration.

    Parameters
    ----------
    occurrences : pd.DataFrame
        Occurrence tables of all singers (:data:`cantaor.mining.motifs.OCCURRENCE_COLUMNS`).
    groups : mapping of recording id -> group
    recording_durations : mapping of recording id -> seconds
        Length of every recording that has an occurrence.
    segment_s : float
        Window length in seconds (the paper's 3 s).
    min_duration_s : float
        Motif occurrences shorter than this are dropped first, as for ``motifs``,
        so both datasets hold the same motifs.

    Returns
    -------
    pd.DataFrame
        Schema :data:`ITEM_COLUMNS`; ``item_id`` is the motif item's id behind
        ``segment:``.
    """
    if segment_s <= 0:
        raise ValueError("segment_s must be positive")
    items = motif_items(occurrences, groups, min_duration_s=min_duration_s)
    durations = _durations(recording_durations, items["recording"], "motifs_segment")
    start = items["start_s"].to_numpy()
    end = items["end_s"].to_numpy()
    centre = (start + end) / 2
    length = items["recording"].map(durations).to_numpy(dtype="float64")
    window_start = np.clip(centre - segment_s / 2, 0.0, length)
    window_end = np.clip(centre + segment_s / 2, 0.0, length)
    long = end - start >= segment_s
    items = items.assign(
        item_id=SEGMENT_PREFIX + items["item_id"],
        start_s=np.where(long, start, np.minimum(start, window_start)),
        end_s=np.where(long, end, np.maximum(end, window_end)),
    )
    return _sorted(items)


def _recording_rng(seed: int, recording: str) -> np.random.Generator:
    """A generator for one recording: its draws do not depend on the other recordings."""
    key = int.from_bytes(hashlib.blake2b(recording.encode(), digest_size=8).digest(), "little")
    return np.random.default_rng([seed, key])


def _merged(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint sorted intervals covering the open spans ``(start, end)`` with end > start."""
    order = np.argsort(starts, kind="stable")
    merged_starts: list[float] = []
    merged_ends: list[float] = []
    for start, end in zip(starts[order], ends[order]):
        if end <= start:
            continue
        if merged_ends and start < merged_ends[-1]:
            merged_ends[-1] = max(merged_ends[-1], end)
        else:
            merged_starts.append(start)
            merged_ends.append(end)
    return np.asarray(merged_starts, dtype="float64"), np.asarray(merged_ends, dtype="float64")


def _overlaps(
    starts: np.ndarray, ends: np.ndarray, blocked_starts: np.ndarray, blocked_ends: np.ndarray
) -> np.ndarray:
    """Whether each span ``[start, end]`` overlaps a blocked interval (touching is allowed)."""
    if len(blocked_starts) == 0:
        return np.zeros(len(starts), dtype=bool)
    last = np.searchsorted(blocked_starts, ends, side="left") - 1
    return (last >= 0) & (blocked_ends[np.maximum(last, 0)] > starts)


def _longest_gap(length: float, blocked_starts: np.ndarray, blocked_ends: np.ndarray) -> float:
    """The longest stretch of ``[0, length]`` outside the blocked intervals."""
    edges_start = np.concatenate([[0.0], np.minimum(blocked_ends, length)])
    edges_end = np.concatenate([np.clip(blocked_starts, 0.0, length), [length]])
    return float(np.max(edges_end - edges_start, initial=0.0))


def _draw(
    rng: np.random.Generator,
    lengths: np.ndarray,
    length: float,
    blocked: tuple[np.ndarray, np.ndarray],
    *,
    max_tries: int,
    batch: int = 64,
) -> tuple[float, float] | None:
    """One span ``(start, end)`` by rejection, or None after ``max_tries`` draws."""
    tries = 0
    while tries < max_tries:
        size = min(batch, max_tries - tries)
        tries += size
        spans = rng.choice(lengths, size=size)
        starts = rng.uniform(0.0, 1.0, size=size) * (length - spans)
        good = (spans <= length) & ~_overlaps(starts, starts + spans, *blocked)
        if good.any():
            first = int(np.argmax(good))
            return float(starts[first]), float(starts[first] + spans[first])
    return None


def random_items(
    occurrences: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    recording_durations: Mapping[str, float],
    seed: int,
    avoid_motifs: bool = True,
    min_duration_s: float = 0.15,
    max_tries: int = 1000,
) -> pd.DataFrame:
    """Random spans: as many per recording as it has motif items, seeded.

    For every recording with motif items (occurrences at least
    ``min_duration_s`` long), each span is drawn as a length resampled (with
    replacement) from that recording's motif item lengths and a start uniform
    in ``[0, duration - length]``. With ``avoid_motifs`` a draw overlapping any
    motif occurrence of the recording (short ones included; touching ends are
    allowed) is rejected and both length and start are drawn again, so
    accepted spans follow the joint distribution conditioned on missing every
    motif.

    When a span finds no place in ``max_tries`` draws (the motifs, or a
    recording shorter than its motifs' lengths, leave no room) it is left out:
    that recording then has fewer random items than motif items. The table's
    ``attrs["shortfall"]`` maps each such recording to the number of spans
    left out (empty when every span was placed); callers should log it.

    Every recording draws from its own generator, seeded by ``seed`` and the
    recording id, so adding or removing a recording leaves the others' spans
    unchanged.

    Parameters
    ----------
    occurrences : pd.DataFrame
        Occurrence tables of all singers (:data:`cantaor.mining.motifs.OCCURRENCE_COLUMNS`).
    groups : mapping of recording id -> group
    recording_durations : mapping of recording id -> seconds
    seed : int
    avoid_motifs : bool
        Reject spans overlapping a motif occurrence.
    min_duration_s : float
        Motif occurrences shorter than this are not items (as for ``motifs``)
        and lend neither their count nor their length.
    max_tries : int
        Draws per span before it is given up.

    Returns
    -------
    pd.DataFrame
        Schema :data:`ITEM_COLUMNS`, ``item_id`` ``random@recording/k``,
        ``motif_id`` empty.
    """
    if max_tries < 1:
        raise ValueError("max_tries must be at least 1")
    kept = _kept(occurrences, min_duration_s)
    durations = _durations(recording_durations, kept["recording"], "random")
    rows = []
    shortfall: dict[str, int] = {}
    for recording, motifs in kept.groupby("recording", sort=True):
        length = durations[recording]
        lengths = motifs["duration_s"].to_numpy(dtype="float64")
        if avoid_motifs:
            spans = occurrences[occurrences["recording"] == recording]
            blocked = _merged(
                spans["start_s"].to_numpy(dtype="float64"),
                spans["end_s"].to_numpy(dtype="float64"),
            )
        else:
            blocked = (np.empty(0), np.empty(0))
        rng = _recording_rng(seed, str(recording))
        singer = motifs["singer"].iloc[0]
        placed = 0
        # Exact shortcut: when no motif length fits the longest free stretch, no
        # draw can ever succeed, so the recording's spans are all left out.
        if lengths.min() <= _longest_gap(length, *blocked):
            for _ in range(len(motifs)):
                span = _draw(rng, lengths, length, blocked, max_tries=max_tries)
                if span is not None:
                    rows.append((f"{RANDOM_PREFIX}{recording}/{placed}", singer, recording, *span))
                    placed += 1
        if placed < len(motifs):
            shortfall[str(recording)] = len(motifs) - placed
    items = pd.DataFrame(rows, columns=["item_id", "singer", "recording", "start_s", "end_s"])
    items = items.assign(group=items["recording"].map(groups), motif_id="")
    items = _sorted(items[list(ITEM_COLUMNS)].astype({"start_s": "float64", "end_s": "float64"}))
    items.attrs["shortfall"] = shortfall
    return items


def build_items(
    dataset: str,
    occurrences: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    recording_durations: Mapping[str, float] | None = None,
    seed: int = 0,
    segment_s: float = 3.0,
    avoid_motifs: bool = True,
    min_duration_s: float = 0.15,
) -> pd.DataFrame:
    """The items of one of :data:`DATASETS`.

    Parameters
    ----------
    dataset : {"motifs", "motifs_segment", "random"}
    occurrences : pd.DataFrame
        Occurrence tables of all singers.
    groups : mapping of recording id -> group
    recording_durations : mapping of recording id -> seconds, optional
        Needed by ``motifs_segment`` and ``random``.
    seed : int
        Used by ``random`` only.
    segment_s : float
        Used by ``motifs_segment`` only.
    avoid_motifs : bool
        Used by ``random`` only.
    min_duration_s : float
        Shortest motif occurrence kept (all datasets).
    """
    if dataset == "motifs":
        return motif_items(occurrences, groups, min_duration_s=min_duration_s)
    if dataset == "motifs_segment":
        return motifs_segment_items(
            occurrences,
            groups,
            recording_durations=recording_durations,
            segment_s=segment_s,
            min_duration_s=min_duration_s,
        )
    if dataset == "random":
        return random_items(
            occurrences,
            groups,
            recording_durations=recording_durations,
            seed=seed,
            avoid_motifs=avoid_motifs,
            min_duration_s=min_duration_s,
        )
    raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")


DROP_COLUMNS = ("singer", "n_items", "n_dropped", "dropped_share", "over_limit")


def duration_drops(
    singers: pd.Series,
    dropped: pd.Series,
    *,
    min_duration_s: float,
    max_dropped_share: float,
) -> tuple[pd.DataFrame, list[str]]:
    """What ``features.min_duration_s`` takes from each singer, and warnings.

    Parameters
    ----------
    singers : pd.Series
        The singer of every candidate item (motif occurrence or clip).
    dropped : pd.Series of bool
        Whether it was dropped as shorter than ``min_duration_s`` (aligned).
    min_duration_s : float
        The setting, for the warnings.
    max_dropped_share : float
        A singer losing a larger share of its items gets a warning.

    Returns
    -------
    table : pd.DataFrame
        Schema :data:`DROP_COLUMNS`, one row per singer (sorted): items before
        the cut, items dropped, their share, and whether it exceeds
        ``max_dropped_share``.
    warnings : list of str
        One line per singer over the limit, naming the settings involved.
    """
    frame = pd.DataFrame(
        {"singer": singers.astype(str).to_numpy(), "short": dropped.to_numpy(dtype=bool)}
    )
    table = frame.groupby("singer", sort=True)["short"].agg(n_items="size", n_dropped="sum")
    table = table.astype("int64").reset_index()
    table["dropped_share"] = table["n_dropped"] / table["n_items"]
    table["over_limit"] = table["dropped_share"] > max_dropped_share
    warnings = [
        f"{row.singer} loses {row.n_dropped} of {row.n_items} items ({row.dropped_share:.0%}) "
        f"shorter than features.min_duration_s = {min_duration_s} s, more than "
        f"features.max_dropped_share = {max_dropped_share:.0%}"
        for row in table[table["over_limit"]].itertuples()
    ]
    return table[list(DROP_COLUMNS)], warnings
