"""Speed and memory of the f0 backends; CREPE against torchcrepe.predict.

Prints three tables:

1. per backend, on a demo recording: audio seconds per wall second through
   ``cantaor.pitch.f0.extract_f0`` and through the underlying library called directly,
   the wrapper's overhead, and the peak RSS of the process;
2. peak RSS on a long recording (10 minutes by default: the demo recording tiled);
3. ``cantaor.pitch.crepe.crepe`` against ``torchcrepe.predict`` on the same 16 kHz audio,
   model, hop (10 ms) and batch size: speed-up and pitch differences over the frames
   torchcrepe calls voiced (periodicity >= 0.5).

Every measurement runs in a fresh subprocess (imports and model loading excluded from
the timings by a warm-up call on one second of audio; peak RSS includes them). Times
are the minimum of ``--repeats`` runs (wrapper and direct call alternating). torchcrepe
is imported with stand-ins for torchaudio, resampy and tqdm, which only its file
loader, resampler and CLI use; its random 20-cent dither of the decoded pitch is
switched off for the comparison.

    python benchmarks/bench_pitch.py                      # everything (slow: pyin, full)
    python benchmarks/bench_pitch.py --only crepe_vs_torchcrepe --duration-s 10
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

BACKENDS = ("melodia", "pyin", "crepe-tiny", "crepe-full")
HOP_44K = 256


def demo_audio(duration_s: float, sample_rate: int) -> np.ndarray:
    from cantaor.demo.corpus import synthesize_recording

    recording = synthesize_recording(
        singer_index=0,
        recording_index=0,
        n_singers=3,
        duration_s=max(duration_s, 10.0),
        seed=3,
        sample_rate=sample_rate,
    )
    return np.ascontiguousarray(recording.audio[: int(duration_s * sample_rate)], np.float32)


def tiled(audio: np.ndarray, n_samples: int) -> np.ndarray:
    return np.resize(audio, n_samples).astype(np.float32)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; unlike getrusage's ru_maxrss it does
    not carry over the parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_torchcrepe():
    for name in ("torchaudio", "resampy", "tqdm"):
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            # A spec, so that torch's own find_spec probes of tqdm do not fail.
            stand_in = types.ModuleType(name)
            stand_in.__spec__ = importlib.machinery.ModuleSpec(name, None)
            sys.modules[name] = stand_in
    import torchcrepe

    torchcrepe.convert.dither = lambda cents: cents
    return torchcrepe


# --- the calls measured ---------------------------------------------------------------


def wrapper_call(backend: str, audio: np.ndarray, sample_rate: int, threads: int):
    from cantaor.pitch.f0 import extract_f0

    method, _, model = backend.partition("-")
    options = {"crepe_model": model, "num_threads": threads} if method == "crepe" else {}
    return extract_f0(audio, sample_rate=sample_rate, method=method, hop_length=HOP_44K, **options)


def direct_call(backend: str, audio: np.ndarray, sample_rate: int, threads: int):
    """The library the backend wraps, called as its documentation shows."""
    method, _, model = backend.partition("-")
    if method == "melodia":
        import essentia.standard as es

        filtered = es.EqualLoudness(sampleRate=sample_rate)(audio)
        return es.PredominantPitchMelodia(
            sampleRate=sample_rate,
            hopSize=HOP_44K,
            frameSize=2048,
            minFrequency=80.0,
            maxFrequency=1000.0,
            voicingTolerance=0.2,
        )(filtered)
    if method == "pyin":
        from cantaor.util.jitcache import import_librosa

        librosa = import_librosa()

        return librosa.pyin(
            audio,
            sr=sample_rate,
            fmin=80.0,
            fmax=1000.0,
            frame_length=2048,
            hop_length=HOP_44K,
        )
    from cantaor.pitch.crepe import crepe

    return crepe(
        audio, sample_rate=sample_rate, hop_length=HOP_44K, model=model, num_threads=threads
    )


def timed(call, repeats: int) -> float:
    return timed_result(call, repeats)[0]


def timed_result(call, repeats: int):
    """(minimum wall seconds over ``repeats`` calls, the last call's result)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


# --- workers (one per subprocess) -----------------------------------------------------


def worker_speed(args) -> dict:
    audio = demo_audio(args.duration_s, 44100)
    warm = audio[:44100]
    wrapper_call(args.backend, warm, 44100, args.threads)
    direct_call(args.backend, warm, 44100, args.threads)
    # Alternate the two calls so that a burst of load from other jobs hits both alike.
    wrapper_s = direct_s = float("inf")
    for _ in range(args.repeats):
        wrapper_s = min(
            wrapper_s, timed(lambda: wrapper_call(args.backend, audio, 44100, args.threads), 1)
        )
        direct_s = min(
            direct_s, timed(lambda: direct_call(args.backend, audio, 44100, args.threads), 1)
        )
    return {"wrapper_s": wrapper_s, "direct_s": direct_s, "peak_rss_mb": peak_rss_mb()}


def worker_memory(args) -> dict:
    """Load a long file the way the f0 rule does and run the wrapper once."""
    from cantaor.util.audio import load_audio

    audio, rate = load_audio(args.path, sample_rate=44100)
    start = time.perf_counter()
    table = wrapper_call(args.backend, audio, rate, args.threads)
    return {
        "wall_s": time.perf_counter() - start,
        "frames": len(table),
        "peak_rss_mb": peak_rss_mb(),
    }


def worker_torchcrepe(args) -> dict:
    import torch

    from cantaor.pitch.crepe import crepe

    torch.set_num_threads(args.threads)
    torchcrepe = import_torchcrepe()
    audio = demo_audio(args.duration_s, 16000)
    model = args.backend.partition("-")[2]

    def reference(signal):
        pitch, periodicity = torchcrepe.predict(
            torch.from_numpy(signal)[None],
            16000,
            160,
            80.0,
            1000.0,
            model=model,
            return_periodicity=True,
            batch_size=args.batch_size,
            device=args.device,
        )
        return pitch.cpu(), periodicity.cpu()  # .cpu() waits for the GPU

    def ours(signal, precision):
        return crepe(
            signal,
            sample_rate=16000,
            hop_length=160,
            model=model,
            batch_size=args.batch_size,
            refine=False,
            confidence_threshold=0.0,
            precision=precision,
            device=args.device,
            num_threads=args.threads,
        )

    reference(audio[:16000])
    result = {}
    torchcrepe_s, (pitch, periodicity) = timed_result(lambda: reference(audio), args.repeats)
    pitch, periodicity = pitch[0].numpy(), periodicity[0].numpy()
    voiced = periodicity >= 0.5
    result["torchcrepe_s"] = torchcrepe_s
    result["voiced_fraction"] = float(voiced.mean())
    for precision in ("float32", "bfloat16"):
        ours(audio[:16000], precision)
        seconds, (_, f0_hz, _) = timed_result(lambda p=precision: ours(audio, p), args.repeats)
        cents = np.abs(1200 * np.log2(f0_hz[voiced] / pitch[voiced]))
        result[precision] = {
            "seconds": seconds,
            "median_cents": float(np.median(cents)),
            "max_cents": float(cents.max()),
            "differing_frames": float(np.mean(cents > 1.0)),
        }
    return result


# --- driver ---------------------------------------------------------------------------


def run_worker(kind: str, backend: str, args, **extra) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--backend",
        backend,
        "--duration-s",
        str(extra.get("duration_s", args.duration_s)),
        "--repeats",
        str(args.repeats),
        "--threads",
        str(args.threads),
        "--batch-size",
        str(args.batch_size),
        "--device",
        args.device,
    ]
    if "path" in extra:
        command += ["--path", str(extra["path"])]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=30.0, help="speed test audio (s)")
    parser.add_argument("--long-s", type=float, default=600.0, help="memory test audio (s)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--device", default="cpu", help="cpu or cuda (CREPE against torchcrepe only)"
    )
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument(
        "--only",
        nargs="+",
        default=["speed", "memory", "crepe_vs_torchcrepe"],
        choices=["speed", "memory", "crepe_vs_torchcrepe"],
    )
    parser.add_argument("--torchcrepe-models", nargs="+", default=["tiny", "full"])
    parser.add_argument("--worker", choices=["speed", "memory", "torchcrepe"])
    parser.add_argument("--backend")
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.worker:
        worker = {"speed": worker_speed, "memory": worker_memory, "torchcrepe": worker_torchcrepe}
        print(json.dumps(worker[args.worker](args)))
        return

    print(
        f"audio: demo recording, {args.duration_s:g} s; {args.threads} threads; "
        f"device {args.device}\n"
    )
    if "speed" in args.only:
        print("| backend | wrapper: audio s / wall s | direct call | wrapper overhead | peak RSS |")
        print("|---|---|---|---|---|")
        for backend in args.backends:
            r = run_worker("speed", backend, args)
            overhead = 100 * (r["wrapper_s"] / r["direct_s"] - 1)
            print(
                f"| {backend} | {args.duration_s / r['wrapper_s']:.2f} "
                f"| {args.duration_s / r['direct_s']:.2f} | {overhead:+.1f}% "
                f"| {r['peak_rss_mb']:.0f} MB |",
                flush=True,
            )
        print()
    if "memory" in args.only:
        import soundfile

        print(f"| backend | {args.long_s:g} s recording: wall s | audio s / wall s | peak RSS |")
        print("|---|---|---|---|")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.wav"
            audio = tiled(demo_audio(60.0, 44100), int(args.long_s * 44100))
            soundfile.write(path, audio, 44100, subtype="PCM_16")
            del audio
            for backend in args.backends:
                r = run_worker("memory", backend, args, path=path)
                print(
                    f"| {backend} | {r['wall_s']:.1f} | {args.long_s / r['wall_s']:.2f} "
                    f"| {r['peak_rss_mb']:.0f} MB |",
                    flush=True,
                )
        print()
    if "crepe_vs_torchcrepe" in args.only:
        print(
            "| model | torchcrepe.predict: audio s / wall s | cantaor float32 | speed-up "
            "| pitch diff: median / max cents, frames > 1 cent | cantaor bfloat16 | speed-up "
            "| pitch diff |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for model in args.torchcrepe_models:
            r = run_worker("torchcrepe", f"crepe-{model}", args)
            cells = [f"crepe-{model}", f"{args.duration_s / r['torchcrepe_s']:.2f}"]
            for precision in ("float32", "bfloat16"):
                p = r[precision]
                cells += [
                    f"{args.duration_s / p['seconds']:.2f}",
                    f"{r['torchcrepe_s'] / p['seconds']:.2f}x",
                    f"{p['median_cents']:.2f} / {p['max_cents']:.1f}, "
                    f"{100 * p['differing_frames']:.1f}%",
                ]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
