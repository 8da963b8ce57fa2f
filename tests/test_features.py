import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from cantaor.features.acoustic import (
    FEATURES,
    compute_feature,
    feature_bins,
    item_frames,
    logmel,
    mfcc,
    spectrogram,
)
from cantaor.features.store import INDEX_COLUMNS, build_store, content_hash, open_store
from cantaor.util.audio import load_audio


def test_logmel_shape_and_frame_rate():
    audio = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    spectrogram = logmel(audio, sample_rate=16000, hop_s=0.01, n_mels=128)
    assert spectrogram.shape == (128, 101)
    assert spectrogram.dtype == np.float32
    assert np.isfinite(spectrogram).all()


def test_logmel_puts_a_tone_in_the_right_band():
    time_s = np.arange(16000) / 16000
    low = logmel(np.sin(2 * np.pi * 300 * time_s).astype(np.float32))
    high = logmel(np.sin(2 * np.pi * 3000 * time_s).astype(np.float32))
    assert low.mean(axis=1).argmax() < high.mean(axis=1).argmax()


def test_item_frames():
    assert item_frames(0.0, 0.3, hop_s=0.01) == (0, 30)
    assert item_frames(1.234, 1.5, hop_s=0.01) == (123, 27)
    assert item_frames(2.0, 2.0, hop_s=0.01) == (200, 1)


def test_content_hash_identifies_identical_clips():
    clip = np.linspace(-0.5, 0.5, 100, dtype=np.float32)
    assert content_hash(clip) == content_hash(clip.copy())
    assert content_hash(clip) != content_hash(clip[::-1])


def test_build_store_pads_crops_and_indexes(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("r1", "r2"):
        sf.write(tmp_path / f"{name}.wav", rng.normal(0, 0.1, 44100 * 3), 44100)
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c"],
            "singer": ["S1", "S1", "S2"],
            "recording": ["r1", "r1", "r2"],
            "group": ["r1", "r1", "r2"],
            "motif_id": ["m1", "m2", "m3"],
            "start_s": [0.5, 0.0, 1.0],
            "end_s": [0.8, 2.5, 1.2],
        }
    )
    paths = {name: tmp_path / f"{name}.wav" for name in ("r1", "r2")}
    lines = []
    index = build_store(
        items,
        paths,
        tensor_path=tmp_path / "s.npy",
        index_path=tmp_path / "s.index.parquet",
        n_frames=100,
        log=lines.append,
        progress_interval_s=0,
    )
    # One line per recording, progress with the time left, and the final count.
    assert lines[0] == "r1: 2 items"
    assert lines[1].startswith("logmel store: 2/3 items (67%)") and "left" in lines[1]
    assert lines[-1].startswith("logmel store: 3/3 items (100%)")
    assert list(index.columns) == list(INDEX_COLUMNS)
    store = open_store(tmp_path / "s.npy")
    assert store.shape == (3, 128, 100) and store.dtype == np.float16
    on_disk = pd.read_parquet(tmp_path / "s.index.parquet")
    pd.testing.assert_frame_equal(on_disk, index)
    row = dict(zip(index["item_id"], range(3), strict=True))
    assert index.loc[row["a"], "n_frames"] == 30
    assert index.loc[row["b"], "n_frames"] == 100  # 250 frames cropped to 100
    assert (store[row["a"], :, 30:] == 0).all() and (store[row["a"], :, :30] != 0).any()
    audio, _ = sf.read(tmp_path / "r2.wav")
    import soxr

    full = logmel(soxr.resample(audio.astype(np.float32), 44100, 16000, quality="HQ"))
    np.testing.assert_allclose(store[row["c"], :, :20], full[:, 100:120], atol=0.02, rtol=0.01)
    assert not list(tmp_path.glob(".*"))  # no temporary files left


@pytest.mark.parametrize(("kind", "n_bins"), [("logmel", 128), ("mfcc", 40), ("spectrogram", 201)])
def test_every_kind_has_its_bins_and_the_same_frames(kind, n_bins):
    audio = np.random.default_rng(2).normal(0, 0.1, 16000).astype(np.float32)
    feature = compute_feature(kind, audio, sample_rate=16000, win_s=0.025, hop_s=0.01)
    assert feature_bins(kind) == n_bins
    assert feature.shape == (n_bins, 101)  # 1 s at a 10 ms hop, centred frames
    assert feature.dtype == np.float32
    assert np.isfinite(feature).all()
    assert compute_feature(kind, audio[: 16000 - 80]).shape[1] == 100


def test_every_kind_centres_frame_t_at_t_hops():
    audio = np.zeros(16000, dtype=np.float32)
    audio[8000 - 40 : 8000 + 40] = np.random.default_rng(3).normal(0, 0.5, 80)  # burst at 0.5 s
    audio += np.random.default_rng(4).normal(0, 1e-4, 16000).astype(np.float32)
    for kind in FEATURES:
        feature = compute_feature(kind, audio, hop_s=0.01)
        energy = feature[0] if kind == "mfcc" else feature.mean(axis=0)
        assert energy.argmax() == 50, kind


def test_mfcc_is_librosa_mfcc_of_the_same_mel_power():
    audio = np.random.default_rng(5).normal(0, 0.1, 8000).astype(np.float32)
    ours = mfcc(audio, sample_rate=16000, win_s=0.025, hop_s=0.01, n_fft=1024, n_mfcc=40)
    settings = dict(sr=16000, n_fft=1024, win_length=400, hop_length=160, n_mels=128)
    reference = librosa.feature.mfcc(y=audio, n_mfcc=40, **settings)  # 80 dB clip does not bite
    assert ours.shape == reference.shape == (40, 51)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-3)
    # Without the clip it is the DCT of the log-mel spectrogram, in dB.
    cepstrum = librosa.feature.mfcc(S=logmel(audio) * 10 / np.log(10), n_mfcc=40)
    np.testing.assert_allclose(ours, cepstrum, rtol=1e-4, atol=1e-3)


def test_mfcc_is_frame_local_unlike_librosa_default():
    # librosa's default clips 80 dB below the loudest bin of the whole signal;
    # ours must not depend on how loud the rest of the recording is.
    time_s = np.arange(16000) / 16000
    quiet = (1e-5 * np.sin(2 * np.pi * 440 * time_s)).astype(np.float32)
    loud = quiet.copy()
    loud[12000:] = np.sin(2 * np.pi * 440 * time_s[12000:])
    np.testing.assert_allclose(mfcc(loud)[:, 10:50], mfcc(quiet)[:, 10:50], rtol=1e-4, atol=1e-3)


def test_mfcc_rejects_more_coefficients_than_bands():
    with pytest.raises(ValueError, match="n_mfcc"):
        mfcc(np.zeros(1600, dtype=np.float32), n_mfcc=41, n_mels=40)
    with pytest.raises(ValueError, match="n_mfcc"):
        feature_bins("mfcc", n_mfcc=41, n_mels=40)


@pytest.mark.parametrize(("n_fft", "n_bins"), [(None, 201), (798, 400)])
def test_spectrogram_puts_a_tone_at_its_bin(n_fft, n_bins):
    time_s = np.arange(8000) / 16000
    for tone_hz in (1000.0, 3000.0):
        audio = np.sin(2 * np.pi * tone_hz * time_s).astype(np.float32)
        feature = spectrogram(audio, sample_rate=16000, win_s=0.025, hop_s=0.01, n_fft=n_fft)
        assert feature.shape == (n_bins, 51)
        size = 400 if n_fft is None else n_fft  # 25 ms at 16 kHz is 400 samples
        assert feature[:, 5:-5].mean(axis=1).argmax() == round(tone_hz * size / 16000)
    assert feature_bins("spectrogram", spectrogram_n_fft=n_fft) == n_bins


def test_windows_longer_than_the_fft_are_rejected():
    with pytest.raises(ValueError, match="longer than n_fft"):
        spectrogram(np.zeros(1600, dtype=np.float32), n_fft=256)
    with pytest.raises(ValueError, match="longer than n_fft"):
        feature_bins("spectrogram", spectrogram_n_fft=256)
    with pytest.raises(ValueError, match="longer than n_fft"):
        feature_bins("mfcc", n_fft=256)


def test_unknown_kind_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match=r"'fbank'.*logmel, mfcc, spectrogram"):
        compute_feature("fbank", np.zeros(1600, dtype=np.float32))
    with pytest.raises(ValueError, match="logmel, mfcc, spectrogram"):
        feature_bins("fbank")
    with pytest.raises(ValueError, match="logmel, mfcc, spectrogram"):
        build_store(
            pd.DataFrame(columns=["item_id", "recording", "start_s", "end_s"]),
            {},
            tensor_path=tmp_path / "s.npy",
            index_path=tmp_path / "s.index.parquet",
            kind="fbank",
        )
    assert not list(tmp_path.iterdir())


@pytest.fixture
def two_recordings(tmp_path):
    rng = np.random.default_rng(6)
    time_s = np.arange(22050 * 2) / 22050
    for name, base_hz in (("r1", 220.0), ("r2", 330.0)):
        audio = 0.3 * np.sin(2 * np.pi * base_hz * time_s * (1 + 0.05 * time_s))
        sf.write(tmp_path / f"{name}.wav", audio + rng.normal(0, 0.01, time_s.size), 22050)
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c"],
            "singer": ["S1", "S1", "S2"],
            "recording": ["r1", "r1", "r2"],
            "group": ["r1", "r1", "r2"],
            "motif_id": ["m1", "m2", "m3"],
            "start_s": [0.5, 0.0, 1.0],
            "end_s": [0.8, 1.9, 1.2],
        }
    )
    return items, {name: tmp_path / f"{name}.wav" for name in ("r1", "r2")}


@pytest.mark.parametrize(("kind", "n_bins"), [("mfcc", 40), ("spectrogram", 201)])
def test_build_store_slices_each_kind_from_the_recording(tmp_path, two_recordings, kind, n_bins):
    items, paths = two_recordings
    index = build_store(
        items,
        paths,
        tensor_path=tmp_path / "s.npy",
        index_path=tmp_path / "s.index.parquet",
        n_frames=120,
        kind=kind,
        dtype="float32",
    )
    store = open_store(tmp_path / "s.npy")
    assert store.shape == (3, n_bins, 120) and store.dtype == np.float32
    row = dict(zip(index["item_id"], range(3), strict=True))
    assert index.loc[row["a"], "n_frames"] == 30
    assert index.loc[row["b"], "n_frames"] == 120  # 190 frames cropped to 120
    assert (store[row["a"], :, 30:] == 0).all()
    for item_id, recording, first, length in (
        ("a", "r1", 50, 30),
        ("b", "r1", 0, 120),
        ("c", "r2", 100, 20),
    ):
        audio, _ = load_audio(paths[recording], sample_rate=16000)
        full = compute_feature(kind, audio)
        np.testing.assert_array_equal(
            store[row[item_id], :, :length], full[:, first : first + length]
        )


def test_build_store_pads_bins_to_the_papers_layout(tmp_path, two_recordings):
    items, paths = two_recordings
    options = dict(n_frames=426, kind="mfcc", n_mfcc=40)
    build_store(
        items,
        paths,
        tensor_path=tmp_path / "own.npy",
        index_path=tmp_path / "own.parquet",
        **options,
    )
    build_store(
        items,
        paths,
        tensor_path=tmp_path / "paper.npy",
        index_path=tmp_path / "paper.parquet",
        pad_bins_to=128,
        **options,
    )
    own, paper = open_store(tmp_path / "own.npy"), open_store(tmp_path / "paper.npy")
    assert own.shape == (3, 40, 426) and paper.shape == (3, 128, 426)
    np.testing.assert_array_equal(paper[:, :40], own)
    assert (paper[:, 40:] == 0).all()
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "own.parquet"), pd.read_parquet(tmp_path / "paper.parquet")
    )
    with pytest.raises(ValueError, match="pad_bins_to=128 is fewer than the 201 bins"):
        build_store(
            items,
            paths,
            tensor_path=tmp_path / "s.npy",
            index_path=tmp_path / "s.parquet",
            kind="spectrogram",
            pad_bins_to=128,
        )
    assert not (tmp_path / "s.npy").exists() and not list(tmp_path.glob(".*"))


@pytest.mark.workflow
def test_every_dataset_and_feature_store_builds_in_the_workflow(tmp_path):
    """A real run, up to the stores, of all three datasets x all three features."""
    from test_workflow import snakemake, write_config

    datasets, kinds = ["motifs", "motifs_segment", "random"], list(FEATURES)
    config = write_config(
        tmp_path,
        demo={"n_singers": 2},
        datasets=datasets,
        features={"kinds": kinds, "n_frames": 50},
    )
    targets = [f"results/features/{d}/{k}.npy" for d in datasets for k in kinds]
    snakemake(tmp_path, *targets)
    bins = {"logmel": 128, "mfcc": 40, "spectrogram": 201}
    sizes = {}
    for dataset in datasets:
        items = pd.read_parquet(tmp_path / f"results/features/{dataset}/items.parquet")
        sizes[dataset] = len(items)
        assert len(items) > 0
        for kind in kinds:
            index = pd.read_parquet(tmp_path / f"results/features/{dataset}/{kind}.index.parquet")
            store = np.load(tmp_path / f"results/features/{dataset}/{kind}.npy", mmap_mode="r")
            assert list(index.columns) == list(INDEX_COLUMNS)
            assert store.shape == (len(items), bins[kind], config["features"]["n_frames"])
            assert store.dtype == np.float16 and np.isfinite(store).all()
            assert sorted(index["item_id"]) == sorted(items["item_id"])
    # motifs_segment holds each motif once; random draws as many spans as it can.
    assert sizes["motifs_segment"] == sizes["motifs"]
    assert 0 < sizes["random"] <= sizes["motifs"]
