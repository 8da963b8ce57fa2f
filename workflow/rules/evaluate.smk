rule evaluate:
    input:
        predictions="results/models/{dataset}/{split}/{feature}/{model}/predictions.parquet",
    output:
        metrics="results/evaluation/{dataset}/{split}/{feature}/{model}/metrics.json",
        markdown=report(
            "results/evaluation/{dataset}/{split}/{feature}/{model}/metrics.md",
            caption="../report/metrics.rst",
            category="Evaluation",
            subcategory="{dataset}, {feature}, {split} split",
            labels={"result": "metrics", "model": "{model}"},
        ),
    log:
        "results/logs/evaluate/{dataset}.{split}.{feature}.{model}.log",
    benchmark:
        "results/benchmarks/evaluate/{dataset}.{split}.{feature}.{model}.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        title="{model} on {dataset} ({feature}), {split} split",
    script:
        "../scripts/evaluate.py"


rule baselines:
    input:
        tensor="results/features/{dataset}/{feature}.npy",
        index="results/features/{dataset}/{feature}.index.parquet",
        split="results/split/{dataset}.{split}.parquet",
    output:
        metrics="results/evaluation/{dataset}/{split}/{feature}/baselines.json",
        markdown=report(
            "results/evaluation/{dataset}/{split}/{feature}/baselines.md",
            caption="../report/baselines.rst",
            category="Evaluation",
            subcategory="{dataset}, {feature}, {split} split",
            labels={
                "result": "baselines",
                "model": "majority, duration, mfcc_stats, nearest_duplicate",
            },
        ),
    log:
        "results/logs/baselines/{dataset}.{split}.{feature}.log",
    benchmark:
        "results/benchmarks/baselines/{dataset}.{split}.{feature}.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        title="{dataset} ({feature}), {split} split",
        train=settings("train", keys=["seed"]),
    script:
        "../scripts/baselines.py"


rule results_table:
    input:
        metrics=get_run_metrics(),
        baselines=get_baseline_metrics(),
        leakage=get_split_leakage(),
    output:
        table=report(
            "results/report/results.md",
            caption="../report/results.rst",
            category="Results",
        ),
        csv="results/report/results.csv",
    log:
        "results/logs/results_table.log",
    benchmark:
        "results/benchmarks/results_table.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        runs=get_runs(),
        baseline_runs=get_baseline_runs(),
        splits=get_dataset_splits(),
    script:
        "../scripts/results_table.py"


rule embeddings:
    input:
        model="results/models/{dataset}/{split}/{feature}/{model}/model.pt",
        tensor="results/features/{dataset}/{feature}.npy",
        index="results/features/{dataset}/{feature}.index.parquet",
        split="results/split/{dataset}.{split}.parquet",
    output:
        embeddings="results/models/{dataset}/{split}/{feature}/{model}/embeddings.parquet",
    log:
        "results/logs/embeddings/{dataset}.{split}.{feature}.{model}.log",
    benchmark:
        "results/benchmarks/embeddings/{dataset}.{split}.{feature}.{model}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: 2
    resources:
        gpu=get_train_gpus(),
    params:
        train=settings("train", keys=["device"]),
    script:
        "../scripts/embeddings.py"
