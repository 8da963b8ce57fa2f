#!/usr/bin/env bash
# The GPU checks and GPU benchmarks in one run, for a machine with a CUDA GPU (CI has
# none). From the repository root, with cantaor and its dependencies importable:
#
#     OUT=results/gpu bash benchmarks/gpu.sh
#
# Writes the card, each step's log and the checks' JSON under $OUT; every step runs
# even when an earlier one fails, and the exit status is that of the checks.
set -uo pipefail
OUT=${OUT:-results/gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/card.txt"
python3 benchmarks/gpu_check.py --out "$OUT/gpu_check.json" 2>&1 | tee "$OUT/gpu_check.log"
status=${PIPESTATUS[0]}
python3 benchmarks/bench_training.py --device cuda --items 4096 --warmup-epochs 1 --threads 4 \
    --accuracy --accuracy-items 1500 --epochs 12 2>&1 | tee "$OUT/bench_training_cuda.log"
python3 benchmarks/bench_training.py --device cuda --no-amp --items 4096 --warmup-epochs 1 --threads 4 \
    2>&1 | tee "$OUT/bench_training_cuda_fp32.log"
# Batch widths rounded to 16 frames (what training does on CUDA) against exact widths,
# in a first epoch (every width new to cuDNN) and after a warm-up epoch.
for warmup in 0 1; do
    for multiple in 1 16; do
        python3 benchmarks/bench_training.py --device cuda --items 2048 --threads 4 \
            --warmup-epochs "$warmup" --width-multiple "$multiple" \
            2>&1 | tee "$OUT/bench_widths_w${warmup}_m${multiple}.log"
    done
done
python3 benchmarks/bench_pitch.py --only crepe_vs_torchcrepe --torchcrepe-models tiny \
    --device cuda --duration-s 60 --batch-size 1024 --repeats 3 --threads 4 \
    2>&1 | tee "$OUT/bench_pitch_cuda.log"
exit "$status"
