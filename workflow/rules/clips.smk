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
        clips_dir=config["corpus"]["clips_dir"],
        clips_table=config["corpus"]["clips_table"],
        on_bad=config["corpus"]["on_bad_recording"],
        min_shared_s=config["corpus"]["clips_min_shared_s"],
        min_duration_s=config["features"]["min_duration_s"],
        max_dropped_share=config["features"]["max_dropped_share"],
        singers=config["corpus"]["singers"],
        deduplicate=config["split"]["deduplicate"],
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
        "../scripts/clip_store.py"
