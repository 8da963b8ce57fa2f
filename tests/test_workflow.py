"""End-to-end: the real workflow on a tiny demo corpus, and partial reruns by dry run."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import cantaor
from cantaor.contour import SYMBOL_COLUMNS
from cantaor.features import INDEX_COLUMNS
from cantaor.motifs import DICTIONARY_COLUMNS, OCCURRENCE_COLUMNS
from cantaor.pitch import F0_COLUMNS
from cantaor.train import load_model

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
pytestmark = pytest.mark.workflow


def deep_update(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_update(base[key], value)
        else:
            base[key] = value
    return base


def write_config(workdir, **overrides):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    deep_update(config, yaml.safe_load((REPO / "tests/data/tiny_config.yaml").read_text()))
    deep_update(config, overrides)
    (workdir / "config").mkdir(exist_ok=True)
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    return config


def snakemake(workdir, *args, check=True):
    result = subprocess.run(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2", *args],
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def planned_jobs(workdir):
    """{rule: count} that a dry run would execute."""
    output = snakemake(workdir, "--dry-run").stdout
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1]
    return {
        match[1]: int(match[2])
        for match in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.MULTILINE)
        if match[1] != "total"
    }


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    config = write_config(workdir)
    snakemake(workdir)
    return workdir, config


def test_every_output_exists_with_its_schema(finished_run):
    workdir, config = finished_run
    results = workdir / "results"
    sheet = pd.read_csv(results / "demo/recordings.tsv", sep="\t")
    assert len(sheet) == 6 and sheet["singer"].nunique() == 3
    for recording in sheet["recording_id"]:
        assert (results / f"demo/audio/{recording}.wav").stat().st_size > 0
        truth = pd.read_parquet(results / f"demo/truth/{recording}.motifs.parquet")
        assert {"motif_id", "start_s", "end_s"} <= set(truth.columns)
        f0 = pd.read_parquet(results / f"f0/{recording}.parquet")
        assert list(f0.columns) == list(F0_COLUMNS)
        assert f0["voiced"].mean() > 0.3
        contour = pd.read_parquet(results / f"contour/{recording}.parquet")
        assert list(contour.columns) == list(SYMBOL_COLUMNS)
        assert len(contour) > 5 and set(contour["symbol"].str[0]) <= {"+", "-"}
    for singer in sheet["singer"].unique():
        first = sorted(sheet.loc[sheet["singer"] == singer, "recording_id"])[0]
        for suffix in ("png", "svg"):
            assert (results / f"figures/contour_{first}.{suffix}").stat().st_size > 1000
    recovery = json.loads((results / "recovery/motifs.json").read_text())
    assert recovery["truth_occurrences"] > 0 and recovery["found_occurrences"] > 0
    assert 0 <= recovery["recall"] <= 1
    clusters = json.loads((results / "contour/clusters.json").read_text())
    assert len(clusters["centers_cents"]) == config["contour"]["k"]
    assert clusters["centers_cents"] == sorted(clusters["centers_cents"])
    for singer in sheet["singer"].unique():
        dictionary = pd.read_csv(results / f"motifs/{singer}.dictionary.tsv", sep="\t")
        assert list(dictionary.columns) == list(DICTIONARY_COLUMNS)
        assert len(dictionary) > 0 and (dictionary["support"] >= 2).all()
        assert dictionary["length"].between(3, 8).all()
        occurrences = pd.read_parquet(results / f"motifs/{singer}.occurrences.parquet")
        assert list(occurrences.columns) == list(OCCURRENCE_COLUMNS)
        assert set(occurrences["motif_id"]) == set(dictionary["motif_id"])
        assert (occurrences["end_s"] > occurrences["start_s"]).all()
    split = pd.read_parquet(results / "split/motifs.group.parquet")
    assert set(split["subset"]) == {"train", "validation", "test"}
    leakage = json.loads((results / "split/motifs.group.leakage.json").read_text())
    assert leakage["strategy"] == "group" and leakage["n_items"] == len(split)
    assert leakage["split"]["test_recording_in_train"] == 0
    assert "| " in (results / "split/motifs.group.leakage.md").read_text()
    random_leakage = json.loads((results / "split/motifs.random.leakage.json").read_text())
    assert (
        random_leakage["leaky_protocol"] and random_leakage["split"]["test_recording_in_train"] > 0
    )
    assert (
        "**Random split of the deduplicated items"
        in (results / "split/motifs.random.leakage.md").read_text()
    )
    grid = pd.read_csv(results / "report/results.csv")
    assert len(grid) == 2 * 2 * (3 + 4)  # splits x features x (models + baselines)
    paper = grid[(grid["model"] == "residual_blstm") & (grid["feature"] == "logmel")]
    assert (paper["paper_accuracy"] == 96.29).all()
    bins = {"logmel": 128, "mfcc": 40, "spectrogram": 201}
    for feature in config["features"]["kinds"]:
        index = pd.read_parquet(results / f"features/motifs/{feature}.index.parquet")
        assert list(index.columns) == list(INDEX_COLUMNS)
        store = np.load(results / f"features/motifs/{feature}.npy", mmap_mode="r")
        assert store.shape == (len(index), bins[feature], config["features"]["n_frames"])
        merged = index.merge(split)
        tested = set(merged.loc[merged["subset"] == "test", "group"])
        assert not tested & set(merged.loc[merged["subset"] != "test", "group"])
        table = (results / "report/results.md").read_text()
        assert f"Made with cantaor {cantaor.__version__}, numpy " in table
        for model in config["train"]["models"]:
            run = results / f"models/motifs/group/{feature}/{model}"
            history = pd.read_csv(run / "history.tsv", sep="\t")
            assert len(history) == 2 and np.isfinite(history["val_loss"]).all()
            _, meta = load_model(run / "model.pt")
            settings = json.loads(meta["extra"]["settings"])["config"]
            assert settings["mixed_precision"] is config["train"]["mixed_precision"]
            assert settings["bucket_by_length"] is config["train"]["bucket_by_length"]
            predictions = pd.read_parquet(run / "predictions.parquet")
            assert len(predictions) == (split["subset"] == "test").sum()
            probabilities = predictions.filter(like="p:").to_numpy()
            np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
            evaluation = results / f"evaluation/motifs/group/{feature}/{model}"
            metrics = json.loads((evaluation / "metrics.json").read_text())
            assert 0.0 <= metrics["accuracy"] <= 1.0
            assert metrics["n_items"] == len(predictions)
            assert set(metrics["per_singer"]) <= set(sheet["singer"])
            assert (evaluation / "metrics.md").read_text().strip()
            for split_name in ("group", "random"):
                assert f"| motifs | {feature} | {model} | {split_name} |" in table
        baselines = json.loads(
            (results / f"evaluation/motifs/group/{feature}/baselines.json").read_text()
        )
        assert set(baselines["baselines"]) == {
            "majority",
            "duration",
            "mfcc_stats",
            "nearest_duplicate",
        }
        for name in baselines["baselines"]:
            assert f"| motifs | {feature} | baseline: {name} | group |" in table
    assert not list(results.rglob(".*.tmp")) and not list(results.rglob(".checkpoint-*"))


def test_nothing_to_do_after_a_finished_run(finished_run):
    assert planned_jobs(finished_run[0]) == {}


def test_editing_a_training_setting_reruns_only_training_and_evaluation(finished_run):
    workdir, _ = finished_run
    write_config(workdir, train={"learning_rate": 0.002})
    assert planned_jobs(workdir) == {
        "train": 12,
        "predict": 12,
        "evaluate": 12,
        "export_model": 6,
        "results_table": 1,
        "embeddings": 12,
        # one figure per grid cell (split x feature), drawing all its models
        "training_curves": 4,
        "confusion_figure": 4,
        "embedding_map": 4,
        "results_figure": 1,
        "all": 1,
    }


def test_editing_one_models_size_retrains_only_that_model(finished_run):
    workdir, _ = finished_run
    write_config(workdir, train={"model_options": {"crnn": {"channels": 6}}})
    assert planned_jobs(workdir) == {
        "train": 4,
        "predict": 4,
        "evaluate": 4,
        "export_model": 2,
        "results_table": 1,
        "embeddings": 4,
        # every cell has a crnn, so every cell's figures are redrawn
        "training_curves": 4,
        "confusion_figure": 4,
        "embedding_map": 4,
        "results_figure": 1,
        "all": 1,
    }


def test_editing_kmeans_reruns_from_contours_but_never_f0(finished_run):
    workdir, _ = finished_run
    write_config(workdir, contour={"k": 20})
    jobs = planned_jobs(workdir)
    assert "f0" not in jobs and "demo_recording" not in jobs
    assert jobs["contour_clusters"] == 1 and jobs["contour"] == 6 and jobs["motifs"] == 3
    assert {"dataset_items", "feature_store", "split", "train", "predict", "evaluate"} <= set(jobs)


def test_editing_a_mining_setting_reruns_from_the_motifs_on(finished_run):
    workdir, _ = finished_run
    write_config(workdir, mining={"min_support": 3})
    jobs = planned_jobs(workdir)
    assert not {"demo_recording", "f0", "contour_clusters", "contour", "contour_figure"} & set(jobs)
    assert jobs["motifs"] == 3 and jobs["dataset_items"] == 1 and jobs["train"] == 12


def report_results(html):
    """The report's results: {path: entry}, from the JSON its page embeds."""
    script = html.split('<script id="results">', 1)[1].split("</script>", 1)[0]
    text = script.strip().removeprefix("var results =").strip().removesuffix(";")
    return json.loads(text)


def test_the_report_builds_with_every_figure(finished_run):
    workdir, config = finished_run
    write_config(workdir)
    snakemake(workdir, "--report", "report.html")
    html = (workdir / "report.html").read_text(errors="replace")
    assert "results.md" in html and "contour_S1_R1.png" in html
    results = report_results(html)
    expected = ["results/figures/motifs_per_singer.png", "results/figures/results_grid.png"]
    expected += [
        f"results/figures/motifs/{split}/{feature}/{figure}.png"
        for split in config["split"]["strategies"]
        for feature in config["features"]["kinds"]
        for figure in ("training_curves", "confusion", "embedding_map")
    ]
    for path in expected:
        entry = results.get(path)
        assert entry is not None, f"{path} is not in the report"
        assert entry["mime_type"] == "image/png" and entry["caption"].strip(), path
        # embedded in the page: data:image/png;charset=utf8;filename=...;base64,...
        assert entry["data_uri"].startswith("data:image/png;"), path
        assert ";base64," in entry["data_uri"][:300], path
        assert (workdir / path).with_suffix(".svg").stat().st_size > 1000
    # The embeddings behind the maps: every item of the store, with its split side.
    run = workdir / "results/models/motifs/group/logmel/residual_blstm"
    embeddings = pd.read_parquet(run / "embeddings.parquet")
    split = pd.read_parquet(workdir / "results/split/motifs.group.parquet")
    assert list(embeddings.columns[:4]) == ["item_id", "singer", "recording", "subset"]
    assert sorted(embeddings["item_id"]) == sorted(split["item_id"])
    lstm_hidden = config["train"]["model_options"]["residual_blstm"]["lstm_hidden"]
    assert list(embeddings.columns[4:]) == [f"e:{k}" for k in range(2 * lstm_hidden)]
    merged = embeddings.merge(split, on="item_id", suffixes=("", "_split"))
    assert (merged["subset"] == merged["subset_split"]).all()


def test_editing_an_f0_setting_reruns_f0_but_not_the_corpus(finished_run):
    workdir, _ = finished_run
    write_config(workdir, f0={"fmax_hz": 900})
    jobs = planned_jobs(workdir)
    assert jobs["f0"] == 6 and "demo_recording" not in jobs
    assert jobs["export_model"] == 6  # a model directory records the f0 settings


def test_bad_sample_sheet_stops_before_any_job(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "recordings.tsv").write_text(
        "recording_id\tsinger\tpath\nr1\tEM\ta.wav\nr1\tAM\ta.wav\n"
    )
    write_config(tmp_path, corpus={"source": "samplesheet", "samplesheet": "recordings.tsv"})
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert (
        "recordings.tsv row 2 (recording_id 'r1'): duplicate recording_id"
        in result.stdout + result.stderr
    )
    assert not (tmp_path / "results").exists()


def test_invalid_config_value_is_named(tmp_path):
    write_config(tmp_path, contour={"k": 1})
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "On instance['contour']['k']" in output and "minimum" in output


def _own_corpus(workdir, bad_files):
    """Two good demo recordings per singer, plus the given bad files, in a sample sheet."""
    from cantaor.demo import write_demo_recording

    rows = ["recording_id\tsinger\tpath"]
    for singer_index in range(2):
        for recording_index in range(2):
            name = f"S{singer_index + 1}_R{recording_index + 1}"
            write_demo_recording(
                wav_path=workdir / f"audio dir/{name}.wav",
                f0_path=workdir / f"truth/{name}.f0.parquet",
                motifs_path=workdir / f"truth/{name}.motifs.parquet",
                singer_index=singer_index,
                recording_index=recording_index,
                n_singers=2,
                duration_s=6.0,
                seed=1,
            )
            rows.append(f"{name}\tS{singer_index + 1}\taudio dir/{name}.wav")
    for name, content in bad_files.items():
        path = workdir / f"audio dir/{name}.wav"
        path.write_bytes(content)
        rows.append(f"{name}\tS1\taudio dir/{name}.wav")
    (workdir / "recordings.tsv").write_text("\n".join(rows) + "\n")


def _silence():
    import io

    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(44100 * 2, dtype=np.float32), 44100, format="WAV")
    return buffer.getvalue()


@pytest.mark.parametrize("policy", ["fail", "skip"])
def test_bad_recordings_fail_naming_them_or_are_skipped_and_listed(tmp_path, policy):
    _own_corpus(tmp_path, {"not_audio": b"this is a text file", "silent": _silence()})
    write_config(
        tmp_path,
        corpus={
            "source": "samplesheet",
            "samplesheet": "recordings.tsv",
            "on_bad_recording": policy,
        },
    )
    targets = ["results/report/skipped_recordings.tsv", "results/motifs/S1.dictionary.tsv"]
    result = snakemake(tmp_path, "--keep-going", *targets, check=policy == "skip")
    if policy == "fail":
        assert result.returncode != 0
        logs = tmp_path / "results/logs/f0"
        assert "audio dir/not_audio.wav: cannot read audio" in (logs / "not_audio.log").read_text()
        assert "audio dir/silent.wav: no voiced frames" in (logs / "silent.log").read_text()
        assert not (tmp_path / "results/f0/not_audio.parquet").exists()
        assert not (tmp_path / "results/f0/silent.parquet").exists()
        return
    skipped = pd.read_csv(tmp_path / "results/report/skipped_recordings.tsv", sep="\t")
    assert sorted(skipped["recording_id"]) == ["not_audio", "silent"]
    reasons = dict(zip(skipped["recording_id"], skipped["reason"]))
    assert "cannot read audio" in reasons["not_audio"]
    assert "no voiced frames" in reasons["silent"]
    assert (tmp_path / "results/motifs/S1.dictionary.tsv").exists()


def test_adding_a_recording_runs_f0_for_it_alone(tmp_path):
    _own_corpus(tmp_path, {})
    write_config(tmp_path, corpus={"source": "samplesheet", "samplesheet": "recordings.tsv"})
    snakemake(tmp_path, "results/motifs/S1.dictionary.tsv", "results/motifs/S2.dictionary.tsv")
    source = tmp_path / "audio dir/S1_R1.wav"
    (tmp_path / "audio dir/S1_R3.wav").write_bytes(source.read_bytes())
    with open(tmp_path / "recordings.tsv", "a") as sheet:
        sheet.write("S1_R3\tS1\taudio dir/S1_R3.wav\n")
    output = snakemake(
        tmp_path,
        "--dry-run",
        "results/motifs/S1.dictionary.tsv",
        "results/motifs/S2.dictionary.tsv",
    ).stdout
    jobs = dict(
        (match[1], int(match[2]))
        for match in re.finditer(r"^(\w+)\s+(\d+)$", output.split("Job stats:", 1)[1], re.M)
        if match[1] != "total"
    )
    assert jobs["f0"] == 1 and "wildcards: recording=S1_R3" in output
    # new pitch values move the corpus-wide clusters, so every contour follows
    assert jobs["contour_clusters"] == 1 and jobs["contour"] == 5 and jobs["motifs"] == 2


def test_too_few_recordings_per_singer_stops_before_any_job(tmp_path):
    write_config(tmp_path, corpus={"min_recordings_per_singer": 3})
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert "fewer recordings than corpus.min_recordings_per_singer=3: S1 (2)" in (
        result.stdout + result.stderr
    )


def test_exported_model_identifies_a_recording(finished_run):
    workdir, _ = finished_run
    model_dir = workdir / "results/export/motifs/group/logmel/residual_blstm"
    assert json.loads((model_dir / "manifest.json").read_text())["feature"] == "logmel"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cantaor.cli",
            "identify",
            "--json",
            "--model-dir",
            str(model_dir),
            str(workdir / "results/demo/audio/S2_R1.wav"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)["recordings"][0]
    assert answer["verdict"] in {"S1", "S2", "S3"}
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0)
    assert answer["n_motif_occurrences"] > 0
