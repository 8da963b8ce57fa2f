import pandas as pd
import pytest

from cantaor.split import split_items


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
