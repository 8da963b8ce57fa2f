"""config/README.md is generated from the configuration schema (cantaor.config.docs)."""

import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cantaor.config.docs import COMMAND, main, render, stale_diff, wrap

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO / "workflow/schemas/config.schema.yaml"
README_PATH = REPO / "config/README.md"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text(encoding="utf-8"))

# The keywords the schema uses; anything else in a node is a typo or, more
# likely, an unquoted comma in a flow mapping that cut a description short
# (`{description: Lowest f0, Hz.}` parses as a description and a key `Hz.`).
KEYWORDS = {
    "$schema", "title", "description", "type", "additionalProperties", "properties",
    "default", "enum", "const", "items", "oneOf", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minItems", "uniqueItems",
}  # fmt: skip


def _properties(spec, prefix=""):
    """(dotted name, schema node) of every property, depth first."""
    for key, child in spec.get("properties", {}).items():
        yield prefix + key, child
        yield from _properties(child, f"{prefix}{key}.")


def _config_keys(mapping, prefix=""):
    for key, value in mapping.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from _config_keys(value, f"{prefix}{key}.")


def _section(markdown, name):
    """The text under ``## `name` `` up to the next section."""
    match = re.search(rf"^## `{re.escape(name)}`\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"config/README.md has no section `{name}`"
    return match.group(1)


def test_config_readme_is_generated_from_the_schema():
    diff = stale_diff(SCHEMA_PATH, README_PATH)
    assert not diff, (
        "config/README.md differs from the text generated from "
        f"workflow/schemas/config.schema.yaml; regenerate it with `{COMMAND}` "
        f"(in the repository root):\n{diff}"
    )


def test_every_key_of_config_yaml_is_in_the_readme():
    markdown = render(SCHEMA)
    for name in _config_keys(CONFIG):
        section, _, rest = name.partition(".")
        text = _section(markdown, section)
        if rest:
            assert f"- `{rest}` " in text or f"- `{rest}`:" in text, f"{name} is not documented"


def test_every_schema_property_has_a_description_and_a_valid_default():
    for name, spec in _properties(SCHEMA):
        assert str(spec.get("description", "")).strip(), f"{name} has no description"
        assert "default" in spec, f"{name} has no default"
        jsonschema.validate(spec["default"], spec)


def test_the_schema_uses_only_known_keywords():
    def walk(spec, where):
        if isinstance(spec, list):
            for item in spec:
                walk(item, where)
        elif isinstance(spec, dict):
            stray = set(spec) - KEYWORDS
            assert not stray, f"{where}: unknown schema keys {sorted(stray)} (an unquoted comma?)"
            for key, value in spec.items():
                if key == "properties":
                    for name, child in value.items():
                        walk(child, f"{where}.{name}")
                elif key != "default":
                    walk(value, where)

    walk(SCHEMA, "schema")


def test_config_yaml_lists_every_key_with_the_schema_default():
    def walk(spec, values, name):
        if "properties" in spec:
            for key, child in spec["properties"].items():
                assert key in values, f"config/config.yaml lacks {name}{key}"
                walk(child, values[key], f"{name}{key}.")
        else:
            assert values == spec["default"], (
                f"config/config.yaml sets {name[:-1]}={values!r}, the schema's default is "
                f"{spec['default']!r}"
            )

    for key, child in SCHEMA["properties"].items():
        walk({"properties": {key: child}}, CONFIG, "")


TOY = {
    "title": "Toy settings",
    "description": "The intro.\n\nIts second paragraph.\n",
    "properties": {
        "stage": {
            "type": "object",
            "description": "What the stage does.\n\nMore about it.\n",
            "default": {},
            "properties": {
                "method": {"enum": ["a", "b"], "default": "a", "description": "Which one."},
                "rate": {
                    "type": ["number", "null"],
                    "exclusiveMinimum": 0,
                    "maximum": 1,
                    "default": None,
                    "description": "A share; null: off.",
                },
                "inner": {
                    "type": "object",
                    "description": "Nested options.",
                    "default": {},
                    "properties": {
                        "steps": {
                            "type": "array",
                            "items": {"type": "integer", "minimum": 1},
                            "minItems": 1,
                            "default": [3, 4],
                            "description": "Steps.\n\nA second paragraph.",
                        },
                        "on": {"type": "boolean", "default": True, "description": "Switch."},
                    },
                },
            },
        },
        "names": {
            "type": "array",
            "items": {"enum": ["x", "y"]},
            "uniqueItems": True,
            "default": ["x"],
            "description": "Names to use.",
        },
        "k": {
            "oneOf": [{"type": "integer", "minimum": 2}, {"const": "auto"}],
            "default": 24,
            "description": "Clusters.",
        },
    },
}

TOY_MARKDOWN = f"""# Toy settings

<!-- Generated from workflow/schemas/config.schema.yaml by
     `{COMMAND}`: edit the schema, not this file. -->

The intro.

Its second paragraph.

## `stage`

What the stage does.

More about it.

- `method` (default `a`; one of `a`, `b`): Which one.
- `rate` (default `null`; number > 0 and <= 1 or null): A share; null: off.
- `inner`: Nested options.
  - `inner.steps` (default `[3, 4]`; list of integers >= 1, not empty): Steps.

    A second paragraph.
  - `inner.on` (default `true`; true or false): Switch.

## `names`

Names to use.

Default `[x]`; list drawn from `x`, `y`, no repeats.

## `k`

Clusters.

Default `24`; integer >= 2 or `auto`.
"""


def test_render_writes_title_intro_sections_and_one_bullet_per_key():
    assert render(TOY) == TOY_MARKDOWN


def test_main_writes_the_readme_and_check_names_a_stale_one(tmp_path, capsys):
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(TOY, sort_keys=False), encoding="utf-8")
    readme = tmp_path / "README.md"
    assert main(["--schema", str(schema), "--output", str(readme), "--check"]) == 1
    assert main(["--schema", str(schema), "--output", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == TOY_MARKDOWN
    assert main(["--schema", str(schema), "--output", str(readme), "--check"]) == 0

    readme.write_text(TOY_MARKDOWN.replace("Which one.", "Which one?"), encoding="utf-8")
    capsys.readouterr()
    assert main(["--schema", str(schema), "--output", str(readme), "--check"]) == 1
    out, err = capsys.readouterr()
    assert "-- `method` (default `a`; one of `a`, `b`): Which one?" in out
    assert "+- `method` (default `a`; one of `a`, `b`): Which one." in out
    assert "is stale" in err and COMMAND in err


def test_a_missing_schema_is_named(tmp_path):
    with pytest.raises(SystemExit, match=r"nope\.yaml: no such schema"):
        main(["--schema", str(tmp_path / "nope.yaml"), "--output", str(tmp_path / "R.md")])


WORDS = st.sampled_from(
    ["-", "+", "*", "#", ">", "1.", "2)", "==", "a", "word", "`code`", "x" * 30]
)


@given(st.lists(WORDS, max_size=80), st.sampled_from(["", "  "]))
def test_wrapped_lines_keep_the_words_and_never_start_a_block(words, pad):
    text = " ".join(words)
    lines = wrap("- " + text, pad, pad + "  ")
    assert " ".join(" ".join(lines).split()) == " ".join(("- " + text).split())
    for line in lines[1:]:
        assert line.startswith(pad + "  ")
        body = line[len(pad) + 2 :]
        assert not re.match(r"([-+*>#]|\d+[.)]|[-=]+)(\s|$)", body), line
