"""Snakemake glue: the f0 accuracy table (markdown: per backend; csv: also per recording)."""

import pandas as pd

from cantaor.demo.f0_accuracy import accuracy_csv_frame, accuracy_markdown, summarise_scores
from cantaor.util.atomic import atomic_path, write_text
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
scores = pd.concat([pd.read_parquet(path) for path in snakemake.input.scores], ignore_index=True)
summary = summarise_scores(scores)
write_text(
    accuracy_markdown(summary, cent_tolerance=snakemake.params.f0_evaluation["cent_tolerance"]),
    snakemake.output.table,
)
with atomic_path(snakemake.output.csv) as tmp:
    accuracy_csv_frame(scores).to_csv(tmp, index=False)
log(f"{len(summary)} backend(s) over {scores['recording'].nunique()} recording(s)")
