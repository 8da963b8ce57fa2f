rule dataset_items:
    input:
        occurrences=expand(
            "results/motifs/{singer}.occurrences.parquet", singer=SINGER_NAMES
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
        corpus={"audio_paths": get_audio_paths(), "groups": get_groups()},
        features=settings("features", keys=["min_duration_s", "max_dropped_share"]),
        dataset_options=settings("dataset_options"),
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
        corpus={"audio_paths": get_audio_paths()},
        features=settings("features", used_by=build_store),
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
        # strategies and folds name the splits (the wildcard) instead
        split=settings("split", omit=("strategies", "folds")),
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
