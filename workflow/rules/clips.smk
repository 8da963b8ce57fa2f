# Training from pre-cut clips (corpus.source: clips): the clips replace f0,
# contours and mining; their items and feature stores take the paths of a
# dataset named "clips", so split, train, predict, evaluate and the results
# table run on them unchanged.


rule clip_items:
    input:
        # One manifest (paths, sizes, time stamps) instead of every clip: the job's
        # header stays one short line, and any changed clip still reruns it.
        clips=get_clip_files(),
    output:
        item_table="results/features/clips/items.parquet",
        report="results/clips/clips.json",
        markdown=report(
            "results/clips/clips.md",
            caption="../report/clips.rst",
            category="Leakage",
        ),
    log:
        "results/logs/clip_items.log",
    benchmark:
        "results/benchmarks/clip_items.tsv"
    conda:
        "../../envs/audio.yaml"
    params:
        corpus=settings(
            "corpus",
            keys=[
                "clips_dir",
                "clips_table",
                "on_bad_recording",
                "clips_min_shared_s",
                "singers",
            ],
        ),
        features=settings("features", keys=["min_duration_s", "max_dropped_share"]),
        split=settings("split", keys=["deduplicate"]),
    script:
        "../scripts/clip_items.py"


rule clip_store:
    input:
        item_table="results/features/clips/items.parquet",
    output:
        tensor="results/features/clips/{feature}.npy",
        index="results/features/clips/{feature}.index.parquet",
    log:
        "results/logs/clip_store/{feature}.log",
    benchmark:
        "results/benchmarks/clip_store/{feature}.tsv"
    conda:
        "../../envs/audio.yaml"
    params:
        features=settings("features", used_by=build_clip_store),
    script:
        "../scripts/clip_store.py"
