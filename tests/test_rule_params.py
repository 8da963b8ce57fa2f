"""Every script reads only the params its rule passes, and only the settings keys it is given."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RULE = re.compile(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", re.S | re.M)
SETTINGS = re.compile(r'(\w+)=settings\(\s*"(\w+)"(.*?)\)(?=,\n)', re.S)


def _rules_with_scripts():
    for smk in sorted((REPO / "workflow/rules").glob("*.smk")):
        for name, body in RULE.findall(smk.read_text(encoding="utf-8")):
            script = re.search(r'script:\s*\n\s*"([^"]+)"', body)
            if script:
                yield name, body, (smk.parent / script.group(1)).resolve()


def _param_names(body):
    block = re.search(r"params:\n(.*?)(?=\n    \w+:|\Z)", body, re.S)
    return set(re.findall(r"^        (\w+)=", block.group(1), re.M)) if block else set()


def test_scripts_read_only_params_their_rule_passes():
    missing = {}
    for name, body, script in _rules_with_scripts():
        text = script.read_text(encoding="utf-8")
        used = set(re.findall(r"\bp\.(\w+)", text)) | set(
            re.findall(r"snakemake\.params\.(\w+)", text)
        )
        if used - _param_names(body):
            missing[name] = sorted(used - _param_names(body))
    assert len(list(_rules_with_scripts())) > 25
    assert not missing, missing


def test_scripts_read_only_settings_keys_their_rule_passes():
    config = yaml.safe_load((REPO / "config/config.yaml").read_text(encoding="utf-8"))
    missing = {}
    for name, body, script in _rules_with_scripts():
        text = script.read_text(encoding="utf-8")
        for param, section, rest in SETTINGS.findall(body):
            keys = re.search(r"keys=\[(.*?)\]", rest, re.S)
            allowed = set(re.findall(r'"(\w+)"', keys.group(1))) if keys else set(config[section])
            pattern = rf"""(?:\bp|snakemake\.params)\.{param}\[["'](\w+)["']\]"""
            used = set(re.findall(pattern, text))
            if used - allowed:
                missing[f"{name}.{param}"] = sorted(used - allowed)
    assert not missing, missing


def test_scripts_make_each_settings_param_the_settings_of_its_section():
    """``F0Settings.from_params(p.f0)`` only where the rule passes ``f0=settings("f0", ...)``."""
    from cantaor.config.settings import SECTIONS

    section_of_class = {cls.__name__: name for name, cls in SECTIONS.items()}
    made = re.compile(r"(\w+Settings)\.from_params\((?:p|snakemake\.params)\.(\w+)\)")
    wrong, count = {}, 0
    for name, body, script in _rules_with_scripts():
        passed = {param: section for param, section, _ in SETTINGS.findall(body)}
        for cls, param in made.findall(script.read_text(encoding="utf-8")):
            count += 1
            if passed.get(param) != section_of_class[cls]:
                wrong[f"{name}.{param}"] = (cls, passed.get(param))
    assert count >= 15  # the stage scripts build their settings this way
    assert not wrong, wrong
