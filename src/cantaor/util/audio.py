"""Audio input: decoding, resampling and checks of recordings (atomic output is
:mod:`cantaor.util.atomic`).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr


class AudioError(ValueError):
    """An audio file that cannot be used, with the file named in the message."""


def load_audio(
    path: str | os.PathLike, *, sample_rate: int | None = None, info: dict | None = None
) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32, optionally resampled.

    Parameters
    ----------
    path : str or PathLike
        Any format libsndfile reads (wav, flac, ogg, mp3).
    sample_rate : int, optional
        Target rate in Hz; the file's own rate when None.
    info : dict, optional
        Filled with ``clipped_share``: the share of the file's samples that sit in
        clipped runs (see :func:`clipped_share`), measured before mixing and resampling.

    Returns
    -------
    audio : np.ndarray, shape (n_samples,), float32
        Channels averaged to mono.
    sample_rate : int
        Rate of ``audio`` in Hz.

    Raises
    ------
    AudioError
        When the file is missing, unreadable, empty, truncated (a WAV file
        shorter than its header declares, or any file, such as an mp3 with a
        Xing/LAME header, that decodes to fewer samples than it declares) or holds
        non-finite samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found")
    _check_wav_length(path)
    try:
        with sf.SoundFile(path) as handle:
            declared, file_rate = handle.frames, handle.samplerate
            audio = handle.read(dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile raises several types for corrupt input
        raise AudioError(f"{path}: cannot read audio ({_describe_unreadable(path, err)})") from err
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: audio file holds no samples")
    # An mp3 cut short (an interrupted copy) decodes up to the cut without an error;
    # its Xing/LAME header still declares the whole length. Two mp3 frames of slack.
    if audio.shape[0] < declared - max(2304, declared // 100):
        raise AudioError(
            f"{path}: truncated audio file: decoded {audio.shape[0]} samples of the "
            f"{declared} its header declares"
        )
    if info is not None:
        info["clipped_share"] = clipped_share(audio)
    audio = audio.mean(axis=1, dtype=np.float32)
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: audio holds NaN or infinite samples")
    if sample_rate is not None and sample_rate != file_rate:
        audio = soxr.resample(audio, file_rate, sample_rate, quality="HQ").astype(np.float32)
        file_rate = sample_rate
    return np.ascontiguousarray(audio), int(file_rate)


_TEXT_STARTS = {
    b"<!doctype html": "an HTML page",
    b"<html": "an HTML page",
    b"<?xml": "an XML document",
    b"{": "JSON or other text",
}


def _describe_unreadable(path: Path, err: Exception) -> str:
    """Why libsndfile refused an existing file, in words that fit it.

    libsndfile reports some undecodable files (an mp3 that is not MPEG audio, such
    as a web page saved under the audio's name) as "File does not exist or is not
    a regular file", which misleads for a file that exists.
    """
    with open(path, "rb") as handle:
        head = handle.read(512)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for prefix, kind in _TEXT_STARTS.items():
        if start.startswith(prefix):
            return f"not audio: the file holds {kind} (a download error page saved as audio?)"
    message = str(err)
    if "does not exist or is not a regular file" in message:
        return "not decodable audio: no audio format libsndfile reads (wav, flac, ogg, mp3)"
    return message


def clipped_share(audio: np.ndarray, *, block: int = 1 << 20) -> float:
    """Share of samples in clipped runs: two or more consecutive samples of one channel
    at the signal's maximum (when it is >= 0.9) or at its minimum (when <= -0.9).

    A clipped recording flattens its loudest passages against the extreme values the
    encoding holds (+-1.0 in float; 32767/32768 and -1 in 16-bit PCM, 127/128 and -1 in
    8-bit: the two rails are checked separately); an unclipped one reaches its peaks in
    isolated samples. Lossy codecs (mp3, ogg) smear the plateaus, so clipping before
    lossy encoding is mostly not seen. Works through ``audio`` (samples x channels, or
    1-D) in blocks, so memory stays bounded.
    """
    audio = np.asarray(audio)
    if audio.ndim == 1:
        audio = audio[:, None]
    if audio.size == 0:
        return 0.0
    blocks = range(0, len(audio), block)
    high, low = -np.inf, np.inf
    for start in blocks:  # one pass for both extremes
        part = audio[start : start + block]
        high, low = max(high, float(part.max())), min(low, float(part.min()))
    if high < 0.9 and low > -0.9:
        return 0.0
    # A rail that is not near full scale is never reached (inf / -inf).
    high_rail = np.float32(high) - np.float32(1e-6) if high >= 0.9 else np.inf
    low_rail = np.float32(low) + np.float32(1e-6) if low <= -0.9 else -np.inf
    clipped = 0
    for start in blocks:
        # One sample of overlap on each side so runs across block edges count.
        lo, hi = max(start - 1, 0), min(start + block + 1, len(audio))
        part = audio[lo:hi]
        for at_rail in (part >= high_rail, part <= low_rail):
            in_run = np.zeros_like(at_rail)
            in_run[1:] |= at_rail[1:] & at_rail[:-1]
            in_run[:-1] |= at_rail[:-1] & at_rail[1:]
            clipped += int(in_run[start - lo : start - lo + min(block, len(audio) - start)].sum())
    return clipped / audio.size


def _check_wav_length(path: Path) -> None:
    """Raise AudioError when a RIFF/WAVE file holds fewer data bytes than declared.

    libsndfile reads a truncated WAV file (an interrupted copy or download)
    without complaint, returning the samples that are present; a corpus should
    not silently lose the end of a recording. Other formats and WAV files whose
    header leaves the length open (0 or 0xFFFFFFFF, as streaming writers do)
    are left to libsndfile.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":
                present = size - offset - 8
                if chunk_size not in (0, 0xFFFFFFFF) and present < chunk_size:
                    raise AudioError(
                        f"{path}: truncated WAV file: the header declares {chunk_size} "
                        f"bytes of audio, the file holds {present}"
                    )
                return
            offset += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
