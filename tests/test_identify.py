"""Model directories and ``cantaor identify``, on a tiny model built for real.

The module fixture runs the pipeline's steps through the package functions
(demo audio, f0, contour, motif dictionaries, feature store, one training
epoch), saves the model where the workflow would, and exports a model
directory from that results folder.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from cantaor.cli import main
from cantaor.contour.symbols import (
    contour_segments,
    fit_clusters,
    segment_phrases,
    symbols_from_segments,
)
from cantaor.dataset.items import build_items
from cantaor.demo.corpus import write_demo_recording
from cantaor.features.store import build_store, open_store
from cantaor.identify.modeldir import (
    FORMAT_VERSION,
    ModelDirError,
    export_model_dir,
    load_model_dir,
)
from cantaor.identify.recording import find_motif_occurrences, identify_recording
from cantaor.mining.bide import find_occurrences
from cantaor.mining.motifs import build_dictionary
from cantaor.pitch.f0 import extract_f0
from cantaor.training.loop import TrainConfig, save_model, train_model
from cantaor.util.atomic import atomic_path, write_json
from cantaor.util.audio import load_audio

SINGERS = ["S1", "S2", "S3"]
DURATION_S = 7.0
CONFIG = {
    "f0": {
        "method": "melodia",
        "sample_rate": 44100,
        "hop_length": 256,
        "frame_length": 2048,
        "fmin_hz": 80,
        "fmax_hz": 1000,
        "voicing_tolerance": 0.2,
        "reference_hz": 55.0,
    },
    "contour": {
        "method": "kmeans",
        "k": 12,
        "band_cents": 60,
        "seed": 0,
        "min_gap_s": 0.15,
        "min_phrase_s": 0.5,
        "smooth_s": 0.1,
        "min_segment_s": 0.05,
        "interval_thresholds_cents": [70, 112],
    },
    "mining": {
        "scope": "singer",
        "min_support": 2,
        "min_gap": 0,
        "max_gap": 0,
        "min_length": 3,
        "max_length": 8,
    },
    "features": {
        "kinds": ["logmel"],
        "sample_rate": 16000,
        "win_s": 0.025,
        "hop_s": 0.01,
        "n_fft": 1024,
        "n_mels": 32,
        "n_mfcc": 20,
        "spectrogram_n_fft": None,
        "pad_bins_to": None,
        "n_frames": 200,
        "min_duration_s": 0.15,
        "dtype": "float16",
    },
    "dataset_options": {"segment_s": 3.0, "seed": 0, "avoid_motifs": True},
}
MODEL_OPTIONS = {"channels": 4, "n_blocks": 1, "lstm_hidden": 8, "fc_units": 16, "dropout": 0.0}


def _contour(f0: pd.DataFrame, centers: np.ndarray) -> pd.DataFrame:
    c = CONFIG["contour"]
    time_s = f0["time_s"].to_numpy()
    phrase = segment_phrases(
        time_s, f0["voiced"].to_numpy(), min_gap_s=c["min_gap_s"], min_phrase_s=c["min_phrase_s"]
    )
    segments = contour_segments(
        time_s,
        f0["pitch_cents"].to_numpy(),
        phrase,
        method="kmeans",
        centers_cents=centers,
        smooth_s=c["smooth_s"],
        min_segment_s=c["min_segment_s"],
    )
    return symbols_from_segments(segments, thresholds_cents=c["interval_thresholds_cents"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("identify")
    results = root / "results"
    audio = {}
    for singer_index, singer in enumerate(SINGERS):
        for recording_index in range(2):
            recording = f"{singer}_R{recording_index + 1}"
            audio[recording] = root / "audio" / f"{recording}.wav"
            write_demo_recording(
                wav_path=audio[recording],
                f0_path=root / "truth" / f"{recording}.f0.parquet",
                motifs_path=root / "truth" / f"{recording}.motifs.parquet",
                singer_index=singer_index,
                recording_index=recording_index,
                n_singers=len(SINGERS),
                duration_s=DURATION_S,
                seed=7,
            )
    f0_options = {k: v for k, v in CONFIG["f0"].items() if k != "sample_rate"}
    f0 = {}
    for recording, path in audio.items():
        signal, rate = load_audio(path, sample_rate=CONFIG["f0"]["sample_rate"])
        f0[recording] = extract_f0(signal, sample_rate=rate, **f0_options)
    cents = np.concatenate([table["pitch_cents"].to_numpy() for table in f0.values()])
    centers, _ = fit_clusters(cents[np.isfinite(cents)], k=CONFIG["contour"]["k"], seed=0)
    write_json(
        {"method": "kmeans", "k": CONFIG["contour"]["k"], "centers_cents": centers.tolist()},
        results / "contour" / "clusters.json",
    )
    contours = {recording: _contour(table, centers) for recording, table in f0.items()}
    m = CONFIG["mining"]
    occurrences = []
    for singer in SINGERS:
        dictionary, found = build_dictionary(
            singer,
            {r: c for r, c in contours.items() if r.startswith(f"{singer}_")},
            min_support=m["min_support"],
            min_gap=m["min_gap"],
            max_gap=m["max_gap"],
            min_length=m["min_length"],
            max_length=m["max_length"],
            scope=m["scope"],
        )
        assert len(dictionary) > 0, singer
        with atomic_path(results / "motifs" / f"{singer}.dictionary.tsv") as tmp:
            dictionary.to_csv(tmp, sep="\t", index=False)
        occurrences.append(found)
    occurrences = pd.concat(occurrences, ignore_index=True)

    f = CONFIG["features"]
    items = build_items(
        "motifs",
        occurrences,
        {recording: recording for recording in audio},
        min_duration_s=f["min_duration_s"],
    )
    store = results / "features" / "motifs"
    index = build_store(
        items,
        audio,
        tensor_path=store / "logmel.npy",
        index_path=store / "logmel.index.parquet",
        n_frames=f["n_frames"],
        sample_rate=f["sample_rate"],
        win_s=f["win_s"],
        hop_s=f["hop_s"],
        n_fft=f["n_fft"],
        n_mels=f["n_mels"],
        dtype=f["dtype"],
    )
    labels = index["singer"].map({s: i for i, s in enumerate(SINGERS)}).to_numpy("int64")
    positions = np.arange(len(index))
    trained = train_model(
        features=open_store(store / "logmel.npy"),
        lengths=index["n_frames"].to_numpy("int64"),
        labels=labels,
        train_idx=positions[positions % 4 != 0],
        val_idx=positions[positions % 4 == 0],
        n_classes=len(SINGERS),
        model_name="residual_blstm",
        model_options=MODEL_OPTIONS,
        config=TrainConfig(epochs=1, batch_size=16, threads=1, device="cpu"),
    )
    # The workflow's layout: results/models/<dataset>/<split>/<feature>/<model>/.
    model_path = results / "models" / "motifs" / "group" / "logmel" / "residual_blstm" / "model.pt"
    save_model(
        model_path,
        model=trained.model,
        model_name="residual_blstm",
        model_options=trained.model_options,
        n_classes=len(SINGERS),
        classes=SINGERS,
        extra={},
    )
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    model_dir = export_model_dir(
        root / "model",
        model_path=model_path,
        clusters_path=results / "contour" / "clusters.json",
        dictionary_paths={s: results / "motifs" / f"{s}.dictionary.tsv" for s in SINGERS},
        config=CONFIG,
        dataset="motifs",
        feature="logmel",
        model_name="residual_blstm",
    )
    # The recording with the most motif occurrences; identify must find them again.
    busiest = occurrences["recording"].value_counts().idxmax()
    return {
        "root": root,
        "results": results,
        "config_path": config_path,
        "model_dir": model_dir,
        "audio": audio,
        "occurrences": occurrences,
        "busiest": busiest,
    }


def _identify_json(capsys, *args):
    code = main(["identify", *map(str, args), "--json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out else None), out.err


def _check_identified(result):
    assert result["verdict"] in SINGERS
    assert result["reason"] is None
    assert list(result["probabilities"]) == SINGERS
    assert sum(result["probabilities"].values()) == pytest.approx(1.0)
    assert result["confidence"] == pytest.approx(max(result["probabilities"].values()))
    assert result["n_motif_occurrences"] >= result["n_items"] > 0
    assert sum(result["votes"].values()) == result["n_items"]
    assert result["motifs"] and all(m["singer"] in SINGERS for m in result["motifs"])
    counts = [m["count"] for m in result["motifs"]]
    assert counts == sorted(counts, reverse=True)
    assert result["duration_s"] == pytest.approx(DURATION_S, abs=0.01)


def test_model_directory_layout(built):
    model_dir = built["model_dir"]
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["format"] == "cantaor-model-dir"
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["singers"] == SINGERS
    assert (manifest["dataset"], manifest["feature"], manifest["model_name"]) == (
        "motifs",
        "logmel",
        "residual_blstm",
    )
    assert manifest["config"]["f0"] == CONFIG["f0"]
    assert manifest["config"]["features"]["n_frames"] == 200
    assert {"cantaor", "torch", "numpy", "librosa", "essentia"} <= set(manifest["created_by"])
    assert (model_dir / "model.pt").is_file() and (model_dir / "clusters.json").is_file()
    for singer in SINGERS:
        copied = (model_dir / "dictionaries" / f"{singer}.tsv").read_bytes()
        assert copied == (built["results"] / "motifs" / f"{singer}.dictionary.tsv").read_bytes()
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(".model.")]
    loaded = load_model_dir(model_dir)
    assert loaded.singers == SINGERS
    assert set(loaded.dictionaries["singer"]) == set(SINGERS)


def test_identify_finds_the_training_occurrences_again(built):
    recording = built["busiest"]
    owner = recording.split("_")[0]
    lines = []
    result = identify_recording(
        built["audio"][recording], load_model_dir(built["model_dir"]), log=lines.append
    )
    _check_identified(result)
    expected = built["occurrences"]
    assert result["occurrences_by_dictionary"][owner] == (expected["recording"] == recording).sum()
    assert len(lines) >= 4


def test_identify_cli_json_on_flac_stereo(built, capsys, tmp_path):
    low, _ = load_audio(built["audio"][built["busiest"]], sample_rate=22050)
    flac = tmp_path / "take.flac"
    sf.write(flac, np.stack([low, 0.5 * low], axis=1), 22050)
    assert sf.info(flac).channels == 2 and sf.info(flac).samplerate == 22050
    code, document, err = _identify_json(
        capsys, built["audio"][built["busiest"]], flac, "--model-dir", built["model_dir"]
    )
    assert code == 0, err
    assert document["model"]["singers"] == SINGERS and document["errors"] == []
    wav_result, flac_result = document["recordings"]
    _check_identified(wav_result)
    _check_identified(flac_result)
    assert flac_result["path"] == str(flac)


def test_identify_table_and_quiet(built, capsys):
    path = built["audio"][built["busiest"]]
    assert main(["identify", str(path), "--model-dir", str(built["model_dir"])]) == 0
    out = capsys.readouterr().out
    assert "probability" in out and "motifs found" in out and "S1" in out
    assert main(["identify", str(path), "--model-dir", str(built["model_dir"]), "-q"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1 and captured.err == ""


def test_identify_verbose_reports_recordings_done_and_time_left(built, capsys):
    paths = [str(built["audio"][built["busiest"]])] * 2
    assert main(["identify", *paths, "--model-dir", str(built["model_dir"]), "-v"]) == 0
    err = capsys.readouterr().err
    assert "identify: 1/2 recordings (50%)" in err and "left" in err
    assert err.count("identify: 2/2 recordings (100%)") == 1


def test_identify_module_subprocess_json(built):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "cantaor.cli",
            "identify",
            str(built["audio"][built["busiest"]]),
            "--model-dir",
            str(built["model_dir"]),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    _check_identified(document["recordings"][0])


def test_silent_recording_has_no_verdict(built, capsys, tmp_path):
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(3 * 44100, dtype=np.float32), 44100)
    code, document, _ = _identify_json(capsys, silent, "--model-dir", built["model_dir"])
    assert code == 0
    result = document["recordings"][0]
    assert result["verdict"] is None and result["probabilities"] is None
    assert "no voiced audio" in result["reason"]
    assert result["n_motif_occurrences"] == 0 and result["motifs"] == []
    assert main(["identify", str(silent), "--model-dir", str(built["model_dir"])]) == 0
    assert "none of the known singers (no voiced audio" in capsys.readouterr().out


def test_missing_audio_is_exit_2_naming_it(built, capsys, tmp_path):
    missing = tmp_path / "nowhere.wav"
    code, document, err = _identify_json(capsys, missing, "--model-dir", built["model_dir"])
    assert code == 2
    assert "nowhere.wav" in err and "not found" in err
    assert document["recordings"] == [] and document["errors"][0]["path"] == str(missing)


def test_other_format_version_is_refused(built, capsys, tmp_path):
    copy = tmp_path / "newer"
    shutil.copytree(built["model_dir"], copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    path = str(built["audio"][built["busiest"]])
    assert main(["identify", path, "--model-dir", str(copy)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "manifest.json" in captured.err
    assert f"format {FORMAT_VERSION + 1}" in captured.err
    assert f"reads format {FORMAT_VERSION}" in captured.err


def test_broken_model_directories_are_refused(built, tmp_path):
    with pytest.raises(ModelDirError, match=r"no manifest\.json"):
        load_model_dir(tmp_path)
    with pytest.raises(ModelDirError, match="model directory not found"):
        load_model_dir(tmp_path / "absent")
    copy = tmp_path / "broken"
    shutil.copytree(built["model_dir"], copy)
    (copy / "model.pt").write_bytes(b"not a model")
    with pytest.raises(ModelDirError, match=r"model\.pt: contents differ"):
        load_model_dir(copy)
    # A file that matches its checksum yet is no model: the load itself fails.
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["sha256"]["model.pt"] = hashlib.sha256(b"not a model").hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelDirError, match=r"model\.pt: model file does not load"):
        load_model_dir(copy)
    (copy / "clusters.json").unlink()
    with pytest.raises(ModelDirError, match=r"clusters\.json: missing"):
        load_model_dir(copy)


def test_export_model_cli(built, tmp_path, capsys):
    out = tmp_path / "exported"
    args = ["export-model", str(built["results"]), "--config", str(built["config_path"])]
    assert main([*args, "-o", str(out)]) == 0
    assert "3 singers" in capsys.readouterr().err
    assert load_model_dir(out).singers == SINGERS
    assert main([*args, "-o", str(out), "-q"]) == 0  # a model directory is replaced
    assert capsys.readouterr().err == ""
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    assert main([*args, "-o", str(busy)]) == 2
    assert "not a model directory" in capsys.readouterr().err
    assert (busy / "notes.txt").read_text() == "keep me"
    assert main([*args, "--model", "crnn", "-o", str(tmp_path / "x")]) == 2
    assert "crnn" in capsys.readouterr().err and not (tmp_path / "x").exists()
    # A dictionary remade after the model was trained is not the model's.
    dictionary = built["results"] / "motifs" / "S2.dictionary.tsv"
    stat = dictionary.stat()
    os.utime(dictionary, (stat.st_atime, stat.st_mtime + 3600))
    try:
        assert main([*args, "-o", str(tmp_path / "y")]) == 2
        assert "S2.dictionary.tsv: remade after" in capsys.readouterr().err
    finally:
        os.utime(dictionary, (stat.st_atime, stat.st_mtime))


def test_export_refuses_incomplete_config(built, tmp_path):
    config = {k: v for k, v in CONFIG.items() if k != "dataset_options"}
    config["f0"] = {k: v for k, v in CONFIG["f0"].items() if k != "hop_length"}
    with pytest.raises(ModelDirError, match=r"f0\.hop_length.*dataset_options"):
        export_model_dir(
            tmp_path / "m",
            model_path=built["model_dir"] / "model.pt",
            clusters_path=built["model_dir"] / "clusters.json",
            dictionary_paths={},
            config=config,
            dataset="motifs",
            feature="logmel",
            model_name="residual_blstm",
        )


@pytest.mark.parametrize(("min_gap", "max_gap"), [(0, 0), (0, 1), (1, None)])
def test_occurrence_search_matches_find_occurrences(min_gap, max_gap):
    rng = np.random.default_rng(min_gap * 10 + (max_gap or 5))
    alphabet = ["+1", "-1", "+2"]
    rows = []
    sequences = {}
    for phrase in range(4):
        sequence = list(rng.choice(alphabet, size=12))
        sequences[phrase] = sequence
        for position, symbol in enumerate(sequence):
            start = phrase * 10 + position * 0.5
            rows.append((phrase, position, symbol, start, start + 1.0))
    symbols = pd.DataFrame(rows, columns=["phrase", "position", "symbol", "start_s", "end_s"])
    patterns = ["+1 -1", "+1 -1 +2", "-1 -1", "+2"]
    dictionaries = pd.DataFrame(
        {
            "motif_id": ["A_m1", "A_m2", "B_m1", "B_m2", "B_m3"],
            "singer": ["A", "A", "B", "B", "B"],
            "pattern": [*patterns, "+1 -1"],  # one pattern in both dictionaries
        }
    )
    found = find_motif_occurrences(symbols, dictionaries, min_gap=min_gap, max_gap=max_gap)
    expected = []
    for motif_id, pattern in zip(dictionaries["motif_id"], dictionaries["pattern"]):
        for phrase, sequence in sequences.items():
            for positions in find_occurrences(
                sequence, pattern.split(), min_gap=min_gap, max_gap=max_gap
            ):
                expected.append((motif_id, phrase, positions[0], positions[-1]))
    got = list(
        zip(found["motif_id"], found["phrase"], found["first_position"], found["last_position"])
    )
    assert sorted(got) == sorted(expected)
    row = found.iloc[0]
    assert row["start_s"] == row["phrase"] * 10 + row["first_position"] * 0.5
    assert row["end_s"] == row["phrase"] * 10 + row["last_position"] * 0.5 + 1.0


@pytest.mark.parametrize("level_dbfs", [-10, -80])
def test_noise_is_none_of_the_known_singers(built, capsys, tmp_path, level_dbfs):
    """White noise is 'voiced' to melodia, but its pitch jumps: rejected, not named."""
    rng = np.random.default_rng(-level_dbfs)
    noise = rng.standard_normal(5 * 44100)
    noise *= 10 ** (level_dbfs / 20) / np.sqrt(np.mean(noise**2))
    path = tmp_path / "noise.wav"
    sf.write(path, noise.astype(np.float32), 44100, subtype="FLOAT")
    code, document, err = _identify_json(capsys, path, "--model-dir", built["model_dir"])
    assert code == 0, err
    result = document["recordings"][0]
    assert result["verdict"] is None and result["rejection"] == "no_sung_pitch"
    assert result["voiced_s"] > 2.0  # reported voiced ...
    assert result["pitch_continuity"] < 0.6  # ... but not continuous like a voice
    assert "noise, not singing" in result["reason"]
    # a rule-less identification would have named a singer
    loose = identify_recording(path, built["model_dir"], rejection=None)
    assert loose["verdict"] in SINGERS


def test_a_calibrated_rule_in_the_model_directory_is_applied(built, tmp_path):
    path = built["audio"][built["busiest"]]
    baseline = identify_recording(path, built["model_dir"])
    _check_identified(baseline)
    strict = tmp_path / "rejection.json"
    rule = {"min_pitch_continuity": 0.1, "min_items": 1, "min_confidence": 0.999}
    write_json(rule | {"calibrated": True}, strict)
    model_dir = export_model_dir(
        tmp_path / "strict",
        model_path=built["model_dir"] / "model.pt",
        clusters_path=built["model_dir"] / "clusters.json",
        dictionary_paths={s: built["results"] / "motifs" / f"{s}.dictionary.tsv" for s in SINGERS},
        config=CONFIG,
        dataset="motifs",
        feature="logmel",
        model_name="residual_blstm",
        rejection_path=strict,
    )
    assert load_model_dir(model_dir).rejection["min_confidence"] == 0.999
    result = identify_recording(path, model_dir)
    assert result["verdict"] is None and result["rejection"] == "low_confidence"
    assert result["closest"] == baseline["verdict"] and result["probabilities"]
    assert "low confidence" in result["reason"] and "never heard" in result["reason"]
    write_json({"min_items": 1}, strict)
    with pytest.raises(ModelDirError, match="rejection rule lacks numeric"):
        export_model_dir(
            tmp_path / "bad",
            model_path=built["model_dir"] / "model.pt",
            clusters_path=built["model_dir"] / "clusters.json",
            dictionary_paths={
                s: built["results"] / "motifs" / f"{s}.dictionary.tsv" for s in SINGERS
            },
            config=CONFIG,
            dataset="motifs",
            feature="logmel",
            model_name="residual_blstm",
            rejection_path=strict,
        )
