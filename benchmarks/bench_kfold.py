"""CPU cost of the k-fold evaluation: a finished workflow run, per stage and split kind.

Reads the ``benchmark:`` file of every job of a finished run (``results/benchmarks``)
and prints the CPU seconds (user + system of the job) of:

* the stages up to the motifs (corpus, f0, contours, mining, f0 checks and figures),
  which the k-fold evaluation reuses, against everything from the feature store on;
* per rule, the jobs of the k-fold splits (``fold{i}of{k}``), of the other splits and
  of neither (per recording or per run);
* the training epochs run per split (``history.tsv``).

Run the default config first and time the whole run, e.g.

    /usr/bin/time -v snakemake --cores 2 -d RUN
    python benchmarks/bench_kfold.py RUN/results

The sum of job CPU seconds leaves out Snakemake's own process (its DAG and scheduling),
which ``/usr/bin/time`` of the whole run includes.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

# Rules before the feature store: the k-fold evaluation does not depend on how they ran.
UPSTREAM = {
    "demo_recording",
    "demo_sample_sheet",
    "f0",
    "f0_accuracy",
    "f0_accuracy_table",
    "f0_figure",
    "f0_quality",
    "skipped_recordings",
    "contour_clusters",
    "contour",
    "contour_figure",
    "motifs",
    "motif_recovery",
    "motif_table",
    "motif_figure",
}
FOLD = re.compile(r"fold[0-9]+of[0-9]+")


def job_table(results: Path) -> pd.DataFrame:
    """One row per job: rule, split kind (k-fold, other split, none), wall s, CPU s."""
    rows = []
    for path in sorted((results / "benchmarks").rglob("*.tsv")):
        rule = path.relative_to(results / "benchmarks").parts[0].removesuffix(".tsv")
        table = pd.read_csv(path, sep="\t")
        name = path.name
        if FOLD.search(name):
            kind = "k-fold"
        elif re.search(r"\.(group|random|random_paper)\.", name):
            kind = "other split"
        else:
            kind = "none"
        rows.append(
            {
                "rule": rule,
                "part": "up to the motifs" if rule in UPSTREAM else "feature store onward",
                "kind": kind,
                "wall_s": float(table["s"].iloc[0]),
                "cpu_s": float(pd.to_numeric(table["cpu_time"], errors="coerce").iloc[0]),
            }
        )
    return pd.DataFrame(rows)


def epochs_table(results: Path) -> pd.DataFrame:
    """Epochs run per trained model, from every history.tsv."""
    rows = []
    for path in sorted((results / "models").glob("*/*/*/*/history.tsv")):
        dataset, split, feature, model = path.parts[-5:-1]
        history = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "dataset": dataset,
                "split": split,
                "feature": feature,
                "model": model,
                "epochs": len(history),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="results/ of a finished run")
    args = parser.parse_args()
    jobs = job_table(args.results)
    print("CPU seconds of every job (sum of benchmark files)\n")
    print(jobs.groupby("part")[["cpu_s", "wall_s"]].sum().round(1).to_markdown())
    print(f"\ntotal: {jobs['cpu_s'].sum():.1f} CPU s in {len(jobs)} jobs\n")
    onward = jobs[jobs["part"] == "feature store onward"]
    per_rule = onward.pivot_table(
        index="rule", columns="kind", values="cpu_s", aggfunc="sum", fill_value=0.0
    )
    per_rule["jobs"] = onward.groupby("rule").size()
    print("Feature store onward, CPU s per rule and split kind\n")
    print(per_rule.round(1).to_markdown())
    print("\n" + onward.groupby("kind")["cpu_s"].sum().round(1).to_markdown())
    epochs = epochs_table(args.results)
    if not epochs.empty:
        print("\nEpochs run per training job\n")
        print(epochs.to_markdown(index=False))


if __name__ == "__main__":
    main()
