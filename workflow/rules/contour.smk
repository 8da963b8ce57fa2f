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
        k=config["contour"]["k"],
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
    log:
        "results/logs/contour/{recording}.log",
    benchmark:
        "results/benchmarks/contour/{recording}.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        min_gap_s=config["contour"]["min_gap_s"],
        min_phrase_s=config["contour"]["min_phrase_s"],
        smooth_s=config["contour"]["smooth_s"],
        min_segment_s=config["contour"]["min_segment_s"],
        interval_thresholds_cents=config["contour"]["interval_thresholds_cents"],
    script:
        "../scripts/contour.py"
