rule dataset_items:
    input:
        occurrences=expand(
            "results/motifs/{singer}.occurrences.parquet", singer=SINGERS
        ),
    output:
        item_table="results/features/{dataset}/items.parquet",
    log:
        "results/logs/items/{dataset}.log",
    benchmark:
        "results/benchmarks/items/{dataset}.tsv"
    wildcard_constraints:
        dataset="motifs|motifs_segment|random",
    conda:
        "../../envs/motifs.yaml"
    params:
        groups=get_groups(),
        audio_paths=get_audio_paths(),
        min_duration_s=config["features"]["min_duration_s"],
        max_dropped_share=config["features"]["max_dropped_share"],
        seed=config["dataset_options"]["seed"],
        segment_s=config["dataset_options"]["segment_s"],
        avoid_motifs=config["dataset_options"]["avoid_motifs"],
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
    benchmark:
        "results/benchmarks/feature_store/{dataset}.{feature}.tsv"
    wildcard_constraints:
        dataset="motifs|motifs_segment|random",
    conda:
        "../../envs/audio.yaml"
    params:
        audio_paths=get_audio_paths(),
        sample_rate=config["features"]["sample_rate"],
        win_s=config["features"]["win_s"],
        hop_s=config["features"]["hop_s"],
        n_fft=config["features"]["n_fft"],
        n_mels=config["features"]["n_mels"],
        n_mfcc=config["features"]["n_mfcc"],
        spectrogram_n_fft=config["features"]["spectrogram_n_fft"],
        pad_bins_to=config["features"]["pad_bins_to"],
        n_frames=config["features"]["n_frames"],
        dtype=config["features"]["dtype"],
    script:
        "../scripts/feature_store.py"


rule split:
    input:
        index=get_split_index,
    output:
        split="results/split/{dataset}.{split}.parquet",
        leakage="results/split/{dataset}.{split}.leakage.json",
        leakage_md=report(
            "results/split/{dataset}.{split}.leakage.md",
            caption="../report/leakage.rst",
            category="Leakage",
        ),
    log:
        "results/logs/split/{dataset}.{split}.log",
    benchmark:
        "results/benchmarks/split/{dataset}.{split}.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        strategy="{split}",
        test_fraction=config["split"]["test_fraction"],
        validation_fraction=config["split"]["validation_fraction"],
        seed=config["split"]["seed"],
        groups=config["split"]["groups"],
        untestable=config["split"]["untestable"],
        deduplicate=config["split"]["deduplicate"],
        folds=get_clip_folds(),
        recording_folds=get_recording_folds(),
    script:
        "../scripts/split.py"


rule fold_summary:
    input:
        metrics=get_fold_metrics(),
        baselines=get_fold_baseline_metrics(),
    output:
        table=report(
            "results/report/folds.md",
            caption="../report/folds.rst",
            category="Results",
        ),
        csv="results/report/folds.csv",
    log:
        "results/logs/fold_summary.log",
    benchmark:
        "results/benchmarks/fold_summary.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        runs=get_fold_runs(),
        baseline_runs=get_fold_baseline_runs(),
    script:
        "../scripts/fold_summary.py"
