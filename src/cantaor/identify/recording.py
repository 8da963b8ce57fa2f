"""Identify the singer of one recording with a model directory.

The recording goes through the steps that made the model's training items,
with the settings stored in the model directory (:mod:`cantaor.identify.modeldir`):
f0 (:func:`cantaor.pitch.f0.extract_f0`), phrases and contour symbols with the
stored clusters (:mod:`cantaor.contour.symbols`), the occurrences of every motif of
every stored dictionary, the items of the model's dataset built from those
occurrences (:func:`cantaor.dataset.items.build_items`), their features
(:func:`cantaor.features.store.build_store`, so padding, cropping and storage dtype
match training) and the model's item probabilities
(:func:`cantaor.training.loop.predict_proba`). The recording-level probabilities are
the mean of the item probabilities over distinct audio spans (a span matched
by motifs of several dictionaries counts once).

The answer may be "none of the known singers" (``verdict`` None, with a
``rejection`` code and a ``reason``): when the recording holds no sung pitch
(no voiced frame, or a pitch that jumps like noise's), too few motifs, or its
most probable singer is not probable enough. The thresholds are the model
directory's calibrated rejection rule (:mod:`cantaor.evaluation.openset`), or
:data:`cantaor.evaluation.openset.DEFAULT_RULE` for a directory without one.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cantaor.identify.modeldir import ModelDir, load_model_dir
from cantaor.mining.motifs import OCCURRENCE_COLUMNS, locate_occurrences


def find_motif_occurrences(
    symbols: pd.DataFrame,
    dictionaries: pd.DataFrame,
    *,
    recording: str = "recording",
    min_gap: int = 0,
    max_gap: int | None = 0,
) -> pd.DataFrame:
    """Every occurrence of every dictionary motif in one recording's phrases.

    Contiguous patterns (``min_gap == max_gap == 0``) are found in one pass
    over every substring of the needed lengths; other gap settings use
    :func:`cantaor.mining.bide.find_occurrences` (one occurrence per start, the
    earliest-ending completion), as the motif dictionaries' own occurrences
    were located.

    Parameters
    ----------
    symbols : pd.DataFrame
        The recording's contour symbols (:data:`cantaor.contour.symbols.SYMBOL_COLUMNS`).
    dictionaries : pd.DataFrame
        Motif dictionaries of one or more singers (``motif_id``, ``singer``,
        ``pattern`` with symbols joined by spaces). The same pattern in two
        dictionaries gives one occurrence per dictionary.
    recording : str
        Value of the ``recording`` column.
    min_gap, max_gap : int
        The gap constraint the dictionaries were mined with.

    Returns
    -------
    pd.DataFrame
        Columns :data:`OCCURRENCE_COLUMNS`, sorted by start, end and motif id.
    """
    motifs: dict[tuple[str, ...], list[str]] = defaultdict(list)
    details: dict[str, tuple[str, str]] = {}
    for motif_id, singer, pattern in zip(
        dictionaries["motif_id"], dictionaries["singer"], dictionaries["pattern"], strict=True
    ):
        key = tuple(str(pattern).split())
        if key:
            motifs[key].append(str(motif_id))
            details[str(motif_id)] = (str(singer), " ".join(key))
    phrases = [
        (int(phrase), group.sort_values("position").reset_index(drop=True))
        for phrase, group in symbols.groupby("phrase", sort=True)
    ]
    tables = dict(phrases)
    found = locate_occurrences(
        [(recording, phrase, table["symbol"].astype(str).tolist()) for phrase, table in phrases],
        motifs,
        min_gap=min_gap,
        max_gap=max_gap,
    )
    rows = []
    for motif_id, _, phrase, first, last in found:
        table = tables[phrase]
        start_s = float(table.at[first, "start_s"])
        end_s = float(table.at[last, "end_s"])
        singer, pattern = details[motif_id]
        rows.append(
            (
                motif_id,
                singer,
                recording,
                pattern,
                phrase,
                int(table.at[first, "position"]),
                int(table.at[last, "position"]),
                start_s,
                end_s,
                end_s - start_s,
            )
        )
    table = pd.DataFrame(rows, columns=list(OCCURRENCE_COLUMNS)).astype(
        {
            "motif_id": object,
            "singer": object,
            "recording": object,
            "pattern": object,
            "phrase": "int64",
            "first_position": "int64",
            "last_position": "int64",
            "start_s": "float64",
            "end_s": "float64",
            "duration_s": "float64",
        }
    )
    return table.sort_values(["start_s", "end_s", "motif_id"], ignore_index=True)


def _top_motifs(occurrences: pd.DataFrame, dictionaries: pd.DataFrame, top: int) -> list[dict]:
    if occurrences.empty:
        return []
    counts = (
        occurrences.groupby(["motif_id", "singer", "pattern"], sort=False)
        .size()
        .rename("count")
        .reset_index()
    )
    support = dict(zip(dictionaries["motif_id"], dictionaries["support"], strict=True))
    counts = counts.sort_values(["count", "motif_id"], ascending=[False, True]).head(top)
    return [
        {
            "motif_id": str(row.motif_id),
            "singer": str(row.singer),
            "pattern": str(row.pattern),
            "length": len(str(row.pattern).split()),
            "count": int(row.count),
            "support": int(support.get(row.motif_id, 0)),
        }
        for row in counts.itertuples(index=False)
    ]


def identify_recording(
    audio_path: str | os.PathLike,
    model_dir: ModelDir | str | os.PathLike,
    *,
    log: Callable[[str], None] | None = None,
    top_motifs: int = 10,
    device: str = "cpu",
    batch_size: int = 64,
    rejection: Mapping | str | None = "model",
    f0: pd.DataFrame | None = None,
) -> dict:
    """Singer probabilities of one recording, or "none of the known singers".

    Parameters
    ----------
    audio_path : path
        Any format libsndfile reads (wav, flac, ogg, mp3), any sample rate,
        mono or more channels (averaged).
    model_dir : ModelDir or path
        A loaded model directory, or its path.
    log : callable, optional
        Receives one progress line per step.
    top_motifs : int
        Most frequent motifs listed in the result.
    device : str
        Where the model runs: "cpu" (default), "cuda" or "auto".
    batch_size : int
        Items per forward pass.
    rejection : mapping, None or "model"
        The rejection rule (:mod:`cantaor.evaluation.openset`): "model" (default) takes
        the model directory's, None applies none (every statistic is measured
        and the most probable singer is the verdict whenever there is one).
    f0 : pd.DataFrame, optional
        The recording's f0 table (:data:`cantaor.pitch.f0.F0_COLUMNS`), made with
        the model directory's f0 settings, instead of extracting it again.

    Returns
    -------
    dict
        ``path`` (str), ``duration_s`` (float), ``verdict`` (the most probable
        singer, or None), ``confidence`` (its probability, or None),
        ``reason`` (why there is no verdict, else None), ``probabilities``
        (singer -> mean item probability, in the model's class order; None
        without a verdict), ``votes`` (singer -> items whose most probable
        singer it is), ``n_motif_occurrences`` (occurrences of dictionary
        motifs, counted once per dictionary that holds the pattern),
        ``n_items`` (distinct spans scored), ``occurrences_by_dictionary``
        (singer -> occurrences of that singer's motifs), ``motifs`` (the
        ``top_motifs`` most frequent: ``motif_id``, ``singer`` (whose
        dictionary), ``pattern``, ``length``, ``count``, ``support``),
        ``n_phrases``, ``voiced_s``, ``pitch_continuity``
        (:func:`cantaor.evaluation.openset.pitch_continuity`), ``rejection`` (None, or
        ``no_sung_pitch``, ``too_few_motifs``, ``low_confidence``),
        ``closest`` (the most probable singer even when rejected, else None) and
        ``f0_quality`` (the checks of :func:`cantaor.pitch.quality.recording_quality` with
        the "auto" second opinion, and ``warnings``: a list, empty when the f0 looks
        right; the range check needs the singer's other recordings and is left out).

    Raises
    ------
    cantaor.util.audio.AudioError
        When the audio file is missing or unreadable (the message names it).
    """
    from cantaor.contour.symbols import contour_segments, segment_phrases, symbols_from_segments
    from cantaor.dataset.items import build_items
    from cantaor.evaluation.openset import DEFAULT_RULE, pitch_continuity
    from cantaor.features.store import build_store, open_store
    from cantaor.pitch.f0 import extract_f0, f0_arguments
    from cantaor.pitch.quality import quality_warnings, recording_quality, second_opinion
    from cantaor.training.jobs import model_offsets
    from cantaor.training.loop import predict_proba
    from cantaor.util.audio import load_audio

    if not isinstance(model_dir, ModelDir):
        model_dir = load_model_dir(model_dir)
    if isinstance(rejection, str):
        if rejection != "model":
            raise ValueError(f"rejection must be a mapping, None or 'model', not {rejection!r}")
        rejection = model_dir.rejection or DEFAULT_RULE
    say = log or (lambda message: None)
    started = time.perf_counter()
    audio_path = Path(audio_path)
    config = model_dir.config
    f0_options, contour_options = config["f0"], config["contour"]
    feature_options, dataset_options = config["features"], config["dataset_options"]
    singers = model_dir.singers

    audio, sample_rate = load_audio(audio_path, sample_rate=int(f0_options["sample_rate"]))
    duration_s = audio.size / sample_rate
    result = {
        "path": str(audio_path),
        "duration_s": round(float(duration_s), 3),
        "verdict": None,
        "confidence": None,
        "reason": None,
        "probabilities": None,
        "votes": None,
        "n_motif_occurrences": 0,
        "n_items": 0,
        "occurrences_by_dictionary": {
            singer: 0 for singer in sorted(model_dir.dictionaries["singer"].unique())
        },
        "motifs": [],
        "n_phrases": 0,
        "voiced_s": 0.0,
        "pitch_continuity": None,
        "rejection": None,
        "closest": None,
        "f0_quality": None,
    }

    def reject(code: str, reason: str) -> dict:
        result.update(rejection=code, reason=reason, verdict=None)
        return result

    say(f"{audio_path}: {duration_s:.1f} s, f0 at {sample_rate} Hz ({f0_options['method']})")

    # Every f0 setting the workflow used, CREPE's and pYIN's chunking included.
    if f0 is None:
        f0 = extract_f0(audio, sample_rate=sample_rate, **f0_arguments(f0_options))
    time_s = f0["time_s"].to_numpy()
    voiced = f0["voiced"].to_numpy()
    hop_s = f0_options["hop_length"] / sample_rate
    result["voiced_s"] = round(float(voiced.sum() * hop_s), 3)
    continuity = pitch_continuity(time_s, f0["pitch_cents"].to_numpy(), voiced)
    result["pitch_continuity"] = None if continuity is None else round(continuity, 4)
    say(f"f0: {len(f0)} frames, {int(voiced.sum())} voiced, pitch continuity {continuity}")
    quality = recording_quality(
        f0,
        second_opinion=second_opinion(
            audio,
            sample_rate=sample_rate,
            method=f0_options["method"],
            fmin_hz=f0_options["fmin_hz"],
            fmax_hz=f0_options["fmax_hz"],
        ),
    )
    # JSON has no NaN: a check that could not be made (no voiced frame) is None.
    quality = {
        key: round(float(value), 4) if np.isfinite(value) else None
        for key, value in quality.items()
    }
    quality["warnings"] = quality_warnings(quality, config.get("f0_quality"))
    result["f0_quality"] = quality
    for warning in quality["warnings"]:
        say(f"WARNING: f0 looks wrong: {warning}")
    if not voiced.any():
        return reject("no_sung_pitch", "no voiced audio: the pitch tracker found no sung notes")
    if rejection is not None and (
        continuity is None or continuity < rejection["min_pitch_continuity"]
    ):
        return reject(
            "no_sung_pitch",
            f"no sung pitch: {result['voiced_s']} s reported voiced, but only "
            f"{0 if continuity is None else continuity:.0%} of its frame-to-frame steps glide "
            f"like a voice (the model's threshold is {rejection['min_pitch_continuity']:.0%}); "
            "noise, not singing",
        )

    phrase = segment_phrases(
        time_s,
        voiced,
        min_gap_s=contour_options["min_gap_s"],
        min_phrase_s=contour_options["min_phrase_s"],
    )
    n_phrases = int(np.unique(phrase[phrase >= 0]).size)
    result["n_phrases"] = n_phrases
    if n_phrases == 0:
        return reject(
            "too_few_motifs",
            f"no motif found: no sung phrase of at least {contour_options['min_phrase_s']} s "
            f"({result['voiced_s']} s voiced in all)",
        )
    clusters = model_dir.clusters
    segments = contour_segments(
        time_s,
        f0["pitch_cents"].to_numpy(),
        phrase,
        method=clusters["method"],
        centers_cents=np.asarray(clusters["centers_cents"]) if clusters["centers_cents"] else None,
        band_cents=contour_options["band_cents"],
        smooth_s=contour_options["smooth_s"],
        min_segment_s=contour_options["min_segment_s"],
    )
    symbols = symbols_from_segments(
        segments, thresholds_cents=contour_options["interval_thresholds_cents"]
    )
    say(f"contour: {n_phrases} phrases, {len(segments)} segments, {len(symbols)} symbols")

    recording = audio_path.stem or "recording"
    dictionaries = model_dir.dictionaries
    occurrences = find_motif_occurrences(
        symbols,
        dictionaries,
        recording=recording,
        min_gap=config["mining"]["min_gap"],
        max_gap=config["mining"]["max_gap"],
    )
    result["n_motif_occurrences"] = len(occurrences)
    for singer, count in occurrences.groupby("singer").size().items():
        result["occurrences_by_dictionary"][str(singer)] = int(count)
    result["motifs"] = _top_motifs(occurrences, dictionaries, top_motifs)
    say(
        f"motifs: {len(occurrences)} occurrences of {occurrences['motif_id'].nunique()} of "
        f"the {len(dictionaries)} dictionary motifs"
    )
    if occurrences.empty:
        return reject(
            "too_few_motifs",
            f"no motif found: none of the {len(dictionaries)} motifs of the model's "
            f"dictionaries occurs in the {n_phrases} sung phrase(s)",
        )

    items = build_items(
        model_dir.dataset,
        occurrences,
        {recording: recording},
        recording_durations={recording: float(duration_s)},
        seed=dataset_options["seed"],
        segment_s=dataset_options["segment_s"],
        avoid_motifs=dataset_options["avoid_motifs"],
        min_duration_s=feature_options["min_duration_s"],
    )
    # A span matched by motifs of several dictionaries is the same audio: score it once.
    items = items.drop_duplicates(["start_s", "end_s"], ignore_index=True)
    if items.empty:
        return reject(
            "too_few_motifs",
            f"no motif found long enough: all {len(occurrences)} motif occurrences are shorter "
            f"than {feature_options['min_duration_s']} s"
            if model_dir.dataset != "random"
            else "no room for the random spans the model reads, outside the motifs",
        )
    if rejection is not None and len(items) < rejection["min_items"]:
        result["n_items"] = len(items)
        return reject(
            "too_few_motifs",
            f"too few motifs: {len(items)} motif span(s) found, the model needs at least "
            f"{rejection['min_items']} for a verdict",
        )

    with tempfile.TemporaryDirectory(prefix="cantaor-identify-") as scratch:
        index = build_store(
            items,
            {recording: audio_path},
            tensor_path=Path(scratch) / "features.npy",
            index_path=Path(scratch) / "features.index.parquet",
            n_frames=feature_options["n_frames"],
            sample_rate=feature_options["sample_rate"],
            win_s=feature_options["win_s"],
            hop_s=feature_options["hop_s"],
            n_fft=feature_options["n_fft"],
            n_mels=feature_options["n_mels"],
            fmin_hz=feature_options.get("fmin_hz", 0.0),
            fmax_hz=feature_options.get("fmax_hz"),
            dtype=feature_options["dtype"],
            kind=model_dir.feature,
            n_mfcc=feature_options["n_mfcc"],
            spectrogram_n_fft=feature_options["spectrogram_n_fft"],
            pad_bins_to=feature_options["pad_bins_to"],
        )
        features = open_store(Path(scratch) / "features.npy")
        lengths = index["n_frames"].to_numpy("int64")
        proba = predict_proba(
            model_dir.model,
            features=features,
            lengths=lengths,
            indices=np.arange(len(index)),
            batch_size=batch_size,
            device=device,
            # a model trained with recording normalisation: this recording's mean
            offsets=model_offsets(model_dir.metadata, features, lengths, index["recording"]),
        )
        del features
    mean = proba.mean(axis=0)
    mean = mean / mean.sum()
    best = int(np.argmax(mean))
    votes = np.bincount(proba.argmax(axis=1), minlength=len(singers))
    result.update(
        verdict=singers[best],
        closest=singers[best],
        confidence=float(mean[best]),
        probabilities={singer: float(p) for singer, p in zip(singers, mean, strict=True)},
        votes={singer: int(v) for singer, v in zip(singers, votes, strict=True)},
        n_items=len(index),
    )
    say(
        f"{model_dir.model_name} on {len(index)} {model_dir.feature} items: {singers[best]} "
        f"({mean[best]:.3f}) in {time.perf_counter() - started:.1f} s"
    )
    if rejection is not None and mean[best] < rejection["min_confidence"]:
        return reject(
            "low_confidence",
            f"low confidence: the closest known singer, {singers[best]}, has probability "
            f"{mean[best]:.3f}, below the model's threshold {rejection['min_confidence']:.3f}; "
            "perhaps a singer the model never heard",
        )
    return result
