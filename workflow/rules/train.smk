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
        # models and model_options (above) choose the model; gpu is a resource
        train=settings("train", omit=("models", "model_options", "gpu")),
        # recorded in model.pt: the settings its inputs were built with (the same
        # edits rebuild them), which `cantaor export-model` writes to a manifest
        built_with=get_export_config(),
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
        train=settings("train", keys=["device"]),
    script:
        "../scripts/predict.py"


rule open_set:
    input:
        model="results/models/{dataset}/{split}/{feature}/{model}/model.pt",
        clusters="results/contour/clusters.json",
        dictionaries=expand(
            "results/motifs/{singer}.dictionary.tsv", singer=SINGER_NAMES
        ),
        index="results/features/{dataset}/{feature}.index.parquet",
        split="results/split/{dataset}.{split}.parquet",
        f0=expand("results/f0/{recording}.parquet", recording=RECORDINGS),
    output:
        rule="results/models/{dataset}/{split}/{feature}/{model}/rejection.json",
        report="results/evaluation/{dataset}/{split}/{feature}/{model}/open_set.json",
        markdown=report(
            "results/evaluation/{dataset}/{split}/{feature}/{model}/open_set.md",
            caption="../report/open_set.rst",
            category="Evaluation",
            subcategory="{dataset}, {feature}, {split} split",
            labels={"result": "open set", "model": "{model}"},
        ),
    log:
        "results/logs/open_set/{dataset}.{split}.{feature}.{model}.log",
    benchmark:
        "results/benchmarks/open_set/{dataset}.{split}.{feature}.{model}.tsv"
    conda:
        "../../envs/audio.yaml"
    threads: 1
    params:
        singers=SINGERS,
        recordings=RECORDINGS,
        corpus={"audio_paths": get_audio_paths()},
        config=get_export_config(),
        title="{model} on {dataset} ({feature}), {split} split",
    script:
        "../scripts/open_set.py"


rule export_model:
    input:
        model="results/models/{dataset}/{split}/{feature}/{model}/model.pt",
        clusters="results/contour/clusters.json",
        dictionaries=expand(
            "results/motifs/{singer}.dictionary.tsv", singer=SINGER_NAMES
        ),
        rejection="results/models/{dataset}/{split}/{feature}/{model}/rejection.json",
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
