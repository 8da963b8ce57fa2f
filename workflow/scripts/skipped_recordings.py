"""Snakemake glue: every recording the bad-recording policy skipped, and why."""

import json

import pandas as pd

from cantaor.util.atomic import atomic_path

rows = []
for path in snakemake.input.status:
    with open(path, encoding="utf-8") as handle:
        status = json.load(handle)
    if status["status"] == "skipped":
        rows.append({"recording_id": status["recording"], "reason": status["reason"]})
with atomic_path(snakemake.output.table) as tmp:
    pd.DataFrame(rows, columns=["recording_id", "reason"]).to_csv(tmp, sep="\t", index=False)
