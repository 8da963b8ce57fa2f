"""On a clean demo (true f0), the pipeline's motif dictionaries recover the planted motifs."""

import numpy as np
import pandas as pd

from cantaor.contour.symbols import contour_symbols, fit_clusters, segment_phrases
from cantaor.demo.corpus import synthesize_recording
from cantaor.demo.recovery import motif_recovery
from cantaor.mining.motifs import build_dictionary
from cantaor.pitch.f0 import hz_to_cents


def test_planted_motifs_are_recovered_from_true_f0():
    recordings = {
        (singer, take): synthesize_recording(
            singer_index=singer, recording_index=take, n_singers=2, duration_s=25.0, seed=5
        )
        for singer in range(2)
        for take in range(3)
    }
    cents = {key: hz_to_cents(rec.f0["f0_hz"].to_numpy()) for key, rec in recordings.items()}
    centers, _ = fit_clusters(np.concatenate(list(cents.values())), k=24, seed=0)
    truth, found = [], []
    for singer in range(2):
        contours = {}
        for take in range(3):
            rec = recordings[(singer, take)]
            name = f"S{singer + 1}_R{take + 1}"
            time_s = rec.f0["time_s"].to_numpy()
            phrase = segment_phrases(time_s, rec.f0["voiced"].to_numpy())
            contours[name] = contour_symbols(
                time_s, cents[(singer, take)], phrase, centers_cents=centers
            )
            truth.append(rec.motifs.assign(recording=name))
        _, occurrences = build_dictionary(f"S{singer + 1}", contours, min_support=3)
        found.append(occurrences)
    report = motif_recovery(pd.concat(truth), pd.concat(found), iou=0.5)
    assert report["recall"] >= 0.6, report
    assert report["planted_motifs_found"] >= 0.6 * report["planted_motifs"], report
