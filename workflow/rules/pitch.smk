rule f0:
    input:
        audio=get_audio,
    output:
        f0="results/f0/{recording}.parquet",
        status="results/f0/{recording}.status.json",
    log:
        "results/logs/f0/{recording}.log",
    benchmark:
        "results/benchmarks/f0/{recording}.tsv"
    conda:
        "../../envs/audio.yaml"
    params:
        f0=settings("f0"),
        corpus=settings("corpus", keys=["on_bad_recording"]),
        quality=settings("f0_quality"),
    script:
        "../scripts/f0.py"


rule f0_quality:
    input:
        status=expand("results/f0/{recording}.status.json", recording=RECORDINGS),
    output:
        table=report(
            "results/report/f0_quality.md",
            caption="../report/f0_quality.rst",
            category="f0",
            subcategory="quality",
        ),
        tsv="results/report/f0_quality.tsv",
    log:
        "results/logs/f0_quality.log",
    benchmark:
        "results/benchmarks/f0_quality.tsv"
    conda:
        "../../envs/audio.yaml"
    params:
        f0_quality=settings("f0_quality"),
        f0=settings("f0", keys=["method"]),
        singers=dict(zip(samples["recording_id"], samples["singer"])),
    script:
        "../scripts/f0_quality.py"


rule skipped_recordings:
    input:
        status=expand("results/f0/{recording}.status.json", recording=RECORDINGS),
    output:
        table="results/report/skipped_recordings.tsv",
    log:
        "results/logs/skipped_recordings.log",
    benchmark:
        "results/benchmarks/skipped_recordings.tsv"
    conda:
        "../../envs/motifs.yaml"
    script:
        "../scripts/skipped_recordings.py"


rule f0_accuracy:
    input:
        audio=get_audio,
        truth="results/demo/truth/{recording}.f0.parquet",
    output:
        scores="results/f0_accuracy/{method}/{recording}.parquet",
    log:
        "results/logs/f0_accuracy/{method}/{recording}.log",
    benchmark:
        "results/benchmarks/f0_accuracy/{method}/{recording}.tsv"
    wildcard_constraints:
        method="[a-z]+",
    conda:
        "../../envs/audio.yaml"
    params:
        f0=settings("f0"),
        f0_evaluation=settings("f0_evaluation", keys=["cent_tolerance"]),
    script:
        "../scripts/f0_accuracy.py"


rule f0_accuracy_table:
    input:
        scores=get_f0_accuracy_scores(),
    output:
        table=report(
            "results/report/f0_accuracy.md",
            caption="../report/f0_accuracy.rst",
            category="f0",
            subcategory="accuracy",
        ),
        csv="results/report/f0_accuracy.csv",
    log:
        "results/logs/f0_accuracy_table.log",
    benchmark:
        "results/benchmarks/f0_accuracy_table.tsv"
    conda:
        "../../envs/audio.yaml"
    params:
        f0_evaluation=settings("f0_evaluation", keys=["cent_tolerance"]),
    script:
        "../scripts/f0_accuracy_table.py"


rule f0_figure:
    input:
        f0="results/f0/{recording}.parquet",
        truth=get_f0_figure_truth,
    output:
        png=report(
            "results/figures/f0_{recording}.png",
            caption="../report/f0_figure.rst",
            category="f0",
            subcategory="per recording",
        ),
        svg="results/figures/f0_{recording}.svg",
    log:
        "results/logs/f0_figure/{recording}.log",
    benchmark:
        "results/benchmarks/f0_figure/{recording}.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        contour=settings("contour", keys=["min_gap_s", "min_phrase_s"]),
        f0=settings("f0", keys=["reference_hz"]),
    script:
        "../scripts/f0_figure.py"
