"""Items of a dataset: the audio spans that become training examples.

``motifs``: every motif occurrence's span (the paper's main dataset).

Item table schema (:data:`ITEM_COLUMNS`): ``item_id`` (str,
``motif_id@recording/phrase/first_position``), ``singer``, ``recording``,
``group``, ``motif_id`` (str), ``start_s``, ``end_s`` (float64).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

ITEM_COLUMNS = ("item_id", "singer", "recording", "group", "motif_id", "start_s", "end_s")
DATASETS = ("motifs",)


def motif_items(
    occurrences: pd.DataFrame, groups: Mapping[str, str], *, min_duration_s: float = 0.15
) -> pd.DataFrame:
    """One item per motif occurrence at least ``min_duration_s`` long.

    Parameters
    ----------
    occurrences : pd.DataFrame
        Occurrence tables of all singers (:data:`cantaor.motifs.OCCURRENCE_COLUMNS`).
    groups : mapping of recording id -> group
        The sample sheet's groups (albums).
    min_duration_s : float
        Shorter occurrences are dropped (the authors dropped clips under 0.15 s).
    """
    kept = occurrences[occurrences["duration_s"] >= min_duration_s]
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
    return items.sort_values(["recording", "start_s", "end_s", "item_id"], ignore_index=True)
