"""A pretrained speaker encoder as a baseline: resemblyzer's VoiceEncoder + logistic regression.

resemblyzer 0.1.4 ships its pretrained encoder (a 3-layer LSTM over 40-band
mel frames at 16 kHz, 256-dimensional L2-normed embeddings of 1.6 s partial
utterances) inside its wheel, so it runs offline. Install it with
``pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels==2.0.14.post1``
(its declared ``webrtcvad`` dependency needs a compiler; ``webrtcvad-wheels``
is the same module prebuilt).

Each item's own audio span is embedded as resemblyzer's ``embed_utterance``
does: the span (volume raised to -30 dBFS, as its ``preprocess_wav`` does,
but without trimming silences: items are short voiced spans) is cut into
1.6 s partials at 1.3 partials per second, zero-padded, and the partial
embeddings are averaged and L2-normed. An item shorter than 1.6 s is one
zero-padded partial. The mel frames are computed here with librosa keyword
calls following resemblyzer's parameters (25 ms window, 10 ms hop, 40
bands, power), and partials of many items go through the encoder in one
batch, which is what makes it cheap on a CPU.

Embeddings are cached per recording (:func:`run_speaker_embeddings`, schema
``dataset``, ``item_id``, ``e000``..``e255`` float32), so every fold's
baseline (:func:`run_speaker_baseline`) reuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

ENCODER_RATE = 16000
EMBEDDING_SIZE = 256
PARTIAL_RATE = 1.3  # partials per second, resemblyzer's default
MIN_COVERAGE = 0.75  # share of a last partial that must be audio, resemblyzer's default
TARGET_DBFS = -30.0  # resemblyzer's audio_norm_target_dBFS
BASELINE_NAME = "speaker_encoder"
FEATURE_NAME = "speaker_encoder"


def load_encoder(device: str = "cpu"):
    """resemblyzer's pretrained VoiceEncoder (its weights are in the wheel)."""
    from cantaor.util.jitcache import import_librosa

    import_librosa()  # resemblyzer imports librosa: numba's cache must be private first
    try:
        from resemblyzer import VoiceEncoder
    except ImportError as err:
        raise ImportError(
            "the speaker-encoder baseline needs resemblyzer: pip install --no-deps "
            "resemblyzer==0.1.4 webrtcvad-wheels==2.0.14.post1 "
            "(or set evaluation.speaker_encoder: false)"
        ) from err
    return VoiceEncoder(device, verbose=False)


def encoder_mel(wav: np.ndarray) -> np.ndarray:
    """The encoder's input: power mel frames, shape (n_frames, 40), float32.

    Parameters
    ----------
    wav : numpy.ndarray, shape (n_samples,)
        Audio at 16 kHz.
    """
    from cantaor.util.jitcache import import_librosa

    librosa = import_librosa()
    mel = librosa.feature.melspectrogram(
        y=np.asarray(wav, dtype=np.float32),
        sr=ENCODER_RATE,
        n_fft=int(ENCODER_RATE * 0.025),
        hop_length=int(ENCODER_RATE * 0.010),
        n_mels=40,
    )
    return mel.astype(np.float32).T


def normalize_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Raise (never lower) the audio to ``target_dbfs`` RMS, as resemblyzer does."""
    wav = np.asarray(wav, dtype=np.float32)
    rms = float(np.sqrt(np.mean(wav.astype(np.float64) ** 2))) if wav.size else 0.0
    if rms == 0.0:
        return wav
    gain_db = target_dbfs - 20 * np.log10(rms)
    return wav * np.float32(10 ** (max(gain_db, 0.0) / 20))


def embed_spans(
    audio: np.ndarray,
    spans: Sequence[tuple[float, float]],
    *,
    encoder,
    batch_size: int = 256,
) -> np.ndarray:
    """One speaker embedding per span of a recording.

    Parameters
    ----------
    audio : numpy.ndarray, shape (n_samples,)
        The recording at 16 kHz.
    spans : sequence of (start_s, end_s)
        Item spans in seconds.
    encoder : resemblyzer.VoiceEncoder
        :func:`load_encoder`.
    batch_size : int
        Partials per forward pass.

    Returns
    -------
    numpy.ndarray, shape (n_spans, 256), float32
        L2-normed mean of each span's partial embeddings (resemblyzer's
        ``embed_utterance`` of the span).
    """
    import torch

    mels, owner = [], []
    for k, (start_s, end_s) in enumerate(spans):
        start, end = round(start_s * ENCODER_RATE), round(end_s * ENCODER_RATE)
        wav = normalize_volume(audio[max(start, 0) : end])
        if wav.size == 0:
            raise ValueError(f"span {k} ({start_s:.3f}-{end_s:.3f} s) holds no audio")
        wav_slices, mel_slices = encoder.compute_partial_slices(
            len(wav), PARTIAL_RATE, MIN_COVERAGE
        )
        if wav_slices[-1].stop >= len(wav):
            wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)))
        mel = encoder_mel(wav)
        mels += [mel[s] for s in mel_slices]
        owner += [k] * len(mel_slices)
    owner = np.asarray(owner, dtype=np.int64)
    partials = np.zeros((len(mels), EMBEDDING_SIZE), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(mels), batch_size):
            batch = torch.from_numpy(np.stack(mels[start : start + batch_size]))
            partials[start : start + len(batch)] = encoder(batch).numpy()
    sums = np.zeros((len(spans), EMBEDDING_SIZE), dtype=np.float64)
    np.add.at(sums, owner, partials)
    return (sums / np.linalg.norm(sums, axis=1, keepdims=True)).astype(np.float32)


def embedding_columns() -> list[str]:
    return [f"e{k:03d}" for k in range(EMBEDDING_SIZE)]


def run_speaker_embeddings(
    *,
    index_paths: dict[str, str],
    audio_path: str,
    recording: str,
    output_path: str,
    threads: int = 1,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Embeddings of every item of one recording, in every dataset (the per-recording cache).

    Parameters
    ----------
    index_paths : dict
        Dataset -> a feature store index of it (``item_id``, ``recording``,
        ``start_s``, ``end_s``).
    audio_path : str
        The recording's audio.
    recording : str
        Its id in the indexes.
    output_path : str
        Parquet: ``dataset``, ``item_id``, ``e000``..``e255`` (float32).
    """
    import torch

    from cantaor.util.audio import load_audio
    from cantaor.util.parquet import write_parquet

    torch.set_num_threads(threads)
    audio, _ = load_audio(audio_path, sample_rate=ENCODER_RATE)
    encoder = load_encoder("cpu")
    frames = []
    for dataset, index_path in sorted(index_paths.items()):
        index = pd.read_parquet(index_path, columns=["item_id", "recording", "start_s", "end_s"])
        items = index[index["recording"].astype(str) == str(recording)]
        embeddings = embed_spans(
            audio, list(zip(items["start_s"], items["end_s"], strict=True)), encoder=encoder
        )
        frame = pd.DataFrame(embeddings, columns=embedding_columns())
        frame.insert(0, "item_id", items["item_id"].to_numpy())
        frame.insert(0, "dataset", dataset)
        frames.append(frame)
        log(f"{dataset}: {len(items)} items of {recording} embedded")
    result = pd.concat(frames, ignore_index=True)
    write_parquet(result, output_path)
    return result


def run_speaker_baseline(
    *,
    dataset: str,
    index_path,
    split_path,
    embedding_paths: Sequence[str],
    metrics_path,
    markdown_path,
    predictions_path,
    title: str,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> dict:
    """Logistic regression on the cached speaker embeddings, on one split.

    Fitted on the training items (as the other baselines), scored on the
    test items; writes metrics JSON in the baselines layout
    (``{"baselines": {"speaker_encoder": metrics}}``), markdown and the
    test predictions (predictions schema with a ``baseline`` column).
    """
    from cantaor.evaluation.baselines import mfcc_stats_baseline
    from cantaor.evaluation.metrics import evaluate_predictions, metrics_to_markdown
    from cantaor.training.jobs import load_items, prediction_frame
    from cantaor.util.atomic import write_json, write_text
    from cantaor.util.parquet import write_parquet
    from cantaor.util.provenance import package_versions

    items = load_items(index_path, split_path)
    cached = pd.concat([pd.read_parquet(path) for path in embedding_paths], ignore_index=True)
    cached = cached[cached["dataset"] == dataset].drop(columns="dataset")
    items = items.merge(cached, on="item_id", how="left", validate="one_to_one")
    columns = embedding_columns()
    missing = items[columns[0]].isna() & items["subset"].isin(["train", "test"])
    if missing.any():
        row = items[missing].iloc[0]
        raise ValueError(
            f"item {row['item_id']} of recording {row['recording']} has no speaker embedding "
            f"for dataset {dataset} in {len(embedding_paths)} embedding file(s)"
        )
    classes = sorted(items["singer"].unique())
    train = items[items["subset"] == "train"]
    test = items[items["subset"] == "test"]
    if test.empty:
        raise ValueError(f"{split_path}: no test items to evaluate")
    proba = mfcc_stats_baseline(
        train[columns].to_numpy(np.float64),
        train["singer"].to_numpy(),
        test[columns].to_numpy(np.float64),
        classes,
        seed=seed,
    )
    metrics = evaluate_predictions(
        y_true=test["singer"].tolist(),
        proba=proba,
        classes=classes,
        recordings=test["recording"].tolist(),
    )
    results = {
        "title": title,
        "versions": package_versions(),
        "baselines": {BASELINE_NAME: metrics},
    }
    write_json(results, metrics_path)
    write_text(
        metrics_to_markdown(metrics, title=f"Speaker encoder + logistic regression: {title}"),
        markdown_path,
    )
    write_parquet(
        prediction_frame(test, proba, classes).assign(baseline=BASELINE_NAME), predictions_path
    )
    log(f"{BASELINE_NAME}: accuracy {metrics['accuracy']:.4f} on {len(test)} items")
    return results
