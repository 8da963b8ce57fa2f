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


rule results_table:
    input:
        metrics=get_run_metrics(),
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
    script:
        "../scripts/results_table.py"
