rule dataset_items:
    input:
        occurrences=expand(
            "results/motifs/{singer}.occurrences.parquet", singer=SINGERS
        ),
    output:
        item_table="results/features/{dataset}/items.parquet",
    log:
        "results/logs/items/{dataset}.log",
    conda:
        "../../envs/motifs.yaml"
    params:
        groups=get_groups(),
        min_duration_s=config["features"]["min_duration_s"],
    script:
        "../scripts/items.py"


rule feature_store:
    input:
        item_table="results/features/{dataset}/items.parquet",
        audio=list(get_audio_paths().values()),
    output:
        tensor="results/features/{dataset}/{feature}.npy",
        index="results/features/{dataset}/{feature}.index.parquet",
    log:
        "results/logs/feature_store/{dataset}.{feature}.log",
    conda:
        "../../envs/audio.yaml"
    params:
        audio_paths=get_audio_paths(),
        sample_rate=config["features"]["sample_rate"],
        win_s=config["features"]["win_s"],
        hop_s=config["features"]["hop_s"],
        n_fft=config["features"]["n_fft"],
        n_mels=config["features"]["n_mels"],
        n_frames=config["features"]["n_frames"],
        dtype=config["features"]["dtype"],
    script:
        "../scripts/feature_store.py"


rule split:
    input:
        item_table="results/features/{dataset}/items.parquet",
    output:
        split="results/split/{dataset}.parquet",
    log:
        "results/logs/split/{dataset}.log",
    conda:
        "../../envs/motifs.yaml"
    params:
        strategy=config["split"]["strategy"],
        test_fraction=config["split"]["test_fraction"],
        validation_fraction=config["split"]["validation_fraction"],
        seed=config["split"]["seed"],
    script:
        "../scripts/split.py"
