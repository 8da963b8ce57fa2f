"""Cross-key constraints of the configuration (cantaor.config.check)."""

from pathlib import Path

import pytest
import yaml

from cantaor.config.check import ConfigError, check_config, config_problems, corpus_problems

REPO = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((REPO / "config/config.yaml").read_text())


def _with(section, **values):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config[section].update(values)
    return config


def test_the_shipped_configurations_are_consistent():
    assert config_problems(DEFAULT) == []
    tiny = yaml.safe_load((REPO / "tests/data/tiny_config.yaml").read_text())
    merged = {key: {**DEFAULT[key], **tiny.get(key, {})} for key in DEFAULT if key != "datasets"}
    assert config_problems(merged) == []


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (
            "mining",
            {"min_gap": 2, "max_gap": 1},
            "mining.min_gap=2 must be at most mining.max_gap=1",
        ),
        (
            "mining",
            {"min_length": 4, "max_length": 3},
            "mining.min_length=4 must be at most mining.max_length=3",
        ),
        ("mining", {"min_support": 2.5}, "mining.min_support=2.5 is neither a count"),
        ("contour", {"k_min": 9, "k_max": 4}, "contour.k_min=9 must be at most contour.k_max=4"),
        (
            "contour",
            {"interval_thresholds_cents": [112, 70]},
            "contour.interval_thresholds_cents=[112, 70] must be strictly increasing (class "
            "boundaries, e.g. [70, 112]); write them as [70, 112]",
        ),
        ("contour", {"interval_thresholds_cents": [70, 70]}, "must be strictly increasing"),
        (
            "f0",
            {"fmin_hz": 1000, "fmax_hz": 80},
            "f0.fmin_hz=1000 must be below f0.fmax_hz=80; swap them",
        ),
        ("f0", {"fmin_hz": 500, "fmax_hz": 500}, "f0.fmin_hz=500 must be below f0.fmax_hz=500"),
        ("f0", {"sample_rate": 8000, "fmax_hz": 4000}, "below the Nyquist frequency"),
        ("f0", {"hop_length": 4096, "frame_length": 2048}, "f0.hop_length=4096 must be at most"),
        ("demo", {"min_duration_s": 50, "max_duration_s": 40}, "demo.min_duration_s=50"),
        ("features", {"n_mfcc": 80, "n_mels": 40}, "features.n_mfcc=80 must be at most"),
        ("features", {"win_s": 0.1, "n_fft": 1024}, "features.win_s=0.1 is 1600 samples"),
        ("features", {"spectrogram_n_fft": 200}, "features.spectrogram_n_fft=200 is shorter"),
    ],
)
def test_each_conflict_is_named_with_its_keys_and_fix(section, values, message):
    problems = config_problems(_with(section, **values))
    assert len(problems) == 1 and message in problems[0]
    with pytest.raises(ConfigError, match="config: "):
        check_config(_with(section, **values))


def test_unbounded_and_automatic_values_pass():
    assert config_problems(_with("mining", min_gap=3, max_gap=None, max_length=None)) == []
    assert config_problems(_with("contour", k="auto", k_min=2, k_max=2)) == []


def test_every_problem_is_reported_at_once():
    config = _with("mining", min_gap=2, max_gap=1)
    config["contour"]["k_min"] = 50
    with pytest.raises(ConfigError) as error:
        check_config(config)
    assert "mining.min_gap" in str(error.value) and "contour.k_min" in str(error.value)


def test_a_corpus_needs_two_singers():
    assert corpus_problems(["A", "B", "A"], source="samplesheet") == []
    (problem,) = corpus_problems(["Camarón", "Camarón"], source="samplesheet")
    assert "sample sheet (corpus.samplesheet) names 1 singer(s) ('Camarón')" in problem
    assert "add recordings of another singer" in problem
    assert corpus_problems([], source="clips")[0].startswith("the clips")
