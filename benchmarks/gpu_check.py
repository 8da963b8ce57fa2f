"""What the workflow does on a CUDA GPU, checked against the CPU: one short script.

CI has no GPU, so this is run by hand on a machine that has one (see BENCHMARKS.md,
"On a GPU"). It prints one table of checks, each with its measured figure:

* every model (the workflow's ``train.model_options``), same weights and inputs:
  logits on CUDA in float32 and under the training's float16 autocast against the
  CPU in float32 (relative error), and, under autocast, each item alone against the
  same item inside a padded batch (length masking holds on the GPU);
* ``train_model`` on CUDA with mixed precision (the workflow's GPU path): it learns
  the synthetic items of ``bench_training``, the checkpoint loads on the CPU with
  ``weights_only=True``, and a run interrupted after 2 epochs and resumed ends at the
  validation losses of an uninterrupted one (close, not bit-identical: cuDNN kernels
  are not deterministic without CUBLAS_WORKSPACE_CONFIG, so the CPU alone promises
  exact repeatability);
* CREPE (tiny, the weights this machine carries) on CUDA against the CPU.

    python benchmarks/gpu_check.py --out results/gpu_check.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_training import N_BINS, model_options, split_60_20_20, synthetic_items

from cantaor.models import MODELS, build_model
from cantaor.training.loop import TrainConfig, predict_proba, train_model

ROWS: list[dict] = []


def check(name: str, value: float, limit: float, unit: str = "") -> None:
    """Record one check: passes when ``value <= limit`` (NaN never passes)."""
    ok = bool(np.isfinite(value) and value <= limit)
    ROWS.append({"check": name, "value": f"{value:.3g}{unit}", "limit": f"<= {limit:g}", "ok": ok})
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {value:.4g} (limit {limit:g})", flush=True)


def relative_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    out, ref = out.detach().double().cpu(), ref.detach().double().cpu()
    return float(torch.linalg.norm(out - ref) / torch.linalg.norm(ref))


def models_on_cuda() -> None:
    rng = np.random.default_rng(1)
    lengths = [300, 211, 120, 64, 33, 17]
    x = torch.from_numpy(rng.standard_normal((len(lengths), N_BINS, max(lengths))).astype("f4"))
    for i, n in enumerate(lengths):
        x[i, :, n:] = 0.0
    for name in MODELS:
        torch.manual_seed(0)
        model = build_model(name, n_classes=5, **{**model_options(name), "n_bins": N_BINS})
        # A few training-mode passes give the batch norms real running statistics.
        with torch.no_grad():
            for _ in range(3):
                model.train()(x * 2 + 1, lengths)
        model.eval()
        with torch.no_grad():
            reference = model(x, lengths)
            cuda = model.to("cuda")
            gpu_x = x.to("cuda")
            check(
                f"{name}: CUDA float32 vs CPU, logits",
                relative_error(cuda(gpu_x, lengths), reference),
                1e-3,
            )
            with torch.autocast("cuda"):
                batch = cuda(gpu_x, lengths).float()
                check(
                    f"{name}: CUDA autocast vs CPU float32, logits",
                    relative_error(batch, reference),
                    2e-2,
                )
                alone = torch.cat(
                    [cuda(gpu_x[i : i + 1, :, :n]).float() for i, n in enumerate(lengths)]
                )
            check(
                f"{name}: autocast, items alone vs in a padded batch",
                relative_error(alone, batch),
                2e-2,
            )


def training_on_cuda(items: int, epochs: int) -> None:
    features, lengths, labels = synthetic_items(items, 5, seed=2)
    train_idx, val_idx, test_idx = split_60_20_20(len(labels))
    common = dict(
        features=features,
        lengths=lengths,
        labels=labels,
        train_idx=train_idx,
        val_idx=val_idx,
        n_classes=5,
        model_name="residual_blstm",
        model_options=model_options("residual_blstm"),
    )

    def config(n_epochs):
        return TrainConfig(
            epochs=n_epochs, patience=10, seed=0, device="cuda", mixed_precision=True
        )

    start = time.perf_counter()
    uninterrupted = train_model(**common, config=config(epochs))
    seconds = time.perf_counter() - start
    check("train_model on CUDA reports device cuda", float(uninterrupted.device != "cuda"), 0)
    proba = predict_proba(
        uninterrupted.model, features=features, lengths=lengths, indices=test_idx, device="cuda"
    )
    accuracy = float((proba.argmax(axis=1) == labels[test_idx]).mean())
    check(f"train_model CUDA+AMP, {epochs} epochs ({seconds:.1f} s): test error", 1 - accuracy, 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "run" / "checkpoint.pt"
        train_model(**common, config=config(2), checkpoint_path=checkpoint)
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        check("CUDA checkpoint loads on the CPU with weights_only=True", float(not state), 0)
        lines: list[str] = []
        resumed = train_model(
            **common, config=config(epochs), checkpoint_path=checkpoint, log=lines.append
        )
    check("resumed run says it resumed", float(not lines[0].startswith("resumed")), 0)
    a = uninterrupted.history["val_loss"].to_numpy()
    b = resumed.history["val_loss"].to_numpy()
    check(
        "resumed vs uninterrupted: max relative difference of validation losses",
        float(np.max(np.abs(a - b) / np.abs(a))) if len(a) == len(b) else float("nan"),
        0.05,
    )


def crepe_on_cuda() -> None:
    from cantaor.demo.corpus import synthesize_recording
    from cantaor.pitch.crepe import crepe

    audio = synthesize_recording(
        singer_index=0, recording_index=0, n_singers=3, duration_s=30.0, seed=3, sample_rate=16000
    ).audio.astype(np.float32)
    results = {}
    for device in ("cpu", "cuda"):
        kwargs = dict(
            sample_rate=16000, model="tiny", device=device, precision="float32", batch_size=512
        )
        crepe(audio[:16000], **kwargs)
        start = time.perf_counter()
        results[device] = crepe(audio, **kwargs)
        speed = 30.0 / (time.perf_counter() - start)
        print(f"crepe-tiny float32 on {device}: {speed:.1f} audio s / s")
    _, f0_cpu, _ = results["cpu"]
    _, f0_gpu, _ = results["cuda"]
    both = (f0_gpu > 0) & (f0_cpu > 0)
    check(
        "crepe-tiny CUDA vs CPU: share of frames voiced on one side only",
        float(np.mean((f0_gpu > 0) != (f0_cpu > 0))),
        0.01,
    )
    cents = np.abs(1200 * np.log2(f0_gpu[both] / f0_cpu[both]))
    check("crepe-tiny CUDA vs CPU float32: max cents over voiced frames", float(cents.max()), 20.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help="items for the training check")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_check.py needs a CUDA GPU; this machine has none")
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    for step in (models_on_cuda, lambda: training_on_cuda(args.items, args.epochs), crepe_on_cuda):
        try:
            step()
        except Exception as error:  # report and go on: one run must say as much as it can
            ROWS.append(
                {
                    "check": getattr(step, "__name__", "step"),
                    "value": repr(error),
                    "limit": "",
                    "ok": False,
                }
            )
            print(f"FAIL {error!r}", flush=True)
    table = pd.DataFrame(ROWS)
    print("\n## GPU checks\n")
    print(table.to_markdown(index=False))
    if args.out:
        args.out.write_text(json.dumps(ROWS, indent=1))
    raise SystemExit(0 if table["ok"].all() else 1)


if __name__ == "__main__":
    main()
