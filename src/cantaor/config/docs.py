"""config/README.md, generated from the configuration schema.

The schema (workflow/schemas/config.schema.yaml) is the one reference of every
setting: its type, range, default and description. This module renders it as
markdown, so the README cannot drift from what the workflow validates::

    python -m cantaor.config.docs            # rewrite config/README.md
    python -m cantaor.config.docs --check    # exit 1, with a diff, when it is stale

Format: the schema's ``title`` and ``description`` (the intro), then per
top-level key a ``## `key` `` heading, its description, and one bullet per key
of the section: ``- `key` (default `X`; type or allowed values): description``.
Keys of nested objects (``f0.swift``, ``train.model_options.crnn``) are nested
bullets named by their dotted path within the section.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

SCHEMA_PATH = Path("workflow/schemas/config.schema.yaml")
README_PATH = Path("config/README.md")
COMMAND = "python -m cantaor.config.docs"
WIDTH = 96
# A wrapped line must not start like a markdown block (a list item, heading,
# quote or rule), or it would leave the bullet it continues.
_BLOCK_START = re.compile(r"([-+*>#]|\d+[.)]|[-=]+)(\s|$)")

_TYPE_NAMES = {
    "integer": ("integer", "integers"),
    "number": ("number", "numbers"),
    "string": ("string", "strings"),
    "boolean": ("true or false", "true or false"),
    "array": ("list", "lists"),
    "object": ("mapping", "mappings"),
    "null": ("null", "null"),
}


def format_value(value) -> str:
    """A value as it is written in config.yaml (YAML flow style)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def _bounds(spec: Mapping) -> str:
    low, high = spec.get("minimum"), spec.get("maximum")
    xlow, xhigh = spec.get("exclusiveMinimum"), spec.get("exclusiveMaximum")
    if low is not None and high is not None:
        return f"{format_value(low)} to {format_value(high)}"
    parts = []
    if low is not None:
        parts.append(f">= {format_value(low)}")
    if xlow is not None:
        parts.append(f"> {format_value(xlow)}")
    if high is not None:
        parts.append(f"<= {format_value(high)}")
    if xhigh is not None:
        parts.append(f"< {format_value(xhigh)}")
    return " and ".join(parts)


def describe_type(spec: Mapping, *, plural: bool = False) -> str:
    """The type, allowed values and range of a schema node, in words."""
    if "enum" in spec:
        values = [f"`{format_value(v)}`" for v in spec["enum"]]
        return ("drawn from " if plural else "one of ") + ", ".join(values)
    if "const" in spec:
        return f"`{format_value(spec['const'])}`"
    if "oneOf" in spec or "anyOf" in spec:
        options = spec.get("oneOf", spec.get("anyOf"))
        return " or ".join(describe_type(option, plural=plural) for option in options)
    types = spec.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    words = []
    for name in types:
        if name == "array":
            items = spec.get("items", {})
            inner = describe_type(items, plural=True)
            word = ("list " if "enum" in items else "list of ") + inner if inner else "list"
            if spec.get("minItems"):
                count = spec["minItems"]
                word += ", not empty" if count == 1 else f", at least {count} items"
            if spec.get("uniqueItems"):
                word += ", no repeats"
            words.append(word)
        else:
            word = _TYPE_NAMES.get(name, (name, name))[1 if plural else 0]
            bounds = _bounds(spec) if name in ("integer", "number") else ""
            words.append(f"{word} {bounds}" if bounds else word)
    return " or ".join(words)


def _facts(spec: Mapping) -> str:
    """``default `X`; type``: what a bullet says before its description."""
    kind = describe_type(spec)
    default = f"default `{format_value(spec.get('default'))}`"
    return f"{default}; {kind}" if kind else default


def _is_section(spec: Mapping) -> bool:
    return "properties" in spec


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else "" for line in text.splitlines())


def wrap(text: str, first: str, rest: str) -> list[str]:
    """``text`` as lines of at most WIDTH characters (where words allow), starting
    with ``first`` and then ``rest``; no line after the first starts a markdown block."""
    lines = textwrap.wrap(
        " ".join(text.split()),
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    out = lines[:1]
    for line in lines[1:]:
        if _BLOCK_START.match(line[len(rest) :]):
            out[-1] += " " + line[len(rest) :]
        else:
            out.append(line)
    return out or [first.rstrip()]


def _bullet(path: str, spec: Mapping, depth: int) -> list[str]:
    pad = "  " * depth
    first, *rest = str(spec.get("description", "")).strip().split("\n\n")
    head = f"- `{path}`: " if _is_section(spec) else f"- `{path}` ({_facts(spec)}): "
    lines = wrap(head + first, pad, pad + "  ")
    for paragraph in rest:
        lines += ["", _indent(paragraph.strip(), pad + "  ")]
    if _is_section(spec):
        for key, child in spec["properties"].items():
            lines += _bullet(f"{path}.{key}", child, depth + 1)
    return lines


def render(schema: Mapping) -> str:
    """The markdown of config/README.md for ``schema`` (the parsed YAML)."""
    lines = [
        f"# {schema.get('title', 'Configuration')}",
        "",
        "<!-- Generated from workflow/schemas/config.schema.yaml by",
        f"     `{COMMAND}`: edit the schema, not this file. -->",
        "",
        str(schema.get("description", "")).strip(),
    ]
    for section, spec in schema["properties"].items():
        lines += ["", f"## `{section}`", ""]
        description = str(spec.get("description", "")).strip()
        if description:
            lines += [description, ""]
        if _is_section(spec):
            for key, child in spec["properties"].items():
                lines += _bullet(key, child, 0)
        else:
            facts = _facts(spec)
            lines += wrap(facts[0].upper() + facts[1:] + ".", "", "")
    return "\n".join(lines).rstrip() + "\n"


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    """The configuration schema, parsed (paths are relative to the repository root)."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"{path}: no such schema; run `{COMMAND}` in the repository root")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def stale_diff(schema_path: Path = SCHEMA_PATH, readme_path: Path = README_PATH) -> str:
    """A unified diff from the README on disk to the generated one; empty when in step."""
    expected = render(load_schema(schema_path))
    readme_path = Path(readme_path)
    current = readme_path.read_text(encoding="utf-8") if readme_path.exists() else ""
    if current == expected:
        return ""
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{readme_path} (on disk)",
            tofile=f"{readme_path} (generated from {schema_path})",
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Write config/README.md from the configuration schema."
    )
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH, help="schema (YAML)")
    parser.add_argument("--output", type=Path, default=README_PATH, help="README to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and print the difference when the README is stale",
    )
    args = parser.parse_args(argv)
    if args.check:
        diff = stale_diff(args.schema, args.output)
        if diff:
            sys.stdout.write(diff)
            print(f"{args.output} is stale; regenerate it with `{COMMAND}`.", file=sys.stderr)
            return 1
        return 0
    text = render(load_schema(args.schema))
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
