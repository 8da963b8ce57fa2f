"""Per-stage settings objects made from the configuration schema (cantaor.config.settings)."""

import json
import pickle
import re
from pathlib import Path

import pytest
import yaml

from cantaor.config.settings import (
    SCHEMA_PATH,
    SECTIONS,
    UNSET,
    ContourSettings,
    F0Settings,
    FeaturesSettings,
    MiningSettings,
    SettingsError,
    TrainSettings,
    parameters_read,
    stage_settings,
)
from cantaor.features.store import build_clip_store, build_store

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text())


def _defaults(schema):
    return {
        key: _defaults(spec) if spec.get("type") == "object" else spec["default"]
        for key, spec in schema["properties"].items()
    }


def test_the_package_reads_the_workflow_schema():
    assert SCHEMA_PATH.resolve() == (REPO / "workflow/schemas/config.schema.yaml").resolve()


def test_one_class_per_object_section_with_the_schema_keys_and_defaults():
    objects = [name for name, spec in SCHEMA["properties"].items() if spec["type"] == "object"]
    assert list(SECTIONS) == objects
    for name in objects:
        settings = stage_settings(name)
        assert list(settings) == list(SCHEMA["properties"][name]["properties"])
        assert settings.to_dict() == _defaults(SCHEMA["properties"][name]), name


def test_the_shipped_configuration_builds_every_section_as_written():
    for name in SECTIONS:
        assert stage_settings(name, CONFIG[name]).to_dict() == CONFIG[name], name


def test_nested_sections_are_nested_settings():
    f0 = F0Settings.from_config({"crepe": {"model": "tiny"}})
    assert f0.crepe.model == "tiny" and f0.crepe.batch_size == 64
    assert f0.swift.lowpass_hz == 1200
    train = TrainSettings.from_config()
    assert train.model_options.residual50.stage_blocks == (3, 4, 6, 3)
    assert train.to_dict()["model_options"]["residual50"]["stage_blocks"] == [3, 4, 6, 3]


def test_settings_are_frozen_hashable_picklable_and_json():
    features = FeaturesSettings.from_config(CONFIG["features"])
    with pytest.raises(AttributeError):
        features.n_mels = 64
    assert hash(features) == hash(FeaturesSettings.from_config(CONFIG["features"]))
    assert pickle.loads(pickle.dumps(features)) == features
    text = json.dumps(features.to_dict())
    assert FeaturesSettings.from_config(json.loads(text)) == features
    assert features != FeaturesSettings.from_config({**CONFIG["features"], "n_mels": 64})
    # a read-only mapping too: ** passes it on
    assert dict(**features)["n_mels"] == features["n_mels"] == features.n_mels == 128


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("features", {"mel_fmin": 30}, r"features: unknown key\(s\) mel_fmin"),
        ("features", {"fmin_hz": 900, "fmax_hz": 300}, r"features\.fmin_hz=900 must be below"),
        ("features", {"fmax_hz": 9000}, r"features\.fmax_hz=9000 is above the Nyquist"),
        ("f0", {"hop_length": 0}, r"f0\.hop_length: 0 is less than the minimum of 1"),
        ("f0", {"crepe": {"model": "huge"}}, r"f0\.crepe\.model: 'huge' is not one of"),
        ("f0", {"swift": {"gate": 3}}, r"f0\.swift: .*'gate'"),
        ("mining", {"min_length": 5, "max_length": 4}, r"mining\.min_length=5 must be at most"),
        ("contour", {"interval_thresholds_cents": [112, 70]}, "strictly increasing"),
        ("features", {"n_mfcc": 200}, r"features\.n_mfcc=200 must be at most features\.n_mels"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(section, values, message):
    with pytest.raises(SettingsError, match=message):
        stage_settings(section, values)


def test_settings_a_rule_did_not_pass_cannot_be_read():
    contour = ContourSettings.from_params({"min_gap_s": 0.2, "min_phrase_s": 0.5})
    assert contour.min_gap_s == 0.2 and dict(contour) == {"min_gap_s": 0.2, "min_phrase_s": 0.5}
    assert "smooth_s" not in contour
    with pytest.raises(SettingsError, match=r"contour\.smooth_s is not among the settings given"):
        assert contour.smooth_s is None  # never reached
    with pytest.raises(SettingsError, match=r"contour\.k is not among"):
        contour["k"]
    with pytest.raises(KeyError):
        contour["no_such_key"]
    # unset values survive pickling (the workflow's jobs) and stay unset
    again = pickle.loads(pickle.dumps(contour))
    assert again == contour and object.__getattribute__(again, "k") is UNSET


def test_arguments_of_passes_every_setting_a_function_takes():
    mining = MiningSettings.from_config(CONFIG["mining"])

    def mine(symbols, *, min_support, max_gap, scope, unrelated=1):
        return None

    assert mining.arguments_of(mine) == {
        "min_support": CONFIG["mining"]["min_support"],
        "max_gap": CONFIG["mining"]["max_gap"],
        "scope": CONFIG["mining"]["scope"],
    }
    # a rule that passed too few keys fails, naming the one missing
    with pytest.raises(SettingsError, match=r"mining\.scope"):
        MiningSettings.from_params({"min_support": 3, "max_gap": 0}).arguments_of(mine)


def test_feature_stores_receive_the_keys_their_builder_takes():
    """The rule's keys come from build_store's parameters: no hand-kept omit list."""
    keys = set(parameters_read("features", build_store))
    assert keys == set(parameters_read("features", build_clip_store))
    # the settings that choose stores, or shape items, never rerun a store
    assert not keys & {"kinds", "min_duration_s", "max_dropped_share"}
    assert keys == set(CONFIG["features"]) - {"kinds", "min_duration_s", "max_dropped_share"}


def test_the_store_rules_pass_features_through_used_by():
    text = "\n".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))
    assert re.search(r'features=settings\("features", used_by=build_store\)', text)
    assert re.search(r'features=settings\("features", used_by=build_clip_store\)', text)
    assert 'omit=("kinds", "min_duration_s"' not in text


def test_a_features_key_reaches_the_store_from_the_schema_alone(tmp_path):
    """features.fmin_hz was added in the schema and config.yaml only: the store uses it."""
    import numpy as np
    import pandas as pd
    import soundfile as sf

    from cantaor.features.acoustic import compute_feature
    from cantaor.features.files import store_of_items
    from cantaor.features.store import open_store

    rate = 16000
    audio = np.random.default_rng(0).standard_normal(rate).astype(np.float32) * 0.1
    sf.write(tmp_path / "r.wav", audio, rate, subtype="FLOAT")
    items = pd.DataFrame(
        {
            "item_id": ["a"],
            "singer": ["S"],
            "recording": ["r"],
            "group": ["r"],
            "motif_id": ["m"],
            "start_s": [0.0],
            "end_s": [0.5],
        }
    )
    stores = {}
    for fmin_hz in (0, 2000):
        settings = FeaturesSettings.from_config(
            {**CONFIG["features"], "fmin_hz": fmin_hz, "dtype": "float32", "n_frames": 50}
        )
        assert "fmin_hz" in parameters_read("features", build_store)
        store_of_items(
            items,
            {"r": tmp_path / "r.wav"},
            tensor_path=tmp_path / f"{fmin_hz}.npy",
            index_path=tmp_path / f"{fmin_hz}.parquet",
            kind="logmel",
            settings=settings,
        )
        stores[fmin_hz] = np.array(open_store(tmp_path / f"{fmin_hz}.npy"))[0]
        expected = compute_feature(
            "logmel",
            audio,
            **{k: v for k, v in settings.items() if k in ("sample_rate", "win_s", "hop_s")},
            n_fft=settings.n_fft,
            n_mels=settings.n_mels,
            fmin_hz=fmin_hz,
        )[:, :50]
        np.testing.assert_allclose(stores[fmin_hz], expected, rtol=1e-5, atol=1e-5)
    assert not np.allclose(stores[0], stores[2000])
