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
from cantaor.contour.symbols import SYMBOL_COLUMNS
from cantaor.features.store import INDEX_COLUMNS
from cantaor.mining.motifs import DICTIONARY_COLUMNS, OCCURRENCE_COLUMNS
from cantaor.pitch.f0 import F0_COLUMNS
from cantaor.training.loop import load_model

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
        "open_set": 6,  # the rejection rule is calibrated per exported model
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
        "open_set": 2,
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
    from cantaor.demo.corpus import write_demo_recording

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


# --- issue 17: every edit reruns, inputs checked before work starts -------------------


def test_edits_that_move_values_between_keys_rerun_their_rules(finished_run):
    """Snakemake compares params as a sorted list of values without names: each
    stage passes its settings as one named mapping, so a swap is still an edit."""
    workdir, config = finished_run
    assert (config["mining"]["min_support"], config["mining"]["min_length"]) == (2, 3)
    # min_support 2 -> 3 and min_length 3 -> 2 in one edit: the same values, other keys.
    write_config(workdir, mining={"min_support": 3, "min_length": 2})
    jobs = planned_jobs(workdir)
    assert jobs["motifs"] == 3 and jobs["dataset_items"] == 1 and jobs["train"] == 12
    assert not {"f0", "contour", "contour_clusters"} & set(jobs)
    # chunk_s and chunk_overlap_s of f0 exchanged (both valid): every f0 reruns.
    f0 = config["f0"]
    write_config(workdir, f0={"chunk_s": f0["chunk_overlap_s"], "chunk_overlap_s": f0["chunk_s"]})
    jobs = planned_jobs(workdir)
    assert jobs["f0"] == 6 and "demo_recording" not in jobs
    # min_gap_s and min_phrase_s of the contour stage exchanged: contours and f0 figures.
    contour = config["contour"]
    write_config(
        workdir,
        contour={"min_gap_s": contour["min_phrase_s"], "min_phrase_s": contour["min_gap_s"]},
    )
    jobs = planned_jobs(workdir)
    assert jobs["contour"] == 6 and jobs["f0_figure"] == 6 and "f0" not in jobs
    # The same values in another order in config.yaml: no edit, nothing to do.
    reordered = write_config(workdir)
    reordered["mining"] = dict(reversed(list(reordered["mining"].items())))
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(reordered, sort_keys=False))
    assert planned_jobs(workdir) == {}
    write_config(workdir)


def test_every_rule_passes_its_settings_as_named_mappings():
    """No rule takes config values as separate params (their names would be lost)."""
    offenders = []
    for path in sorted((REPO / "workflow/rules").glob("*.smk")):
        block = None
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            stripped = line.strip()
            if stripped == "params:":
                block = line[: len(line) - len(line.lstrip())]
                continue
            if block is not None and line.strip() and not line.startswith(block + "    "):
                block = None
            if block is not None and re.match(r"\s+\w+=config\[", line):
                # a list of names beside a title is not a setting
                if not re.match(r"\s+models=config\[\"train\"\]\[\"models\"\],", line):
                    offenders.append(f"{path.name}:{number}: {stripped}")
    assert not offenders, "\n".join(offenders)


def test_export_model_cli_on_the_workflow_layout(finished_run, tmp_path):
    """`cantaor export-model` on results/models/<dataset>/<split>/<feature>/<model>/."""
    workdir, config = finished_run
    write_config(workdir)

    def export(*args):
        return subprocess.run(
            [sys.executable, "-m", "cantaor.cli", "export-model", "results", *args],
            cwd=workdir,
            capture_output=True,
            text=True,
        )

    out = tmp_path / "crnn_random_mfcc"
    result = export("--split", "random", "--feature", "mfcc", "--model", "crnn", "-o", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["dataset"], manifest["feature"], manifest["model_name"]) == (
        "motifs",
        "mfcc",
        "crnn",
    )
    assert manifest["singers"] == ["S1", "S2", "S3"]
    for section in ("f0", "contour", "mining", "dataset_options"):
        assert manifest["config"][section] == config[section], section
    # The model file records what its inputs were built with; an edited config.yaml
    # (not yet run) is refused, naming the keys, instead of stated in a manifest.
    write_config(workdir, mining={"min_support": 3, "min_length": 2})
    result = export("--config", "config/config.yaml", "-o", str(tmp_path / "edited"))
    assert result.returncode == 2
    assert "mining.min_support: 2 when built, 3 now" in result.stderr
    assert "mining.min_length: 3 when built, 2 now" in result.stderr
    assert not (tmp_path / "edited").exists()
    # Without --config the manifest states the settings the files were built with.
    result = export("-o", str(tmp_path / "built"))
    assert result.returncode == 0, result.stderr
    built = json.loads((tmp_path / "built/manifest.json").read_text())
    assert built["config"]["mining"]["min_support"] == 2
    # A split the workflow did not make is named with the ones it did.
    result = export("--split", "fold1of5", "-o", str(tmp_path / "none"))
    assert result.returncode == 2 and "splits with this model: group, random" in result.stderr
    write_config(workdir)


def test_a_stale_checkpoint_of_other_settings_is_removed(finished_run, tmp_path):
    """A training killed, then a setting edited: the old checkpoint is deleted, not resumed."""
    from cantaor.training.jobs import run_training

    workdir, _ = finished_run
    stale = tmp_path / ".checkpoint-0123456789abcdef.pt"
    stale.write_bytes(b"the checkpoint of a killed run with other settings")
    lines = []
    run_training(
        tensor_path=workdir / "results/features/motifs/logmel.npy",
        index_path=workdir / "results/features/motifs/logmel.index.parquet",
        split_path=workdir / "results/split/motifs.group.parquet",
        model_path=tmp_path / "model.pt",
        history_path=tmp_path / "history.tsv",
        model_name="residual_blstm",
        model_options={"channels": 2, "n_blocks": 1, "lstm_hidden": 4, "fc_units": 8},
        epochs=1,
        batch_size=64,
        learning_rate=0.002,
        patience=1,
        seed=0,
        device="cpu",
        threads=1,
        log=lines.append,
    )
    assert not stale.exists()
    assert any("removed .checkpoint-0123456789abcdef.pt" in line for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.tsv", "model.pt"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mining": {"min_gap": 2, "max_gap": 1}}, "mining.min_gap=2 must be at most"),
        ({"mining": {"min_length": 5, "max_length": 4}}, "mining.min_length=5 must be at most"),
        ({"contour": {"k_min": 9, "k_max": 4}}, "contour.k_min=9 must be at most contour.k_max"),
        ({"f0": {"fmin_hz": 1000, "fmax_hz": 80}}, "f0.fmin_hz=1000 must be below f0.fmax_hz"),
        (
            {"contour": {"interval_thresholds_cents": [112, 70]}},
            "contour.interval_thresholds_cents=[112, 70] must be strictly increasing",
        ),
        (
            {"train": {"augmentation": {"probability": 0.5}}, "features": {"kinds": ["mfcc"]}},
            "train.augmentation.probability=0.5 augments log-power features",
        ),
    ],
)
def test_conflicting_settings_stop_before_any_job(tmp_path, overrides, message):
    write_config(tmp_path, **overrides)
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def _sheet_corpus(workdir, rows):
    """Demo recordings under the given (recording_id, singer, file name, group) rows."""
    from cantaor.demo.corpus import write_demo_recording

    lines = ["# a comment line\nrecording_id\tsinger\tpath\tstyle\tgroup"]
    singers = sorted({row[1] for row in rows}, key=[row[1] for row in rows].index)
    for number, (recording, singer, name, group) in enumerate(rows):
        write_demo_recording(
            wav_path=workdir / "audio" / name,
            f0_path=workdir / f"truth/{number}.f0.parquet",
            motifs_path=workdir / f"truth/{number}.motifs.parquet",
            singer_index=singers.index(singer),
            recording_index=number,
            n_singers=len(singers),
            duration_s=8.0,
            seed=1,
        )
        lines.append(f"{recording}\t{singer}\taudio/{name}\tsoleá #3\t{group}")
    (workdir / "recordings.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_one_singer_and_colliding_ids_stop_before_any_job(tmp_path):
    for name in ("a.wav", "b.wav"):
        (tmp_path / name).write_bytes(b"")
    sheet = tmp_path / "recordings.tsv"
    write_config(tmp_path, corpus={"source": "samplesheet", "samplesheet": "recordings.tsv"})
    sheet.write_text("recording_id\tsinger\tpath\nr1\tCamarón\ta.wav\nr2\tCamarón\tb.wav\n")
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert "names 1 singer(s) ('Camarón'); identification needs at least two" in (
        result.stdout + result.stderr
    )
    sheet.write_text("recording_id\tsinger\tpath\nx\tA\ta.wav\nx.segments\tB\tb.wav\n")
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert "row 2 (recording_id 'x.segments'): recording_id ends with '.segments'" in (
        result.stdout + result.stderr
    )
    assert not (tmp_path / "results").exists()


def test_unicode_singers_and_hashes_in_fields_through_the_workflow(tmp_path):
    """Singer labels as written in every table and verdict; '#' inside fields kept."""
    rows = [
        ("C1", "Camarón", "cante #1.wav", "Antología #1"),
        ("C2", "Camarón", "cante #2.wav", "Antología #2"),
        ("J1", "José Mercé", "José 1.wav", ""),
        ("J2", "José Mercé", "José 2.wav", ""),
        ("T1", "S3", "t1.wav", ""),
        ("T2", "S3", "t2.wav", ""),
    ]
    _sheet_corpus(tmp_path, rows)
    config = write_config(
        tmp_path,
        corpus={"source": "samplesheet", "samplesheet": "recordings.tsv"},
        split={"strategies": ["group"]},
        features={"kinds": ["logmel"]},
        train={"models": ["residual_blstm"]},
    )
    snakemake(tmp_path)
    results = tmp_path / "results"
    labels = {"Camarón", "José Mercé", "S3"}
    # Files of a singer carry a safe name; their contents the label as written.
    dictionary = pd.read_csv(results / "motifs/Jose_Merce-3de1e6.dictionary.tsv", sep="\t")
    assert set(dictionary["singer"]) == {"José Mercé"}
    assert (results / "motifs/Camaron-023035.occurrences.parquet").exists()
    table = (results / "report/motifs_per_singer.md").read_text(encoding="utf-8")
    assert "Camarón" in table and "José Mercé" in table
    items = pd.read_parquet(results / "features/motifs/items.parquet")
    assert set(items["singer"]) == labels
    # '#' is part of a field: two groups (not one 'Antología '), and the files were read.
    assert {"Antología #1", "Antología #2"} <= set(items["group"])
    run = "motifs/group/logmel/residual_blstm"
    metrics = json.loads((results / f"evaluation/{run}/metrics.json").read_text())
    assert "Camarón" in json.dumps(metrics, ensure_ascii=False)
    model_dir = results / f"export/{run}"
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert set(manifest["singers"]) == labels
    assert manifest["files"]["dictionaries"]["José Mercé"] == "dictionaries/Jose_Merce-3de1e6.tsv"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "cantaor.cli", "identify", "--json"),
            *("--model-dir", str(model_dir), str(tmp_path / "audio/cante #1.wav")),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)["recordings"][0]
    assert set(answer["probabilities"]) == labels
    assert config["corpus"]["source"] == "samplesheet"


def _noise_file(path, level_dbfs, seconds=6.0, rate=44100):
    import soundfile

    rng = np.random.default_rng(11)
    noise = rng.standard_normal(round(seconds * rate))
    noise *= 10 ** (level_dbfs / 20) / np.sqrt(np.mean(noise**2))
    soundfile.write(path, noise.astype(np.float32), rate, subtype="FLOAT")
    return path


def test_noise_is_rejected_and_a_held_out_recording_identified(finished_run, tmp_path):
    """Open set: 'none of the known singers' for noise, a verdict for a test recording."""
    from cantaor.evaluation.openset import apply_rule, recording_roles

    workdir, _ = finished_run
    run = "motifs/group/logmel/residual_blstm"
    model_dir = workdir / f"results/export/{run}"
    manifest = json.loads((model_dir / "manifest.json").read_text())
    rule = json.loads((model_dir / "rejection.json").read_text())
    assert manifest["files"]["rejection"] == "rejection.json" and rule["calibrated"]
    roles = recording_roles(
        pd.read_parquet(workdir / "results/features/motifs/logmel.index.parquet"),
        pd.read_parquet(workdir / "results/split/motifs.group.parquet"),
    )
    held_out = roles[roles["role"] == "test"].iloc[0]
    paths = [
        _noise_file(tmp_path / "white.wav", -10),
        _noise_file(tmp_path / "quiet.wav", -80),
        workdir / f"results/demo/audio/{held_out['recording']}.wav",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "cantaor.cli", "identify", "--json", "--model-dir", str(model_dir)]
        + [str(path) for path in paths],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    white, quiet, recording = json.loads(result.stdout)["recordings"]
    for noise in (white, quiet):
        assert noise["verdict"] is None and noise["rejection"] == "no_sung_pitch", noise
        # no voiced frame at all (swift's gates), or voiced frames that do not glide as singing
        assert any(
            words in noise["reason"] for words in ("noise, not singing", "no voiced audio")
        ), noise
        continuity = noise["pitch_continuity"]  # None: no voiced frame to measure it on
        assert continuity is None or continuity < rule["min_pitch_continuity"]
    # identified (the tiny two-epoch model is near chance, so not necessarily correctly)
    assert recording["verdict"] in {"S1", "S2", "S3"} and recording["rejection"] is None
    text = subprocess.run(
        [
            *(sys.executable, "-m", "cantaor.cli", "identify", "-q"),
            "--model-dir",
            model_dir,
            paths[0],
        ],
        capture_output=True,
        text=True,
    ).stdout
    rejected = r"white\.wav: none of the known singers \((no sung pitch|no voiced audio)"
    assert re.search(rejected, text)
    # The error rates are reported with the evaluation.
    report = json.loads((workdir / f"results/evaluation/{run}/open_set.json").read_text())
    rates = report["evaluation"]
    assert rates["noise_acceptance"]["n"] == 4
    for row in report["recordings"]:
        if row["kind"] == "test noise" and not row["name"].startswith("hum"):
            assert apply_rule(row, rule) == "no_sung_pitch", row  # white, quiet, brown
    assert rates["false_rejection"]["n"] == (roles["role"] == "test").sum()
    markdown = (workdir / f"results/evaluation/{run}/open_set.md").read_text()
    assert "false rejection (known-singer test recordings)" in markdown
