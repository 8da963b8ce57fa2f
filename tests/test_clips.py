"""Pre-cut clips: folder and table reading, shared-run links, and the clips workflow mode."""

import itertools
import json
import uuid

import numpy as np
import pandas as pd
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from cantaor.dataset.clips import (
    CLIP_COLUMNS,
    CLIP_ITEM_COLUMNS,
    ClipError,
    clip_items,
    clip_report,
    clip_report_markdown,
    parse_clip_name,
    read_clip_table,
    scan_clip_folder,
    select_singers,
    shared_run_groups,
    write_clip_manifest,
)
from cantaor.dataset.leakage import assign_groups, leakage_report
from cantaor.features.store import INDEX_COLUMNS, build_clip_store
from cantaor.util.audio import AudioError


def brute_force_groups(signals, min_samples, rates=None):
    """Components of 'some min_samples-long, non-constant window appears in both'."""
    n = len(signals)
    rates = rates or [0] * n
    parent = list(range(n))

    def find(k):
        while parent[k] != k:
            k = parent[k]
        return k

    for a, b in itertools.combinations(range(n), 2):
        if rates[a] != rates[b]:
            continue
        first, second = signals[a], signals[b]
        windows = {
            first[i : i + min_samples].tobytes()
            for i in range(len(first) - min_samples + 1)
            if np.any(first[i : i + min_samples] != first[i])
        }
        if any(
            second[j : j + min_samples].tobytes() in windows
            for j in range(len(second) - min_samples + 1)
        ):
            root_a, root_b = find(a), find(b)
            parent[max(root_a, root_b)] = min(root_a, root_b)
    return np.array([find(k) for k in range(n)])


@st.composite
def cut_signals(draw):
    # Few distinct values make accidental repeats, constant runs and silence likely.
    alphabet = draw(st.sampled_from([[0.0, 0.5], [0.0, 0.5, 1.0], [-1.0, 0.25, 0.5, 2.0, 3.0]]))
    values = st.sampled_from(alphabet)
    sources = draw(st.lists(st.lists(values, min_size=1, max_size=50), min_size=1, max_size=3))
    signals = []
    for _ in range(draw(st.integers(2, 6))):
        source = draw(st.sampled_from(sources))
        start = draw(st.integers(0, len(source)))
        stop = draw(st.integers(start, len(source)))
        signals.append(np.array(source[start:stop], dtype=np.float32))
    return signals


@settings(max_examples=300, deadline=None)
@given(cut_signals(), st.integers(4, 9), st.booleans())
def test_shared_run_groups_match_brute_force(signals, min_samples, two_rates):
    rates = [k % 2 for k in range(len(signals))] if two_rates else None
    found = shared_run_groups(signals, min_samples=min_samples, rates=rates)
    assert list(found) == list(brute_force_groups(signals, min_samples, rates))


def test_shared_runs_in_long_noise_clips():
    rng = np.random.default_rng(0)
    recording = rng.normal(size=20000).astype(np.float32)
    other = rng.normal(size=20000).astype(np.float32)
    signals = [
        recording[1000:4000],
        recording[3500:6000],  # shares 500 samples with the first
        recording[6100:9000],  # touches neither
        other[0:3000],
        recording[8950:9100],  # shares 50 samples with the third: below 100
        np.zeros(3000, dtype=np.float32),
        np.zeros(2000, dtype=np.float32),  # silence is not shared audio
    ]
    assert list(shared_run_groups(signals, min_samples=100)) == [0, 0, 2, 3, 4, 5, 6]
    assert list(shared_run_groups(signals, min_samples=40)) == [0, 0, 2, 3, 2, 5, 6]


def test_shared_run_groups_rejects_tiny_runs():
    with pytest.raises(ValueError, match="at least 4"):
        shared_run_groups([np.zeros(3)], min_samples=3)


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("REC1_1-2-1_3f2a.wav", ("REC1", "1-2-1", "3f2a")),
        ("A7_+1_-2_+3_ab-cd.wav", ("A7", "+1_-2_+3", "ab-cd")),
    ],
)
def test_parse_clip_name(name, parsed):
    assert parse_clip_name(name) == parsed


@pytest.mark.parametrize("name", ["nounderscores.wav", "REC_uuid.wav", "_p_u.wav", "R_p_.wav"])
def test_parse_clip_name_errors_name_the_file(name):
    with pytest.raises(ClipError, match=name.replace(".", r"\.")):
        parse_clip_name(f"folder/{name}")


def write_clip(path, audio, rate=22050):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, audio, rate, subtype="FLOAT")


def tone_recording(frequency_hz, seed, duration_s=3.0, rate=22050):
    """A vibrato tone with its own noise: no two recordings share a sample run."""
    t = np.arange(round(duration_s * rate)) / rate
    noise = np.random.default_rng(seed).normal(scale=0.01, size=len(t))
    phase = 2 * np.pi * frequency_hz * t + 3 * np.sin(2 * np.pi * 5 * t)
    return (0.3 * np.sin(phase) + noise).astype(np.float32)


def build_clip_folder(root, rate=22050):
    """3 singers x 2 recordings x 4 clips, with planted copies and overlaps.

    Returns the folder and what was planted: ``cross`` (a clip copied under
    another singer), ``within`` (a clip copied under its own singer with
    another name), ``overlap`` (two clips of one recording cut from overlapping
    spans, under different recording ids, so only the shared run links them).
    """
    planted = {}
    for s, singer in enumerate(["ana", "blas", "carmen"]):
        for r in range(2):
            recording = tone_recording(220 * (1 + 0.25 * s) * (1 + 0.1 * r), seed=10 * s + r)
            recording_id = f"{singer[:2].upper()}{r}"
            for c in range(4):
                start = round((0.6 * c + 0.05) * rate)
                stop = start + round(0.45 * rate)
                name = f"{recording_id}_{c + 1}-{r + 2}_{uuid.UUID(int=100 * s + 10 * r + c)}.wav"
                write_clip(root / singer / name, recording[start:stop], rate)
            if s == 0 and r == 0:
                # Overlaps the first clip (span 0.05-0.50 s) by 0.35 s; its name
                # claims another recording, as in the released set.
                start, stop = round(0.15 * rate), round(0.60 * rate)
                name = f"XX9_5-5_{uuid.UUID(int=999)}.wav"
                write_clip(root / singer / name, recording[start:stop], rate)
                planted["overlap"] = (f"{singer}/{name[:-4]}", f"{singer}/{recording_id}_1-2_")
    source = root / "blas" / sorted(p.name for p in (root / "blas").iterdir())[0]
    audio, _ = soundfile.read(source, dtype="float32")
    write_clip(root / "carmen" / f"CA0_9-9_{uuid.UUID(int=12345)}.wav", audio, rate)
    write_clip(root / "blas" / f"BL1_9-9_{uuid.UUID(int=54321)}.wav", audio, rate)
    planted["cross"] = ("blas", "carmen")
    return root, planted


def test_scan_clip_folder_reads_singers_recordings_and_patterns(tmp_path):
    folder, _ = build_clip_folder(tmp_path / "clips")
    clips, skipped = scan_clip_folder(folder)
    assert list(clips.columns) == list(CLIP_COLUMNS) and skipped.empty
    assert len(clips) == 3 * 2 * 4 + 3
    assert sorted(clips["singer"].unique()) == ["ana", "blas", "carmen"]
    first = clips.iloc[0]
    assert first["clip_id"].startswith("ana/AN0_1-2_") and first["recording"] == "AN0"
    assert first["pattern"] == "1-2" and first["group"] == "AN0"


def test_scan_clip_folder_bad_names_fail_or_skip(tmp_path):
    folder, _ = build_clip_folder(tmp_path / "clips")
    bad = folder / "ana" / "badname.wav"
    bad.write_bytes(b"")
    (folder / "ana" / "notes.txt").write_text("x")
    with pytest.raises(ClipError, match=r"badname\.wav"):
        scan_clip_folder(folder)
    clips, skipped = scan_clip_folder(folder, on_bad="skip")
    assert len(clips) == 3 * 2 * 4 + 3
    assert sorted(skipped["path"].map(lambda p: p.rsplit("/", 1)[1])) == [
        "badname.wav",
        "notes.txt",
    ]
    with pytest.raises(ClipError, match="clip folder not found"):
        scan_clip_folder(tmp_path / "absent")


def test_read_clip_table_resolves_paths_and_reports_rows(tmp_path):
    folder, _ = build_clip_folder(tmp_path / "clips")
    clips, _ = scan_clip_folder(folder)
    table = clips.assign(path=clips["path"].str.replace(str(tmp_path) + "/", "", regex=False))
    table["group"] = ["album1"] * 4 + [""] * (len(table) - 4)
    table[["path", "singer", "recording", "pattern", "group"]].to_csv(
        tmp_path / "clips.tsv", sep="\t", index=False
    )
    read, skipped = read_clip_table(tmp_path / "clips.tsv")
    assert skipped.empty
    pd.testing.assert_frame_equal(
        read.drop(columns="group"), clips.drop(columns="group"), check_like=True
    )
    assert list(read["group"][:5]) == ["album1"] * 4 + [read["recording"][4]]
    broken = table.copy()
    broken.loc[3, "path"] = "clips/ana/missing.wav"
    broken.loc[5, "singer"] = ""
    broken[["path", "singer", "recording", "pattern"]].to_csv(
        tmp_path / "broken.tsv", sep="\t", index=False
    )
    with pytest.raises(ClipError, match=r"broken.tsv, line 5: file .*missing.wav not found"):
        read_clip_table(tmp_path / "broken.tsv")
    read, skipped = read_clip_table(tmp_path / "broken.tsv", on_bad="skip")
    assert len(read) == len(table) - 2 and len(skipped) == 2
    table[["path", "singer"]].to_csv(tmp_path / "short.tsv", sep="\t", index=False)
    with pytest.raises(ClipError, match=r"missing column.*recording, pattern"):
        read_clip_table(tmp_path / "short.tsv")


def test_clip_items_hash_link_and_report(tmp_path):
    folder, planted = build_clip_folder(tmp_path / "clips")
    clips, _ = scan_clip_folder(folder)
    items, skipped = clip_items(clips, min_shared_s=0.02)
    assert skipped.empty and list(items.columns) == list(CLIP_ITEM_COLUMNS)
    assert items["start_s"].isna().all() and np.allclose(items["duration_s"], 0.45, atol=1e-4)
    overlapping, first_prefix = planted["overlap"]
    first = items.loc[items["item_id"].str.startswith(first_prefix), "item_id"].item()
    by_id = items.set_index("item_id")
    assert by_id.at[overlapping, "audio_group"] == by_id.at[first, "audio_group"] == first
    # Apart from the overlap and the copies, every clip stands alone.
    assert items["audio_group"].nunique() == len(items) - 3
    report = leakage_report(items)
    assert report["n_items"] == 27 and report["n_distinct_contents"] == 25
    assert report["n_items_cross_singer"] == 3 and report["n_cross_singer_contents"] == 1
    assert report["n_items_duplicated_within_singer"] == 2
    groups = assign_groups(items).groupby(items["item_id"]).first()
    assert groups[overlapping] == groups[first]
    # The copy links blas's two recordings into one split group.
    assert report["split_groups_per_singer"]["blas"] == 1


def test_clip_items_unreadable_and_short_clips(tmp_path):
    folder, _ = build_clip_folder(tmp_path / "clips")
    (folder / "ana" / "AN0_1-1_broken.wav").write_bytes(b"not audio")
    write_clip(folder / "ana" / "AN0_1-1_short.wav", np.ones(100, dtype=np.float32))
    clips, _ = scan_clip_folder(folder)
    with pytest.raises(AudioError, match=r"AN0_1-1_broken\.wav"):
        clip_items(clips)
    items, skipped = clip_items(clips, on_bad="skip", min_duration_s=0.15)
    assert len(items) == 27 and len(skipped) == 2
    assert skipped["reason"].str.contains("shorter than 0.15 s").sum() == 1


def test_clip_store_resamples_and_keeps_the_clip_columns(tmp_path):
    folder, _ = build_clip_folder(tmp_path / "clips")
    clips, _ = scan_clip_folder(folder)
    items, _ = clip_items(clips)
    index = build_clip_store(
        items,
        tensor_path=tmp_path / "logmel.npy",
        index_path=tmp_path / "logmel.index.parquet",
        n_frames=60,
    )
    assert list(index.columns) == [*INDEX_COLUMNS, "audio_group"]
    store = np.load(tmp_path / "logmel.npy", mmap_mode="r")
    assert store.shape == (len(items), 128, 60)
    # 0.45 s at a 10 ms hop, centred frames: 46 valid frames, the rest zeros.
    assert (index["n_frames"] == 46).all()
    assert not np.any(store[:, :, 46:]) and np.all(np.isfinite(store[:, :, :46]))
    assert index["content_hash"].tolist() == items["content_hash"].tolist()
    copies = index.groupby("content_hash")["item_id"].transform("size") > 1
    first, second = np.flatnonzero(copies.to_numpy())[:2]
    np.testing.assert_array_equal(store[first], store[second])


# --- the clips mode of the workflow ---------------------------------------------

CLIP_RUN = {
    "corpus": {"source": "clips", "clips_dir": "clips"},
    "features": {"kinds": ["logmel"], "n_frames": 60},
    "split": {"strategies": ["group"]},
    "train": {"models": ["residual_blstm"], "epochs": 1},
}


@pytest.mark.workflow
def test_clips_workflow_trains_and_evaluates_end_to_end(tmp_path):
    from test_workflow import snakemake, write_config

    build_clip_folder(tmp_path / "clips")
    write_config(tmp_path, **CLIP_RUN)
    figures = [
        f"results/figures/clips/group/logmel/{name}.png"
        for name in ("training_curves", "confusion", "embedding_map")
    ]
    snakemake(tmp_path, "results/report/results.md", "results/clips/clips.md", *figures)
    results = tmp_path / "results"
    assert all((tmp_path / figure).stat().st_size > 0 for figure in figures)
    assert not (results / "f0").exists() and not (results / "motifs").exists()
    clips = json.loads((results / "clips/clips.json").read_text())
    assert clips["n_items"] == 27 and clips["n_distinct_contents"] == 25
    assert clips["n_items_cross_singer"] == 3 and clips["n_items_duplicated_within_singer"] == 2
    assert clips["n_clips_sharing_audio"] == 2
    assert "27 clips read" in (results / "clips/clips.md").read_text()
    index = pd.read_parquet(results / "features/clips/logmel.index.parquet")
    assert len(index) == 27 and np.load(results / "features/clips/logmel.npy").shape == (
        27,
        128,
        60,
    )
    leakage = json.loads((results / "split/clips.group.leakage.json").read_text())
    # The cross-singer copies are dropped; no audio or recording straddles the split.
    assert leakage["deduplication"]["n_dropped_cross_singer"] == 3
    for key in ("test_identical_in_train", "test_overlap_in_train", "test_recording_in_train"):
        assert leakage["split"]["counts"][key] == 0
    split = pd.read_parquet(results / "split/clips.group.parquet").merge(index)
    tested = split[split["subset"] == "test"]
    assert len(tested) and set(tested["audio_group"]).isdisjoint(
        split.loc[split["subset"] == "train", "audio_group"]
    )
    metrics = json.loads(
        (results / "evaluation/clips/group/logmel/residual_blstm/metrics.json").read_text()
    )
    assert metrics["n_items"] == len(tested) and 0 <= metrics["accuracy"] <= 1
    grid = pd.read_csv(results / "report/results.csv")
    assert set(grid["dataset"]) == {"clips"} and "residual_blstm" in set(grid["model"])


@pytest.mark.workflow
def test_clips_table_mode_and_bad_names_are_checked_before_any_job(tmp_path):
    from test_workflow import planned_jobs, snakemake, write_config

    folder, _ = build_clip_folder(tmp_path / "clips")
    clips, _ = scan_clip_folder(folder)
    clips.assign(path=clips["path"].str.replace(f"{tmp_path}/", "", regex=False))[
        ["path", "singer", "recording", "pattern"]
    ].to_csv(tmp_path / "clips.tsv", sep="\t", index=False)
    write_config(
        tmp_path,
        **{**CLIP_RUN, "corpus": {"source": "clips", "clips_table": "clips.tsv"}},
    )
    jobs = planned_jobs(tmp_path)
    assert jobs["clip_items"] == 1 and jobs["clip_store"] == 1 and jobs["train"] == 1
    assert "f0" not in jobs and "motifs" not in jobs and "feature_store" not in jobs
    (folder / "ana" / "not-a-clip-name.wav").write_bytes(b"")
    write_config(tmp_path, **CLIP_RUN)
    failed = snakemake(tmp_path, "--dry-run", check=False)
    assert failed.returncode != 0 and "not-a-clip-name.wav" in failed.stdout + failed.stderr


def test_corpus_singers_choose_a_subset_or_name_the_missing_singer(tmp_path):
    folder, _ = build_clip_folder(tmp_path / "clips")
    clips, _ = scan_clip_folder(folder)
    kept, left_out = select_singers(clips, ["ana", "carmen"], source=str(folder))
    assert sorted(kept["singer"].unique()) == ["ana", "carmen"]
    assert left_out == {"blas": int((clips["singer"] == "blas").sum())}
    assert select_singers(clips, [])[0] is clips
    with pytest.raises(ClipError, match=r"corpus.singers names diego, with no clip there"):
        select_singers(clips, ["ana", "diego"], source=str(folder))
    items, skipped = clip_items(kept)
    report = clip_report(items, skipped, singers_left_out=left_out)
    assert set(report["items_per_singer"]) == {"ana", "carmen"}
    assert "Left out by `corpus.singers`: blas (9 clips)." in clip_report_markdown(report)


def test_short_clips_are_counted_per_singer_with_a_warning(tmp_path):
    folder, _ = build_clip_folder(tmp_path / "clips")
    for k in range(3):
        write_clip(
            folder / "carmen" / f"CA1_7-7_{uuid.UUID(int=700 + k)}.wav",
            tone_recording(300, k)[:2000],
        )
    clips, _ = scan_clip_folder(folder)
    items, skipped = clip_items(clips, min_duration_s=0.15)
    assert skipped["cause"].tolist() == ["short"] * 3 and set(skipped["singer"]) == {"carmen"}
    report = clip_report(items, skipped, min_duration_s=0.15, max_dropped_share=0.2)
    rows = {row["singer"]: row for row in report["short_per_singer"]}
    assert rows["carmen"]["n_items"] == 12 and rows["carmen"]["n_dropped"] == 3
    assert rows["carmen"]["dropped_share"] == pytest.approx(0.25) and rows["carmen"]["over_limit"]
    assert rows["ana"]["n_dropped"] == 0 and not rows["ana"]["over_limit"]
    assert report["short_warnings"] == [
        "carmen loses 3 of 12 items (25%) shorter than features.min_duration_s = 0.15 s, "
        "more than features.max_dropped_share = 20%"
    ]
    text = clip_report_markdown(report)
    assert "| carmen | 12 | 3 | 25.0% (over the limit) |" in text
    assert f"**Warning: {report['short_warnings'][0]}.**" in text
    # under the limit: counted, no warning
    assert not clip_report(items, skipped, min_duration_s=0.15, max_dropped_share=0.3)[
        "short_warnings"
    ]


def test_clip_manifest_changes_only_with_the_clips(tmp_path):
    folder, _ = build_clip_folder(tmp_path / "clips")
    clips, _ = scan_clip_folder(folder)
    manifest = tmp_path / "results" / "manifest.tsv"
    assert write_clip_manifest(clips, manifest)
    first = manifest.read_text()
    assert len(first.splitlines()) == len(clips) + 1
    assert not write_clip_manifest(clips, manifest) and manifest.read_text() == first
    write_clip(
        folder / "ana" / clips["path"].iloc[0].rsplit("/", 1)[1], np.zeros(50000, np.float32)
    )
    assert write_clip_manifest(clips, manifest) and manifest.read_text() != first


def test_clip_table_fold_column_states_the_kfold_folds(tmp_path):
    from cantaor.dataset.split import split_dataset

    folder, _ = build_clip_folder(tmp_path / "clips")
    clips, _ = scan_clip_folder(folder)
    table = clips.assign(path=clips["path"].str.replace(f"{tmp_path}/", "", regex=False))
    # fold 1 tests every singer's recording 0, fold 2 recording 1 (with its copies)
    table["fold"] = np.where(table["recording"].str.endswith("0"), 1, 2)
    table.loc[table["recording"] == "XX9", "fold"] = 1  # overlaps AN0: its group's fold
    # blas's copied clip joins BL0, BL1 and CA0 into one group: one fold for all three
    table.loc[table["recording"].isin(["BL0", "BL1", "CA0"]), "fold"] = 1
    table[["path", "singer", "recording", "pattern", "fold"]].to_csv(
        tmp_path / "clips.tsv", sep="\t", index=False
    )
    read, _ = read_clip_table(tmp_path / "clips.tsv")
    assert read["fold"].dtype == "int64"
    items, _ = clip_items(read)
    folds = dict(zip(read["clip_id"], read["fold"]))
    for fold in (1, 2):
        subsets, report, _ = split_dataset(items, f"fold{fold}of2", folds=folds)
        assert report["split_units"]["fold_source"] == "stated"
        tested = subsets.merge(items)[lambda f: f["subset"] == "test"]
        assert len(tested) and set(tested["item_id"].map(folds)) == {fold}
    # that group is blas's, leaving blas and carmen one group each
    assert report["untestable_singers"] == ["blas", "carmen"]
    bad = dict(folds)
    bad[read.loc[read["recording"] == "AN1", "clip_id"].iloc[0]] = 1
    with pytest.raises(ValueError, match=r"split group .* holds items of folds 1 .*, 2 "):
        split_dataset(items, "fold1of2", folds=bad)
    one_fold = {clip_id: 1 for clip_id in folds}
    with pytest.raises(ValueError, match=r"singer ana: every split group .* states fold 1"):
        split_dataset(items, "fold1of2", folds=one_fold)
    table["fold"] = table["fold"].astype(str)
    table.loc[2, "fold"] = "x"
    table[["path", "singer", "recording", "pattern", "fold"]].to_csv(
        tmp_path / "bad.tsv", sep="\t", index=False
    )
    with pytest.raises(ClipError, match=r"bad.tsv, line 4: fold 'x' is not a whole number"):
        read_clip_table(tmp_path / "bad.tsv")


@pytest.mark.workflow
def test_clips_workflow_with_a_singer_subset_stated_folds_and_the_papers_split(tmp_path):
    from test_workflow import snakemake, write_config

    folder, _ = build_clip_folder(tmp_path / "clips")
    clips, _ = scan_clip_folder(folder)
    table = clips.assign(path=clips["path"].str.replace(f"{tmp_path}/", "", regex=False))
    # fold 1 tests every singer's recording 0 (and the clip overlapping AN0), fold 2 recording 1
    table["fold"] = np.where(table["recording"].isin(["AN0", "BL0", "CA0", "XX9"]), 1, 2)
    table[["path", "singer", "recording", "pattern", "fold"]].to_csv(
        tmp_path / "clips.tsv", sep="\t", index=False
    )
    write_config(
        tmp_path,
        **{
            **CLIP_RUN,
            "corpus": {
                "source": "clips",
                "clips_table": "clips.tsv",
                "singers": ["ana", "carmen"],
            },
            "split": {"strategies": ["group", "random_paper", "kfold"], "folds": 2},
        },
    )
    run = snakemake(tmp_path, "results/report/results.md", "results/report/folds.md")
    # the clip_items job's header names one manifest, not every clip
    assert max(map(len, (run.stdout + run.stderr).splitlines())) < 2000
    results = tmp_path / "results"
    assert (
        "Left out by `corpus.singers`: blas (9 clips)." in (results / "clips/clips.md").read_text()
    )
    index = pd.read_parquet(results / "features/clips/logmel.index.parquet")
    assert set(index["singer"]) == {"ana", "carmen"}
    folds = dict(zip(clips["clip_id"], table["fold"]))
    for fold in (1, 2):
        leakage = json.loads((results / f"split/clips.fold{fold}of2.leakage.json").read_text())
        assert leakage["split_units"]["fold_source"] == "stated"
        split = pd.read_parquet(results / f"split/clips.fold{fold}of2.parquet")
        tested = split.loc[split["subset"] == "test", "item_id"]
        assert len(tested) and set(tested.map(folds)) == {fold}
    paper = json.loads((results / "split/clips.random_paper.leakage.json").read_text())
    assert not paper["deduplicated"]
    assert (
        (results / "split/clips.random_paper.leakage.md")
        .read_text()
        .startswith("**The paper's protocol as it was")
    )
    group = json.loads((results / "split/clips.group.leakage.json").read_text())
    assert group["untestable_singers"] == group["split_units"]["untestable_singers"]
    table_md = (results / "report/results.md").read_text()
    assert "| balanced accuracy | chance (accuracy / balanced) |" in table_md
    assert "| clips | random_paper | yes |" in table_md and "## Splits" in table_md
    grid = pd.read_csv(results / "report/results.csv")
    assert {"balanced_accuracy", "chance_accuracy", "recording_balanced_accuracy"} <= set(
        grid.columns
    )
    assert set(grid["split"]) == {"group", "random_paper", "fold1of2", "fold2of2"}
    folds_md = (results / "report/folds.md").read_text()
    assert "balanced accuracy | chance accuracy (most frequent singer)" in folds_md
    assert "| clips | logmel | residual_blstm | 2 of 2 |" in folds_md
