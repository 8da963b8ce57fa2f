"""Snakemake glue: a self-describing model directory for `cantaor identify`."""

from cantaor.identify.modeldir import export_model_dir
from cantaor.util.logs import line_logger

log = line_logger(snakemake.log[0], capture_stderr=True)
w = snakemake.wildcards
path = export_model_dir(
    snakemake.output.model_dir,
    model_path=snakemake.input.model,
    clusters_path=snakemake.input.clusters,
    dictionary_paths=dict(zip(snakemake.params.singers, snakemake.input.dictionaries, strict=True)),
    config=snakemake.params.config,
    dataset=w.dataset,
    feature=w.feature,
    model_name=w.model,
    rejection_path=snakemake.input.rejection,
)
log(f"model directory {path}")
