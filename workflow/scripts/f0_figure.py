"""Snakemake glue: f0 over time with voiced regions and phrases, for one recording."""

import pandas as pd

from cantaor.contour.symbols import segment_phrases
from cantaor.report.f0plot import plot_f0_phrases
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
c = p.contour
f0 = pd.read_parquet(snakemake.input.f0)
# The contour stage's own segmentation, with its settings.
phrase = segment_phrases(
    f0["time_s"].to_numpy(),
    f0["voiced"].to_numpy(),
    min_gap_s=c["min_gap_s"],
    min_phrase_s=c["min_phrase_s"],
)
# The demo corpus's truth, when there is one.
truth = pd.read_parquet(snakemake.input.truth) if snakemake.input.truth else None
n_phrases = len(set(phrase[phrase >= 0].tolist()))
plot_f0_phrases(
    f0,
    phrase,
    path=snakemake.output.png,
    truth=truth,
    reference_hz=p.f0["reference_hz"],
    title=(
        f"{snakemake.wildcards.recording}: {n_phrases} phrases "
        f"(unvoiced gap >= {c['min_gap_s']:g} s ends one, "
        f"phrases < {c['min_phrase_s']:g} s dropped)"
    ),
)
log(
    f"{len(f0)} frames, {int(f0['voiced'].sum())} voiced, {n_phrases} phrases "
    f"(min_gap_s={c['min_gap_s']}, min_phrase_s={c['min_phrase_s']})"
)
