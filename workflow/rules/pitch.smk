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
        on_bad_recording=config["corpus"]["on_bad_recording"],
        method=config["f0"]["method"],
        sample_rate=config["f0"]["sample_rate"],
        hop_length=config["f0"]["hop_length"],
        frame_length=config["f0"]["frame_length"],
        fmin_hz=config["f0"]["fmin_hz"],
        fmax_hz=config["f0"]["fmax_hz"],
        voicing_tolerance=config["f0"]["voicing_tolerance"],
        reference_hz=config["f0"]["reference_hz"],
    script:
        "../scripts/f0.py"


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
