"""Snakemake glue: motifs per singer, the paper's Table 1 analogue."""

import pandas as pd

from cantaor.mining.motifs import dictionary_summary
from cantaor.util.atomic import atomic_path, write_text

summary = dictionary_summary(
    [pd.read_csv(path, sep="\t", dtype={"pattern": str}) for path in snakemake.input.dictionaries],
    [pd.read_parquet(path) for path in snakemake.input.occurrences],
)
with atomic_path(snakemake.output.tsv) as tmp:
    summary.to_csv(tmp, sep="\t", index=False)
write_text(
    "# Motifs per singer\n\nAs the paper's Table 1: motif instances (occurrences) per singer, "
    "with the size of each singer's dictionary of closed patterns.\n\n"
    + summary.to_markdown(index=False)
    + "\n",
    snakemake.output.markdown,
)
