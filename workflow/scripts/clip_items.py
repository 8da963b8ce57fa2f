"""Snakemake glue: the items of a folder (or table) of pre-cut clips, and their report."""

import pandas as pd

from cantaor.dataset.clips import (
    clip_items,
    clip_report,
    clip_report_markdown,
    read_clip_table,
    scan_clip_folder,
    select_singers,
)
from cantaor.util.atomic import write_json, write_text
from cantaor.util.logs import line_logger
from cantaor.util.parquet import write_parquet

log = line_logger(snakemake.log[0], capture_stderr=True)
p = snakemake.params
if p.corpus["clips_table"]:
    clips, skipped_files = read_clip_table(
        p.corpus["clips_table"], on_bad=p.corpus["on_bad_recording"]
    )
else:
    clips, skipped_files = scan_clip_folder(
        p.corpus["clips_dir"], on_bad=p.corpus["on_bad_recording"]
    )
source = p.corpus["clips_table"] or p.corpus["clips_dir"]
clips, left_out = select_singers(clips, p.corpus["singers"], source=source)
log(
    f"{len(clips)} clips of {clips['singer'].nunique()} singers listed, "
    f"{len(skipped_files)} files skipped"
    + "".join(f"; {singer}: {n} clips left out by corpus.singers" for singer, n in left_out.items())
)
items, skipped_clips = clip_items(
    clips,
    min_shared_s=p.corpus["clips_min_shared_s"],
    min_duration_s=p.features["min_duration_s"],
    on_bad=p.corpus["on_bad_recording"],
    log=log,
)
skipped = pd.concat([skipped_files, skipped_clips], ignore_index=True)
report = clip_report(
    items,
    skipped,
    deduplicate=p.split["deduplicate"],
    min_duration_s=p.features["min_duration_s"],
    max_dropped_share=p.features["max_dropped_share"],
    singers_left_out=left_out,
)
write_parquet(items, snakemake.output.item_table)
write_json(report, snakemake.output.report)
write_text(clip_report_markdown(report), snakemake.output.markdown)
for row in report["short_per_singer"]:
    if row["n_dropped"]:
        log(
            f"{row['singer']}: {row['n_dropped']} of {row['n_items']} clips "
            f"({row['dropped_share']:.1%}) shorter than {p.features['min_duration_s']} s, dropped"
        )
for warning in report["short_warnings"]:
    log(f"WARNING: {warning}")
log(
    f"{report['n_items']} clips, {report['n_distinct_contents']} distinct contents, "
    f"{report['n_items_cross_singer']} under two or more singers, "
    f"{report['n_clips_sharing_audio']} sharing a run of samples"
)
