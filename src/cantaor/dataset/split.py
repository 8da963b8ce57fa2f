"""Train, validation and test subsets of a store's items.

Two strategies:

- ``group`` (default, honest): whole split units go to one side, per singer,
  so no test item shares a unit with training. The units are, in order of
  precedence: the ``groups`` argument (e.g. :func:`cantaor.dataset.leakage.assign_groups`:
  connected components of items sharing a sample-sheet group, identical
  content or overlapping audio), the index's ``split_group`` column, or the
  sample sheet's ``group`` column (an album or session, by default the
  recording). Every unit belongs to one singer, its *home* (the singer with
  most items in it, ties to the first name), and is chosen among that singer's
  units, so a unit holding items of several singers still lands whole on one
  side. The validation subset is carved from the training units the same way
  when a singer has units to spare, and otherwise from within the training
  units: whole phrases (ids ``...@recording/phrase/position``), joined with
  items of identical content or overlapping spans when the index has those
  columns, so no audio straddles train and validation either.

  A singer with fewer than two units cannot be tested on an unseen unit. It is
  never given a random split instead: by default (``untestable="train"``) all
  its units stay on the training side (train and validation), with
  ``untestable="exclude"`` they are marked ``excluded``; either way the singer
  is listed in the report of :func:`split_with_report`.
- ``kfold``: group k-fold cross-validation. Every singer's units are dealt
  into ``n_folds`` folds (:func:`kfold_items`); split ``fold`` tests the
  units of that fold and trains (and validates, as ``group`` does) on the
  rest, so the ``n_folds`` splits test every testable unit once. Split names
  ``fold{i}of{k}`` (:func:`split_name`, :func:`parse_split_name`) carry it
  through the workflow.
- ``random``: a random split of items. Items from one recording, and
  overlapping items from one phrase, land on both sides, so its scores
  measure recording identity as much as singer identity (REFERENCE.md
  section 2); it is available for comparison only. In the workflow it runs
  on the deduplicated items (``split.deduplicate``).
- ``random_paper``: the paper's protocol as it was: the same random split
  of *every* item, identical copies included (the workflow never
  deduplicates it), so that its leak shares and scores can be set beside the
  paper's.

:func:`kfold_items` deals the same units into folds for group k-fold
cross-validation.

Output schema: ``item_id`` (str), ``subset`` (str: train, validation, test,
and excluded only with ``untestable="exclude"``).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from cantaor.dataset.leakage import SPLIT_GROUP, components, home_units, untestable_singers

STRATEGIES = ("group", "random", "random_paper", "kfold")
# Strategies that split items at random, ignoring split units.
RANDOM_STRATEGIES = ("random", "random_paper")
SUBSETS = ("train", "validation", "test", "excluded")
UNTESTABLE = ("train", "exclude")


def _take(groups: list[str], fraction: float, rng: np.random.Generator, *, keep: int) -> list[str]:
    """A seeded choice of ceil(fraction * n) groups, leaving at least ``keep`` behind."""
    n_take = min(math.ceil(fraction * len(groups)), len(groups) - keep)
    if n_take <= 0:
        return []
    return list(rng.choice(sorted(groups), size=n_take, replace=False))


def split_units(index: pd.DataFrame, groups: pd.Series | None = None) -> pd.Series:
    """The unit of every item: ``groups``, else column ``split_group``, else ``group``."""
    if groups is not None:
        units = groups.reindex(index.index)
        if units.isna().any():
            raise ValueError("groups must give a unit for every item of the index")
    elif SPLIT_GROUP in index:
        units = index[SPLIT_GROUP]
    else:
        units = index["group"]
    return units.astype(str).rename("unit")


def split_items(
    index: pd.DataFrame,
    *,
    strategy: str = "group",
    test_fraction: float = 0.2,
    validation_fraction: float = 0.2,
    seed: int = 0,
    groups: pd.Series | None = None,
) -> pd.DataFrame:
    """Assign every item to train, validation or test.

    The subsets of :func:`split_with_report` (with untestable singers kept on
    the training side), without the report.
    """
    split, _ = split_with_report(
        index,
        strategy=strategy,
        test_fraction=test_fraction,
        validation_fraction=validation_fraction,
        seed=seed,
        groups=groups,
    )
    return split


def split_with_report(
    index: pd.DataFrame,
    *,
    strategy: str = "group",
    test_fraction: float = 0.2,
    validation_fraction: float = 0.2,
    seed: int = 0,
    groups: pd.Series | None = None,
    untestable: str = "train",
    fold: int | None = None,
    n_folds: int | None = None,
    all_items: pd.DataFrame | None = None,
    folds: pd.Series | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Assign every item to a subset, and say which singers cannot be tested.

    Parameters
    ----------
    index : pd.DataFrame
        A store index (or item table) with ``item_id``, ``singer`` and ``group``
        (or ``split_group``); ``recording``, ``start_s``, ``end_s`` and
        ``content_hash`` when present keep the fallback validation free of
        shared audio.
    strategy : {"group", "random", "random_paper", "kfold"}
    test_fraction, validation_fraction : float
        Fractions of units (``group``) or items (``random``,
        ``random_paper``: the same split here; they differ in what the
        workflow gives them, deduplicated items or all); the validation
        fraction applies to what remains after the test subset. ``kfold``
        ignores ``test_fraction``.
    seed : int
    groups : pd.Series, optional
        Split unit per item, aligned with ``index`` (e.g.
        :func:`cantaor.dataset.leakage.assign_groups`); overrides the columns.
    untestable : {"train", "exclude"}
        Where the items of singers with fewer than two units go.
    fold, n_folds : int
        With ``kfold`` only: the test fold (1 to ``n_folds``) and the number
        of folds.
    all_items : pd.DataFrame, optional
        Every item before deduplication (``index`` is what is left of it):
        names the singers whose items all vanished
        (:func:`cantaor.dataset.leakage.untestable_singers`).
    folds : pd.Series, optional
        With ``kfold``: the fold (1 to ``n_folds``) the user states for every
        item (aligned with ``index``), used instead of dealing the units
        (:func:`stated_folds`).

    Returns
    -------
    split : pd.DataFrame
        ``item_id`` and ``subset``, in the index's order.
    report : dict
        JSON-ready: ``strategy``, ``untestable_policy``, ``n_units``,
        ``units_per_singer`` (home units), ``untestable_singers`` (fewer than
        two units, or no item left: never in test by a unit-keeping
        strategy) with ``untestable_reasons`` (singer -> why, the one
        computation every report shows), ``singers_without_items`` (singers of
        ``all_items`` with no item in ``index``), ``items_per_subset`` and
        ``test_items_per_singer``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"unknown split strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}"
        )
    if untestable not in UNTESTABLE:
        raise ValueError(
            f"unknown untestable policy {untestable!r}; choose one of {', '.join(UNTESTABLE)}"
        )
    fold_of: dict[str, int] = {}
    if strategy == "kfold":
        if n_folds is None or fold is None or not 1 <= fold <= n_folds:
            raise ValueError(f"kfold needs n_folds and a fold from 1 to n_folds, got {fold}")
        units = split_units(index, groups)
        if folds is None:
            fold_of, _, _ = _deal_folds(index, units, n_folds, np.random.default_rng(seed))
        else:
            fold_of = stated_folds(index, units, folds, n_folds)
        # The folds are dealt with ``seed``; each fold's validation draws on its own stream.
        rng = np.random.default_rng([seed, fold])
    else:
        rng = np.random.default_rng(seed)
    subset = pd.Series("train", index=index.index, dtype=object)
    report: dict = {"strategy": strategy, "untestable_policy": untestable}
    if strategy == "kfold":
        report.update(
            fold=fold, n_folds=n_folds, fold_source="dealt" if folds is None else "stated"
        )
    units = split_units(index, groups)
    reasons = untestable_singers(index, units, all_items=all_items)
    home = home_units(index, units)
    report.update(
        n_units=int(units.nunique()),
        units_per_singer={singer: len(found) for singer, found in home.items()},
        untestable_singers=sorted(reasons),
        untestable_reasons=reasons,
        singers_without_items=sorted(set(reasons) - set(home)),
    )
    if strategy in RANDOM_STRATEGIES:
        order = rng.permutation(len(index))
        n_test = round(test_fraction * len(index))
        n_validation = round(validation_fraction * (len(index) - n_test))
        subset.iloc[order[:n_test]] = "test"
        subset.iloc[order[n_test : n_test + n_validation]] = "validation"
    else:
        for singer_units in home.values():
            if len(singer_units) < 2:
                if untestable == "exclude":
                    subset[units.isin(singer_units).to_numpy()] = "excluded"
                    continue
            if strategy == "kfold":
                test_units = [unit for unit in singer_units if fold_of[unit] == fold - 1]
            else:
                test_units = _take(singer_units, test_fraction, rng, keep=1)
            remaining = [unit for unit in singer_units if unit not in test_units]
            validation_units = _take(remaining, validation_fraction, rng, keep=1)
            subset[units.isin(test_units).to_numpy()] = "test"
            if validation_units:
                subset[units.isin(validation_units).to_numpy()] = "validation"
                continue
            # One training unit: hold out whole phrases (and whatever shares
            # audio with them), so no audio straddles train and validation.
            train_items = index[units.isin(remaining).to_numpy()]
            if train_items.empty:
                continue
            parts = components(train_items, link=("content", "overlap", "audio"), phrase=True)
            held = _take(sorted(parts.unique()), validation_fraction, rng, keep=1)
            subset[parts.index[parts.isin(held)]] = "validation"
    split = pd.DataFrame({"item_id": index["item_id"], "subset": subset})
    report["items_per_subset"] = {
        name: int((subset == name).sum()) for name in SUBSETS if (subset == name).any()
    }
    test_singers = index.loc[(subset == "test").to_numpy(), "singer"].astype(str)
    report["test_items_per_singer"] = {
        str(singer): int(n) for singer, n in test_singers.value_counts().sort_index().items()
    }
    return split, report


def kfold_items(
    index: pd.DataFrame,
    *,
    n_folds: int = 5,
    seed: int = 0,
    groups: pd.Series | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Group k-fold: deal every singer's units into ``n_folds`` test folds.

    Units are taken as in :func:`split_with_report`. Each singer's units,
    shuffled by ``seed`` and then taken largest first, go one by one to the
    fold holding fewest of that singer's items (ties: fewest items overall,
    then the lowest fold). A singer with at least two units is thus tested in
    ``min(n_units, n_folds)`` folds and always keeps a unit in training; a
    singer with fewer than two units gets fold -1 (training in every fold) and
    is listed as untestable. Validation subsets are left to the caller.

    Returns
    -------
    folds : pd.DataFrame
        ``item_id`` and ``fold`` (int64, -1 for never tested), in the index's order.
    report : dict
        ``n_folds``, ``untestable_singers``, ``items_per_fold`` and
        ``folds_per_singer`` (folds in which the singer is tested).
    """
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    units = split_units(index, groups)
    fold_of, untestable, folds_per_singer = _deal_folds(
        index, units, n_folds, np.random.default_rng(seed)
    )
    fold = units.map(fold_of).astype("int64")
    report = {
        "n_folds": n_folds,
        "untestable_singers": untestable,
        "items_per_fold": {int(f): int(n) for f, n in fold.value_counts().sort_index().items()},
        "folds_per_singer": folds_per_singer,
    }
    return pd.DataFrame({"item_id": index["item_id"], "fold": fold.to_numpy()}), report


def _deal_folds(
    index: pd.DataFrame, units: pd.Series, n_folds: int, rng: np.random.Generator
) -> tuple[dict[str, int], list[str], dict[str, int]]:
    """Fold (0-based, -1 for never tested) of every unit, as :func:`kfold_items` deals them."""
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    sizes = units.value_counts()
    fold_of: dict[str, int] = {}
    totals = np.zeros(n_folds, dtype=np.int64)
    untestable = []
    folds_per_singer = {}
    for singer, singer_units in home_units(index, units).items():
        if len(singer_units) < 2:
            untestable.append(singer)
            fold_of.update(dict.fromkeys(singer_units, -1))
            folds_per_singer[singer] = 0
            continue
        shuffled = [singer_units[k] for k in rng.permutation(len(singer_units))]
        shuffled.sort(key=lambda unit: -int(sizes[unit]))
        mine = np.zeros(n_folds, dtype=np.int64)
        for unit in shuffled:
            fold = min(range(n_folds), key=lambda f: (mine[f], totals[f], f))
            fold_of[unit] = fold
            mine[fold] += sizes[unit]
            totals[fold] += sizes[unit]
        folds_per_singer[singer] = int((mine > 0).sum())
    return fold_of, untestable, folds_per_singer


def stated_folds(
    index: pd.DataFrame, units: pd.Series, folds: pd.Series, n_folds: int
) -> dict[str, int]:
    """Fold (0-based, -1 for never tested) of every unit, from the folds a user states.

    Every item's fold (1 to ``n_folds``) comes from the user (e.g. a
    ``fold`` column of clips.tsv). A unit takes its items' fold; units of a
    singer with fewer than two units are never tested (-1), as when folds are
    dealt.

    Raises
    ------
    ValueError
        When an item has no fold or one outside 1 to ``n_folds``, when a unit's
        items state different folds (naming the unit, its folds and an item of
        each), or when a testable singer's units all state one fold (that
        fold would train without the singer).
    """
    folds = folds.reindex(index.index)
    ids = index["item_id"].astype(str)
    if folds.isna().any():
        raise ValueError(
            "no fold stated for item(s) " + ", ".join(ids[folds.isna()].head(5).tolist())
        )
    folds = folds.astype("int64")
    outside = (folds < 1) | (folds > n_folds)
    if outside.any():
        raise ValueError(
            f"fold(s) outside 1 to {n_folds} (split.folds): "
            + ", ".join(f"{i} ({f})" for i, f in zip(ids[outside].head(5), folds[outside].head(5)))
        )
    frame = pd.DataFrame({"unit": units.to_numpy(), "fold": folds.to_numpy(), "item": ids})
    per_unit = frame.groupby("unit")["fold"].nunique()
    for unit in per_unit.index[per_unit > 1]:
        mixed = frame[frame["unit"] == unit].drop_duplicates("fold").sort_values("fold")
        raise ValueError(
            f"split group {unit} holds items of folds "
            + ", ".join(f"{f} ({i})" for f, i in zip(mixed["fold"], mixed["item"]))
            + ": items sharing a recording, a group or audio must state one fold"
        )
    fold_of = (frame.groupby("unit")["fold"].first() - 1).to_dict()
    for singer, singer_units in home_units(index, units).items():
        if len(singer_units) < 2:
            fold_of.update(dict.fromkeys(singer_units, -1))
        elif len({fold_of[unit] for unit in singer_units}) == 1:
            raise ValueError(
                f"singer {singer}: every split group ({', '.join(singer_units)}) states fold "
                f"{fold_of[singer_units[0]] + 1}, so that fold would train without {singer}"
            )
    return {str(unit): int(fold) for unit, fold in fold_of.items()}


def split_name(strategy: str, *, fold: int | None = None, n_folds: int | None = None) -> str:
    """The split wildcard value: the strategy, or ``fold{fold}of{n_folds}`` for ``kfold``."""
    if strategy == "kfold":
        return f"fold{fold}of{n_folds}"
    return strategy


def split_names(strategies: list[str], *, n_folds: int) -> list[str]:
    """Every split a list of strategies gives, ``kfold`` expanded into its folds."""
    names = []
    for strategy in strategies:
        if strategy == "kfold":
            names += [split_name(strategy, fold=f, n_folds=n_folds) for f in range(1, n_folds + 1)]
        else:
            names.append(strategy)
    return names


def parse_split_name(name: str) -> dict:
    """Keywords of :func:`split_with_report` for a split name (:func:`split_name`).

    Raises
    ------
    ValueError
        For a name that is neither a strategy nor ``fold{i}of{k}`` with 1 <= i <= k.
    """
    match = re.fullmatch(r"fold([0-9]+)of([0-9]+)", name)
    if match:
        fold, n_folds = int(match[1]), int(match[2])
        if 1 <= fold <= n_folds and n_folds >= 2:
            return {"strategy": "kfold", "fold": fold, "n_folds": n_folds}
    elif name in STRATEGIES and name != "kfold":
        return {"strategy": name}
    raise ValueError(f"unknown split {name!r}: give group, random, random_paper or fold<i>of<k>")


FOLD_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "chance_accuracy",
    "chance_balanced_accuracy",
    "macro_auc_ovr",
    "recording_accuracy",
    "recording_balanced_accuracy",
)
FOLD_METRIC_LABELS = (
    "accuracy",
    "balanced accuracy",
    "chance accuracy (most frequent singer)",
    "chance balanced accuracy (1 / singers)",
    "macro AUC (OvR)",
    "recording accuracy",
    "recording balanced accuracy",
)


def fold_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over the folds of every k-fold run.

    Parameters
    ----------
    results : pd.DataFrame
        One row per evaluated model and split, with ``dataset``, ``feature``,
        ``model``, ``split``, ``test_items`` and the :data:`FOLD_METRICS`
        (:func:`cantaor.evaluation.results.results_frame`). Rows of splits that are
        not k-fold folds are ignored.

    Returns
    -------
    pd.DataFrame
        One row per (dataset, feature, model, n_folds): ``folds`` (folds with
        a result), ``test_items`` (summed over folds), and per metric
        ``{metric}_mean`` and ``{metric}_sd`` (sample standard deviation,
        ddof 1; NaN with one fold). Missing metrics (e.g. AUC on a fold that
        tests one singer) are left out of that metric's mean; a metric absent
        from ``results`` is NaN.
    """
    results = results.assign(**{metric: np.nan for metric in FOLD_METRICS if metric not in results})
    parsed = [parse_split_name(str(name)) for name in results["split"]]
    folds = results.assign(
        n_folds=[entry.get("n_folds", 0) for entry in parsed],
    )[[entry["strategy"] == "kfold" for entry in parsed]]
    keys = ["dataset", "feature", "model", "n_folds"]
    columns = [*keys, "folds", "test_items"]
    columns += [f"{metric}_{stat}" for metric in FOLD_METRICS for stat in ("mean", "sd")]
    if folds.empty:
        return pd.DataFrame(columns=columns)
    grouped = folds.astype({metric: "float64" for metric in FOLD_METRICS}).groupby(keys, sort=True)
    summary = grouped.agg(folds=("split", "size"), test_items=("test_items", "sum"))
    for metric in FOLD_METRICS:
        summary[f"{metric}_mean"] = grouped[metric].mean()
        summary[f"{metric}_sd"] = grouped[metric].std(ddof=1)
    return summary.reset_index()[columns]


def fold_summary_markdown(summary: pd.DataFrame) -> str:
    """Markdown of :func:`fold_summary`: mean +/- sd per metric."""

    def cell(row, metric) -> str:
        mean, sd = row[f"{metric}_mean"], row[f"{metric}_sd"]
        if pd.isna(mean):
            return "n/a"
        return f"{mean:.4f}" if pd.isna(sd) else f"{mean:.4f} ± {sd:.4f}"

    lines = [
        "# Group k-fold results (mean ± sd over folds)",
        "",
        "Chance levels are those of each fold's test set: when the chance accuracy (always "
        "naming the most frequent singer) exceeds the chance balanced accuracy, the classes "
        "are unbalanced and the balanced accuracy is the figure to read.",
        "",
        "| dataset | feature | model | folds | test items | "
        + " | ".join(FOLD_METRIC_LABELS)
        + " |",
        "|---|---|---|---:|---:|" + "---:|" * len(FOLD_METRICS),
    ]
    for _, row in summary.iterrows():
        lines.append(
            f"| {row['dataset']} | {row['feature']} | {row['model']} "
            f"| {row['folds']} of {row['n_folds']} | {row['test_items']} "
            + " ".join(f"| {cell(row, metric)}" for metric in FOLD_METRICS)
            + " |"
        )
    if summary.empty:
        lines.append("| no k-fold runs |" + " |" * (4 + len(FOLD_METRICS)))
    return "\n".join(lines) + "\n"


def _stated(items: pd.DataFrame, folds, recording_folds) -> pd.Series | None:
    """Every item's stated fold, by item id or by recording (None when none is stated)."""
    if folds:
        return items["item_id"].map(folds)
    if recording_folds:
        return items["recording"].map(recording_folds)
    return None


def split_dataset(
    index: pd.DataFrame,
    split: str,
    *,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.2,
    seed: int = 0,
    groups: str = "components",
    untestable: str = "train",
    deduplicate: bool = True,
    folds: dict[str, int] | None = None,
    recording_folds: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, dict, str]:
    """The workflow's split of one store index, with its leakage report.

    Split units come from every item, before any copy is dropped
    (:func:`cantaor.dataset.leakage.assign_groups` with ``groups="components"``, the
    sample-sheet ``group`` with ``"sheet"``), so a recording whose clips are
    copies of another's lands in that recording's unit even though its
    copies are then dropped. Copies are dropped
    (:func:`cantaor.dataset.leakage.deduplicate`) when ``deduplicate`` is true,
    except for ``random_paper``, the paper's protocol, which keeps them.

    Parameters
    ----------
    index : pd.DataFrame
        A store index (every item).
    split : str
        A split name (:func:`parse_split_name`).
    test_fraction, validation_fraction, seed, untestable
        As :func:`split_with_report`.
    groups : {"components", "sheet"}
    deduplicate : bool
    folds : dict, optional
        Item id -> fold (1 to ``n_folds``) a user states for ``kfold``
        (:func:`stated_folds`), e.g. from a clips.tsv; empty or None deals
        the folds.
    recording_folds : dict, optional
        Recording -> fold, e.g. from the sample sheet's ``fold`` column; used
        when ``folds`` is empty.

    Returns
    -------
    subsets : pd.DataFrame
        ``item_id`` and ``subset`` for every item of ``index`` (dropped copies
        ``excluded``).
    report : dict
        :func:`cantaor.dataset.leakage.leakage_report` of the split, with
        ``strategy``, ``split_name``, ``leaky_protocol``, ``deduplicated``,
        ``split_units`` (the report of :func:`split_with_report`, whose
        untestable singers the leakage part repeats) and ``deduplication``.
    markdown : str
        The leakage report, led by warnings: a leaky protocol (with its leak
        shares), singers with no item left.
    """
    from cantaor.dataset.leakage import assign_groups, leakage_markdown, leakage_report
    from cantaor.dataset.leakage import deduplicate as drop_copies

    if groups not in ("components", "sheet"):
        raise ValueError(f"unknown split groups {groups!r}; choose components or sheet")
    strategy = parse_split_name(split)
    dedup = bool(deduplicate) and strategy["strategy"] != "random_paper"
    units = assign_groups(index) if groups == "components" else split_units(index)
    kept, duplicates = drop_copies(index) if dedup else (index, None)
    subsets, split_report = split_with_report(
        kept,
        **strategy,
        test_fraction=test_fraction,
        validation_fraction=validation_fraction,
        seed=seed,
        groups=units.loc[kept.index],
        untestable=untestable,
        all_items=index,
        folds=_stated(kept, folds, recording_folds) if strategy["strategy"] == "kfold" else None,
    )
    # Items dropped as duplicates stay listed, outside every subset.
    subsets = index[["item_id"]].merge(subsets, on="item_id", how="left")
    subsets = subsets.fillna({"subset": "excluded"})
    report = leakage_report(index, subsets, units=units, testability=split_report)
    report.update(
        strategy=strategy["strategy"],
        split_name=split,
        leaky_protocol=strategy["strategy"] in RANDOM_STRATEGIES,
        deduplicated=dedup,
        split_units=split_report,
        deduplication=duplicates,
    )
    shares = report["split"]
    lead = []
    if strategy["strategy"] == "random_paper":
        lead.append(
            "**The paper's protocol as it was: a random split of every item, identical "
            f"copies kept. {shares['test_identical_in_train']:.1%} of test items have an "
            f"identical clip in training and {shares['test_label_copy_correct']:.1%} are "
            "named right by copying a seen clip's label; its scores are leaky and are kept "
            "for comparison only.**"
        )
    elif strategy["strategy"] == "random":
        lead.append(
            "**Random split of the "
            + ("deduplicated items" if dedup else "items (copies kept)")
            + f": {shares['test_identical_in_train']:.1%} of test items have an identical "
            f"clip and {shares['test_overlap_in_train']:.1%} share audio with training; "
            "items of one recording fall on both sides, so its scores are leaky and are "
            "kept for comparison only (`random_paper` is the paper's split with every copy "
            "kept).**"
        )
    lost = split_report["singers_without_items"]
    if lost:
        lead.append(
            f"**No item of {', '.join(lost)} is left after deduplication (their clips also "
            f"carry other singers' labels): the models of this split do not know "
            f"{'this singer' if len(lost) == 1 else 'these singers'}.**"
        )
    markdown = "".join(line + "\n\n" for line in lead) + leakage_markdown(report)
    return subsets, report, markdown
