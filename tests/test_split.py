import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.dataset.leakage import assign_groups
from cantaor.dataset.split import (
    fold_summary,
    fold_summary_markdown,
    kfold_items,
    parse_split_name,
    split_items,
    split_name,
    split_names,
    split_with_report,
)


def _index(groups_per_singer, items_per_group=10):
    rows = []
    for singer, groups in groups_per_singer.items():
        for group in groups:
            for i in range(items_per_group):
                rows.append(
                    {
                        "item_id": f"{singer}_m{i}@{group}/{i % 3}/{i}",
                        "singer": singer,
                        "recording": group,
                        "group": group,
                        "motif_id": f"{singer}_m{i}",
                    }
                )
    return pd.DataFrame(rows)


def test_group_split_keeps_groups_whole_and_every_singer_tested():
    index = _index({"A": ["a1", "a2", "a3", "a4"], "B": ["b1", "b2", "b3"]})
    split = split_items(index, test_fraction=0.2, validation_fraction=0.2, seed=3)
    merged = index.merge(split)
    assert merged.groupby("group")["subset"].nunique().max() == 1
    per_singer = merged.groupby("singer")["subset"].agg(set)
    assert all(subsets == {"train", "validation", "test"} for subsets in per_singer)
    assert split_items(index, seed=3).equals(split)


def test_group_split_with_one_spare_group_validates_on_whole_phrases():
    index = _index({"A": ["a1", "a2"]})
    merged = index.merge(split_items(index, seed=0))
    assert set(
        merged.loc[
            merged["group"] == merged.loc[merged["subset"] == "test", "group"].iloc[0], "subset"
        ]
    ) == {"test"}
    train_side = merged[merged["subset"] != "test"]
    phrase = train_side["item_id"].str.split("@").str[1].str.rsplit("/", n=1).str[0]
    assert train_side.groupby(phrase)["subset"].nunique().max() == 1
    assert set(train_side["subset"]) == {"train", "validation"}


def test_random_split_fractions():
    index = _index({"A": ["a1"], "B": ["b1"]}, items_per_group=50)
    counts = split_items(
        index, strategy="random", test_fraction=0.2, validation_fraction=0.25, seed=0
    )["subset"].value_counts()
    assert counts["test"] == 20 and counts["validation"] == 20 and counts["train"] == 60


def test_unknown_strategy():
    with pytest.raises(ValueError, match="unknown split strategy"):
        split_items(_index({"A": ["a1"]}), strategy="album")


# --- split groups, untestable singers, k-fold ---------------------------------


def _overlap(a, b):
    return a.recording == b.recording and a.start_s < b.end_s and b.start_s < a.end_s


split_rows = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.integers(0, 3),  # recording of the singer
        st.integers(0, 9),  # content hash (shared across singers now and then)
        st.integers(0, 10),  # start, in half seconds
        st.integers(1, 4),  # length, in half seconds
    ),
    min_size=2,
    max_size=30,
)


@settings(max_examples=80, deadline=None)
@given(split_rows, st.integers(0, 10), st.booleans())
def test_split_on_split_groups_never_straddles_a_component(rows, seed, albums):
    index = pd.DataFrame(
        [
            {
                "item_id": f"{singer}_m{k}@{singer}{recording}/{k % 2}/{k}",
                "singer": singer,
                "recording": f"{singer}{recording}",
                # optionally two recordings per album
                "group": f"{singer}{recording // 2 if albums else recording}",
                "motif_id": f"{singer}_m{k}",
                "start_s": start / 2,
                "end_s": (start + length) / 2,
                "content_hash": f"h{content}",
            }
            for k, (singer, recording, content, start, length) in enumerate(rows)
        ]
    )
    groups = assign_groups(index)
    split, report = split_with_report(
        index, groups=groups, test_fraction=0.3, validation_fraction=0.3, seed=seed
    )
    assert split["item_id"].tolist() == index["item_id"].tolist()
    merged = index.assign(subset=split["subset"].to_numpy(), unit=groups.to_numpy())
    assert merged.groupby("unit")["subset"].apply(lambda s: s.eq("test").nunique()).max() == 1
    test = merged[merged["subset"] == "test"]
    rest = merged[merged["subset"] != "test"]
    assert set(test["recording"]).isdisjoint(rest["recording"])
    assert set(test["group"]).isdisjoint(rest["group"])
    assert set(test["content_hash"]).isdisjoint(rest["content_hash"])
    assert not any(_overlap(a, b) for a in test.itertuples() for b in rest.itertuples())
    # the validation subset shares no audio with train either
    train = merged[merged["subset"] == "train"]
    validation = merged[merged["subset"] == "validation"]
    assert set(train["content_hash"]).isdisjoint(validation["content_hash"])
    assert not any(_overlap(a, b) for a in train.itertuples() for b in validation.itertuples())
    # every unit belongs to the singer with most items in it (ties: first name);
    # a singer is tested, on its own units, exactly when it has two or more
    home = (
        merged.groupby(["unit", "singer"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["unit", "n", "singer"], ascending=[True, False, True])
        .drop_duplicates("unit")
        .set_index("unit")["singer"]
    )
    units_per_singer = home.value_counts().to_dict()
    assert {s: n for s, n in report["units_per_singer"].items() if n} == units_per_singer
    untestable = {s for s in merged["singer"] if units_per_singer.get(s, 0) < 2}
    assert report["untestable_singers"] == sorted(untestable)
    tested_units = set(test["unit"])
    for singer in set(merged["singer"]):
        own = set(home.index[home == singer])
        assert bool(own & tested_units) == (singer not in untestable)


def test_singers_with_one_group_stay_in_training_or_are_excluded():
    index = _index({"A": ["a1", "a2", "a3"], "C": ["c1"]})
    split, report = split_with_report(index, seed=1)
    assert split.equals(split_items(index, seed=1))
    merged = index.merge(split)
    assert report["untestable_singers"] == ["C"]
    assert report["units_per_singer"] == {"A": 3, "C": 1}
    assert set(merged.loc[merged["singer"] == "C", "subset"]) == {"train", "validation"}
    assert report["test_items_per_singer"] == {"A": 10}
    assert sum(report["items_per_subset"].values()) == len(index)
    excluded, report = split_with_report(index, seed=1, untestable="exclude")
    merged = index.merge(excluded)
    assert set(merged.loc[merged["singer"] == "C", "subset"]) == {"excluded"}
    assert report["items_per_subset"]["excluded"] == 10
    # the other singers' subsets do not change
    a_items = merged["singer"] == "A"
    assert (
        merged.loc[a_items, "subset"].tolist() == index.merge(split).loc[a_items, "subset"].tolist()
    )
    with pytest.raises(ValueError, match="unknown untestable policy"):
        split_with_report(index, untestable="random")


def test_split_units_come_from_groups_then_split_group_then_group():
    index = _index({"A": ["a1", "a2", "a3", "a4"]})
    # one split group per pair of albums: two units only
    pairs = index["group"].map({"a1": "p", "a2": "p", "a3": "q", "a4": "q"})
    by_column, report = split_with_report(index.assign(split_group=pairs), seed=0)
    assert report["n_units"] == 2
    merged = index.assign(subset=by_column["subset"], pair=pairs)
    assert merged.groupby("pair")["subset"].apply(lambda s: s.eq("test").nunique()).max() == 1
    by_argument, _ = split_with_report(
        index.assign(split_group=index["group"]), groups=pairs, seed=0
    )
    assert by_argument.equals(by_column)
    assert split_with_report(index, seed=0)[1]["n_units"] == 4
    with pytest.raises(ValueError, match="unit for every item"):
        split_with_report(index, groups=pairs.iloc[:5])


def test_fallback_validation_keeps_overlapping_windows_together():
    # two recordings; the training one holds overlapping 3 s windows of many phrases
    rows = []
    for recording in ("r1", "r2"):
        for k in range(12):
            rows.append(
                {
                    "item_id": f"segment:A_m{k}@{recording}/{k}/0",
                    "singer": "A",
                    "recording": recording,
                    "group": recording,
                    "start_s": 2.0 * k + (k >= 6) * 10,
                    "end_s": 2.0 * k + (k >= 6) * 10 + 3.0,
                    "content_hash": f"{recording}{k}",
                }
            )
    index = pd.DataFrame(rows)
    for seed in range(5):
        merged = index.merge(split_with_report(index, groups=assign_groups(index), seed=seed)[0])
        train = merged[merged["subset"] == "train"]
        validation = merged[merged["subset"] == "validation"]
        assert len(validation) == 6 and len(train) == 6
        assert not any(_overlap(a, b) for a in train.itertuples() for b in validation.itertuples())


def test_group_kfold_deals_whole_units_and_keeps_untestable_singers_in_training():
    index = _index({"A": ["a1", "a2", "a3", "a4", "a5"], "B": ["b1", "b2"], "C": ["c1"]})
    folds, report = kfold_items(index, n_folds=3, seed=2)
    assert folds["item_id"].tolist() == index["item_id"].tolist()
    merged = index.assign(fold=folds["fold"].to_numpy())
    assert merged.groupby("group")["fold"].nunique().max() == 1
    assert set(merged.loc[merged["singer"] == "C", "fold"]) == {-1}
    assert report["untestable_singers"] == ["C"]
    assert report["folds_per_singer"] == {"A": 3, "B": 2, "C": 0}
    # A's five albums in three folds: sizes 2, 2, 1; B's two albums in two folds
    assert sorted(merged[merged["singer"] == "A"].groupby("fold")["group"].nunique()) == [1, 2, 2]
    for fold in range(3):
        for singer in ("A", "B"):
            own = merged[merged["singer"] == singer]
            assert (own["fold"] != fold).any()
    assert kfold_items(index, n_folds=3, seed=2)[0].equals(folds)
    with pytest.raises(ValueError, match="n_folds"):
        kfold_items(index, n_folds=1)


def _rows_index(rows):
    return pd.DataFrame(
        [
            {
                "item_id": f"{singer}_m{k}@{singer}{recording}/{k % 2}/{k}",
                "singer": singer,
                "recording": f"{singer}{recording}",
                "group": f"{singer}{recording}",
                "motif_id": f"{singer}_m{k}",
                "start_s": start / 2,
                "end_s": (start + length) / 2,
                "content_hash": f"h{content}",
            }
            for k, (singer, recording, content, start, length) in enumerate(rows)
        ]
    )


@settings(max_examples=60, deadline=None)
@given(split_rows, st.integers(0, 10), st.integers(2, 4))
def test_kfold_splits_test_every_dealt_unit_once_and_never_straddle(rows, seed, n_folds):
    index = _rows_index(rows)
    groups = assign_groups(index)
    folds, _ = kfold_items(index, n_folds=n_folds, seed=seed, groups=groups)
    times_tested = pd.Series(0, index=index.index)
    for fold in range(1, n_folds + 1):
        split, report = split_with_report(
            index,
            strategy="kfold",
            fold=fold,
            n_folds=n_folds,
            groups=groups,
            validation_fraction=0.3,
            seed=seed,
        )
        assert report["fold"] == fold and report["n_folds"] == n_folds
        subset = split["subset"].to_numpy()
        test = subset == "test"
        assert (test == (folds["fold"].to_numpy() == fold - 1)).all()
        times_tested += test
        merged = index.assign(subset=subset, unit=groups.to_numpy())
        tested, rest = merged[test], merged[~test]
        assert set(tested["unit"]).isdisjoint(rest["unit"])
        assert set(tested["content_hash"]).isdisjoint(rest["content_hash"])
        assert not any(_overlap(a, b) for a in tested.itertuples() for b in rest.itertuples())
        train = merged[merged["subset"] == "train"]
        validation = merged[merged["subset"] == "validation"]
        assert set(train["content_hash"]).isdisjoint(validation["content_hash"])
        assert not any(_overlap(a, b) for a in train.itertuples() for b in validation.itertuples())
    assert (times_tested == (folds["fold"] >= 0).astype(int)).all()


def test_split_names_round_trip():
    assert split_names(["group", "kfold", "random"], n_folds=3) == [
        "group",
        "fold1of3",
        "fold2of3",
        "fold3of3",
        "random",
    ]
    assert parse_split_name("group") == {"strategy": "group"}
    assert parse_split_name(split_name("kfold", fold=2, n_folds=5)) == {
        "strategy": "kfold",
        "fold": 2,
        "n_folds": 5,
    }
    for bad in ("kfold", "fold0of3", "fold4of3", "fold1of1", "album"):
        with pytest.raises(ValueError, match="unknown split"):
            parse_split_name(bad)
    with pytest.raises(ValueError, match="kfold needs n_folds"):
        split_with_report(_index({"A": ["a1", "a2"]}), strategy="kfold", fold=3, n_folds=2)


def test_fold_summary_mean_and_sd_over_folds():
    results = pd.DataFrame(
        [
            {
                "dataset": "d",
                "feature": "f",
                "model": "m",
                "split": split,
                "test_items": n,
                "accuracy": acc,
                "balanced_accuracy": acc - 0.2,
                "chance_accuracy": 0.6,
                "chance_balanced_accuracy": 0.5,
                "macro_auc_ovr": auc,
                "recording_accuracy": 1.0,
                "recording_balanced_accuracy": 1.0,
            }
            for split, n, acc, auc in [
                ("fold1of3", 10, 0.5, 0.6),
                ("fold2of3", 12, 0.7, None),
                ("fold3of3", 8, 0.9, 0.8),
                ("group", 20, 0.1, 0.1),
                ("random", 20, 0.2, 0.2),
            ]
        ]
    )
    summary = fold_summary(results)
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row["folds"] == 3 and row["n_folds"] == 3 and row["test_items"] == 30
    assert row["accuracy_mean"] == pytest.approx(0.7)
    assert row["accuracy_sd"] == pytest.approx(0.2)  # sample sd of 0.5, 0.7, 0.9
    assert row["macro_auc_ovr_mean"] == pytest.approx(0.7)  # the missing AUC is left out
    assert row["recording_accuracy_sd"] == pytest.approx(0.0)
    markdown = fold_summary_markdown(summary)
    assert row["balanced_accuracy_mean"] == pytest.approx(0.5)
    assert (
        "| d | f | m | 3 of 3 | 30 | 0.7000 ± 0.2000 | 0.5000 ± 0.2000 | 0.6000 ± 0.0000 "
        "| 0.5000 ± 0.0000 | 0.7000 ± 0.1414 | 1.0000 ± 0.0000 | 1.0000 ± 0.0000 |" in markdown
    )
    assert "balanced accuracy | chance accuracy (most frequent singer)" in markdown
    # a results table without the balanced figures (older metrics) still summarises
    older = fold_summary(results.drop(columns=["balanced_accuracy"]))
    assert older["balanced_accuracy_mean"].isna().all()
    assert fold_summary(results[results["split"] == "group"]).empty


@pytest.mark.workflow
def test_kfold_in_the_workflow_adds_one_split_per_fold_and_a_summary(tmp_path):
    from test_workflow import planned_jobs, write_config

    write_config(tmp_path, split={"strategies": ["group", "kfold"], "folds": 3})
    jobs = planned_jobs(tmp_path)
    # The tiny config: one dataset, two features, three models; 1 + 3 splits.
    assert jobs["split"] == 4 and jobs["fold_summary"] == 1
    assert jobs["train"] == 4 * 2 * 3 and jobs["baselines"] == 4 * 2


def test_sample_sheet_folds_state_the_kfold_folds_by_recording():
    from cantaor.dataset.split import split_dataset

    index = _index({"A": ["a1", "a2", "a3"], "B": ["b1", "b2"]})
    starts = [float(k) for k in range(len(index))]
    index = index.assign(
        content_hash=index["item_id"], start_s=starts, end_s=[s + 0.5 for s in starts]
    )
    recording_folds = {"a1": 1, "a2": 2, "a3": 2, "b1": 1, "b2": 2}
    for fold in (1, 2):
        subsets, report, _ = split_dataset(index, f"fold{fold}of2", recording_folds=recording_folds)
        assert report["split_units"]["fold_source"] == "stated"
        tested = subsets.merge(index)
        tested = tested.loc[tested["subset"] == "test", "recording"]
        assert set(tested) == {r for r, f in recording_folds.items() if f == fold}
    # no stated fold: the folds are dealt
    _, report, _ = split_dataset(index, "fold1of2")
    assert report["split_units"]["fold_source"] == "dealt"


@pytest.mark.workflow
def test_a_sample_sheet_fold_column_must_be_complete(tmp_path):
    from test_workflow import snakemake, write_config

    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "recordings.tsv").write_text(
        "recording_id\tsinger\tpath\tfold\nr1\tEM\ta.wav\t1\nr2\tEM\ta.wav\t\n"
        "r3\tAM\ta.wav\t1\nr4\tAM\ta.wav\t2\n"
    )
    write_config(
        tmp_path,
        corpus={"source": "samplesheet", "samplesheet": "recordings.tsv"},
        split={"strategies": ["kfold"], "folds": 2},
    )
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert "recordings.tsv: the fold column is empty for r2" in result.stdout + result.stderr
