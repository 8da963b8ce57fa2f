rule motif_figure:
    input:
        summary="results/report/motifs_per_singer.tsv",
    output:
        png=report(
            "results/figures/motifs_per_singer.png",
            caption="../report/motif_figure.rst",
            category="Motifs",
        ),
        svg="results/figures/motifs_per_singer.svg",
    log:
        "results/logs/motif_figure.log",
    benchmark:
        "results/benchmarks/motif_figure.tsv"
    conda:
        "../../envs/motifs.yaml"
    script:
        "../scripts/motif_figure.py"


rule training_curves:
    input:
        histories=expand(
            "results/models/{{dataset}}/{{split}}/{{feature}}/{model}/history.tsv",
            model=config["train"]["models"],
        ),
    output:
        png=report(
            "results/figures/{dataset}/{split}/{feature}/training_curves.png",
            caption="../report/training_curves.rst",
            category="Training",
            subcategory="{dataset}, {feature}, {split} split",
            labels={"result": "training curves", "model": "all"},
        ),
        svg="results/figures/{dataset}/{split}/{feature}/training_curves.svg",
    log:
        "results/logs/training_curves/{dataset}.{split}.{feature}.log",
    benchmark:
        "results/benchmarks/training_curves/{dataset}.{split}.{feature}.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        models=config["train"]["models"],
        title="Training curves: {dataset} ({feature}), {split} split",
    script:
        "../scripts/training_curves.py"


rule confusion_figure:
    input:
        metrics=expand(
            "results/evaluation/{{dataset}}/{{split}}/{{feature}}/{model}/metrics.json",
            model=config["train"]["models"],
        ),
    output:
        png=report(
            "results/figures/{dataset}/{split}/{feature}/confusion.png",
            caption="../report/confusion_figure.rst",
            category="Evaluation",
            subcategory="{dataset}, {feature}, {split} split",
            labels={"result": "confusion matrices", "model": "all"},
        ),
        svg="results/figures/{dataset}/{split}/{feature}/confusion.svg",
    log:
        "results/logs/confusion_figure/{dataset}.{split}.{feature}.log",
    benchmark:
        "results/benchmarks/confusion_figure/{dataset}.{split}.{feature}.tsv"
    conda:
        "../../envs/motifs.yaml"
    params:
        models=config["train"]["models"],
        title="Test confusion: {dataset} ({feature}), {split} split",
    script:
        "../scripts/confusion_figure.py"


rule embedding_map:
    input:
        embeddings=expand(
            "results/models/{{dataset}}/{{split}}/{{feature}}/{model}/embeddings.parquet",
            model=config["train"]["models"],
        ),
    output:
        png=report(
            "results/figures/{dataset}/{split}/{feature}/embedding_map.png",
            caption="../report/embedding_map.rst",
            category="Evaluation",
            subcategory="{dataset}, {feature}, {split} split",
            labels={"result": "embedding map (t-SNE)", "model": "all"},
        ),
        svg="results/figures/{dataset}/{split}/{feature}/embedding_map.svg",
    log:
        "results/logs/embedding_map/{dataset}.{split}.{feature}.log",
    benchmark:
        "results/benchmarks/embedding_map/{dataset}.{split}.{feature}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: 1
    params:
        models=config["train"]["models"],
        figures=settings("figures"),
        train=settings("train", keys=["seed"]),
        title="Motif embeddings (t-SNE): {dataset} ({feature}), {split} split",
    script:
        "../scripts/embedding_map.py"


rule results_figure:
    input:
        csv="results/report/results.csv",
    output:
        png=report(
            "results/figures/results_grid.png",
            caption="../report/results_figure.rst",
            category="Results",
        ),
        svg="results/figures/results_grid.svg",
    log:
        "results/logs/results_figure.log",
    benchmark:
        "results/benchmarks/results_figure.tsv"
    conda:
        "../../envs/motifs.yaml"
    script:
        "../scripts/results_figure.py"
