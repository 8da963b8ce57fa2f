"""Train, validation and test subsets of a store's items.

Two strategies:

- ``group`` (default, honest): whole groups (the sample sheet's ``group``
  column: an album or session, by default the recording) go to one side, per
  singer, so no test item shares a recording or its conditions with training.
  The validation subset is carved from the training groups the same way when a
  singer has groups to spare, and otherwise from whole training phrases.
- ``random``: the paper's protocol, a random split of items. Items from one
  recording, and overlapping items from one phrase, land on both sides, so its
  scores measure recording identity as much as singer identity
  (REFERENCE.md section 2); it is available for comparison only.

Output schema: ``item_id`` (str), ``subset`` (str: train, validation, test).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

STRATEGIES = ("group", "random")


def _take(groups: list[str], fraction: float, rng: np.random.Generator, *, keep: int) -> list[str]:
    """A seeded choice of ceil(fraction * n) groups, leaving at least ``keep`` behind."""
    n_take = min(math.ceil(fraction * len(groups)), len(groups) - keep)
    if n_take <= 0:
        return []
    return list(rng.choice(sorted(groups), size=n_take, replace=False))


def split_items(
    index: pd.DataFrame,
    *,
    strategy: str = "group",
    test_fraction: float = 0.2,
    validation_fraction: float = 0.2,
    seed: int = 0,
) -> pd.DataFrame:
    """Assign every item to train, validation or test.

    Parameters
    ----------
    index : pd.DataFrame
        A store index with ``item_id``, ``singer``, ``group``, ``recording`` and
        ``motif_id``; for the fallback validation by phrase, an item's phrase is
        read from its ``item_id`` (``motif@recording/phrase/position``).
    strategy : {"group", "random"}
    test_fraction, validation_fraction : float
        Fractions of groups (``group``) or items (``random``); the validation
        fraction applies to what remains after the test subset.
    seed : int

    Returns
    -------
    pd.DataFrame
        ``item_id`` and ``subset``, in the index's order.
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"unknown split strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}"
        )
    rng = np.random.default_rng(seed)
    subset = pd.Series("train", index=index.index, dtype=object)
    if strategy == "random":
        order = rng.permutation(len(index))
        n_test = round(test_fraction * len(index))
        n_validation = round(validation_fraction * (len(index) - n_test))
        subset.iloc[order[:n_test]] = "test"
        subset.iloc[order[n_test : n_test + n_validation]] = "validation"
        return pd.DataFrame({"item_id": index["item_id"], "subset": subset})
    for _, items in index.groupby("singer", sort=True):
        groups = sorted(items["group"].unique())
        test_groups = _take(groups, test_fraction, rng, keep=1)
        remaining = [group for group in groups if group not in test_groups]
        validation_groups = _take(remaining, validation_fraction, rng, keep=1)
        subset[items.index[items["group"].isin(test_groups)]] = "test"
        if validation_groups:
            subset[items.index[items["group"].isin(validation_groups)]] = "validation"
            continue
        # One training group only: hold out whole phrases, so overlapping
        # occurrences of one phrase never straddle train and validation.
        train_items = items[~items["group"].isin(test_groups)]
        phrases = train_items["item_id"].str.split("@", n=1).str[1].str.rsplit("/", n=1).str[0]
        held = _take(sorted(phrases.unique()), validation_fraction, rng, keep=1)
        subset[train_items.index[phrases.isin(held)]] = "validation"
    return pd.DataFrame({"item_id": index["item_id"], "subset": subset})
