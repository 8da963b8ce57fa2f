"""The paper's reported results, to print beside ours.

Table 2 of Arronte Alvarez & Gomez-Martin, "Singer Identification Using
Convolutional Acoustic Motif Embeddings": accuracy (%) and AUC (%) per model,
dataset and feature, under a random 80/20 split of motif instances.
"""

from __future__ import annotations

# (model, dataset, feature) -> (accuracy %, AUC %), in cantaor's names.
TABLE2: dict[tuple[str, str, str], tuple[float, float]] = {}

_ROWS = {
    ("crnn", "motifs"): (88.59, 87.66, 87.13, 86.54, 91.05, 89.11),
    ("residual50", "motifs"): (87.31, 86.55, 83.47, 81.98, 93.19, 91.77),
    ("residual_blstm", "motifs"): (94.78, 92.02, 91.62, 88.66, 96.29, 94.42),
    ("crnn", "motifs_segment"): (86.48, 85.12, 84.26, 83.29, 90.33, 89.03),
    ("residual50", "motifs_segment"): (85.01, 84.32, 82.41, 81.11, 91.89, 90.25),
    ("residual_blstm", "motifs_segment"): (91.88, 90.02, 89.98, 88.02, 95.23, 93.36),
    ("crnn", "random"): (81.11, 80.21, 78.33, 76.95, 82.82, 81.76),
    ("residual50", "random"): (81.31, 80.25, 79.58, 78.92, 84.89, 82.52),
    ("residual_blstm", "random"): (82.19, 84.26, 81.73, 80.32, 85.96, 84.01),
}
for (_model, _dataset), _values in _ROWS.items():
    for _position, _feature in enumerate(("mfcc", "spectrogram", "logmel")):
        TABLE2[(_model, _dataset, _feature)] = (_values[2 * _position], _values[2 * _position + 1])


def paper_result(model: str, dataset: str, feature: str) -> tuple[float, float] | None:
    """The paper's (accuracy %, AUC %) for a grid cell, or None when it has none."""
    return TABLE2.get((model, dataset, feature))
