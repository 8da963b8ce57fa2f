rule train:
    input:
        tensor="results/features/{dataset}/{feature}.npy",
        index="results/features/{dataset}/{feature}.index.parquet",
        split="results/split/{dataset}.{split}.parquet",
    output:
        model="results/models/{dataset}/{split}/{feature}/{model}/model.pt",
        history="results/models/{dataset}/{split}/{feature}/{model}/history.tsv",
    log:
        "results/logs/train/{dataset}.{split}.{feature}.{model}.log",
    benchmark:
        "results/benchmarks/train/{dataset}.{split}.{feature}.{model}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: 2
    resources:
        gpu=get_train_gpus(),
        mem_mb=8000,
        runtime=240,
    params:
        model_options=get_model_options,
        epochs=config["train"]["epochs"],
        batch_size=config["train"]["batch_size"],
        learning_rate=config["train"]["learning_rate"],
        patience=config["train"]["patience"],
        seed=config["train"]["seed"],
        bucket_by_length=config["train"]["bucket_by_length"],
        device=config["train"]["device"],
        mixed_precision=config["train"]["mixed_precision"],
    script:
        "../scripts/train.py"


rule predict:
    input:
        model="results/models/{dataset}/{split}/{feature}/{model}/model.pt",
        tensor="results/features/{dataset}/{feature}.npy",
        index="results/features/{dataset}/{feature}.index.parquet",
        split="results/split/{dataset}.{split}.parquet",
    output:
        predictions="results/models/{dataset}/{split}/{feature}/{model}/predictions.parquet",
    log:
        "results/logs/predict/{dataset}.{split}.{feature}.{model}.log",
    benchmark:
        "results/benchmarks/predict/{dataset}.{split}.{feature}.{model}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: 2
    resources:
        gpu=get_train_gpus(),
    params:
        device=config["train"]["device"],
    script:
        "../scripts/predict.py"


rule export_model:
    input:
        model="results/models/{dataset}/{split}/{feature}/{model}/model.pt",
        clusters="results/contour/clusters.json",
        dictionaries=expand("results/motifs/{singer}.dictionary.tsv", singer=SINGERS),
    output:
        model_dir=directory("results/export/{dataset}/{split}/{feature}/{model}"),
    log:
        "results/logs/export_model/{dataset}.{split}.{feature}.{model}.log",
    benchmark:
        "results/benchmarks/export_model/{dataset}.{split}.{feature}.{model}.tsv"
    conda:
        "../../envs/learn.yaml"
    params:
        singers=SINGERS,
        config=get_export_config(),
    script:
        "../scripts/export_model.py"
