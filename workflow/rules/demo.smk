rule demo_recording:
    output:
        audio="results/demo/audio/{recording}.wav",
        f0="results/demo/truth/{recording}.f0.parquet",
        motifs="results/demo/truth/{recording}.motifs.parquet",
    log:
        "results/logs/demo_recording/{recording}.log",
    benchmark:
        "results/benchmarks/demo_recording/{recording}.tsv"
    conda:
        "../../envs/audio.yaml"
    params:
        demo=get_demo_params,
        settings=settings(
            "demo", keys=["n_singers", "seed", "sample_rate", "realistic_share"]
        ),
    script:
        "../scripts/demo_recording.py"


rule demo_sample_sheet:
    output:
        sheet="results/demo/recordings.tsv",
    log:
        "results/logs/demo_sample_sheet.log",
    benchmark:
        "results/benchmarks/demo_sample_sheet.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        sheet=samples.to_dict(orient="list"),
    script:
        "../scripts/demo_sample_sheet.py"
