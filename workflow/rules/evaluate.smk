rule evaluate:
    input:
        predictions="results/models/{dataset}/{feature}/{model}/predictions.parquet",
    output:
        metrics="results/evaluation/{dataset}/{feature}/{model}/metrics.json",
        markdown=report(
            "results/evaluation/{dataset}/{feature}/{model}/metrics.md",
            caption="../report/metrics.rst",
            category="Evaluation",
        ),
    log:
        "results/logs/evaluate/{dataset}.{feature}.{model}.log",
    benchmark:
        "results/benchmarks/evaluate/{dataset}.{feature}.{model}.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        title="{model} on {dataset} ({feature})",
    script:
        "../scripts/evaluate.py"


rule baselines:
    input:
        tensor="results/features/{dataset}/{feature}.npy",
        index="results/features/{dataset}/{feature}.index.parquet",
        split="results/split/{dataset}.parquet",
    output:
        metrics="results/evaluation/{dataset}/{feature}/baselines.json",
        markdown=report(
            "results/evaluation/{dataset}/{feature}/baselines.md",
            caption="../report/baselines.rst",
            category="Evaluation",
        ),
    log:
        "results/logs/baselines/{dataset}.{feature}.log",
    benchmark:
        "results/benchmarks/baselines/{dataset}.{feature}.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        title="{dataset} ({feature})",
        seed=config["train"]["seed"],
    script:
        "../scripts/baselines.py"


rule results_table:
    input:
        metrics=get_run_metrics(),
        baselines=get_baseline_metrics(),
    output:
        table=report(
            "results/report/results.md",
            caption="../report/results.rst",
            category="Results",
        ),
    log:
        "results/logs/results_table.log",
    benchmark:
        "results/benchmarks/results_table.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        runs=get_runs(),
        baseline_runs=get_baseline_runs(),
    script:
        "../scripts/results_table.py"
