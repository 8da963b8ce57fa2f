rule motifs:
    input:
        contours=get_singer_contours,
    output:
        dictionary="results/motifs/{singer}.dictionary.tsv",
        occurrences="results/motifs/{singer}.occurrences.parquet",
    log:
        "results/logs/motifs/{singer}.log",
    benchmark:
        "results/benchmarks/motifs/{singer}.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        recordings=get_singer_recordings,
        singer=get_singer_label,
        mining=settings("mining"),
    script:
        "../scripts/motifs.py"


rule motif_recovery:
    input:
        truth=expand(
            "results/demo/truth/{recording}.motifs.parquet", recording=RECORDINGS
        ),
        occurrences=expand(
            "results/motifs/{singer}.occurrences.parquet", singer=SINGER_NAMES
        ),
    output:
        report="results/recovery/motifs.json",
        markdown=report(
            "results/recovery/motifs.md",
            caption="../report/recovery.rst",
            category="Motifs",
        ),
    log:
        "results/logs/motif_recovery.log",
    benchmark:
        "results/benchmarks/motif_recovery.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        recovery=settings("recovery"),
    script:
        "../scripts/recovery.py"


rule motif_table:
    input:
        dictionaries=expand(
            "results/motifs/{singer}.dictionary.tsv", singer=SINGER_NAMES
        ),
        occurrences=expand(
            "results/motifs/{singer}.occurrences.parquet", singer=SINGER_NAMES
        ),
    output:
        tsv="results/report/motifs_per_singer.tsv",
        markdown=report(
            "results/report/motifs_per_singer.md",
            caption="../report/motif_table.rst",
            category="Motifs",
        ),
    log:
        "results/logs/motif_table.log",
    benchmark:
        "results/benchmarks/motif_table.tsv"
    conda:
        "../../envs/motifs.yaml"
    script:
        "../scripts/motif_table.py"
