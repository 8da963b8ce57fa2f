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

from collections import defaultdict
from collections.abc import Mapping

import pandas as pd

from cantaor.contour.symbols import phrase_sequences
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
        The singer's recordings (:func:`cantaor.contour.symbols.contour_symbols` tables).
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
    phrases = [
        (recording, phrase, symbols)
        for recording in sorted(contours)
        for phrase, symbols in phrase_sequences(contours[recording])
    ]
    units = (
        {"*": phrases}
        if scope == "singer"
        else {
            recording: [p for p in phrases if p[0] == recording] for recording in sorted(contours)
        }
    )
    dictionary_rows = []
    occurrence_rows = []
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
        occurrence_rows.extend(
            locate_occurrences(unit_phrases, patterns, min_gap=min_gap, max_gap=max_gap)
        )
    dictionary = pd.DataFrame(dictionary_rows, columns=list(DICTIONARY_COLUMNS)).astype(
        {"length": "int64", "support": "int64"}
    )
    return dictionary, _occurrence_table(singer, dictionary, occurrence_rows, contours)


def _occurrence_table(
    singer: str,
    dictionary: pd.DataFrame,
    rows: list[tuple[str, str, int, int, int]],
    contours: Mapping[str, pd.DataFrame],
) -> pd.DataFrame:
    spans: dict[tuple[str, int], pd.DataFrame] = defaultdict(pd.DataFrame)
    for recording, table in contours.items():
        for phrase, group in table.groupby("phrase"):
            spans[(recording, int(phrase))] = group.set_index("position")
    pattern_of = dict(zip(dictionary["motif_id"], dictionary["pattern"], strict=True))
    records = []
    for motif_id, recording, phrase, first, last in rows:
        span = spans[(recording, phrase)]
        start_s = float(span.at[first, "start_s"])
        end_s = float(span.at[last, "end_s"])
        records.append(
            (
                motif_id,
                singer,
                recording,
                pattern_of[motif_id],
                phrase,
                first,
                last,
                start_s,
                end_s,
                end_s - start_s,
            )
        )
    table = pd.DataFrame(records, columns=list(OCCURRENCE_COLUMNS))
    table = table.astype(
        {
            "phrase": "int64",
            "first_position": "int64",
            "last_position": "int64",
            "start_s": "float64",
            "end_s": "float64",
            "duration_s": "float64",
        }
    )
    return table.sort_values(["recording", "start_s", "end_s", "motif_id"], ignore_index=True)


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
