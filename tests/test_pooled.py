"""Scores pooled over k folds and their intervals, against brute-force computations."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from cantaor.evaluation.metrics import evaluate_predictions
from cantaor.evaluation.pooled import (
    bootstrap_draws,
    claim_comparisons,
    compare_scores,
    pool_folds,
    pooled_frame,
    pooled_markdown,
    pooled_scores,
    recording_votes,
    replicate_scores,
    wilson_interval,
)

CLASSES = ["A", "B", "C"]


def _predictions(seed, n_recordings=6, items=(1, 6), skill=0.6):
    """Random predictions: recordings of the three singers, each with a few items."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_recordings):
        singer = CLASSES[r % len(CLASSES)]
        for i in range(rng.integers(*items)):
            proba = rng.dirichlet(np.ones(len(CLASSES)))
            if rng.random() < skill:
                proba = 0.5 * proba + 0.5 * (np.array(CLASSES) == singer)
            rows.append(
                {"item_id": f"r{r}_{i}", "singer": singer, "recording": f"r{r}"}
                | {f"p:{c}": float(p) for c, p in zip(CLASSES, proba, strict=True)}
            )
    return pd.DataFrame(rows)


def _proba(frame):
    return frame[[f"p:{c}" for c in CLASSES]].to_numpy()


@settings(max_examples=40, deadline=None)
@given(k=st.integers(0, 40), n=st.integers(1, 40), confidence=st.sampled_from([0.8, 0.95, 0.99]))
def test_wilson_interval_is_the_set_the_score_test_accepts(k, n, confidence):
    k = min(k, n)
    low, high = wilson_interval(k, n, confidence)
    z = norm.ppf(0.5 + confidence / 2)
    grid = np.linspace(0, 1, 200_001)
    accepted = grid[np.abs(k / n - grid) <= z * np.sqrt(grid * (1 - grid) / n)]
    assert low == pytest.approx(accepted.min(), abs=2e-5)
    assert high == pytest.approx(accepted.max(), abs=2e-5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_recordings=st.integers(2, 8))
def test_replicates_score_the_concatenated_draws(seed, n_recordings):
    predictions = _predictions(seed, n_recordings=n_recordings)
    recordings = sorted(predictions["recording"].unique())
    draws = bootstrap_draws(len(recordings), 5, seed)
    accuracy, balanced = replicate_scores(predictions, draws, recordings)
    for b, drawn in enumerate(draws):
        sample = pd.concat([predictions[predictions["recording"] == recordings[r]] for r in drawn])
        y_pred = np.array(CLASSES)[_proba(sample).argmax(axis=1)]
        assert accuracy[b] == pytest.approx(accuracy_score(sample["singer"], y_pred))
        assert balanced[b] == pytest.approx(balanced_accuracy_score(sample["singer"], y_pred))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_point_scores_match_the_per_split_evaluation(seed):
    predictions = _predictions(seed)
    scores = pooled_scores(predictions, n_bootstrap=200, seed=seed)
    reference = evaluate_predictions(
        y_true=predictions["singer"],
        proba=_proba(predictions),
        classes=CLASSES,
        recordings=predictions["recording"],
    )
    for name in ("accuracy", "balanced_accuracy", "recording_accuracy"):
        assert scores[name] == pytest.approx(reference[name])
        assert scores[f"{name}_low"] <= scores[name] + 1e-12 <= scores[f"{name}_high"] + 2e-12
    assert scores["recording_balanced_accuracy"] == pytest.approx(
        reference["recording_balanced_accuracy"]
    )
    assert scores["n_recordings"] == reference["n_recordings"]
    assert (scores["recording_accuracy_low"], scores["recording_accuracy_high"]) == (
        wilson_interval(scores["recordings_right"], scores["n_recordings"])
    )


def test_bootstrap_interval_is_the_percentile_of_brute_force_replicates():
    predictions = _predictions(5, n_recordings=9)
    scores = pooled_scores(predictions, n_bootstrap=300, seed=11)
    recordings = sorted(predictions["recording"].unique())
    values = []
    for drawn in bootstrap_draws(len(recordings), 300, 11):
        sample = pd.concat([predictions[predictions["recording"] == recordings[r]] for r in drawn])
        y_pred = np.array(CLASSES)[_proba(sample).argmax(axis=1)]
        values.append(balanced_accuracy_score(sample["singer"], y_pred))
    assert scores["balanced_accuracy_low"] == pytest.approx(np.percentile(values, 2.5))
    assert scores["balanced_accuracy_high"] == pytest.approx(np.percentile(values, 97.5))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_majority_vote_counts_item_predictions(seed):
    predictions = _predictions(seed, items=(1, 5))
    votes = recording_votes(predictions)
    for recording, items in predictions.groupby("recording"):
        predicted = pd.Series(np.array(CLASSES)[_proba(items).argmax(axis=1)])
        counts = predicted.value_counts()
        winners = set(counts.index[counts == counts.max()])
        assert votes.loc[recording, "majority"] in winners
        mean = _proba(items).mean(axis=0)
        best = max(winners, key=lambda c: mean[CLASSES.index(c)])
        assert votes.loc[recording, "majority"] == best
        assert votes.loc[recording, "mean_probability"] == CLASSES[int(mean.argmax())]


def test_a_recording_in_two_folds_is_refused():
    predictions = _predictions(1)
    with pytest.raises(ValueError, match=r"recording r0 is tested in folds fold1of2, fold2of2"):
        pool_folds([predictions.iloc[:2], predictions.iloc[1:]], ["fold1of2", "fold2of2"])
    pooled = pool_folds(
        [
            predictions[predictions["recording"] <= "r2"],
            predictions[predictions["recording"] > "r2"],
        ],
        ["fold1of2", "fold2of2"],
    )
    assert pooled_scores(pooled, n_bootstrap=10)["folds"] == 2


def test_paired_comparison_states_which_setting_wins(tmp_path):
    good = _predictions(2, n_recordings=30, skill=1.0)
    bad = _predictions(3, n_recordings=30, skill=0.0)
    result = compare_scores(good, bad, n_bootstrap=500)
    assert result["verdict"] == "first" and result["difference_low"] > 0
    assert result["difference"] == pytest.approx(
        pooled_scores(good, n_bootstrap=1)["balanced_accuracy"]
        - pooled_scores(bad, n_bootstrap=1)["balanced_accuracy"]
    )
    assert compare_scores(bad, good, n_bootstrap=500)["verdict"] == "second"
    assert compare_scores(good, good, n_bootstrap=500)["verdict"] == "neither"

    # Through the report: motifs (good) against random (bad), two folds each.
    runs = []
    for dataset, frame in (("motifs", good), ("random", bad)):
        for fold, part in enumerate(np.array_split(frame["recording"].unique(), 2), start=1):
            path = tmp_path / f"{dataset}{fold}.parquet"
            frame[frame["recording"].isin(part)].to_parquet(path)
            runs.append(
                (
                    {
                        "dataset": dataset,
                        "feature": "logmel",
                        "model": "m",
                        "split": f"fold{fold}of2",
                    },
                    path,
                )
            )
    frame, pooled = pooled_frame(runs, n_bootstrap=200)
    assert list(frame["dataset"]) == ["motifs", "random"] and set(frame["folds"]) == {2}
    comparisons = claim_comparisons(pooled, n_bootstrap=200)
    markdown = pooled_markdown(frame, comparisons)
    assert "motif items beat random segments, as the paper claims" in markdown
    assert "| motifs | logmel | m | 2 |" in markdown
