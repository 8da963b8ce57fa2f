"""Does a recording's f0 look right? Cheap checks per recording, without a truth.

Measured on an f0 table (:data:`cantaor.pitch.f0.F0_COLUMNS`):

``voiced_share``
    Share of the frames called voiced. Next to nothing means the tracker found no
    voice; nearly everything means reverb tails, noise or hum were taken for voice.
``jump_rate``
    Octave or harmonic jumps per voiced second: adjacent voiced frames more than
    ``jump_cents`` (600) apart. A voice glides; a tracker that hops between the f0 and
    a harmonic jumps.
``disagreement``
    Share of the frames both call voiced where a cheap second opinion
    (:func:`second_opinion`: SwiftF0 for any other backend, YIN on the low-passed
    audio for SwiftF0) is more than 50 cents away. YIN itself makes octave errors (up
    to 0.61 against a right SwiftF0 on the realistic f0 test set), so only a large
    share warns.
``harmonic_share``
    Share of the frames both call voiced where the f0 is 2, 3 or 4 times the second
    opinion's (within 50 cents): the tracker sits on a harmonic of the second
    opinion's f0. Against YIN a right SwiftF0 scores up to 0.5 on the realistic f0 test
    set (YIN's own octave-down errors), hence the limit of 0.6.
``range_shift_cents``
    The recording's median pitch against the median of the same singer's other
    recordings (:func:`range_shifts`): a tracker on the 2nd or 3rd harmonic moves a
    whole recording by 1200 or 1900 cents, a change of key by a few hundred.

:func:`quality_warnings` turns a row into warnings against :data:`DEFAULT_LIMITS`;
the workflow logs them (rule ``f0``), tabulates them (rule ``f0_quality``:
``results/report/f0_quality.md``) and ``cantaor identify`` prints them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Thresholds of :func:`quality_warnings` (the config's ``f0_quality`` section).
DEFAULT_LIMITS = {
    "min_voiced_share": 0.1,
    "max_voiced_share": 0.95,
    "jump_cents": 600.0,
    "max_jump_rate": 1.0,
    "max_disagreement": 0.75,
    "max_harmonic_share": 0.6,
    "max_range_shift_cents": 700.0,
}

QUALITY_COLUMNS = (
    "recording",
    "singer",
    "voiced_share",
    "jump_rate",
    "disagreement",
    "harmonic_share",
    "median_cents",
    "range_shift_cents",
    "warnings",
)


def voiced_share(table: pd.DataFrame) -> float:
    """Share of frames called voiced (NaN for a table without frames)."""
    return float(table["voiced"].mean()) if len(table) else math.nan


def jump_rate(table: pd.DataFrame, *, jump_cents: float = 600.0) -> float:
    """Jumps of more than ``jump_cents`` between adjacent voiced frames, per voiced second.

    >>> t = pd.DataFrame({"time_s": [0.0, 0.5, 1.0, 1.5], "voiced": [True] * 4,
    ...                   "pitch_cents": [2400.0, 3600.0, 3610.0, 2400.0]})
    >>> jump_rate(t)
    1.0
    """
    voiced = table["voiced"].to_numpy()
    if voiced.sum() < 2:
        return math.nan
    cents = table["pitch_cents"].to_numpy()
    both = voiced[1:] & voiced[:-1]
    jumps = int((np.abs(np.diff(cents))[both] > jump_cents).sum())
    hop_s = float(np.median(np.diff(table["time_s"].to_numpy())))
    return jumps / (voiced.sum() * hop_s)


def _both_voiced_ratios(
    table: pd.DataFrame, other_time_s: np.ndarray, other_f0_hz: np.ndarray
) -> np.ndarray:
    """f0 / other f0 over the frames both call voiced (other read at the nearest frame)."""
    other_time_s = np.asarray(other_time_s, dtype=float)
    other_f0_hz = np.asarray(other_f0_hz, dtype=float)
    if other_time_s.size == 0 or len(table) == 0:
        return np.zeros(0)
    index = np.clip(
        np.searchsorted(other_time_s, table["time_s"].to_numpy()), 0, other_time_s.size - 1
    )
    previous = np.maximum(index - 1, 0)
    time_s = table["time_s"].to_numpy()
    closer = np.abs(other_time_s[previous] - time_s) < np.abs(other_time_s[index] - time_s)
    other = other_f0_hz[np.where(closer, previous, index)]
    f0_hz = table["f0_hz"].to_numpy()
    both = table["voiced"].to_numpy() & (other > 0) & (f0_hz > 0)
    return f0_hz[both] / other[both]


def disagreement(
    table: pd.DataFrame, other_time_s: np.ndarray, other_f0_hz: np.ndarray, *, cents: float = 50.0
) -> float:
    """Share of frames both call voiced where ``other`` is more than ``cents`` away.

    ``other`` (any frame rate; 0 Hz where unvoiced) is read at the nearest frame.
    NaN where no frame is voiced in both.
    """
    ratios = _both_voiced_ratios(table, other_time_s, other_f0_hz)
    if ratios.size == 0:
        return math.nan
    return float(np.mean(np.abs(1200 * np.log2(ratios)) > cents))


def harmonic_share(
    table: pd.DataFrame, other_time_s: np.ndarray, other_f0_hz: np.ndarray, *, cents: float = 50.0
) -> float:
    """Share of frames both call voiced where the f0 is 2, 3 or 4 times ``other``'s
    (within ``cents``); NaN where no frame is voiced in both."""
    ratios = _both_voiced_ratios(table, other_time_s, other_f0_hz)
    if ratios.size == 0:
        return math.nan
    multiple = np.clip(np.rint(ratios), 2, 4)
    return float(np.mean(np.abs(1200 * np.log2(ratios / multiple)) <= cents))


def yin_second_opinion(
    audio: np.ndarray,
    *,
    sample_rate: int,
    fmin_hz: float = 80.0,
    fmax_hz: float = 1000.0,
    lowpass_hz: float = 1200.0,
) -> tuple[np.ndarray, np.ndarray]:
    """YIN (``librosa.yin``) at 16 kHz on the audio low-passed at ``lowpass_hz``.

    A time-domain periodicity estimate, unlike the spectral or learned backends, and
    about 0.003 CPU s per audio second. YIN has no voicing: every frame gets a pitch.

    Returns
    -------
    time_s, f0_hz : np.ndarray
    """
    import scipy.signal
    import soxr

    from cantaor.util.jitcache import import_librosa

    librosa = import_librosa()

    rate = 16000
    signal = np.asarray(audio, dtype=np.float32)
    if sample_rate != rate:
        signal = soxr.resample(signal, sample_rate, rate)
    if signal.size < 1024:
        return np.zeros(0), np.zeros(0)
    high = min(max(lowpass_hz, fmax_hz * 1.2), 0.45 * rate)
    sos = scipy.signal.butter(4, high, fs=rate, output="sos")
    signal = scipy.signal.sosfiltfilt(sos, signal).astype(np.float32)
    f0_hz = librosa.yin(
        signal, fmin=fmin_hz, fmax=fmax_hz, sr=rate, frame_length=1024, hop_length=256
    )
    return np.arange(f0_hz.size) * 256 / rate, np.asarray(f0_hz, dtype=float)


SECOND_OPINIONS = ("auto", "yin", "swift", "none")


def second_opinion(
    audio: np.ndarray, *, sample_rate: int, method: str, kind: str = "auto", **f0_options
) -> tuple[np.ndarray, np.ndarray] | None:
    """The cheap second opinion of ``kind`` on ``audio`` (None for "none").

    "auto" is SwiftF0 (:func:`cantaor.pitch.f0.swift`, about 0.02 CPU s per audio s) when
    ``method`` is another backend, and YIN (:func:`yin_second_opinion`) when it is
    SwiftF0 itself. ``f0_options`` may hold ``fmin_hz`` and ``fmax_hz``.
    """
    if kind not in SECOND_OPINIONS:
        raise ValueError(
            f"second_opinion must be one of {', '.join(SECOND_OPINIONS)}, got {kind!r}"
        )
    if kind == "none":
        return None
    band = {key: f0_options[key] for key in ("fmin_hz", "fmax_hz") if key in f0_options}
    if kind == "yin" or (kind == "auto" and method == "swift"):
        return yin_second_opinion(audio, sample_rate=sample_rate, **band)
    from cantaor.pitch.f0 import swift

    time_s, f0_hz, _ = swift(audio, sample_rate=sample_rate, **band)
    return time_s, f0_hz


def recording_quality(
    table: pd.DataFrame,
    *,
    second_opinion: tuple[np.ndarray, np.ndarray] | None = None,
    jump_cents: float = DEFAULT_LIMITS["jump_cents"],
) -> dict:
    """``voiced_share``, ``jump_rate``, ``disagreement`` and ``harmonic_share`` (NaN
    without a second opinion) and ``median_cents`` (median pitch of the voiced frames)
    of one f0 table."""
    voiced = table["voiced"].to_numpy() if len(table) else np.zeros(0, dtype=bool)
    return {
        "voiced_share": voiced_share(table),
        "jump_rate": jump_rate(table, jump_cents=jump_cents) if len(table) else math.nan,
        "disagreement": (
            disagreement(table, *second_opinion) if second_opinion is not None else math.nan
        ),
        "harmonic_share": (
            harmonic_share(table, *second_opinion) if second_opinion is not None else math.nan
        ),
        "median_cents": (
            float(np.median(table["pitch_cents"].to_numpy()[voiced])) if voiced.any() else math.nan
        ),
    }


def range_shifts(medians: pd.DataFrame) -> pd.Series:
    """Each recording's median pitch minus the median of its singer's other recordings.

    Parameters
    ----------
    medians : pd.DataFrame
        ``recording``, ``singer`` and ``median_cents`` (NaN for a recording without
        voiced frames).

    Returns
    -------
    pd.Series
        Cents, indexed by recording; NaN where the singer has no other recording with
        a median.

    >>> m = pd.DataFrame({"recording": ["a", "b", "c", "d"], "singer": ["X", "X", "X", "Y"],
    ...                   "median_cents": [2400.0, 2500.0, 3700.0, 3000.0]})
    >>> range_shifts(m).tolist()
    [-700.0, -550.0, 1250.0, nan]
    """
    shifts = {}
    for row in medians.itertuples(index=False):
        others = medians[
            (medians["singer"] == row.singer) & (medians["recording"] != row.recording)
        ]
        others = others["median_cents"].dropna()
        shifts[row.recording] = (
            float(row.median_cents - others.median()) if len(others) else math.nan
        )
    return pd.Series(shifts, dtype="float64")


def quality_warnings(row: dict, limits: dict | None = None) -> list[str]:
    """The warnings a quality row earns (empty: the f0 looks right).

    ``row`` holds the keys of :func:`recording_quality`, and ``range_shift_cents``
    where known; NaN values earn no warning.
    """
    limits = DEFAULT_LIMITS | (limits or {})
    warnings = []

    def known(key):
        value = row.get(key, math.nan)
        return value is not None and not (isinstance(value, float) and math.isnan(value))

    if known("voiced_share") and row["voiced_share"] < limits["min_voiced_share"]:
        warnings.append(
            f"only {100 * row['voiced_share']:.0f}% of the frames voiced (no voice found?)"
        )
    if known("voiced_share") and row["voiced_share"] > limits["max_voiced_share"]:
        warnings.append(
            f"{100 * row['voiced_share']:.0f}% of the frames voiced (reverb, noise or hum "
            "taken for voice?)"
        )
    if known("jump_rate") and row["jump_rate"] > limits["max_jump_rate"]:
        warnings.append(
            f"{row['jump_rate']:.1f} octave/harmonic jumps per voiced second (the tracker "
            "hops between f0 and harmonics?)"
        )
    if known("disagreement") and row["disagreement"] > limits["max_disagreement"]:
        warnings.append(
            f"the second opinion disagrees on {100 * row['disagreement']:.0f}% of the voiced frames"
        )
    if known("harmonic_share") and row["harmonic_share"] > limits["max_harmonic_share"]:
        warnings.append(
            f"on {100 * row['harmonic_share']:.0f}% of the voiced frames the f0 is 2-4 times "
            "the second opinion's (a harmonic tracked?)"
        )
    if (
        known("range_shift_cents")
        and abs(row["range_shift_cents"]) > limits["max_range_shift_cents"]
    ):
        warnings.append(
            f"median pitch {row['range_shift_cents']:+.0f} cents from the singer's other "
            "recordings (a harmonic or sub-harmonic tracked?)"
        )
    return warnings


def quality_table(rows: list[dict], limits: dict | None = None) -> pd.DataFrame:
    """:data:`QUALITY_COLUMNS` for every recording: the range shifts computed across
    the rows (one per recording, with ``recording``, ``singer`` and the keys of
    :func:`recording_quality`) and the warnings of each."""
    frame = pd.DataFrame(
        rows, columns=[c for c in QUALITY_COLUMNS if c not in ("range_shift_cents", "warnings")]
    )
    frame["range_shift_cents"] = range_shifts(frame).reindex(frame["recording"]).to_numpy()
    frame["warnings"] = [
        "; ".join(quality_warnings(row, limits)) for row in frame.to_dict(orient="records")
    ]
    return frame[list(QUALITY_COLUMNS)].sort_values("recording", ignore_index=True)


def quality_markdown(frame: pd.DataFrame, *, method: str) -> str:
    """The table of :func:`quality_table` as markdown, flagged recordings first."""
    flagged = frame[frame["warnings"] != ""]
    lines = [
        "# f0 quality per recording",
        "",
        f"f0 method: {method}. {len(flagged)} of {len(frame)} recordings look wrong.",
        "Voiced share; octave/harmonic jumps per voiced second; disagreement with a second "
        "opinion (SwiftF0, or YIN when the method is SwiftF0) "
        "(share of the frames both call voiced more than 50 cents apart) and the share "
        "where the f0 is 2-4 times the second opinion's; median pitch (cents) and its "
        "shift from the same singer's other recordings.",
        "",
        "| recording | singer | voiced | jumps/s | disagreement | harmonic | median (c) "
        "| shift (c) | warnings |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    ordered = pd.concat([flagged, frame[frame["warnings"] == ""]])
    for row in ordered.itertuples(index=False):
        lines.append(
            f"| {row.recording} | {row.singer} | {_fmt(row.voiced_share, 100, '%')} "
            f"| {_fmt(row.jump_rate, 1, '', 2)} | {_fmt(row.disagreement, 100, '%')} "
            f"| {_fmt(row.harmonic_share, 100, '%')} "
            f"| {_fmt(row.median_cents, 1, '', 0)} | {_fmt(row.range_shift_cents, 1, '', 0, True)} "
            f"| {row.warnings or 'ok'} |"
        )
    return "\n".join(lines) + "\n"


def _fmt(value, scale, unit, digits=0, sign=False):
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value * scale:{'+' if sign else ''}.{digits}f}{unit}"
