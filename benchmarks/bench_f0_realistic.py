"""Every f0 backend on the realistic f0 test set: accuracy and CPU cost.

The set is :func:`cantaor.demo.corpus.realistic_f0_set`: source-filter voices with weak
fundamentals under strong formants, breath, jitter, shimmer, vibrato, glides and
ornaments, in rooms with RT60 0.6-1.3 s, coloured noise at 22-45 dB SNR, mains hum, EQ
and band limits, with the exact truth f0 and voicing. The default seed (2026) is not one
the swift backend's settings were chosen on (18 and 99).

Backends: ``swift`` (``f0.method: swift`` with its defaults), ``swift-plain`` (the
swift-f0 network alone, within fmin-fmax, confidence >= 0.5: what the steps of
:func:`cantaor.pitch.f0.swift` add), ``melodia``, ``pyin``, ``crepe-tiny``, ``crepe-full``
(through :func:`cantaor.pitch.f0.extract_f0`) and ``pesto`` (pesto-pitch 2.0.1 with the
weights of its wheel, model mir-1k_g7, 10 ms steps, confidence >= 0.5 voiced, where it is
installed: ``pip install --no-deps pesto-pitch==2.0.1 omegaconf``; its torchaudio and tqdm
are replaced by stand-ins, as only its file reader uses them).

Per backend: mean RPA, RCA, VR, VFA and OA (``mir_eval.melody``, 50 cents), the worst
recording's RPA and VFA, the median absolute error in cents over the frames both the
truth and the estimate call voiced, and CPU seconds (user + system of this process,
every thread) per audio second, models loaded beforehand. Then one line per recording
and backend with ``--per-recording``.

    python benchmarks/bench_f0_realistic.py                           # 6 x 4 x 20 s
    python benchmarks/bench_f0_realistic.py --backends swift melodia --duration-s 10
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import sys
import time
import types

import numpy as np
import pandas as pd

from cantaor.demo.corpus import realistic_f0_set
from cantaor.demo.f0_accuracy import METRICS, melody_scores
from cantaor.pitch.f0 import extract_f0

BACKENDS = ("swift", "swift-plain", "melodia", "pyin", "crepe-tiny", "crepe-full", "pesto")
FMIN_HZ, FMAX_HZ = 80.0, 1000.0


def swift_plain(audio, sample_rate):
    from swift_f0 import SwiftF0

    detector = swift_plain.detector = getattr(swift_plain, "detector", None) or SwiftF0()
    result = detector.detect(audio, sample_rate, fmin=FMIN_HZ, fmax=FMAX_HZ)
    return result.timestamps, np.where(result.confidence >= 0.5, result.pitch_hz, 0.0)


def import_pesto():
    """pesto, with stand-ins for torchaudio and tqdm, which only its file reader uses
    (torchaudio does not install beside the pinned CPU torch)."""
    for name in ("torchaudio", "tqdm"):
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            stand_in = types.ModuleType(name)
            stand_in.__spec__ = importlib.machinery.ModuleSpec(name, None)
            stand_in.tqdm = iter
            sys.modules[name] = stand_in
    import pesto

    return pesto


def pesto_f0(audio, sample_rate):
    import torch

    pesto = import_pesto()

    with torch.inference_mode():
        time_ms, f0_hz, confidence, _ = pesto.predict(
            torch.from_numpy(np.ascontiguousarray(audio)), sample_rate, step_size=10.0
        )
    f0_hz, confidence = f0_hz.numpy().astype(float), confidence.numpy()
    voiced = (confidence >= 0.5) & (f0_hz >= FMIN_HZ) & (f0_hz <= FMAX_HZ)
    return time_ms.numpy() / 1000.0, np.where(voiced, f0_hz, 0.0)


def estimate(backend, audio, sample_rate):
    if backend == "swift-plain":
        return swift_plain(audio, sample_rate)
    if backend == "pesto":
        return pesto_f0(audio, sample_rate)
    options = {"method": backend.split("-")[0]}
    if backend.startswith("crepe"):
        options["crepe_model"] = backend.split("-")[1]
    table = extract_f0(audio, sample_rate=sample_rate, **options)
    return table["time_s"].to_numpy(), table["f0_hz"].to_numpy()


def available(backend):
    needs = {"pesto": "pesto", "crepe-tiny": "torchcrepe", "crepe-full": "torchcrepe"}
    return needs.get(backend) is None or importlib.util.find_spec(needs[backend]) is not None


def median_cents(truth, time_s, f0_hz):
    """Median |error| in cents over frames both call voiced (truth frames, nearest estimate)."""
    index = np.clip(np.searchsorted(time_s, truth["time_s"].to_numpy()), 0, time_s.size - 1)
    estimate_hz = f0_hz[index]
    truth_hz = truth["f0_hz"].to_numpy()
    both = (truth_hz > 0) & (estimate_hz > 0)
    return float(np.median(np.abs(1200 * np.log2(estimate_hz[both] / truth_hz[both]))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS[:5]))
    parser.add_argument("--n-singers", type=int, default=6)
    parser.add_argument("--recordings", type=int, default=4, help="per singer")
    parser.add_argument("--duration-s", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--per-recording", action="store_true")
    args = parser.parse_args()

    started = time.process_time()
    corpus = list(
        realistic_f0_set(
            n_singers=args.n_singers,
            recordings_per_singer=args.recordings,
            duration_s=args.duration_s,
            seed=args.seed,
        )
    )
    audio_s = sum(rec.audio.size / rec.sample_rate for _, _, rec in corpus)
    print(
        f"realistic set: {len(corpus)} recordings, {audio_s:.0f} s, seed {args.seed}; "
        f"synthesized in {time.process_time() - started:.1f} CPU s"
    )
    header = (
        "| backend | RPA | worst RPA | RCA | VR | VFA | worst VFA | OA | median cents "
        "| CPU s / audio s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    print(header, flush=True)
    rows = []
    for backend in args.backends:
        if not available(backend):
            print(f"{backend}: not installed, left out")
            continue
        first = corpus[0][2]
        estimate(backend, first.audio[: first.sample_rate], first.sample_rate)  # load models
        for recording, singer, rec in corpus:
            started = time.process_time()
            time_s, f0_hz = estimate(backend, rec.audio, rec.sample_rate)
            cpu_s = time.process_time() - started
            truth = rec.f0
            scores = melody_scores(
                truth["time_s"].to_numpy(), truth["f0_hz"].to_numpy(), time_s, f0_hz
            )
            rows.append(
                {
                    "backend": backend,
                    "recording": recording,
                    "singer": singer,
                    "audio_s": rec.audio.size / rec.sample_rate,
                    "cpu_s": cpu_s,
                    "median_cents": median_cents(truth, time_s, f0_hz),
                    **scores,
                }
            )
        print(summary_row(backend, pd.DataFrame(rows).query("backend == @backend")), flush=True)
    table = pd.DataFrame(rows)
    print()
    print(header)
    for backend, group in table.groupby("backend", sort=False):
        print(summary_row(backend, group))
    if args.per_recording:
        print()
        columns = ["backend", "recording", "raw_pitch_accuracy", "voicing_false_alarm"]
        print(table[[*columns, "median_cents"]].round(3).to_string(index=False))


def summary_row(backend: str, group: pd.DataFrame) -> str:
    """One backend's line of the table (printed as soon as the backend is done)."""
    mean = group[list(METRICS)].mean()
    return (
        f"| {backend} | {mean['raw_pitch_accuracy']:.3f} "
        f"| {group['raw_pitch_accuracy'].min():.3f} | {mean['raw_chroma_accuracy']:.3f} "
        f"| {mean['voicing_recall']:.3f} | {mean['voicing_false_alarm']:.3f} "
        f"| {group['voicing_false_alarm'].max():.3f} | {mean['overall_accuracy']:.3f} "
        f"| {group['median_cents'].median():.1f} "
        f"| {group['cpu_s'].sum() / group['audio_s'].sum():.4f} |"
    )


if __name__ == "__main__":
    main()
