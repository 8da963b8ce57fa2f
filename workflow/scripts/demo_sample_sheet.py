"""Snakemake glue: write the demo corpus' sample sheet for reference."""

import pandas as pd

from cantaor.util.atomic import atomic_path

with atomic_path(snakemake.output.sheet) as tmp:
    pd.DataFrame(snakemake.params.sheet).to_csv(tmp, sep="\t", index=False)
