"""Snakemake glue: one singer's motif dictionary and its occurrences."""

import pandas as pd

from cantaor.io import atomic_path, write_parquet
from cantaor.logs import line_logger
from cantaor.motifs import build_dictionary

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
contours = {
    recording: pd.read_parquet(path)
    for recording, path in zip(p.recordings, snakemake.input.contours, strict=True)
}
dictionary, occurrences = build_dictionary(
    snakemake.wildcards.singer,
    contours,
    min_support=p.min_support,
    min_gap=p.min_gap,
    max_gap=p.max_gap,
    min_length=p.min_length,
    max_length=p.max_length,
    scope=p.scope,
)
if dictionary.empty:
    # A singer without motifs would silently drop out of the classifier; stop instead.
    raise ValueError(
        f"singer {snakemake.wildcards.singer}: no motif found in its {len(contours)} "
        f"recording(s) ({', '.join(p.recordings)}) with mining.min_support={p.min_support}, "
        f"mining.min_length={p.min_length}; lower these, add recordings of this singer, "
        "or remove the singer from the sample sheet"
    )
with atomic_path(snakemake.output.dictionary) as tmp:
    dictionary.to_csv(tmp, sep="\t", index=False)
write_parquet(occurrences, snakemake.output.occurrences)
log(f"{len(contours)} recordings, {len(dictionary)} motifs, {len(occurrences)} occurrences")
