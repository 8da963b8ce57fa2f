"""End-to-end benchmark: the demo pipeline from corpus generation to evaluation.

Runs the real workflow in a fresh temporary directory for each corpus scale
(scale s multiplies the demo's recordings per singer by s) and prints a table of
wall time and peak memory, then the per-rule figures from Snakemake's
``benchmark:`` files of the largest run.

    python benchmarks/bench_pipeline.py --scales 1 2 4 --cores 2
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]


def summarise_rule_benchmarks(results: Path) -> pd.DataFrame:
    """Per rule: jobs, total and longest wall seconds, largest peak RSS (MB)."""
    rows = []
    for path in sorted((results / "benchmarks").rglob("*.tsv")):
        rule = path.relative_to(results / "benchmarks").parts[0].removesuffix(".tsv")
        table = pd.read_csv(path, sep="\t")
        rows.append(
            {"rule": rule, "s": float(table["s"].iloc[0]), "rss_mb": table["max_rss"].iloc[0]}
        )
    frame = pd.DataFrame(rows)
    frame["rss_mb"] = pd.to_numeric(frame["rss_mb"], errors="coerce")
    summary = frame.groupby("rule").agg(
        jobs=("s", "size"),
        total_s=("s", "sum"),
        longest_s=("s", "max"),
        peak_rss_mb=("rss_mb", "max"),
    )
    return summary.sort_values("total_s", ascending=False)


def run(scale: int, cores: int, base_config: dict, workdir: Path) -> dict:
    config = yaml.safe_load(yaml.safe_dump(base_config))
    config["demo"]["recordings_per_singer"] *= scale
    (workdir / "config").mkdir(parents=True)
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
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
            "--quiet",
            "all",
        ],
        check=True,
    )
    wall_s = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    audio_s = pd.read_csv(workdir / "results/demo/recordings.tsv", sep="\t")["duration_s"].sum()
    items = len(pd.read_parquet(workdir / "results/features/motifs/items.parquet"))
    return {
        "scale": scale,
        "recordings": config["demo"]["n_singers"] * config["demo"]["recordings_per_singer"],
        "audio_s": round(audio_s, 1),
        "items": items,
        "wall_s": round(wall_s, 1),
        "peak_rss_mb": round(max(peak_kb, before) / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=int, nargs="+", default=[1])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--config", default=str(REPO / "config/config.yaml"))
    args = parser.parse_args()
    base_config = yaml.safe_load(Path(args.config).read_text())
    print(f"# {platform.node()}: {platform.processor() or platform.machine()}, cores={args.cores}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            workdir = Path(tmp) / f"scale{scale}"
            rows.append(run(scale, args.cores, base_config, workdir))
            print(pd.DataFrame(rows).to_markdown(index=False), flush=True)
        summary = summarise_rule_benchmarks(Path(tmp) / f"scale{args.scales[-1]}" / "results")
    table = pd.DataFrame(rows)
    table["time_vs_scale1"] = (table["wall_s"] / table["wall_s"].iloc[0]).round(2)
    print("\n## End to end\n")
    print(table.to_markdown(index=False))
    print(f"\n## Per rule (scale {args.scales[-1]})\n")
    print(summary.round(1).to_markdown())


if __name__ == "__main__":
    main()
