"""Identify the singer of one recording with a model directory.

The recording goes through the per-recording functions the workflow's rules
call, with the settings objects stored in the model directory
(:mod:`cantaor.identify.modeldir`, :mod:`cantaor.config.settings`): f0
(:func:`cantaor.pitch.f0.extract_f0` with :func:`cantaor.pitch.f0.f0_arguments`),
phrases, line segments and symbols with the stored clusters
(:func:`cantaor.contour.files.contour_of_f0`), the occurrences of every motif of
every stored dictionary (:func:`cantaor.mining.motifs.find_motif_occurrences`,
the table the mining rule builds), the items of the model's dataset
(:func:`cantaor.dataset.items.items_of_occurrences`), their features
(:func:`cantaor.features.files.store_of_items`, so padding, cropping and
storage dtype match training) and the model's item probabilities
(:func:`cantaor.training.loop.predict_proba`). The recording-level probabilities are
the mean of the item probabilities over distinct audio spans (a span matched
by motifs of several dictionaries counts once).

The answer may be "none of the known singers" (``verdict`` None, with a
``rejection`` code and a ``reason``): when the recording holds no sung pitch
(no voiced frame, or a pitch that jumps like noise's), too few motifs, or its
most probable singer is not probable enough. The thresholds are the model
directory's calibrated rejection rule (:mod:`cantaor.evaluation.openset`), or
:data:`cantaor.evaluation.openset.DEFAULT_RULE` for a directory without one.

The result of :func:`identify_recording` is a dict: ``path`` (str), ``duration_s``
(float), ``verdict`` (the most probable singer, or None), ``confidence`` (its
probability, or None), ``reason`` (why there is no verdict, else None),
``probabilities`` (singer -> mean item probability, in the model's class order; None
without a verdict), ``votes`` (singer -> items whose most probable singer it is),
``n_motif_occurrences`` (occurrences of dictionary motifs, counted once per dictionary
that holds the pattern), ``n_items`` (distinct spans scored),
``occurrences_by_dictionary`` (singer -> occurrences of that singer's motifs),
``motifs`` (the ``top_motifs`` most frequent: ``motif_id``, ``singer`` (whose
dictionary), ``pattern``, ``length``, ``count``, ``support``), ``n_phrases``,
``voiced_s``, ``pitch_continuity``
(:func:`cantaor.evaluation.openset.pitch_continuity`), ``rejection`` (None, or
``no_sung_pitch``, ``too_few_motifs``, ``low_confidence``), ``closest`` (the most
probable singer even when rejected, else None) and ``f0_quality`` (the checks of
:func:`cantaor.pitch.quality.recording_quality` with the "auto" second opinion, and
``warnings``: a list, empty when the f0 looks right; the range check needs the singer's
other recordings and is left out).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cantaor.identify.modeldir import ModelDir, load_model_dir


class _Rejected(Exception):
    """No verdict: ``code`` (a rejection code) and ``reason`` (a sentence)."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


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


def _empty_result(audio_path: Path, duration_s: float, model_dir: ModelDir) -> dict:
    return {
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


def _pitch_step(
    audio: np.ndarray,
    sample_rate: int,
    f0: pd.DataFrame | None,
    model_dir: ModelDir,
    result: dict,
    rejection: Mapping | None,
    say: Callable[[str], None],
) -> pd.DataFrame:
    """The f0 table and its checks; raises :class:`_Rejected` when there is no sung pitch."""
    from cantaor.evaluation.openset import pitch_continuity
    from cantaor.pitch.f0 import extract_f0, f0_arguments
    from cantaor.pitch.quality import quality_warnings, recording_quality, second_opinion

    settings = model_dir.settings["f0"]
    # Every f0 setting the workflow used, CREPE's and pYIN's chunking included.
    if f0 is None:
        f0 = extract_f0(audio, sample_rate=sample_rate, **f0_arguments(settings))
    time_s = f0["time_s"].to_numpy()
    voiced = f0["voiced"].to_numpy()
    result["voiced_s"] = round(float(voiced.sum() * settings.hop_length / sample_rate), 3)
    continuity = pitch_continuity(time_s, f0["pitch_cents"].to_numpy(), voiced)
    result["pitch_continuity"] = None if continuity is None else round(continuity, 4)
    say(f"f0: {len(f0)} frames, {int(voiced.sum())} voiced, pitch continuity {continuity}")
    quality = recording_quality(
        f0,
        second_opinion=second_opinion(
            audio,
            sample_rate=sample_rate,
            method=settings.method,
            fmin_hz=settings.fmin_hz,
            fmax_hz=settings.fmax_hz,
        ),
    )
    # JSON has no NaN: a check that could not be made (no voiced frame) is None.
    quality = {
        key: round(float(value), 4) if np.isfinite(value) else None
        for key, value in quality.items()
    }
    quality["warnings"] = quality_warnings(quality, model_dir.config.get("f0_quality"))
    result["f0_quality"] = quality
    for warning in quality["warnings"]:
        say(f"WARNING: f0 looks wrong: {warning}")
    if not voiced.any():
        raise _Rejected("no_sung_pitch", "no voiced audio: the pitch tracker found no sung notes")
    if rejection is not None and (
        continuity is None or continuity < rejection["min_pitch_continuity"]
    ):
        raise _Rejected(
            "no_sung_pitch",
            f"no sung pitch: {result['voiced_s']} s reported voiced, but only "
            f"{0 if continuity is None else continuity:.0%} of its frame-to-frame steps glide "
            f"like a voice (the model's threshold is {rejection['min_pitch_continuity']:.0%}); "
            "noise, not singing",
        )
    return f0


def _motif_step(
    f0: pd.DataFrame,
    recording: str,
    model_dir: ModelDir,
    result: dict,
    top_motifs: int,
    say: Callable[[str], None],
) -> pd.DataFrame:
    """Contour symbols and dictionary motif occurrences; :class:`_Rejected` when none."""
    from cantaor.contour.files import contour_of_f0
    from cantaor.mining.motifs import find_motif_occurrences

    contour, mining = model_dir.settings["contour"], model_dir.settings["mining"]
    phrase, segments, symbols = contour_of_f0(f0, model_dir.clusters, contour)
    n_phrases = int(np.unique(phrase[phrase >= 0]).size)
    result["n_phrases"] = n_phrases
    if n_phrases == 0:
        raise _Rejected(
            "too_few_motifs",
            f"no motif found: no sung phrase of at least {contour.min_phrase_s} s "
            f"({result['voiced_s']} s voiced in all)",
        )
    say(f"contour: {n_phrases} phrases, {len(segments)} segments, {len(symbols)} symbols")
    dictionaries = model_dir.dictionaries
    occurrences = find_motif_occurrences(
        {recording: symbols}, dictionaries, min_gap=mining.min_gap, max_gap=mining.max_gap
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
        raise _Rejected(
            "too_few_motifs",
            f"no motif found: none of the {len(dictionaries)} motifs of the model's "
            f"dictionaries occurs in the {n_phrases} sung phrase(s)",
        )
    return occurrences


def _item_step(
    occurrences: pd.DataFrame,
    recording: str,
    duration_s: float,
    model_dir: ModelDir,
    result: dict,
    rejection: Mapping | None,
) -> pd.DataFrame:
    """The model dataset's items, one per distinct span; :class:`_Rejected` when too few."""
    from cantaor.dataset.items import items_of_occurrences

    features = model_dir.settings["features"]
    items = items_of_occurrences(
        model_dir.dataset,
        occurrences,
        {recording: recording},
        recording_durations={recording: float(duration_s)},
        options=model_dir.settings["dataset_options"],
        features=features,
    )
    # A span matched by motifs of several dictionaries is the same audio: score it once.
    items = items.drop_duplicates(["start_s", "end_s"], ignore_index=True)
    if items.empty:
        raise _Rejected(
            "too_few_motifs",
            f"no motif found long enough: all {len(occurrences)} motif occurrences are shorter "
            f"than {features.min_duration_s} s"
            if model_dir.dataset != "random"
            else "no room for the random spans the model reads, outside the motifs",
        )
    if rejection is not None and len(items) < rejection["min_items"]:
        result["n_items"] = len(items)
        raise _Rejected(
            "too_few_motifs",
            f"too few motifs: {len(items)} motif span(s) found, the model needs at least "
            f"{rejection['min_items']} for a verdict",
        )
    return items


def _item_probabilities(
    items: pd.DataFrame,
    recording: str,
    audio_path: Path,
    model_dir: ModelDir,
    *,
    device: str,
    batch_size: int,
) -> np.ndarray:
    """The model's class probabilities of every item, shape (n_items, n_singers)."""
    from cantaor.features.files import store_of_items
    from cantaor.features.store import open_store
    from cantaor.training.jobs import model_offsets
    from cantaor.training.loop import predict_proba

    with tempfile.TemporaryDirectory(prefix="cantaor-identify-") as scratch:
        index = store_of_items(
            items,
            {recording: audio_path},
            tensor_path=Path(scratch) / "features.npy",
            index_path=Path(scratch) / "features.index.parquet",
            kind=model_dir.feature,
            settings=model_dir.settings["features"],
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
    return proba


def _verdict(proba: np.ndarray, model_dir: ModelDir, result: dict) -> tuple[str, float]:
    """Fill the probabilities, votes and verdict of ``result``; the best singer and its share."""
    singers = model_dir.singers
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
        n_items=len(proba),
    )
    return singers[best], float(mean[best])


def _loaded(
    model_dir: ModelDir | str | os.PathLike, rejection: Mapping | str | None
) -> tuple[ModelDir, Mapping | None]:
    """The model directory, loaded, and the rejection rule ("model": the directory's)."""
    from cantaor.evaluation.openset import DEFAULT_RULE

    if not isinstance(model_dir, ModelDir):
        model_dir = load_model_dir(model_dir)
    if isinstance(rejection, str):
        if rejection != "model":
            raise ValueError(f"rejection must be a mapping, None or 'model', not {rejection!r}")
        rejection = model_dir.rejection or DEFAULT_RULE
    return model_dir, rejection


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
        The result (keys in the module docstring).

    Raises
    ------
    cantaor.util.audio.AudioError
        When the audio file is missing or unreadable (the message names it).
    """
    from cantaor.util.audio import load_audio

    model_dir, rejection = _loaded(model_dir, rejection)
    say = log or (lambda message: None)
    started = time.perf_counter()
    audio_path = Path(audio_path)
    f0_settings = model_dir.settings["f0"]
    audio, sample_rate = load_audio(audio_path, sample_rate=f0_settings.sample_rate)
    duration_s = audio.size / sample_rate
    result = _empty_result(audio_path, duration_s, model_dir)
    say(f"{audio_path}: {duration_s:.1f} s, f0 at {sample_rate} Hz ({f0_settings.method})")
    recording = audio_path.stem or "recording"
    try:
        f0 = _pitch_step(audio, sample_rate, f0, model_dir, result, rejection, say)
        occurrences = _motif_step(f0, recording, model_dir, result, top_motifs, say)
        items = _item_step(occurrences, recording, duration_s, model_dir, result, rejection)
        proba = _item_probabilities(
            items, recording, audio_path, model_dir, device=device, batch_size=batch_size
        )
        singer, confidence = _verdict(proba, model_dir, result)
        say(
            f"{model_dir.model_name} on {len(proba)} {model_dir.feature} items: {singer} "
            f"({confidence:.3f}) in {time.perf_counter() - started:.1f} s"
        )
        if rejection is not None and confidence < rejection["min_confidence"]:
            raise _Rejected(
                "low_confidence",
                f"low confidence: the closest known singer, {singer}, has probability "
                f"{confidence:.3f}, below the model's threshold "
                f"{rejection['min_confidence']:.3f}; perhaps a singer the model never heard",
            )
    except _Rejected as rejected:
        result.update(rejection=rejected.code, reason=rejected.reason, verdict=None)
    return result
