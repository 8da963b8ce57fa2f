import numpy as np
import pandas as pd
import soundfile as sf

from cantaor.features import (
    INDEX_COLUMNS,
    build_store,
    content_hash,
    item_frames,
    logmel,
    open_store,
)


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
    index = build_store(
        items,
        paths,
        tensor_path=tmp_path / "s.npy",
        index_path=tmp_path / "s.index.parquet",
        n_frames=100,
    )
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
