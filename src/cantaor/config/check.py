"""Start-up checks of the configuration that a JSON schema cannot express.

The schema (workflow/schemas/config.schema.yaml) checks each key alone; the
constraints between keys are checked here, before any job runs, by
workflow/rules/common.smk. A violation would otherwise surface late (after f0
and contours, as a traceback or as a wrong blame on a recording) or not at all
(unsorted interval thresholds silently change the contour classes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise


class ConfigError(ValueError):
    """A configuration whose keys contradict each other; the message names them."""


def _check_pair(problems, section, low, high, values, *, strict=False, fix=None) -> None:
    lo, hi = values.get(low), values.get(high)
    if lo is None or hi is None or isinstance(lo, str) or isinstance(hi, str):
        return
    if (lo >= hi) if strict else (lo > hi):
        relation = "below" if strict else "at most"
        problems.append(
            f"{section}.{low}={lo} must be {relation} {section}.{high}={hi}; "
            + (fix or f"raise {section}.{high} or lower {section}.{low}")
        )


def _f0_problems(f0: Mapping) -> list[str]:
    problems: list[str] = []
    _check_pair(
        problems,
        "f0",
        "fmin_hz",
        "fmax_hz",
        f0,
        strict=True,
        fix="swap them if they were exchanged",
    )
    if "fmax_hz" in f0 and "sample_rate" in f0 and f0["fmax_hz"] >= f0["sample_rate"] / 2:
        problems.append(
            f"f0.fmax_hz={f0['fmax_hz']} must be below the Nyquist frequency of "
            f"f0.sample_rate={f0['sample_rate']} ({f0['sample_rate'] / 2:g} Hz); lower "
            "f0.fmax_hz or raise f0.sample_rate"
        )
    _check_pair(
        problems,
        "f0",
        "hop_length",
        "frame_length",
        f0,
        fix="frames further apart than their length skip audio; lower f0.hop_length",
    )
    return problems


def _contour_problems(contour: Mapping) -> list[str]:
    problems: list[str] = []
    _check_pair(problems, "contour", "k_min", "k_max", contour)
    thresholds = contour.get("interval_thresholds_cents")
    if isinstance(thresholds, Sequence) and any(a >= b for a, b in pairwise(thresholds)):
        problems.append(
            f"contour.interval_thresholds_cents={list(thresholds)} must be strictly "
            f"increasing (class boundaries, e.g. [70, 112]); write them as "
            f"{sorted(set(thresholds))}"
        )
    return problems


def _mining_problems(mining: Mapping) -> list[str]:
    problems: list[str] = []
    _check_pair(problems, "mining", "min_gap", "max_gap", mining)
    _check_pair(problems, "mining", "min_length", "max_length", mining)
    support = mining.get("min_support")
    if isinstance(support, float) and support >= 1 and not support.is_integer():
        problems.append(
            f"mining.min_support={support} is neither a count (an integer) nor a fraction "
            "below 1 of the phrases; write e.g. 2 or 0.5"
        )
    return problems


def _features_problems(features: Mapping) -> list[str]:
    problems: list[str] = []
    _check_pair(
        problems,
        "features",
        "n_mfcc",
        "n_mels",
        features,
        fix="the MFCCs are taken from the mel bands; lower features.n_mfcc",
    )
    if features.get("fmax_hz") is not None:
        _check_pair(problems, "features", "fmin_hz", "fmax_hz", features, strict=True)
        if "sample_rate" in features and features["fmax_hz"] > features["sample_rate"] / 2:
            problems.append(
                f"features.fmax_hz={features['fmax_hz']} is above the Nyquist frequency of "
                f"features.sample_rate={features['sample_rate']}; lower it or set it to null"
            )
    if all(key in features for key in ("win_s", "sample_rate", "n_fft")):
        window = round(features["win_s"] * features["sample_rate"])
        if window > features["n_fft"]:
            problems.append(
                f"features.win_s={features['win_s']} is {window} samples at "
                f"features.sample_rate={features['sample_rate']}, more than "
                f"features.n_fft={features['n_fft']}; raise n_fft or shorten win_s"
            )
        spectrogram_n_fft = features.get("spectrogram_n_fft")
        if spectrogram_n_fft is not None and spectrogram_n_fft < window:
            problems.append(
                f"features.spectrogram_n_fft={spectrogram_n_fft} is shorter than the "
                f"window ({window} samples: features.win_s={features['win_s']} at "
                f"{features['sample_rate']} Hz); raise it or set it to null"
            )
    return problems


def _augmentation_problems(config: Mapping) -> list[str]:
    """Album augmentation works on log-power features: not on MFCCs (cepstra)."""
    augmentation = config.get("train", {}).get("augmentation") or {}
    kinds = config.get("features", {}).get("kinds", [])
    if augmentation.get("probability", 0) > 0 and "mfcc" in kinds:
        return [
            f"train.augmentation.probability={augmentation['probability']} augments log-power "
            "features, and features.kinds includes mfcc (cepstra, not a log-power spectrum); "
            "drop mfcc from features.kinds or set train.augmentation.probability to 0"
        ]
    return []


def config_problems(config: Mapping) -> list[str]:
    """Every cross-key constraint the configuration breaks, as one message each.

    Parameters
    ----------
    config : mapping
        The workflow configuration after schema validation (defaults filled),
        or some of its sections (a section's settings object checks its own:
        :mod:`cantaor.config.settings`).

    Returns
    -------
    list of str
        Empty when the configuration is consistent.
    """
    problems: list[str] = []
    _check_pair(problems, "demo", "min_duration_s", "max_duration_s", config.get("demo", {}))
    problems += _f0_problems(config.get("f0", {}))
    problems += _contour_problems(config.get("contour", {}))
    problems += _mining_problems(config.get("mining", {}))
    problems += _features_problems(config.get("features", {}))
    problems += _augmentation_problems(config)
    return problems


def check_config(config: Mapping) -> None:
    """Raise :class:`ConfigError` listing every cross-key constraint broken.

    >>> check_config({"mining": {"min_gap": 0, "max_gap": None}})
    >>> check_config({"contour": {"k_min": 9, "k_max": 4}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cantaor.config.check.ConfigError: config: contour.k_min=9 must be at most contour.k_max=4; ...
    """
    problems = config_problems(config)
    if problems:
        raise ConfigError("config: " + "\nconfig: ".join(problems))


def corpus_problems(singers: Sequence[str], *, source: str) -> list[str]:
    """The corpus shape: a classifier needs at least two singers.

    Parameters
    ----------
    singers : sequence of str
        The distinct singers of the corpus.
    source : str
        ``corpus.source``, to name what to change.
    """
    if len(set(singers)) >= 2:
        return []
    where = {
        "samplesheet": "the sample sheet (corpus.samplesheet)",
        "clips": "the clips (corpus.clips_dir or corpus.clips_table)",
    }.get(source, f"the {source} corpus")
    found = ", ".join(repr(s) for s in sorted(set(singers))) or "none"
    return [
        f"{where} names {len(set(singers))} singer(s) ({found}); identification needs at "
        "least two: add recordings of another singer"
    ]
