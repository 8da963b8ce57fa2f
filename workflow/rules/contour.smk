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
        method=config["contour"]["method"],
        k=config["contour"]["k"],
        k_min=config["contour"]["k_min"],
        k_max=config["contour"]["k_max"],
        k_criterion=config["contour"]["k_criterion"],
        seed=config["contour"]["seed"],
        reference_hz=config["f0"]["reference_hz"],
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
        band_cents=config["contour"]["band_cents"],
        min_gap_s=config["contour"]["min_gap_s"],
        min_phrase_s=config["contour"]["min_phrase_s"],
        smooth_s=config["contour"]["smooth_s"],
        min_segment_s=config["contour"]["min_segment_s"],
        interval_thresholds_cents=config["contour"]["interval_thresholds_cents"],
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
