"""Leakage between items: identical clips, shared audio, shared recordings.

The authors' released clips hold many byte-identical copies (some under two
singer labels) and overlapping clips of one recording, so a random split of
them tests mostly on audio already seen in training (REFERENCE.md section 2).
This module finds such links in a store index
(:data:`cantaor.features.INDEX_COLUMNS`) and measures them in a split:

- :func:`find_duplicates` and :func:`deduplicate`: identical contents
  (``content_hash``);
- :func:`assign_groups`: connected components of items linked by a shared
  sample-sheet ``group``, identical content, overlapping spans of one
  recording, or (for pre-cut clips, whose spans are unknown) a shared run of
  samples (``audio_group``, :mod:`cantaor.clips`); whole components are what
  an honest split keeps on one side (:func:`cantaor.split.split_with_report`
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


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        root_i, root_j = self.find(i), self.find(j)
        if root_i != root_j:
            self.parent[max(root_i, root_j)] = min(root_i, root_j)


def _link_equal(uf: _UnionFind, values: pd.Series) -> None:
    """Join the positions sharing a value (missing and empty values join nothing)."""
    first: dict = {}
    for position, value in enumerate(values):
        if pd.isna(value) or value == "":
            continue
        if value in first:
            uf.union(first[value], position)
        else:
            first[value] = position


def _link_overlaps(uf: _UnionFind, starts: np.ndarray, ends: np.ndarray) -> None:
    """Join the overlapping spans among ``starts`` / ``ends`` (positions in ``uf``)."""
    positive = np.flatnonzero(ends > starts)
    order = positive[np.lexsort((ends[positive], starts[positive]))]
    reach = -np.inf
    reach_position = -1
    for position in order:
        # Spans sorted by start: a span overlaps an earlier one exactly when it
        # starts before the furthest earlier end, and that span overlaps it.
        if starts[position] < reach:
            uf.union(reach_position, int(position))
        if ends[position] > reach:
            reach, reach_position = ends[position], int(position)
    # A zero-length span [t, t] overlaps the spans with start < t < end; they all
    # overlap one another, so joining the one reaching furthest suffices.
    points = np.flatnonzero(ends <= starts)
    if len(points) == 0 or len(order) == 0:
        return
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
            uf.union(int(order[prefix_arg[last]]), int(position))


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
    uf = _UnionFind(n)
    if "group" in link and "group" in index:
        _link_equal(uf, index["group"])
    if "content" in link and "content_hash" in index:
        _link_equal(uf, index["content_hash"])
    if "audio" in link and "audio_group" in index:
        _link_equal(uf, index["audio_group"])
    if "overlap" in link and {"recording", "start_s", "end_s"} <= set(index.columns):
        starts = index["start_s"].to_numpy(dtype="float64")
        ends = index["end_s"].to_numpy(dtype="float64")
        positions = pd.RangeIndex(n)
        for _, members in pd.Series(positions).groupby(index["recording"].to_numpy()):
            members = members.to_numpy()
            local = _UnionFind(len(members))
            _link_overlaps(local, starts[members], ends[members])
            for k in range(len(members)):
                uf.union(int(members[k]), int(members[local.find(k)]))
    if phrase:
        _link_equal(uf, phrase_keys(index["item_id"]))
    roots = [uf.find(i) for i in range(n)]
    ids = index["item_id"].astype(str).to_numpy()
    smallest: dict[int, str] = {}
    for root, item_id in zip(roots, ids):
        if root not in smallest or item_id < smallest[root]:
            smallest[root] = item_id
    return pd.Series([smallest[root] for root in roots], index=index.index, name=SPLIT_GROUP)


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
    a split group is a connected component of these links, computed
    with a union-find. Links whose columns the index lacks are skipped (an item
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


def leakage_report(index: pd.DataFrame, split: pd.DataFrame | None = None) -> dict:
    """How much an index, and a split of it, leaks between items.

    Parameters
    ----------
    index : pd.DataFrame
        A store index (``item_id``, ``singer``, ``recording``, ``group``,
        ``start_s``, ``end_s``, ``content_hash``).
    split : pd.DataFrame, optional
        ``item_id`` and ``subset`` (train, validation, test, excluded). "In
        train" below means the ``train`` subset.

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
        and ``split_groups_per_singer`` (components of :func:`assign_groups`
        holding an item of the singer); ``n_split_groups``;
        ``untestable_singers``: singers with fewer than two split groups, who
        cannot be tested on audio unseen in training.

        With a split, under ``split``: ``n_train``, ``n_test``, and the shares
        of test items with an identical-content item in train
        (``test_identical_in_train``), with an overlapping span of the same
        recording or the same ``audio_group`` in train
        (``test_overlap_in_train``), whose recording
        (``test_recording_in_train``) or sample-sheet group
        (``test_group_in_train``) is also in train, and whose identical copy
        in train carries the same singer (``test_label_copy_correct``: the
        accuracy a lookup of seen clips gets without learning), with the
        matching counts under ``counts``; ``untested_singers``: singers with
        no test item.
    """
    split_groups = assign_groups(index)
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
        "n_split_groups": int(split_groups.nunique()),
        "untestable_singers": sorted(s for s, n in split_groups_per_singer.items() if n < 2),
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
    counts = {
        "test_identical_in_train": int(identical.sum()),
        "test_overlap_in_train": int(overlap.sum()),
        "test_recording_in_train": int(recording.sum()),
        "test_group_in_train": int(group.sum()),
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


def leakage_markdown(report: dict) -> str:
    """A Markdown summary of :func:`leakage_report`."""
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
        "",
        "| singer | items | recordings | sample-sheet groups | split groups |",
        "|---|---|---|---|---|",
    ]
    for singer, n_items in report["items_per_singer"].items():
        lines.append(
            f"| {singer} | {n_items} | {report['recordings_per_singer'][singer]} | "
            f"{report['groups_per_singer'][singer]} | {report['split_groups_per_singer'][singer]} |"
        )
    lines.append("")
    untestable = report["untestable_singers"]
    if untestable:
        lines.append(
            "Singers with fewer than two split groups, who cannot be tested on audio unseen "
            f"in training: {', '.join(untestable)}."
        )
    else:
        lines.append("Every singer has at least two split groups.")
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
        elif counts["test_recording_in_train"]:
            lines.append(
                "No audio is shared, but test recordings also appear in training: scores "
                "mix recording identity with singer identity."
            )
        else:
            lines.append("No test item shares audio or a recording with training.")
        if split["untested_singers"]:
            lines.append(f"Singers with no test item: {', '.join(split['untested_singers'])}.")
    return "\n".join(lines) + "\n"
