"""Pre-cut clips as a dataset: a folder of clips per singer, or a clips.tsv.

The authors released their motif set as one folder per singer of files named
``RECORDINGID_PATTERN_UUID.wav`` (REFERENCE.md section 2). This module reads
such a folder (:func:`scan_clip_folder`) or a table (:func:`read_clip_table`),
reads every clip (:func:`clip_items`) and links the clips that share audio,
so that the workflow can split, train and evaluate on them without f0 or
mining.

Clips of one recording, identical clips and clips cut from overlapping spans
of one recording must stay on one side of a split. The first two are visible
in the table and the content hash; the third is not, since a clip does not
say where in its recording it was cut. Two such clips share a run of
identical samples, which :func:`shared_run_groups` finds: a winnowed
fingerprint of every clip (hashes of fixed-length sample windows, of which
each run of ``window_samples`` consecutive hashes contributes its minimum)
gives candidate pairs, and each candidate is checked on the samples
themselves. A run of one repeated value (digital silence) is not shared audio.

Clip table schema (:data:`CLIP_COLUMNS`): ``clip_id`` (``singer/file stem``,
unique), ``path`` (str), ``singer``, ``recording``, ``pattern``, ``group``
(str; ``group`` is the recording unless a clips.tsv gives one).

Item table schema (:data:`CLIP_ITEM_COLUMNS`): the clip table's ``clip_id`` as
``item_id`` and ``pattern`` as ``motif_id``; ``start_s`` and ``end_s`` NaN (a
clip's place in its recording is unknown); ``duration_s``; ``sample_rate``
(int64, the file's rate); ``content_hash`` (:func:`cantaor.features.store.content_hash`
of the clip's samples at the file's rate); ``audio_group`` (str, the smallest
``clip_id`` of the clips sharing a run of samples with it, directly or
through other clips; its own id when it shares none).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cantaor.dataset.leakage import linked_components
from cantaor.features.store import content_hash
from cantaor.util.audio import AudioError, load_audio

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
CLIP_COLUMNS = ("clip_id", "path", "singer", "recording", "pattern", "group")
CLIP_ITEM_COLUMNS = (
    "item_id",
    "singer",
    "recording",
    "group",
    "motif_id",
    "start_s",
    "end_s",
    "duration_s",
    "path",
    "sample_rate",
    "content_hash",
    "audio_group",
)
ON_BAD = ("fail", "skip")
TABLE_COLUMNS = ("path", "singer", "recording", "pattern")
_NAME = re.compile(r"^(?P<recording>[^_]+)_(?P<pattern>.+)_(?P<uuid>[^_]+)$")


class ClipError(ValueError):
    """A clip folder, table or file that cannot be used."""


def _check_on_bad(on_bad: str) -> None:
    if on_bad not in ON_BAD:
        raise ValueError(f"unknown on_bad policy {on_bad!r}; choose one of {', '.join(ON_BAD)}")


def parse_clip_name(path: str | os.PathLike) -> tuple[str, str, str]:
    """Recording id, pattern and uuid of a ``RECORDINGID_PATTERN_UUID.wav`` name.

    The recording id runs to the first underscore and the uuid from the last
    one, so the pattern may itself hold underscores.

    Raises
    ------
    ClipError
        Naming the file, when the stem does not have three non-empty parts.
    """
    match = _NAME.match(Path(path).stem)
    if match is None:
        raise ClipError(
            f"{path}: clip name does not parse as RECORDINGID_PATTERN_UUID "
            "(three parts separated by underscores)"
        )
    return match["recording"], match["pattern"], match["uuid"]


def _finish(
    rows: list[dict], skipped: list[dict], source: str, *, with_fold: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = pd.DataFrame(rows, columns=list(CLIP_COLUMNS) + (["fold"] if with_fold else []))
    if with_fold:
        table["fold"] = table["fold"].astype("int64")
    if table.empty:
        raise ClipError(f"{source}: no usable clips")
    duplicated = table["clip_id"].duplicated(keep=False)
    if duplicated.any():
        raise ClipError(
            f"{source}: clip ids (singer/file stem) used twice: "
            + ", ".join(sorted(set(table.loc[duplicated, "clip_id"])))
        )
    table = table.sort_values("clip_id", ignore_index=True)
    return table, pd.DataFrame(skipped, columns=["path", "reason"])


def scan_clip_folder(
    folder: str | os.PathLike, *, on_bad: str = "fail"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clips of a folder holding one subfolder per singer.

    Audio files (:data:`AUDIO_SUFFIXES`) in each subfolder are the singer's
    clips; hidden files are ignored.

    Parameters
    ----------
    folder : path
    on_bad : {"fail", "skip"}
        A file whose name does not parse, or that is not audio, stops the scan
        with an error naming it (``fail``) or is listed in ``skipped``.

    Returns
    -------
    clips : pd.DataFrame
        Schema :data:`CLIP_COLUMNS`, sorted by ``clip_id``.
    skipped : pd.DataFrame
        ``path`` and ``reason`` of the files left out.
    """
    _check_on_bad(on_bad)
    folder = Path(folder)
    if not folder.is_dir():
        raise ClipError(f"{folder}: clip folder not found")
    rows, skipped = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            reason = "a file outside the singer subfolders"
            if on_bad == "fail":
                raise ClipError(f"{entry}: {reason}")
            skipped.append({"path": str(entry), "reason": reason})
            continue
        for path in sorted(entry.rglob("*")):
            if path.name.startswith(".") or path.is_dir():
                continue
            try:
                if path.suffix.lower() not in AUDIO_SUFFIXES:
                    raise ClipError(f"{path}: not an audio file ({', '.join(AUDIO_SUFFIXES)})")
                recording, pattern, _ = parse_clip_name(path)
            except ClipError as err:
                if on_bad == "fail":
                    raise
                skipped.append({"path": str(path), "reason": str(err).split(": ", 1)[1]})
                continue
            rows.append(
                {
                    "clip_id": f"{entry.name}/{path.stem}",
                    "path": str(path),
                    "singer": entry.name,
                    "recording": recording,
                    "pattern": pattern,
                    "group": recording,
                }
            )
    return _finish(rows, skipped, str(folder))


def read_clip_table(
    table_path: str | os.PathLike, *, on_bad: str = "fail"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clips listed in a clips.tsv.

    Tab-separated, with columns ``path`` (relative to the table's folder, or
    absolute), ``singer``, ``recording``, ``pattern`` and optionally ``group``
    (an album or session; the recording when absent or empty) and ``fold``
    (an integer from 1: the test fold of the clip's split group in group
    k-fold, :func:`cantaor.dataset.split.split_with_report`; every row needs one
    when the column is there).

    Parameters
    ----------
    table_path : path
    on_bad : {"fail", "skip"}
        A row with an empty field or a missing file stops with an error naming
        the row (``fail``) or is listed in ``skipped``.

    Returns
    -------
    clips, skipped : pd.DataFrame
        As :func:`scan_clip_folder`, plus ``fold`` (int64) when the table has
        that column.
    """
    _check_on_bad(on_bad)
    table_path = Path(table_path)
    if not table_path.is_file():
        raise ClipError(f"{table_path}: clip table not found")
    try:
        raw = pd.read_csv(table_path, sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ClipError(f"{table_path}: cannot read as a tab-separated table ({err})") from err
    missing = [column for column in TABLE_COLUMNS if column not in raw.columns]
    if missing:
        raise ClipError(f"{table_path}: missing column(s) {', '.join(missing)}")
    rows, skipped = [], []
    for number, row in enumerate(raw.to_dict("records"), start=2):
        path = Path(row["path"])
        if not path.is_absolute():
            path = table_path.parent / path
        empty = [column for column in TABLE_COLUMNS if not row[column].strip()]
        reason = None
        if empty:
            reason = f"empty {', '.join(empty)}"
        elif "fold" in raw.columns and not re.fullmatch(r"[1-9][0-9]*", row["fold"].strip()):
            reason = f"fold {row['fold']!r} is not a whole number from 1"
        elif not path.is_file():
            reason = f"file {path} not found"
        if reason is not None:
            if on_bad == "fail":
                raise ClipError(f"{table_path}, line {number}: {reason}")
            skipped.append({"path": str(path), "reason": reason})
            continue
        group = row.get("group", "").strip() or row["recording"]
        rows.append(
            {
                "clip_id": f"{row['singer']}/{path.stem}",
                "path": str(path),
                "singer": row["singer"],
                "recording": row["recording"],
                "pattern": row["pattern"],
                "group": group,
                **({"fold": int(row["fold"])} if "fold" in raw.columns else {}),
            }
        )
    return _finish(rows, skipped, str(table_path), with_fold="fold" in raw.columns)


def select_singers(
    clips: pd.DataFrame, singers: Sequence[str] | None, *, source: str = "clips"
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The clips of the chosen singers (``corpus.singers`` in clips mode).

    Parameters
    ----------
    clips : pd.DataFrame
        :func:`scan_clip_folder` or :func:`read_clip_table` output.
    singers : sequence of str, optional
        The singers to keep; None or empty keeps every singer.
    source : str
        The folder or table, for the error message.

    Returns
    -------
    kept : pd.DataFrame
        The chosen singers' clips.
    left_out : dict
        Per other singer (sorted), the number of its clips left out.

    Raises
    ------
    ClipError
        When a chosen singer has no clip, naming it and the singers there are.
    """
    if not singers:
        return clips, {}
    present = set(clips["singer"])
    missing = sorted(set(singers) - present)
    if missing:
        raise ClipError(
            f"{source}: corpus.singers names {', '.join(missing)}, with no clip there; "
            f"its singers are {', '.join(sorted(present))}"
        )
    chosen = clips["singer"].isin(set(singers))
    left_out = clips.loc[~chosen, "singer"].value_counts().sort_index()
    return clips[chosen].reset_index(drop=True), {str(k): int(v) for k, v in left_out.items()}


MANIFEST_COLUMNS = ("clip_id", "path", "size_bytes", "mtime_ns")


def write_clip_manifest(clips: pd.DataFrame, manifest_path: str | os.PathLike) -> bool:
    """Write the list of clips with each file's size and time stamp, if it changed.

    The workflow gives this one file to ``clip_items`` as its input instead
    of every clip (11,158 paths of the authors' set made a log line of a
    million characters): any added, removed, renamed or rewritten clip
    changes the manifest, which is then rewritten, so ``clip_items`` reruns;
    an unchanged listing leaves the file and its time stamp alone.

    Parameters
    ----------
    clips : pd.DataFrame
        ``clip_id`` and ``path``.
    manifest_path : path
        Tab-separated, columns :data:`MANIFEST_COLUMNS`.

    Returns
    -------
    bool
        Whether the file was (re)written.
    """
    rows = []
    for clip_id, path in zip(clips["clip_id"], clips["path"]):
        stat = os.stat(path)
        rows.append(f"{clip_id}\t{path}\t{stat.st_size}\t{stat.st_mtime_ns}")
    text = "\n".join(["\t".join(MANIFEST_COLUMNS), *rows]) + "\n"
    manifest_path = Path(manifest_path)
    if manifest_path.is_file() and manifest_path.read_text(encoding="utf-8") == text:
        return False
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = manifest_path.with_name(manifest_path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, manifest_path)
    return True


def _mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread 64-bit hash of each uint64."""
    with np.errstate(over="ignore"):
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


# Window hashes are kept below 2**52 so scipy's filters (through float64) stay exact.
_HASH_BITS = np.uint64((1 << 52) - 1)
_NO_HASH = np.int64(1 << 52)


def _window_hashes(samples: np.ndarray, window: int) -> np.ndarray:
    """Hash of every ``window``-sample window; constant windows get ``_NO_HASH``."""
    first = samples[:-1].astype(np.uint64)
    second = samples[1:].astype(np.uint64)
    pairs = _mix64((first << np.uint64(32)) | second)
    with np.errstate(over="ignore"):
        sums = np.concatenate([np.zeros(1, np.uint64), np.cumsum(pairs, dtype=np.uint64)])
        hashes = sums[window - 1 :] - sums[: len(sums) - window + 1]
    hashes = (_mix64(hashes) & _HASH_BITS).astype(np.int64)
    changes = np.concatenate([[0], np.cumsum(samples[1:] != samples[:-1])])
    constant = changes[window - 1 :] == changes[: len(changes) - window + 1]
    hashes[constant] = _NO_HASH
    return hashes


def _winnow(hashes: np.ndarray, span: int) -> np.ndarray:
    """Positions holding the minimum of some run of ``span`` consecutive hashes."""
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    window_min = minimum_filter1d(hashes, span, origin=-(span // 2))[: len(hashes) - span + 1]
    padded = np.concatenate([window_min, np.full(span - 1, -1, dtype=np.int64)])
    # Largest minimum over the windows containing each position.
    reach = maximum_filter1d(padded, span, origin=(span - 1) // 2, mode="constant", cval=-1)
    return np.flatnonzero((hashes == reach) & (hashes != _NO_HASH))


def _shared_run(
    a: np.ndarray, i: int, b: np.ndarray, j: int, window: int, min_samples: int
) -> bool:
    """Whether a[i:] and b[j:] start a shared run of >= min_samples, not all one value."""
    if not np.array_equal(a[i : i + window], b[j : j + window]):
        return False
    before = min(i, j)
    left = np.flatnonzero(a[i - before : i][::-1] != b[j - before : j][::-1])
    left = int(left[0]) if len(left) else before
    after = min(len(a) - i, len(b) - j) - window
    right = np.flatnonzero(a[i + window : i + window + after] != b[j + window : j + window + after])
    right = int(right[0]) if len(right) else after
    start, stop = i - left, i + window + right
    return stop - start >= min_samples and bool(np.any(a[start:stop] != a[start]))


def shared_run_groups(
    signals: Sequence[np.ndarray],
    *,
    min_samples: int,
    rates: Sequence[int] | None = None,
) -> np.ndarray:
    """Connected components of signals that share a run of identical samples.

    Two signals are linked when some ``min_samples`` consecutive samples of one
    equal (bit for bit) consecutive samples of the other, at any offsets, and
    those samples are not all one value; signals of different ``rates`` are
    never linked.

    Every signal's ``w``-sample windows (``w = min_samples // 2``) are hashed
    and winnowed: of each run of ``min_samples - w + 1`` consecutive window
    hashes, the minimum is kept with its position. A shared run of
    ``min_samples`` samples holds such a run of windows in both signals, so
    both keep a fingerprint of equal hash at the same place in the run; pairs
    of signals with an equal kept hash are then checked exactly by extending
    the match on the samples. Identical signals are checked once. About
    ``2 / (min_samples - w + 2)`` of the positions are kept, so memory beyond
    the signals is small, and the time grows with the total number of samples
    plus the candidates checked.

    Parameters
    ----------
    signals : sequence of np.ndarray
        1-D arrays (compared by their bytes: float32 audio, integers).
    min_samples : int
        Shortest shared run, at least 4.
    rates : sequence of int, optional
        Sample rate of every signal.

    Returns
    -------
    np.ndarray, shape (len(signals),), int64
        Per signal, the smallest index of its component.
    """
    if min_samples < 4:
        raise ValueError("min_samples must be at least 4")
    n = len(signals)
    rates = [0] * n if rates is None else list(rates)
    # Linked pairs; their components are taken once at the end.
    linked: set[tuple[int, int]] = set()
    window = min_samples // 2
    span = min_samples - window + 1
    codes: list[np.ndarray] = []
    first_of: dict[tuple[int, bytes], int] = {}
    hash_parts, owner_parts, position_parts = [], [], []
    for k, signal in enumerate(signals):
        signal = np.ascontiguousarray(signal)
        code = signal.view(f"u{signal.dtype.itemsize}")
        codes.append(code)
        key = (rates[k], hashlib.blake2b(signal.tobytes(), digest_size=16).digest())
        if key in first_of:
            # A copy shares all its samples with the first, if they make a run.
            if len(code) >= min_samples and np.any(code != code[0]):
                linked.add((first_of[key], k))
            continue
        first_of[key] = k
        if len(code) < min_samples:
            continue
        hashes = _window_hashes(code, window)
        kept = _winnow(hashes, span)
        hash_parts.append(hashes[kept])
        owner_parts.append(np.full(len(kept), k, dtype=np.int64))
        position_parts.append(kept)
    if hash_parts:
        hashes = np.concatenate(hash_parts)
        owners = np.concatenate(owner_parts)
        positions = np.concatenate(position_parts)
        order = np.lexsort((positions, owners, hashes))
        hashes, owners, positions = hashes[order], owners[order], positions[order]
        bounds = np.flatnonzero(np.diff(hashes)) + 1
        starts = np.concatenate([[0], bounds])
        stops = np.concatenate([bounds, [len(hashes)]])
        for start, stop in zip(starts, stops):
            if stop - start < 2 or owners[start] == owners[stop - 1]:
                continue
            members = list(zip(owners[start:stop].tolist(), positions[start:stop].tolist()))
            for x, (k, i) in enumerate(members):
                for m, j in members[x + 1 :]:
                    pair = (min(k, m), max(k, m))
                    if m == k or rates[m] != rates[k] or pair in linked:
                        continue
                    if _shared_run(codes[k], i, codes[m], j, window, min_samples):
                        linked.add(pair)
    pairs = np.array(sorted(linked), dtype=np.int64).reshape(-1, 2)
    return linked_components(n, pairs[:, 0], pairs[:, 1])


def clip_items(
    clips: pd.DataFrame,
    *,
    min_shared_s: float = 0.02,
    min_duration_s: float = 0.0,
    on_bad: str = "fail",
    log: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read every clip, hash it and link the clips that share audio.

    Parameters
    ----------
    clips : pd.DataFrame
        Schema :data:`CLIP_COLUMNS`.
    min_shared_s : float
        Shortest run of identical samples (seconds at the clip's rate) that
        links two clips.
    min_duration_s : float
        Clips shorter than this are left out (listed in ``skipped``).
    on_bad : {"fail", "skip"}
        A clip that cannot be read stops with an error naming it, or is skipped.
    log : callable, optional

    Returns
    -------
    items : pd.DataFrame
        Schema :data:`CLIP_ITEM_COLUMNS`, sorted by ``item_id``.
    skipped : pd.DataFrame
        ``path``, ``reason``, ``singer`` and ``cause`` (``unreadable`` or
        ``short``).
    """
    _check_on_bad(on_bad)
    signals, rates, rows, skipped = [], [], [], []
    for clip in clips.to_dict("records"):
        try:
            audio, rate = load_audio(clip["path"])
        except AudioError as err:
            if on_bad == "fail":
                raise
            skipped.append(
                {
                    "path": clip["path"],
                    "reason": str(err).split(": ", 1)[-1],
                    "singer": clip["singer"],
                    "cause": "unreadable",
                }
            )
            continue
        duration_s = len(audio) / rate
        if duration_s < min_duration_s:
            skipped.append(
                {
                    "path": clip["path"],
                    "reason": f"shorter than {min_duration_s} s ({duration_s:.3f} s)",
                    "singer": clip["singer"],
                    "cause": "short",
                }
            )
            continue
        signals.append(audio)
        rates.append(rate)
        rows.append(
            {
                "item_id": clip["clip_id"],
                "singer": clip["singer"],
                "recording": clip["recording"],
                "group": clip["group"],
                "motif_id": clip["pattern"],
                "start_s": np.nan,
                "end_s": np.nan,
                "duration_s": duration_s,
                "path": clip["path"],
                "sample_rate": rate,
                "content_hash": content_hash(audio),
            }
        )
    if not rows:
        raise ClipError("no readable clips")
    items = pd.DataFrame(rows)
    min_samples = [max(4, round(min_shared_s * rate)) for rate in rates]
    groups = np.arange(len(items))
    # One pass per distinct rate (the run length in samples depends on it).
    for rate in sorted(set(rates)):
        members = [k for k, r in enumerate(rates) if r == rate]
        found = shared_run_groups(
            [signals[k] for k in members], min_samples=min_samples[members[0]]
        )
        groups[members] = np.array(members)[found]
    ids = items["item_id"].to_numpy()
    smallest = pd.Series(ids).groupby(groups).transform("min").to_numpy()
    items["audio_group"] = smallest
    items = items.astype({"sample_rate": "int64", "duration_s": "float64"})
    if log is not None:
        shared = items.groupby("audio_group")["item_id"].transform("size") > 1
        log(f"{len(items)} clips read, {int(shared.sum())} share a run of samples with another")
    return (
        items[list(CLIP_ITEM_COLUMNS)].sort_values("item_id", ignore_index=True),
        pd.DataFrame(skipped, columns=["path", "reason", "singer", "cause"]),
    )


def clip_report(
    items: pd.DataFrame,
    skipped: pd.DataFrame,
    *,
    deduplicate: bool = True,
    min_duration_s: float = 0.0,
    max_dropped_share: float = 1.0,
    singers_left_out: dict[str, int] | None = None,
) -> dict:
    """What a clip set holds before any training: counts, copies and shared audio.

    Parameters
    ----------
    items : pd.DataFrame
        :func:`clip_items`' items.
    skipped : pd.DataFrame
        The files and clips left out, with their reasons (``path``,
        ``reason``; ``singer`` and ``cause`` for the clips
        :func:`clip_items` left out).
    deduplicate : bool
        Whether the split drops copies (``split.deduplicate``): the
        untestable singers are those the split will report.
    min_duration_s, max_dropped_share : float
        ``features.min_duration_s`` and ``features.max_dropped_share``, for
        the per-singer account of short clips.
    singers_left_out : dict, optional
        Clips per singer left out by ``corpus.singers`` (:func:`select_singers`).

    Returns
    -------
    dict
        JSON-ready: the index part of :func:`cantaor.dataset.leakage.leakage_report`
        (clips, distinct contents, duplicates within and across singers, split
        groups per singer, untestable singers with reasons, computed as the
        split computes them: groups of every clip, home groups after
        deduplication), plus ``n_skipped`` and ``skipped`` (path -> reason),
        ``n_audio_groups`` (groups of clips linked by shared runs of samples),
        ``n_clips_sharing_audio`` (clips sharing a run with another clip of
        different content), ``short_per_singer``
        (:func:`cantaor.dataset.items.duration_drops` as records),
        ``short_warnings`` and ``singers_left_out``.
    """
    from cantaor.dataset.items import duration_drops
    from cantaor.dataset.leakage import (
        assign_groups,
        home_units,
        leakage_report,
        untestable_singers,
    )
    from cantaor.dataset.leakage import deduplicate as drop_copies

    units = assign_groups(items)
    kept = drop_copies(items)[0] if deduplicate else items
    testability = {
        "untestable_reasons": untestable_singers(kept, units.loc[kept.index], all_items=items),
        "units_per_singer": {
            singer: len(found) for singer, found in home_units(kept, units.loc[kept.index]).items()
        },
    }
    report = leakage_report(items, units=units, testability=testability)
    distinct = items.drop_duplicates("content_hash")
    sharing = distinct.groupby("audio_group")["item_id"].transform("size") > 1
    short = (
        skipped[skipped["cause"] == "short"]
        if "cause" in skipped
        else skipped.iloc[:0].assign(singer=[])
    )
    drops, warnings = duration_drops(
        pd.concat([items["singer"], short["singer"]], ignore_index=True),
        pd.Series([False] * len(items) + [True] * len(short)),
        min_duration_s=min_duration_s,
        max_dropped_share=max_dropped_share,
    )
    report.update(
        n_skipped=len(skipped),
        skipped=dict(zip(skipped["path"].astype(str), skipped["reason"].astype(str))),
        n_audio_groups=int(items["audio_group"].nunique()),
        n_clips_sharing_audio=int(
            items["content_hash"].isin(distinct.loc[sharing, "content_hash"]).sum()
        ),
        sample_rates=sorted(int(rate) for rate in items["sample_rate"].unique()),
        min_duration_s=min_duration_s,
        short_per_singer=drops.to_dict("records"),
        short_warnings=warnings,
        singers_left_out=dict(singers_left_out or {}),
    )
    return report


def clip_report_markdown(report: dict) -> str:
    """Markdown of :func:`clip_report`, led by the leakage summary."""
    from cantaor.dataset.leakage import leakage_markdown

    left_out = report.get("singers_left_out") or {}
    lines = [
        "# Clips",
        "",
    ]
    if left_out:
        lines += [
            "Left out by `corpus.singers`: "
            + ", ".join(f"{singer} ({n} clips)" for singer, n in left_out.items())
            + ".",
            "",
        ]
    lines += [
        f"{report['n_items']} clips read ({report['n_skipped']} skipped), "
        f"{report['n_distinct_contents']} distinct contents; "
        f"{report['n_items_cross_singer']} clips carry a content under two or more singers; "
        f"{report['n_clips_sharing_audio']} share a run of samples with a clip of other "
        f"content ({report['n_audio_groups']} audio groups); sample rates "
        + ", ".join(map(str, report["sample_rates"]))
        + " Hz.",
        "",
    ]
    drops = [row for row in report.get("short_per_singer", []) if row["n_dropped"]]
    if drops:
        lines += [
            f"Clips shorter than `features.min_duration_s` = {report['min_duration_s']} s "
            "are dropped (too short for a feature frame to mean much):",
            "",
            "| singer | clips | dropped as short | share |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {row['singer']} | {row['n_items']} | {row['n_dropped']} "
            f"| {row['dropped_share']:.1%}{' (over the limit)' if row['over_limit'] else ''} |"
            for row in drops
        ]
        lines.append("")
        lines += [f"**Warning: {warning}.**" for warning in report["short_warnings"]]
        if report["short_warnings"]:
            lines.append("")
    if report["skipped"]:
        lines += ["| skipped | reason |", "|---|---|"]
        lines += [f"| {path} | {reason} |" for path, reason in report["skipped"].items()]
        lines.append("")
    body = leakage_markdown(report).split("\n", 2)[2]
    return "\n".join(lines) + "\n" + body
