"""Motif dictionaries: closed patterns of contour symbols, mapped back to audio.

For every singer, the phrases of the singer's recordings are mined for closed
sequential patterns (:func:`cantaor.mining.bide.mine_closed`); every occurrence of
every pattern is then located in the phrases again and given its audio span,
from the start of its first line segment to the end of its last (the authors'
released code kept only the first match per phrase and dropped the last
interval; here every occurrence is kept, with its whole span).

Dictionary schema (:data:`DICTIONARY_COLUMNS`): ``motif_id`` (str), ``singer``
(str), ``pattern`` (str, symbols joined by spaces), ``length`` (int64),
``support`` (int64, phrases containing it), ``scope`` (str: the recording
mined, or ``"*"`` when mined over all the singer's recordings).

Occurrence schema (:data:`OCCURRENCE_COLUMNS`): ``motif_id``, ``singer``,
``recording``, ``pattern`` (str), ``phrase``, ``first_position``,
``last_position`` (int64, symbol positions in the phrase), ``start_s``,
``end_s``, ``duration_s`` (float64).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Mapping

import pandas as pd

from cantaor.mining.bide import find_occurrences, mine_closed

DICTIONARY_COLUMNS = ("motif_id", "singer", "pattern", "length", "support", "scope")
OCCURRENCE_COLUMNS = (
    "motif_id",
    "singer",
    "recording",
    "pattern",
    "phrase",
    "first_position",
    "last_position",
    "start_s",
    "end_s",
    "duration_s",
)
SCOPES = ("singer", "recording")


def locate_occurrences(
    phrases: list[tuple[str, int, list[str]]],
    patterns: Mapping[tuple[str, ...], list[str]],
    *,
    min_gap: int,
    max_gap: int | None,
) -> list[tuple[str, str, int, int, int]]:
    """(motif_id, recording, phrase, first, last) for every occurrence of every pattern.

    Parameters
    ----------
    phrases : list of (recording, phrase, symbols)
    patterns : mapping of pattern tuple -> motif ids
        A pattern shared by several dictionaries gives one row per motif id.
    min_gap, max_gap : int
        The gap constraint; contiguous patterns are found in one pass over the
        substrings of the needed lengths, others with
        :func:`cantaor.mining.bide.find_occurrences` (one occurrence per start).
    """
    found = []
    if min_gap == 0 and max_gap == 0:
        lengths = sorted({len(pattern) for pattern in patterns})
        for recording, phrase, symbols in phrases:
            for start in range(len(symbols)):
                for length in lengths:
                    if start + length > len(symbols):
                        break
                    for motif_id in patterns.get(tuple(symbols[start : start + length]), ()):
                        found.append((motif_id, recording, phrase, start, start + length - 1))
        return found
    for pattern, motif_ids in patterns.items():
        for recording, phrase, symbols in phrases:
            if not set(symbols).issuperset(pattern):
                continue
            for positions in find_occurrences(symbols, pattern, min_gap=min_gap, max_gap=max_gap):
                for motif_id in motif_ids:
                    found.append((motif_id, recording, phrase, positions[0], positions[-1]))
    return found


def phrase_tables(contours: Mapping[str, pd.DataFrame]) -> dict[tuple[str, int], pd.DataFrame]:
    """(recording, phrase) -> the phrase's symbols, in position order, indexed 0, 1, ...

    The row of a symbol in its table is its index in the phrase's sequence, the
    index :func:`locate_occurrences` reports.
    """
    return {
        (recording, int(phrase)): group.sort_values("position").reset_index(drop=True)
        for recording in sorted(contours)
        for phrase, group in contours[recording].groupby("phrase", sort=True)
    }


def occurrence_table(
    found: list[tuple[str, str, int, int, int]],
    tables: Mapping[tuple[str, int], pd.DataFrame],
    motifs: pd.DataFrame,
) -> pd.DataFrame:
    """The occurrence table (:data:`OCCURRENCE_COLUMNS`) of located occurrences.

    Parameters
    ----------
    found : list of (motif_id, recording, phrase, first, last)
        As :func:`locate_occurrences` gives: ``first`` and ``last`` index the
        phrase's symbols in position order.
    tables : mapping
        :func:`phrase_tables` of the recordings searched.
    motifs : pd.DataFrame
        ``motif_id``, ``singer`` and ``pattern`` of every motif in ``found``.

    Returns
    -------
    pd.DataFrame
        One row per occurrence, its span from the start of its first line
        segment to the end of its last; sorted by recording, start, end and
        motif id.
    """
    details = {
        str(motif_id): (str(singer), str(pattern))
        for motif_id, singer, pattern in zip(
            motifs["motif_id"], motifs["singer"], motifs["pattern"], strict=True
        )
    }
    records = []
    for motif_id, recording, phrase, first, last in found:
        table = tables[(recording, phrase)]
        start_s = float(table.at[first, "start_s"])
        end_s = float(table.at[last, "end_s"])
        singer, pattern = details[motif_id]
        records.append(
            (
                motif_id,
                singer,
                recording,
                pattern,
                phrase,
                int(table.at[first, "position"]),
                int(table.at[last, "position"]),
                start_s,
                end_s,
                end_s - start_s,
            )
        )
    table = pd.DataFrame(records, columns=list(OCCURRENCE_COLUMNS)).astype(
        {
            "motif_id": object,
            "singer": object,
            "recording": object,
            "pattern": object,
            "phrase": "int64",
            "first_position": "int64",
            "last_position": "int64",
            "start_s": "float64",
            "end_s": "float64",
            "duration_s": "float64",
        }
    )
    return table.sort_values(["recording", "start_s", "end_s", "motif_id"], ignore_index=True)


def _phrases(tables: Mapping[tuple[str, int], pd.DataFrame]) -> list[tuple[str, int, list[str]]]:
    return [
        (recording, phrase, table["symbol"].astype(str).tolist())
        for (recording, phrase), table in tables.items()
    ]


def find_motif_occurrences(
    contours: Mapping[str, pd.DataFrame],
    dictionaries: pd.DataFrame,
    *,
    min_gap: int = 0,
    max_gap: int | None = 0,
) -> pd.DataFrame:
    """Every occurrence of every dictionary motif in the phrases of some recordings.

    ``cantaor identify`` locates a model's dictionaries in a new recording
    with it, as the dictionaries' own occurrences were located
    (:func:`locate_occurrences`, :func:`occurrence_table`).

    Parameters
    ----------
    contours : mapping of recording id -> symbol table
        :data:`cantaor.contour.symbols.SYMBOL_COLUMNS` tables.
    dictionaries : pd.DataFrame
        Motif dictionaries of one or more singers (``motif_id``, ``singer``,
        ``pattern`` with symbols joined by spaces). The same pattern in two
        dictionaries gives one occurrence per dictionary.
    min_gap, max_gap : int
        The gap constraint the dictionaries were mined with.

    Returns
    -------
    pd.DataFrame
        Columns :data:`OCCURRENCE_COLUMNS`.
    """
    patterns: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for motif_id, pattern in zip(dictionaries["motif_id"], dictionaries["pattern"], strict=True):
        key = tuple(str(pattern).split())
        if key:
            patterns[key].append(str(motif_id))
    tables = phrase_tables(contours)
    found = locate_occurrences(_phrases(tables), patterns, min_gap=min_gap, max_gap=max_gap)
    return occurrence_table(found, tables, dictionaries)


def build_dictionary(
    singer: str,
    contours: Mapping[str, pd.DataFrame],
    *,
    min_support: int | float = 3,
    min_gap: int = 0,
    max_gap: int | None = 0,
    min_length: int = 3,
    max_length: int | None = 8,
    scope: str = "singer",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mine one singer's motif dictionary and locate every occurrence.

    Parameters
    ----------
    singer : str
    contours : mapping of recording id -> symbol table
        The singer's recordings (:data:`cantaor.contour.symbols.SYMBOL_COLUMNS` tables).
    min_support : int or float
        Phrases that must contain a pattern: a count, or a fraction of the phrases mined.
    min_gap, max_gap : int
        Symbols allowed between consecutive pattern symbols (max None: unbounded).
    min_length, max_length : int
        Pattern length range in symbols (max None: unbounded).
    scope : {"singer", "recording"}
        Mine all the singer's phrases together (default), or each recording on
        its own as the authors did.

    Returns
    -------
    dictionary, occurrences : pd.DataFrame
        Schemas :data:`DICTIONARY_COLUMNS` and :data:`OCCURRENCE_COLUMNS`.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown mining scope {scope!r}; choose one of {', '.join(SCOPES)}")
    tables = phrase_tables(contours)
    phrases = _phrases(tables)
    units = (
        {"*": phrases}
        if scope == "singer"
        else {
            recording: [p for p in phrases if p[0] == recording] for recording in sorted(contours)
        }
    )
    dictionary_rows = []
    found = []
    for unit, unit_phrases in units.items():
        if not unit_phrases:
            continue
        mined = mine_closed(
            [symbols for _, _, symbols in unit_phrases],
            min_support=min_support,
            min_gap=min_gap,
            max_gap=max_gap,
            min_length=min_length,
            max_length=max_length,
        )
        patterns = {}
        for pattern, support in mined:
            motif_id = f"{singer}_m{len(dictionary_rows) + 1:05d}"
            patterns[tuple(pattern)] = [motif_id]
            dictionary_rows.append(
                (motif_id, singer, " ".join(pattern), len(pattern), support, unit)
            )
        found.extend(locate_occurrences(unit_phrases, patterns, min_gap=min_gap, max_gap=max_gap))
    dictionary = pd.DataFrame(dictionary_rows, columns=list(DICTIONARY_COLUMNS)).astype(
        {"length": "int64", "support": "int64"}
    )
    return dictionary, occurrence_table(found, tables, dictionary)


def motifs_to_file(
    contour_paths: Mapping[str, str | os.PathLike],
    dictionary_path: str | os.PathLike,
    occurrences_path: str | os.PathLike,
    *,
    singer: str,
    settings,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """The ``motifs`` rule: one singer's dictionary (TSV) and occurrences (parquet).

    Parameters
    ----------
    contour_paths : mapping of recording id -> symbol table path
        The singer's recordings.
    settings : MiningSettings or mapping
        The ``mining`` settings (:class:`cantaor.config.settings.MiningSettings`).

    Raises
    ------
    ValueError
        When no motif is found: the singer would silently drop out of the
        classifier; the message names the recordings and settings to change.
    """
    from cantaor.config.settings import MiningSettings, Settings
    from cantaor.util.atomic import atomic_path
    from cantaor.util.parquet import write_parquet

    if not isinstance(settings, Settings):
        settings = MiningSettings.from_config(settings)
    contours = {recording: pd.read_parquet(path) for recording, path in contour_paths.items()}
    dictionary, occurrences = build_dictionary(
        singer, contours, **settings.arguments_of(build_dictionary)
    )
    if dictionary.empty:
        raise ValueError(
            f"singer {singer}: no motif found in its {len(contours)} "
            f"recording(s) ({', '.join(contours)}) with mining.min_support="
            f"{settings.min_support}, mining.min_length={settings.min_length}; lower these, "
            "add recordings of this singer, or remove the singer from the sample sheet"
        )
    with atomic_path(dictionary_path) as tmp:
        dictionary.to_csv(tmp, sep="\t", index=False)
    write_parquet(occurrences, occurrences_path)
    log(f"{len(contours)} recordings, {len(dictionary)} motifs, {len(occurrences)} occurrences")
    return dictionary


def dictionary_summary(
    dictionaries: list[pd.DataFrame], occurrences: list[pd.DataFrame]
) -> pd.DataFrame:
    """Per singer: motifs in the dictionary, occurrences (instances), recordings, mean length.

    The paper's Table 1 reports motif instances per singer; the last row sums them.
    """
    motifs = pd.concat(dictionaries, ignore_index=True)
    found = pd.concat(occurrences, ignore_index=True)
    table = pd.DataFrame(
        {
            "motifs": motifs.groupby("singer").size(),
            "instances": found.groupby("singer").size(),
            "recordings_with_motifs": found.groupby("singer")["recording"].nunique(),
            "mean_length": motifs.groupby("singer")["length"].mean().round(2),
            "mean_duration_s": found.groupby("singer")["duration_s"].mean().round(3),
        }
    )
    table = table.fillna(0).astype(
        {"motifs": "int64", "instances": "int64", "recordings_with_motifs": "int64"}
    )
    table = table.rename_axis("singer").reset_index()
    total = {
        "singer": "all",
        "motifs": int(table["motifs"].sum()),
        "instances": int(table["instances"].sum()),
        "recordings_with_motifs": int(table["recordings_with_motifs"].sum()),
        "mean_length": round(float(motifs["length"].mean()), 2) if len(motifs) else 0.0,
        "mean_duration_s": round(float(found["duration_s"].mean()), 3) if len(found) else 0.0,
    }
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
