"""End-to-end benchmark: the demo pipeline from corpus generation to evaluation.

Runs the real workflow in a fresh temporary directory for each corpus scale
(scale s multiplies the demo's recordings per singer by s) and prints:

* the end-to-end table: audio, items, wall time, CPU time (user + system of
  every process the run started: robust to other work sharing the machine),
  peak memory, and each figure against scale 1;
* per stage and scale, the summed CPU seconds of its jobs (from Snakemake's
  ``benchmark:`` files), so a stage that grows faster than the corpus shows;
* with ``--f0-parallel``, the f0 stage alone with ``--cores 1`` and ``--cores N``
  on the same generated corpus (wall time ratio);
* the paper-scale projection: per-audio-second (and, for training, per
  item-epoch) CPU costs times the paper's corpus (``--paper-audio-h`` hours of
  audio, ``--paper-items`` motif items).

One command runs the suite:

    python benchmarks/bench_pipeline.py --scales 1 2 4 --cores 2 --f0-parallel
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]

# Which stage each rule's jobs count towards.
STAGES = {
    "demo_recording": "corpus",
    "demo_sample_sheet": "corpus",
    "f0": "f0",
    "contour_clusters": "contour",
    "contour": "contour",
    "motifs": "mining",
    "dataset_items": "features",
    "feature_store": "features",
    "split": "split",
    "train": "train",
}
OTHER = "evaluation, figures, report"


def load_rule_benchmarks(results: Path) -> pd.DataFrame:
    """One row per job: rule, stage, wall s, CPU s, peak RSS (MB)."""
    rows = []
    for path in sorted((results / "benchmarks").rglob("*.tsv")):
        rule = path.relative_to(results / "benchmarks").parts[0].removesuffix(".tsv")
        table = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "rule": rule,
                "stage": STAGES.get(rule, OTHER),
                "s": float(table["s"].iloc[0]),
                "cpu_s": pd.to_numeric(table["cpu_time"], errors="coerce").iloc[0],
                "rss_mb": pd.to_numeric(table["max_rss"], errors="coerce").iloc[0],
            }
        )
    return pd.DataFrame(rows)


def summarise_rule_benchmarks(results: Path) -> pd.DataFrame:
    """Per rule: jobs, total and longest wall seconds, total CPU seconds, largest peak RSS."""
    frame = load_rule_benchmarks(results)
    summary = frame.groupby("rule").agg(
        jobs=("s", "size"),
        total_s=("s", "sum"),
        longest_s=("s", "max"),
        cpu_s=("cpu_s", "sum"),
        peak_rss_mb=("rss_mb", "max"),
    )
    return summary.sort_values("total_s", ascending=False)


def snakemake(workdir: Path, cores: int, *targets: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(REPO / "Snakefile"),
            "-d",
            str(workdir),
            "--cores",
            str(cores),
            *targets,
            "--quiet",  # with no level: every kind of message but errors
        ],
        check=True,
    )


def measured(function, *args) -> dict:
    """Wall and CPU seconds (children's user + system) and the children's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    function(*args)
    wall_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall_s": wall_s, "cpu_s": cpu_s, "peak_kb": after.ru_maxrss}


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))


def scaled_config(base_config: dict, scale: int) -> dict:
    config = yaml.safe_load(yaml.safe_dump(base_config))
    config["demo"]["recordings_per_singer"] *= scale
    return config


def run(scale: int, cores: int, base_config: dict, workdir: Path) -> tuple[dict, pd.DataFrame]:
    config = scaled_config(base_config, scale)
    write_config(workdir, config)
    load_before = os.getloadavg()[0]
    figures = measured(snakemake, workdir, cores)
    audio_s = pd.read_csv(workdir / "results/demo/recordings.tsv", sep="\t")["duration_s"].sum()
    items = len(pd.read_parquet(workdir / "results/features/motifs/items.parquet"))
    jobs = load_rule_benchmarks(workdir / "results")
    epochs = sum(
        len(pd.read_csv(path, sep="\t"))
        for path in (workdir / "results/models").rglob("history.tsv")
    )
    row = {
        "scale": scale,
        "recordings": config["demo"]["n_singers"] * config["demo"]["recordings_per_singer"],
        "audio_s": round(audio_s, 1),
        "items": items,
        "epochs": epochs,
        "wall_s": round(figures["wall_s"], 1),
        "cpu_s": round(figures["cpu_s"], 1),
        "peak_rss_mb": round(figures["peak_kb"] / 1024),
        "load_before": round(load_before, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }
    return row, jobs


def f0_parallel(cores: int, base_config: dict, workdir: Path) -> pd.DataFrame:
    """The f0 jobs alone, on one generated corpus, with 1 core and with ``cores``."""
    write_config(workdir, scaled_config(base_config, 1))
    snakemake(workdir, cores, "results/demo/recordings.tsv")
    recordings = pd.read_csv(workdir / "results/demo/recordings.tsv", sep="\t")["recording_id"]
    targets = [f"results/f0/{recording}.parquet" for recording in recordings]
    # An untimed first run: the sample sheet does not need the audio, so the first f0
    # run would also synthesise the recordings (about as much CPU again as f0 itself).
    snakemake(workdir, cores, *targets)
    rows = []
    for n in (1, cores):
        shutil.rmtree(workdir / "results/f0", ignore_errors=True)
        figures = measured(snakemake, workdir, n, *targets)
        rows.append(
            {
                "cores": n,
                "recordings": len(targets),
                "wall_s": round(figures["wall_s"], 1),
                "cpu_s": round(figures["cpu_s"], 1),
                "load_after": round(os.getloadavg()[0], 1),
            }
        )
    table = pd.DataFrame(rows)
    table["wall_vs_1_core"] = (table["wall_s"] / table["wall_s"].iloc[0]).round(2)
    return table


def projection(row: dict, jobs: pd.DataFrame, audio_h: float, items: int, cores: int):
    """CPU seconds per audio second per stage (per item-epoch for training), scaled up."""
    audio_s = row["audio_s"]
    paper_audio_s = audio_h * 3600
    cpu = jobs.groupby("stage")["cpu_s"].sum()
    rows = []
    for stage in ("f0", "contour", "mining", "features", "split", OTHER):
        if stage not in cpu:
            continue
        per_audio_s = cpu[stage] / audio_s
        rows.append(
            {
                "stage": stage,
                "measured_cpu_s": round(cpu[stage], 1),
                "cost_basis": f"{per_audio_s:.4f} CPU s per audio s",
                "paper_cpu_h": round(per_audio_s * paper_audio_s / 3600, 2),
            }
        )
    if "train" in cpu and row["epochs"]:
        per_item_epoch = cpu["train"] / (row["items"] * row["epochs"])
        rows.append(
            {
                "stage": "train (20 epochs)",
                "measured_cpu_s": round(cpu["train"], 1),
                "cost_basis": f"{per_item_epoch * 1000:.2f} CPU ms per item-epoch",
                "paper_cpu_h": round(per_item_epoch * items * 20 / 3600, 2),
            }
        )
    table = pd.DataFrame(rows)
    table[f"paper_wall_h_on_{cores}_cores"] = (table["paper_cpu_h"] / cores).round(2)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=int, nargs="+", default=[1])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--config", default=str(REPO / "config/config.yaml"))
    parser.add_argument("--f0-parallel", action="store_true", help="also time f0 on 1 core")
    parser.add_argument("--paper-audio-h", type=float, default=4.0)
    parser.add_argument("--paper-items", type=int, default=11163)
    args = parser.parse_args()
    base_config = yaml.safe_load(Path(args.config).read_text())
    print(
        f"# {platform.node()}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, --cores {args.cores}, load {os.getloadavg()[0]:.1f}"
    )
    rows, stage_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            row, jobs = run(scale, args.cores, base_config, Path(tmp) / f"scale{scale}")
            rows.append(row)
            stage_rows.append(jobs.groupby("stage")["cpu_s"].sum().rename(f"x{scale}"))
            print(pd.DataFrame(rows).to_markdown(index=False), flush=True)
        largest = Path(tmp) / f"scale{args.scales[-1]}" / "results"
        summary = summarise_rule_benchmarks(largest)
        first_jobs = load_rule_benchmarks(Path(tmp) / f"scale{args.scales[0]}" / "results")
        parallel = (
            f0_parallel(args.cores, base_config, Path(tmp) / "f0_parallel")
            if args.f0_parallel
            else None
        )
    table = pd.DataFrame(rows)
    for column in ("audio_s", "items", "wall_s", "cpu_s"):
        table[f"{column}_vs_x1"] = (table[column] / table[column].iloc[0]).round(2)
    print("\n## End to end\n")
    print(table.to_markdown(index=False))
    stages = pd.concat(stage_rows, axis=1).round(1)
    for column in stages.columns[1:]:
        stages[f"{column}/x{args.scales[0]}"] = (stages[column] / stages.iloc[:, 0]).round(2)
    print("\n## CPU seconds per stage and scale\n")
    print(stages.to_markdown())
    print(f"\n## Per rule (scale {args.scales[-1]})\n")
    print(summary.round(1).to_markdown())
    if parallel is not None:
        print("\n## f0 stage alone: one core against all\n")
        print(parallel.to_markdown(index=False))
    print(
        f"\n## Projection to the paper's corpus ({args.paper_audio_h:g} h of audio, "
        f"{args.paper_items} items; from scale {args.scales[0]})\n"
    )
    print(
        projection(
            rows[0], first_jobs, args.paper_audio_h, args.paper_items, args.cores
        ).to_markdown(index=False)
    )


if __name__ == "__main__":
    main()
