rule contour_clusters:
    input:
        f0=expand("results/f0/{recording}.parquet", recording=RECORDINGS),
    output:
        clusters="results/contour/clusters.json",
    log:
        "results/logs/contour_clusters.log",
    benchmark:
        "results/benchmarks/contour_clusters.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        contour=settings(
            "contour", keys=["method", "k", "k_min", "k_max", "k_criterion", "seed"]
        ),
        f0=settings("f0", keys=["reference_hz"]),
    script:
        "../scripts/contour_clusters.py"


rule contour:
    input:
        f0="results/f0/{recording}.parquet",
        clusters="results/contour/clusters.json",
    output:
        contour="results/contour/{recording}.parquet",
        segments="results/contour/{recording}.segments.parquet",
    log:
        "results/logs/contour/{recording}.log",
    benchmark:
        "results/benchmarks/contour/{recording}.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        # the whole section (method and k through the clusters file): a model
        # directory records it
        contour=settings("contour"),
    script:
        "../scripts/contour.py"


rule contour_figure:
    input:
        f0="results/f0/{recording}.parquet",
        contour="results/contour/{recording}.parquet",
        segments="results/contour/{recording}.segments.parquet",
        clusters="results/contour/clusters.json",
    output:
        png=report(
            "results/figures/contour_{recording}.png",
            caption="../report/contour_figure.rst",
            category="Contours",
        ),
        svg="results/figures/contour_{recording}.svg",
    log:
        "results/logs/contour_figure/{recording}.log",
    benchmark:
        "results/benchmarks/contour_figure/{recording}.tsv"
    conda:
        "../../envs/motifs.yaml"
    script:
        "../scripts/contour_figure.py"
