"""End to end: the k-fold report of a tiny demo run (every recording tested once)."""

import json

import pandas as pd
import pytest
from test_workflow import snakemake, write_config

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def kfold_run(tmp_path_factory):
    pytest.importorskip("resemblyzer")  # the speaker-encoder row (pyproject extra 'speaker')
    workdir = tmp_path_factory.mktemp("kfold")
    config = write_config(
        workdir,
        demo={"recordings_per_singer": 3},
        datasets=["motifs", "random"],
        split={"strategies": ["kfold"], "folds": 3},
        features={"kinds": ["logmel"]},
        train={"models": ["residual_blstm"], "epochs": 1},
        evaluation={"bootstrap": 200, "speaker_encoder": True},
    )
    # The reports only: no f0 accuracy, figures or model export (test_workflow runs those).
    snakemake(workdir, "results/report/kfold.md", "results/report/results.md")
    return workdir, config


def test_every_recording_is_tested_once_by_every_model_and_baseline(kfold_run):
    workdir, _ = kfold_run
    results = workdir / "results"
    recordings = {path.stem for path in (results / "demo/audio").glob("*.wav")}
    assert len(recordings) == 9
    for dataset in ("motifs", "random"):
        tested = []
        for fold in (1, 2, 3):
            predictions = pd.read_parquet(
                results
                / f"models/{dataset}/fold{fold}of3/logmel/residual_blstm/predictions.parquet"
            )
            tested.append(set(predictions["recording"]))
        assert set.union(*tested) == recordings
        assert sum(map(len, tested)) == len(recordings)  # no recording in two folds
    pooled = pd.read_csv(results / "report/kfold.csv")
    models = {
        "residual_blstm",
        "baseline: majority",
        "baseline: duration",
        "baseline: mfcc_stats",
        "baseline: nearest_duplicate",
        "baseline: speaker_encoder",
    }
    for dataset in ("motifs", "random"):
        rows = pooled[pooled["dataset"] == dataset]
        assert set(rows["model"]) == models
        assert (rows["folds"] == 3).all() and (rows["n_recordings"] == 9).all()
        assert rows.loc[rows["model"] == "baseline: speaker_encoder", "feature"].item() == "audio"
    for name in ("accuracy", "balanced_accuracy", "recording_accuracy"):
        assert (pooled[f"{name}_low"] <= pooled[name] + 1e-9).all()
        assert (pooled[name] <= pooled[f"{name}_high"] + 1e-9).all()
    assert (pooled["recordings_right"] == (pooled["recording_accuracy"] * 9).round()).all()
    # The speaker embeddings are cached once per recording, for every dataset and fold.
    for recording in recordings:
        cached = pd.read_parquet(results / f"speaker/{recording}.parquet")
        assert set(cached["dataset"]) == {"motifs", "random"}


def test_the_report_states_the_claim_and_where_validation_looked(kfold_run):
    workdir, _ = kfold_run
    report = (workdir / "results/report/kfold.md").read_text()
    claim = pd.read_csv(workdir / "results/report/kfold_claim.csv")
    assert set(claim["model"]) >= {"residual_blstm", "baseline: mfcc_stats"}
    assert set(claim["verdict"]) <= {"first", "second", "neither"}
    assert (claim["n_recordings"] == 9).all()
    verdicts = (
        "motif items beat random segments, as the paper claims",
        "random segments beat motif items, against the paper's claim",
        "no difference can be claimed either way",
    )
    line = next(x for x in report.splitlines() if x.startswith("- residual_blstm (logmel)"))
    assert sum(verdict in line for verdict in verdicts) == 1
    # Three recordings per singer: one tests, one validates, one trains, in every fold.
    for fold in (1, 2, 3):
        leakage = json.loads(
            (workdir / f"results/split/motifs.fold{fold}of3.leakage.json").read_text()
        )
        assert set(leakage["split_units"]["validation_source"].values()) == {"groups"}
        log = workdir / f"results/logs/train/motifs.fold{fold}of3.logmel.residual_blstm.log"
        assert log.read_text().count("recording(s) not used for training") == 3
    assert "| motifs | fold1of3 | S1, S2, S3 | none | none |" in report
    results = (workdir / "results/report/results.md").read_text()
    assert "## Held-out recordings: group k-fold, pooled over the folds" in results
    assert "baseline: speaker_encoder" in results
