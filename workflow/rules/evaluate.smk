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
        predictions="results/evaluation/{dataset}/{split}/{feature}/baselines.predictions.parquet",
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


rule speaker_embeddings:
    input:
        unpack(get_speaker_indexes),
        audio=get_audio,
    output:
        embeddings="results/speaker/{recording}.parquet",
    log:
        "results/logs/speaker_embeddings/{recording}.log",
    benchmark:
        "results/benchmarks/speaker_embeddings/{recording}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: 1
    params:
        datasets=get_datasets(),
    script:
        "../scripts/speaker_embeddings.py"


rule speaker_baseline:
    input:
        index=get_split_index,
        split="results/split/{dataset}.{split}.parquet",
        embeddings=get_speaker_embeddings(),
    output:
        metrics="results/evaluation/{dataset}/{split}/speaker_encoder.json",
        predictions="results/evaluation/{dataset}/{split}/speaker_encoder.predictions.parquet",
        markdown=report(
            "results/evaluation/{dataset}/{split}/speaker_encoder.md",
            caption="../report/speaker_encoder.rst",
            category="Evaluation",
            subcategory="{dataset}, {split} split",
            labels={"result": "baseline", "model": "speaker encoder"},
        ),
    log:
        "results/logs/speaker_baseline/{dataset}.{split}.log",
    benchmark:
        "results/benchmarks/speaker_baseline/{dataset}.{split}.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        title="{dataset}, {split} split",
        train=settings("train", keys=["seed"]),
    script:
        "../scripts/speaker_baseline.py"


rule kfold_report:
    input:
        predictions=[path for _, path in get_kfold_prediction_runs()],
        leakage=get_kfold_leakage(),
    output:
        table=report(
            "results/report/kfold.md",
            caption="../report/kfold.rst",
            category="Results",
        ),
        csv="results/report/kfold.csv",
        claim="results/report/kfold_claim.csv",
    log:
        "results/logs/kfold_report.log",
    benchmark:
        "results/benchmarks/kfold_report.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        runs=[run for run, _ in get_kfold_prediction_runs()],
        splits=get_kfold_splits(),
        evaluation=settings("evaluation", omit=("speaker_encoder",)),
    script:
        "../scripts/kfold_report.py"


rule results_table:
    input:
        metrics=get_run_metrics(),
        baselines=get_baseline_metrics() + get_speaker_metrics(),
        leakage=get_split_leakage(),
        kfold=get_kfold_report(),
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
        baseline_runs=get_baseline_runs() + get_speaker_runs(),
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
