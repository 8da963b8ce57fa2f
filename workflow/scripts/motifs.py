"""Snakemake glue: one singer's motif dictionary and its occurrences."""

import pandas as pd

from cantaor.mining.motifs import build_dictionary
from cantaor.util.atomic import atomic_path
from cantaor.util.logs import line_logger
from cantaor.util.parquet import write_parquet

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
m = p.mining
contours = {
    recording: pd.read_parquet(path)
    for recording, path in zip(p.recordings, snakemake.input.contours, strict=True)
}
dictionary, occurrences = build_dictionary(
    p.singer,
    contours,
    min_support=m["min_support"],
    min_gap=m["min_gap"],
    max_gap=m["max_gap"],
    min_length=m["min_length"],
    max_length=m["max_length"],
    scope=m["scope"],
)
if dictionary.empty:
    # A singer without motifs would silently drop out of the classifier; stop instead.
    raise ValueError(
        f"singer {p.singer}: no motif found in its {len(contours)} "
        f"recording(s) ({', '.join(p.recordings)}) with mining.min_support={m['min_support']}, "
        f"mining.min_length={m['min_length']}; lower these, add recordings of this singer, "
        "or remove the singer from the sample sheet"
    )
with atomic_path(snakemake.output.dictionary) as tmp:
    dictionary.to_csv(tmp, sep="\t", index=False)
write_parquet(occurrences, snakemake.output.occurrences)
log(f"{len(contours)} recordings, {len(dictionary)} motifs, {len(occurrences)} occurrences")
