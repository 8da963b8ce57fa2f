"""Leakage between items: identical clips, shared audio, shared recordings.

The authors' released clips hold many byte-identical copies (some under two
singer labels) and overlapping clips of one recording, so a random split of
them tests mostly on audio already seen in training (REFERENCE.md section 2).
This module finds such links in a store index
(:data:`cantaor.features.store.INDEX_COLUMNS`) and measures them in a split:

- :func:`find_duplicates` and :func:`deduplicate`: identical contents
  (``content_hash``);
- :func:`assign_groups`: connected components of items linked by a shared
  sample-sheet ``group``, identical content, overlapping spans of one
  recording, or (for pre-cut clips, whose spans are unknown) a shared run of
  samples (``audio_group``, :mod:`cantaor.dataset.clips`); whole components are what
  an honest split keeps on one side (:func:`cantaor.dataset.split.split_with_report`
  takes them as ``groups``);
- :func:`leakage_report` and :func:`leakage_markdown`: the numbers, for the
  index alone and for a split of it.

Spans overlap when ``start < other_end`` and ``other_start < end`` (spans that
only touch do not overlap; a zero-length span overlaps the spans that strictly
contain its instant).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

SPLIT_GROUP = "split_group"


def _hash_singers(index: pd.DataFrame) -> pd.DataFrame:
    """Per content hash: number of items, of singers, and the sorted singers."""
    return index.groupby("content_hash", sort=True).agg(
        n_items=("item_id", "size"),
        n_singers=("singer", "nunique"),
        n_recordings=("recording", "nunique"),
        singers=("singer", lambda singers: ",".join(sorted(set(map(str, singers))))),
    )


def find_duplicates(index: pd.DataFrame) -> pd.DataFrame:
    """Contents shared by more than one item.

    Parameters
    ----------
    index : pd.DataFrame
        A store index with ``item_id``, ``singer``, ``recording`` and ``content_hash``.

    Returns
    -------
    pd.DataFrame
        One row per content hash carried by two or more items, sorted by hash:
        ``content_hash`` (str), ``n_items``, ``n_singers``, ``n_recordings``
        (int64), ``singers`` (str, sorted and comma-separated) and
        ``cross_singer`` (bool: the same clip carries two or more singer labels).
    """
    table = _hash_singers(index)
    table = table[table["n_items"] > 1].reset_index()
    table = table.astype({"n_items": "int64", "n_singers": "int64", "n_recordings": "int64"})
    return table.assign(cross_singer=table["n_singers"] > 1)[
        ["content_hash", "n_items", "n_singers", "n_recordings", "singers", "cross_singer"]
    ]


def _stable_order(index: pd.DataFrame) -> list:
    """Row labels sorted by recording, start, end and item id (the store's order)."""
    keys = [key for key in ("recording", "start_s", "end_s") if key in index] + ["item_id"]
    return list(index.sort_values(keys, kind="stable").index)


def deduplicate(index: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Keep one item per content; drop contents carrying two or more singer labels.

    Of the items sharing a content hash, the first by recording, start, end and
    item id is kept. Items whose content carries two or more singer labels are
    all dropped: their true label is unknown.

    Parameters
    ----------
    index : pd.DataFrame
        A store index with ``item_id``, ``singer``, ``content_hash`` (and, when
        present, ``recording``, ``start_s``, ``end_s`` for the order).

    Returns
    -------
    kept : pd.DataFrame
        The kept rows, in the index's order with its row labels (so positions in
        a store's array can still be found from them).
    report : dict
        ``n_items``, ``n_kept``, ``n_dropped_copies`` (copies of a kept item),
        ``n_dropped_cross_singer`` (items of cross-singer contents),
        ``cross_singer_contents`` (number of such hashes), ``dropped_cross_singer``
        (their item ids, sorted) and ``dropped_copies`` (mapping of dropped item
        id -> kept item id).
    """
    singers_per_hash = index.groupby("content_hash")["singer"].nunique()
    conflicted = set(singers_per_hash.index[singers_per_hash > 1])
    drop_conflicted = index["content_hash"].isin(conflicted)
    first_of: dict[str, object] = {}
    copies: dict[str, str] = {}
    keep = pd.Series(False, index=index.index)
    for label in _stable_order(index[~drop_conflicted]):
        content = index.at[label, "content_hash"]
        if content in first_of:
            copies[str(index.at[label, "item_id"])] = str(index.at[first_of[content], "item_id"])
        else:
            first_of[content] = label
            keep[label] = True
    report = {
        "n_items": len(index),
        "n_kept": int(keep.sum()),
        "n_dropped_copies": len(copies),
        "n_dropped_cross_singer": int(drop_conflicted.sum()),
        "cross_singer_contents": len(conflicted),
        "dropped_cross_singer": sorted(map(str, index.loc[drop_conflicted, "item_id"])),
        "dropped_copies": dict(sorted(copies.items())),
    }
    return index[keep], report


def linked_components(n: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes under undirected edges ``first[k] -- second[k]``.

    Computed with :func:`scipy.sparse.csgraph.connected_components`.

    Parameters
    ----------
    n : int
        Number of nodes (0 to n - 1).
    first, second : array of int
        The two ends of every edge (equal lengths; repeated edges and loops are fine).

    Returns
    -------
    np.ndarray, shape (n,), int64
        Per node, the smallest node of its component.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    first = np.asarray(first, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    if first.shape != second.shape:
        raise ValueError(f"edge ends differ in length: {first.shape} and {second.shape}")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(first), dtype=np.int8), (first, second)), shape=(n, n))
    n_components, labels = connected_components(graph, directed=False)
    smallest = np.full(n_components, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n, dtype=np.int64))
    return smallest[labels]


def _equal_edges(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every position to the first position of its value (missing, "" skipped)."""
    present = np.flatnonzero(~(values.isna() | (values.astype(str) == "")).to_numpy())
    if len(present) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes, _ = pd.factorize(values.iloc[present].astype(str))
    first = pd.Series(present).groupby(codes).transform("min").to_numpy()
    return first.astype(np.int64), present.astype(np.int64)


def _overlap_edges(starts: np.ndarray, ends: np.ndarray) -> tuple[list[int], list[int]]:
    """Edges (local positions) enough to join the overlapping spans of one recording."""
    first: list[int] = []
    second: list[int] = []
    positive = np.flatnonzero(ends > starts)
    order = positive[np.lexsort((ends[positive], starts[positive]))]
    reach = -np.inf
    reach_position = -1
    for position in order:
        # Spans sorted by start: a span overlaps an earlier one exactly when it
        # starts before the furthest earlier end, and that span overlaps it.
        if starts[position] < reach:
            first.append(reach_position)
            second.append(int(position))
        if ends[position] > reach:
            reach, reach_position = ends[position], int(position)
    # A zero-length span [t, t] overlaps the spans with start < t < end; they all
    # overlap one another, so joining the one reaching furthest suffices.
    points = np.flatnonzero(ends <= starts)
    if len(points) == 0 or len(order) == 0:
        return first, second
    sorted_starts = starts[order]
    prefix_reach = np.maximum.accumulate(ends[order])
    prefix_arg = np.zeros(len(order), dtype=np.int64)
    best = 0
    for k in range(len(order)):
        if ends[order[k]] > ends[order[best]]:
            best = k
        prefix_arg[k] = best
    for position in points:
        t = starts[position]
        last = int(np.searchsorted(sorted_starts, t, side="left")) - 1
        if last >= 0 and prefix_reach[last] > t:
            first.append(int(order[prefix_arg[last]]))
            second.append(int(position))
    return first, second


def components(
    index: pd.DataFrame,
    *,
    link: Iterable[str] = ("group", "content", "overlap", "audio"),
    phrase: bool = False,
) -> pd.Series:
    """Connected components of items under the chosen links.

    Parameters
    ----------
    index : pd.DataFrame
        Items with ``item_id`` and the columns the links need: ``group``;
        ``content_hash``; ``recording``, ``start_s``, ``end_s``; ``audio_group``.
        A link whose columns are absent is skipped; NaN spans overlap nothing.
    link : iterable of {"group", "content", "overlap", "audio"}
        ``group``: same sample-sheet group; ``content``: same content hash;
        ``overlap``: overlapping spans within one recording; ``audio``: same
        ``audio_group`` (clips sharing a run of samples).
    phrase : bool
        Also join motif items of one phrase (ids ``...@recording/phrase/position``).

    Returns
    -------
    pd.Series
        Per item (aligned with ``index``), the smallest ``item_id`` of its component.
    """
    link = set(link)
    unknown = link - {"group", "content", "overlap", "audio"}
    if unknown:
        raise ValueError(f"unknown link(s) {', '.join(sorted(unknown))}")
    n = len(index)
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    for name, column in (("group", "group"), ("content", "content_hash"), ("audio", "audio_group")):
        if name in link and column in index:
            first, second = _equal_edges(index[column])
            firsts.append(first)
            seconds.append(second)
    if "overlap" in link and {"recording", "start_s", "end_s"} <= set(index.columns):
        starts = index["start_s"].to_numpy(dtype="float64")
        ends = index["end_s"].to_numpy(dtype="float64")
        for _, members in pd.Series(pd.RangeIndex(n)).groupby(index["recording"].to_numpy()):
            members = members.to_numpy()
            first, second = _overlap_edges(starts[members], ends[members])
            firsts.append(members[np.asarray(first, dtype=np.int64)])
            seconds.append(members[np.asarray(second, dtype=np.int64)])
    if phrase:
        first, second = _equal_edges(phrase_keys(index["item_id"]))
        firsts.append(first)
        seconds.append(second)
    edges = [np.concatenate(part) if part else np.zeros(0, np.int64) for part in (firsts, seconds)]
    roots = linked_components(n, *edges)
    ids = pd.Series(index["item_id"].astype(str).to_numpy())
    smallest = ids.groupby(roots).transform("min").to_numpy()
    return pd.Series(smallest, index=index.index, name=SPLIT_GROUP)


def _phrase_key(item_id: str) -> str:
    _, at, rest = item_id.partition("@")
    parts = rest.rsplit("/", 2)
    return f"{parts[0]}/{parts[1]}" if at and len(parts) == 3 else ""


def phrase_keys(item_ids: pd.Series) -> pd.Series:
    """``recording/phrase`` of motif-style ids (``...@recording/phrase/position``), else ""."""
    return pd.Series(
        [_phrase_key(str(item_id)) for item_id in item_ids], index=item_ids.index, dtype=object
    )


def assign_groups(index: pd.DataFrame) -> pd.Series:
    """Split groups: items linked by group, identical content or overlapping audio.

    Two items are linked when they share the sample sheet's ``group`` (album or
    recording), the same ``content_hash``, overlapping spans of one
    recording, or an ``audio_group`` (pre-cut clips sharing a run of samples);
    a split group is a connected component of these links
    (:func:`linked_components`). Links whose columns the index lacks are skipped (an item
    table without ``content_hash`` is grouped by group and overlap only).

    Parameters
    ----------
    index : pd.DataFrame
        A store index (or item table).

    Returns
    -------
    pd.Series
        Named ``split_group``, aligned with ``index``: the smallest ``item_id``
        of each item's component (deterministic, independent of row order).
    """
    return components(index)


def home_units(index: pd.DataFrame, units: pd.Series) -> dict[str, list[str]]:
    """Per singer (sorted), the sorted split units whose *home* it is.

    A unit's home is the singer with most items in it (ties to the first
    name); a singer is tested on the units whose home it is, so a singer
    with fewer than two is untestable (:func:`untestable_singers`).
    """
    counts = (
        pd.DataFrame(
            {"unit": units.astype(str).to_numpy(), "singer": index["singer"].astype(str).to_numpy()}
        )
        .groupby(["unit", "singer"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["unit", "n", "singer"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("unit")
    )
    home = {singer: [] for singer in sorted(index["singer"].astype(str).unique())}
    for unit, singer in zip(counts["unit"], counts["singer"]):
        home[singer].append(unit)
    return {singer: sorted(found) for singer, found in home.items()}


LINK_COLUMNS = (
    "recording_a",
    "recording_b",
    "singers_a",
    "singers_b",
    "identical_contents",
    "shared_audio_groups",
    "copied_share_a",
    "copied_share_b",
)


def recording_links(index: pd.DataFrame) -> pd.DataFrame:
    """Pairs of recordings that share audio: identical clips or runs of samples.

    Parameters
    ----------
    index : pd.DataFrame
        Items with ``recording``, ``singer`` and ``content_hash`` (and
        ``audio_group`` for pre-cut clips). Take it *before* deduplication:
        a recording whose clips are all copies of another's is visible only
        there.

    Returns
    -------
    pd.DataFrame
        Schema :data:`LINK_COLUMNS`, one row per linked pair
        (``recording_a < recording_b``), most shared contents first:
        ``singers_a``/``singers_b`` (comma-separated labels of each recording),
        ``identical_contents`` (distinct contents found in both),
        ``shared_audio_groups`` (audio groups, :mod:`cantaor.dataset.clips`, spanning
        both; 0 without that column), and ``copied_share_a``/``copied_share_b``
        (share of each recording's distinct contents found in the other: 1.0
        means every clip of it is a copy).
    """
    recordings = index["recording"].astype(str)
    pair_keys = ["recording_a", "recording_b"]
    counts = []
    for name, column in (
        ("identical_contents", "content_hash"),
        ("shared_audio_groups", "audio_group"),
    ):
        if column not in index:
            continue
        values = pd.DataFrame({"value": index[column], "recording": recordings}).dropna()
        values = values[values["value"].astype(str) != ""].drop_duplicates()
        spanning = values[values.groupby("value")["recording"].transform("nunique") > 1]
        pairs = spanning.merge(spanning, on="value", suffixes=("_a", "_b"))
        pairs = pairs[pairs["recording_a"] < pairs["recording_b"]]
        counts.append(pairs.groupby(pair_keys)["value"].nunique().rename(name))
    if not counts or all(part.empty for part in counts):
        return pd.DataFrame(columns=list(LINK_COLUMNS))
    links = pd.concat(counts, axis=1).fillna(0).astype("int64").reset_index()
    for name in ("identical_contents", "shared_audio_groups"):
        if name not in links:
            links[name] = 0
    singers = (
        index["singer"].astype(str).groupby(recordings).agg(lambda s: ",".join(sorted(set(s))))
    )
    contents = index["content_hash"].groupby(recordings).nunique()
    for side in ("a", "b"):
        links[f"singers_{side}"] = links[f"recording_{side}"].map(singers)
        links[f"copied_share_{side}"] = links["identical_contents"] / links[
            f"recording_{side}"
        ].map(contents)
    links = links.sort_values(
        ["identical_contents", "shared_audio_groups", *pair_keys],
        ascending=[False, False, True, True],
        kind="stable",
        ignore_index=True,
    )
    return links[list(LINK_COLUMNS)]


def _describe_links(links: pd.DataFrame, limit: int = 4) -> str:
    described = []
    for row in links.head(limit).itertuples():
        kinds = []
        if row.identical_contents:
            kinds.append(f"{row.identical_contents} identical clip(s)")
        if row.shared_audio_groups and row.shared_audio_groups != row.identical_contents:
            kinds.append(f"audio in {row.shared_audio_groups} clip group(s)")
        described.append(
            f"{row.recording_a} ({row.singers_a}) and {row.recording_b} ({row.singers_b}) "
            f"share {' and '.join(kinds) or 'audio'}"
        )
    if len(links) > limit:
        described.append(f"{len(links) - limit} more linked pairs")
    return "; ".join(described)


def _chain(index: pd.DataFrame, units: pd.Series, chosen: list[str], links: pd.DataFrame) -> str:
    """Why the recordings of the units ``chosen`` are one unit: the links among them."""
    inside = index[units.astype(str).isin(chosen).to_numpy()]
    recordings = sorted(set(inside["recording"].astype(str)))
    own_links = links[links["recording_a"].isin(recordings) & links["recording_b"].isin(recordings)]
    parts = []
    if not own_links.empty:
        parts.append(_describe_links(own_links))
    if "group" in inside:
        shared = inside.groupby(inside["group"].astype(str))["recording"].nunique()
        for group in shared.index[shared > 1]:
            held = sorted(set(inside.loc[inside["group"].astype(str) == group, "recording"]))
            parts.append(f"sample-sheet group {group} holds recordings {', '.join(held)}")
    return "; ".join(parts)


def untestable_singers(
    index: pd.DataFrame,
    units: pd.Series,
    *,
    all_items: pd.DataFrame | None = None,
) -> dict[str, str]:
    """The singers who cannot be tested on audio unseen in training, and why.

    The one computation behind every report: a singer is untestable when
    fewer than two split units are its home (:func:`home_units`), or when
    none of its items is left in ``index`` (all dropped by
    :func:`deduplicate`).

    Parameters
    ----------
    index : pd.DataFrame
        The items that are split (after deduplication, if any), with
        ``singer``, ``recording`` and ``content_hash``.
    units : pd.Series
        Split unit of every item of ``index`` (aligned with it).
    all_items : pd.DataFrame, optional
        Every item before deduplication (default ``index``): names the
        singers whose items all vanished, and shows shared audio between
        recordings that deduplication hides.

    Returns
    -------
    dict
        Singer -> reason (one sentence), sorted by singer.
    """
    all_items = index if all_items is None else all_items
    units = units.reindex(index.index).astype(str)
    home = home_units(index, units)
    links = recording_links(all_items)
    reasons = {}
    for singer in sorted(set(all_items["singer"].astype(str))):
        mine_all = all_items[all_items["singer"].astype(str) == singer]
        if singer not in home:
            others = all_items[all_items["content_hash"].isin(set(mine_all["content_hash"]))]
            others = sorted(set(others["singer"].astype(str)) - {singer})
            reasons[singer] = f"none of its {len(mine_all)} items is left after deduplication" + (
                f": their contents also carry the label(s) {', '.join(others)}, so "
                "their singer is unknown and they were dropped; a model trained here "
                f"does not know {singer}"
                if others
                else ""
            )
            continue
        own = home[singer]
        if len(own) >= 2:
            continue
        mine = index[index["singer"].astype(str) == singer]
        holding = sorted(set(units[mine.index]))
        recordings = sorted(set(mine["recording"].astype(str)))
        if not own:
            holders = sorted(
                {holder for holder, found in home.items() for unit in holding if unit in found}
            )
            reason = (
                f"no split group of its own: its items lie in split group(s) held mostly by "
                f"{', '.join(holders)}"
            )
            chosen = holding
        else:
            chosen = sorted(set(own) | set(holding))
            inside = set(index.loc[units.isin(chosen).to_numpy(), "recording"].astype(str))
            if len(inside) == 1:
                reasons[singer] = f"all its items come from one recording, {recordings[0]}"
                continue
            if len(recordings) > 1:
                reason = f"its recordings ({', '.join(recordings)}) form one split group"
            else:
                reason = (
                    f"its only recording {recordings[0]} shares a split group with "
                    + ", ".join(sorted(inside - set(recordings)))
                )
        why = _chain(index, units, chosen, links)
        reasons[singer] = reason + (f", chained by shared audio or groups: {why}" if why else "")
    return reasons


def _overlap_with(index: pd.DataFrame, query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per query row (boolean mask), whether a reference row of its recording overlaps it."""
    found = np.zeros(len(index), dtype=bool)
    recordings = index["recording"].to_numpy()
    starts = index["start_s"].to_numpy(dtype="float64")
    ends = index["end_s"].to_numpy(dtype="float64")
    for recording in pd.unique(recordings[query]):
        q = np.flatnonzero(query & (recordings == recording))
        r = np.flatnonzero(reference & (recordings == recording))
        if len(r) == 0:
            continue
        hit = (starts[q, None] < ends[None, r]) & (starts[None, r] < ends[q, None])
        found[q] = hit.any(axis=1)
    return found


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def leakage_report(
    index: pd.DataFrame,
    split: pd.DataFrame | None = None,
    *,
    units: pd.Series | None = None,
    testability: dict | None = None,
) -> dict:
    """How much an index, and a split of it, leaks between items.

    Parameters
    ----------
    index : pd.DataFrame
        A store index (``item_id``, ``singer``, ``recording``, ``group``,
        ``start_s``, ``end_s``, ``content_hash``), every item before any
        deduplication.
    split : pd.DataFrame, optional
        ``item_id`` and ``subset`` (train, validation, test, excluded). "In
        train" below means the ``train`` subset.
    units : pd.Series, optional
        The split unit of every item (aligned with ``index``); default
        :func:`assign_groups` of ``index``.
    testability : dict, optional
        ``units_per_singer`` and ``untestable_reasons`` of the split's report
        (:func:`cantaor.dataset.split.split_with_report`), so that this report names
        the same untestable singers as the split; computed here with
        :func:`untestable_singers` when not given.

    Returns
    -------
    dict
        JSON-ready. For the index: ``n_items``; ``n_distinct_contents``;
        ``n_redundant_copies`` (items beyond the first of their content);
        ``n_items_duplicated_within_singer`` (items sharing their content with
        another item of the same singer); ``n_items_cross_singer`` (items whose
        content carries two or more singer labels) and
        ``n_cross_singer_contents``; per singer ``items_per_singer``,
        ``recordings_per_singer``, ``groups_per_singer`` (sample-sheet groups)
        ``split_groups_per_singer`` (split units holding an item of the
        singer) and ``own_split_groups_per_singer`` (units whose home it is,
        :func:`home_units`); ``n_split_groups``; ``untestable_singers`` and
        ``untestable_reasons`` (:func:`untestable_singers`: who cannot be
        tested on audio unseen in training, and why); ``recording_links``
        (:func:`recording_links`, as records).

        With a split, under ``split``: ``n_train``, ``n_test``, and the shares
        of test items with an identical-content item in train
        (``test_identical_in_train``), with an overlapping span of the same
        recording or the same ``audio_group`` in train
        (``test_overlap_in_train``), whose recording
        (``test_recording_in_train``) or sample-sheet group
        (``test_group_in_train``) is also in train, whose recording shares
        identical clips or audio with a training recording, or is one
        (``test_linked_recording_in_train``), and whose identical copy
        in train carries the same singer (``test_label_copy_correct``: the
        accuracy a lookup of seen clips gets without learning), with the
        matching counts under ``counts``; ``untested_singers``: singers with
        no test item.
    """
    split_groups = assign_groups(index) if units is None else units.reindex(index.index)
    if testability is None:
        reasons = untestable_singers(index, split_groups)
        own_units = {s: len(found) for s, found in home_units(index, split_groups).items()}
    else:
        reasons = dict(testability["untestable_reasons"])
        own_units = dict(testability["units_per_singer"])
    links = recording_links(index)
    per_hash = index.groupby("content_hash")
    hash_count = per_hash["item_id"].transform("size")
    hash_singers = per_hash["singer"].transform("nunique")
    same_singer = index.groupby(["content_hash", "singer"])["item_id"].transform("size")

    def per_singer(values: pd.Series) -> dict[str, int]:
        counts = values.groupby(index["singer"]).nunique()
        return {str(singer): int(count) for singer, count in counts.sort_index().items()}

    split_groups_per_singer = per_singer(split_groups)
    report: dict = {
        "n_items": len(index),
        "n_distinct_contents": int(index["content_hash"].nunique()),
        "n_redundant_copies": len(index) - int(index["content_hash"].nunique()),
        "n_items_duplicated_within_singer": int((same_singer > 1).sum()),
        "n_items_cross_singer": int((hash_singers > 1).sum()),
        "n_cross_singer_contents": int((per_hash["singer"].nunique() > 1).sum()),
        "n_items_in_shared_contents": int((hash_count > 1).sum()),
        "items_per_singer": {
            str(s): int(n) for s, n in index.groupby("singer").size().sort_index().items()
        },
        "recordings_per_singer": per_singer(index["recording"]),
        "groups_per_singer": per_singer(index["group"]),
        "split_groups_per_singer": split_groups_per_singer,
        "own_split_groups_per_singer": {
            singer: int(own_units.get(singer, 0)) for singer in split_groups_per_singer
        },
        "n_split_groups": int(split_groups.nunique()),
        "untestable_singers": sorted(reasons),
        "untestable_reasons": dict(sorted(reasons.items())),
        "recording_links": links.to_dict("records"),
    }
    if split is None:
        return report
    subsets = index[["item_id"]].merge(split, on="item_id", how="left", validate="one_to_one")
    subset = subsets["subset"].to_numpy()
    train = subset == "train"
    test = subset == "test"
    n_test = int(test.sum())
    train_hashes = index.loc[train, ["content_hash", "singer"]]
    identical = test & index["content_hash"].isin(set(train_hashes["content_hash"])).to_numpy()
    labelled = set(zip(train_hashes["content_hash"], train_hashes["singer"]))
    copy_correct = test & np.array(
        [(h, s) in labelled for h, s in zip(index["content_hash"], index["singer"])], dtype=bool
    )
    overlap = _overlap_with(index, test, train)
    if "audio_group" in index:
        shared = index["audio_group"].isin(set(index.loc[train, "audio_group"])).to_numpy()
        overlap |= test & shared
    recording = test & index["recording"].isin(set(index.loc[train, "recording"])).to_numpy()
    group = test & index["group"].isin(set(index.loc[train, "group"])).to_numpy()
    train_recordings = set(index.loc[train, "recording"].astype(str))
    linked_recordings = set(train_recordings)
    for a, b in zip(links["recording_a"], links["recording_b"]):
        if a in train_recordings:
            linked_recordings.add(b)
        if b in train_recordings:
            linked_recordings.add(a)
    linked = test & index["recording"].astype(str).isin(linked_recordings).to_numpy()
    counts = {
        "test_identical_in_train": int(identical.sum()),
        "test_overlap_in_train": int(overlap.sum()),
        "test_recording_in_train": int(recording.sum()),
        "test_group_in_train": int(group.sum()),
        "test_linked_recording_in_train": int(linked.sum()),
        "test_label_copy_correct": int(copy_correct.sum()),
    }
    tested = set(index.loc[test, "singer"].astype(str))
    report["split"] = {
        "n_train": int(train.sum()),
        "n_validation": int((subset == "validation").sum()),
        "n_test": n_test,
        "n_unassigned": int(pd.isna(subset).sum()),
        **{name: _share(count, n_test) for name, count in counts.items()},
        "counts": counts,
        "untested_singers": sorted(set(report["items_per_singer"]) - tested),
    }
    return report


def leakage_markdown(report: dict, *, max_links: int = 20) -> str:
    """A Markdown summary of :func:`leakage_report`.

    Lists why each untestable singer is untestable, the ``max_links``
    recording pairs sharing most audio, and, with a split, the shares of
    test items that leak.
    """
    lines = [
        "# Leakage",
        "",
        "| measure | value |",
        "|---|---|",
        f"| items | {report['n_items']} |",
        f"| distinct contents | {report['n_distinct_contents']} |",
        f"| redundant copies (beyond the first of a content) | {report['n_redundant_copies']} |",
        "| items sharing their content with the same singer | "
        f"{report['n_items_duplicated_within_singer']} |",
        f"| items whose content carries 2+ singers | {report['n_items_cross_singer']} |",
        f"| split groups (group + content + shared audio) | {report['n_split_groups']} |",
        f"| recording pairs sharing audio | {len(report['recording_links'])} |",
        "",
        "| singer | items | recordings | sample-sheet groups | split groups holding its items "
        "| split groups of its own |",
        "|---|---|---|---|---|---|",
    ]
    for singer, n_items in report["items_per_singer"].items():
        lines.append(
            f"| {singer} | {n_items} | {report['recordings_per_singer'][singer]} | "
            f"{report['groups_per_singer'][singer]} | {report['split_groups_per_singer'][singer]} "
            f"| {report['own_split_groups_per_singer'][singer]} |"
        )
    lines += [
        "",
        "Split groups are built from every item before any copy is dropped; a group "
        "belongs to the singer with most items in it.",
        "",
    ]
    reasons = report["untestable_reasons"]
    if reasons:
        lines.append(
            f"Singers who cannot be tested on audio unseen in training ({', '.join(reasons)}):"
        )
        lines.append("")
        lines += [f"- **{singer}**: {reason}." for singer, reason in reasons.items()]
    else:
        lines.append("Every singer has at least two split groups of its own.")
    links = report["recording_links"]
    if links:
        lines += [
            "",
            "## Recordings sharing audio",
            "",
            "Each pair below lands in one split group. A copied share of 100% means every "
            "clip of that recording is a copy of a clip of the other: the two ids are one "
            "recording.",
            "",
            "| recording | singers | recording | singers | identical contents "
            "| shared-audio groups | copied share (first) | copied share (second) |",
            "|---|---|---|---|---:|---:|---:|---:|",
        ]
        for link in links[:max_links]:
            lines.append(
                f"| {link['recording_a']} | {link['singers_a']} | {link['recording_b']} "
                f"| {link['singers_b']} | {link['identical_contents']} "
                f"| {link['shared_audio_groups']} | {link['copied_share_a']:.0%} "
                f"| {link['copied_share_b']:.0%} |"
            )
        if len(links) > max_links:
            lines.append(
                f"| {len(links) - max_links} more pairs in the JSON report | | | | | | | |"
            )
    split = report.get("split")
    if split is not None:
        counts = split["counts"]
        lines += [
            "",
            f"## Split ({split['n_train']} train, {split['n_validation']} validation, "
            f"{split['n_test']} test items)",
            "",
            "| test items ... | share | count |",
            "|---|---|---|",
        ]
        for key, label in (
            ("test_identical_in_train", "with an identical clip in train"),
            ("test_overlap_in_train", "sharing audio (overlapping span or run) with train"),
            ("test_recording_in_train", "whose recording is also in train"),
            (
                "test_linked_recording_in_train",
                "whose recording is in train or shares audio with a training recording",
            ),
            ("test_group_in_train", "whose sample-sheet group is also in train"),
            ("test_label_copy_correct", "named right by copying a seen clip's label"),
        ):
            lines.append(f"| {label} | {split[key]:.1%} | {counts[key]} |")
        lines.append("")
        if counts["test_identical_in_train"] or counts["test_overlap_in_train"]:
            lines.append(
                "**This split leaks audio: test scores measure recognition of seen clips, "
                "not of singers.**"
            )
        elif counts["test_recording_in_train"] or counts["test_linked_recording_in_train"]:
            lines.append(
                "No audio is shared, but test recordings (or recordings sharing audio with "
                "them) also appear in training: scores mix recording identity with singer "
                "identity."
            )
        else:
            lines.append("No test item shares audio or a recording with training.")
        if split["untested_singers"]:
            lines.append(f"Singers with no test item: {', '.join(split['untested_singers'])}.")
    return "\n".join(lines) + "\n"
