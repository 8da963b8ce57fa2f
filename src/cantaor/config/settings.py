"""Per-stage settings: one frozen object per configuration section, made from the schema.

The configuration schema (``workflow/schemas/config.schema.yaml``, read here
through the link ``cantaor/config/config.schema.yaml``) is the one list of
settings: every section of type object becomes a frozen dataclass whose fields
are the section's keys, with the schema's defaults, and every nested object
(``f0.swift``, ``train.model_options.crnn``) a nested one. A new key therefore
needs no code here: it is added to the schema (description and default), to
``config/config.yaml``, and read where it is used.

Building an object validates it once: the section's schema (types, ranges,
unknown keys) and the cross-key constraints of :mod:`cantaor.config.check`.
Values are stored as JSON types, lists as tuples, so the objects are hashable,
picklable and written back by :meth:`Settings.to_dict` as the mapping they
were made from (model directories store them so; :mod:`cantaor.identify.modeldir`).

Two ways to build one:

- :meth:`Settings.from_config`: a whole section, keys it lacks take the
  schema's default (a configuration file, a model directory written before a
  key existed);
- :meth:`Settings.from_params`: exactly the keys a workflow rule passes
  (``settings(section, keys=...)`` in ``workflow/rules/common.smk``); a key
  the rule does not pass is *unset*, and reading it raises
  :class:`SettingsError` naming it, so a script cannot read a setting whose
  edits would not rerun it.

Objects are also read-only mappings (``settings["n_mels"]``, ``**settings``).

>>> f0 = F0Settings.from_config({"method": "pyin"})
>>> f0.method, f0.hop_length, f0.swift.lowpass_hz
('pyin', 256, 1200)
>>> F0Settings.from_params({"reference_hz": 55.0}).hop_length  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cantaor.config.settings.SettingsError: f0.hop_length is not among the settings given ...
"""

from __future__ import annotations

import dataclasses
import inspect
import keyword
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import yaml

from cantaor.config.check import config_problems

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


class SettingsError(ValueError):
    """Settings that break the schema, or a setting read that was not given; names the key."""


class _Unset:
    """The value of a key a rule did not pass (:meth:`Settings.from_params`)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        return "UNSET"  # pickled as this module's singleton


UNSET = _Unset()


@cache
def load_config_schema() -> dict:
    """The configuration schema (JSON Schema 2020-12) as a mapping."""
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def _thawed(value: Any) -> Any:
    if isinstance(value, Settings):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_thawed(item) for item in value]
    return value


class Settings(Mapping):
    """Base of the generated settings classes (one per schema object).

    Attributes
    ----------
    section : str
        The dotted configuration path (``"f0"``, ``"f0.swift"``).
    schema : dict
        The section's schema.
    """

    section: ClassVar[str]
    schema: ClassVar[dict]
    nested: ClassVar[dict[str, type[Settings]]]

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if value is UNSET:
            section = object.__getattribute__(self, "section")
            raise SettingsError(
                f"{section}.{name} is not among the settings given (a workflow rule passes "
                f"only some keys of {section}: add {name!r} to its settings(...) keys)"
            )
        return value

    # --- construction -------------------------------------------------------------
    @classmethod
    def from_config(cls, values: Mapping | None = None) -> Settings:
        """The section from a configuration mapping; absent keys take the schema's default.

        Raises
        ------
        SettingsError
            When a key is unknown, a value breaks the schema or two keys
            contradict each other; the message names them.
        """
        return cls._build(values or {}, partial=False)

    @classmethod
    def from_params(cls, values: Mapping) -> Settings:
        """The keys a workflow rule passed; the others are unset (reading one raises)."""
        return cls._build(values, partial=True)

    @classmethod
    def _build(cls, values: Mapping, *, partial: bool) -> Settings:
        if isinstance(values, Settings):
            values = values.to_dict()
        if not isinstance(values, Mapping):
            raise SettingsError(f"{cls.section}: expected a mapping, got {values!r}")
        unknown = sorted(set(values) - set(cls.schema.get("properties", {})))
        if unknown:
            raise SettingsError(
                f"{cls.section}: unknown key(s) {', '.join(unknown)}; the keys are "
                + ", ".join(cls.schema.get("properties", {}))
            )
        _validate(cls.schema, values, cls.section)
        fields = {}
        for name, spec in cls.schema["properties"].items():
            if name in cls.nested:
                given = values.get(name, UNSET if partial else {})
                fields[name] = (
                    UNSET if given is UNSET else cls.nested[name]._build(given, partial=partial)
                )
            elif name in values:
                fields[name] = _frozen(values[name])
            else:
                fields[name] = UNSET if partial else _frozen(spec.get("default"))
        settings = cls(**fields)
        # keys against keys, defaults included (nested sections: by their section)
        if "." not in cls.section:
            problems = config_problems({cls.section: settings.to_dict()})
            if problems:
                raise SettingsError("config: " + "\nconfig: ".join(problems))
        return settings

    # --- reading ------------------------------------------------------------------
    def given(self) -> tuple[str, ...]:
        """The keys that are set (every key unless made by :meth:`from_params`)."""
        return tuple(
            field.name
            for field in dataclasses.fields(self)
            if object.__getattribute__(self, field.name) is not UNSET
        )

    def to_dict(self) -> dict:
        """The set keys as plain JSON types (lists, nested dicts), in schema order."""
        return {name: _thawed(getattr(self, name)) for name in self.given()}

    def arguments_of(self, function: Callable) -> dict:
        """The settings ``function`` takes as keyword parameters of the same names.

        Every such setting must be set: a rule that passes too few keys fails
        here, naming the key, instead of the function silently using its
        default.
        """
        return {name: getattr(self, name) for name in parameters_read(self.section, function)}

    def __getitem__(self, key: str) -> Any:
        if key not in self.schema["properties"]:
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self.given()

    def __iter__(self) -> Iterator[str]:
        return iter(self.given())

    def __len__(self) -> int:
        return len(self.given())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return type(self) is type(other) and self._state() == other._state()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._state()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._state())})"

    def _state(self) -> tuple:
        return tuple(
            (field.name, object.__getattribute__(self, field.name))
            for field in dataclasses.fields(self)
        )


def parameters_read(section: str, function: Callable) -> tuple[str, ...]:
    """The keys of ``section`` that ``function`` takes as keyword parameters.

    The keys a workflow rule passes to a function whose parameters are named
    after the settings (``settings("features", used_by=build_store)`` in
    ``workflow/rules/common.smk``): a new key the function takes is passed
    without listing it anywhere else.
    """
    keys = _section_schema(section).get("properties", {})
    return tuple(name for name in inspect.signature(function).parameters if name in keys)


def _section_schema(section: str) -> dict:
    schema = load_config_schema()
    for part in section.split("."):
        schema = schema["properties"][part]
    return schema


def _validate(schema: dict, values: Mapping, section: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(dict(values)), key=lambda error: list(error.path))
    if errors:
        raise SettingsError(
            "\n".join(
                f"{'.'.join([section, *map(str, error.path)])}: {error.message}" for error in errors
            )
        )


def _class_name(section: str) -> str:
    return "".join(part.title() for part in section.replace(".", "_").split("_")) + "Settings"


def _make_class(section: str, schema: dict) -> type[Settings]:
    nested = {
        name: _make_class(f"{section}.{name}", spec)
        for name, spec in schema.get("properties", {}).items()
        if spec.get("type") == "object"
    }
    for name in schema.get("properties", {}):
        if keyword.iskeyword(name) or not name.isidentifier():  # pragma: no cover - schema guard
            raise SettingsError(f"{section}.{name}: not usable as a field name")
    cls = dataclasses.make_dataclass(
        _class_name(section),
        [(name, Any) for name in schema.get("properties", {})],
        bases=(Settings,),
        frozen=True,
        eq=False,
        repr=False,
        namespace={
            "section": section,
            "schema": schema,
            "nested": nested,
            "__doc__": f"Settings of ``{section}``: {schema.get('description', '')}",
        },
    )
    cls.__module__ = __name__
    globals()[cls.__name__] = cls
    return cls


#: One settings class per object section of the schema, by section name.
SECTIONS: dict[str, type[Settings]] = {
    name: _make_class(name, spec)
    for name, spec in load_config_schema()["properties"].items()
    if spec.get("type") == "object"
}

# Named here for readers and type checkers; made from the schema above.
CorpusSettings = SECTIONS["corpus"]
DemoSettings = SECTIONS["demo"]
F0Settings = SECTIONS["f0"]
F0QualitySettings = SECTIONS["f0_quality"]
F0EvaluationSettings = SECTIONS["f0_evaluation"]
ContourSettings = SECTIONS["contour"]
MiningSettings = SECTIONS["mining"]
FeaturesSettings = SECTIONS["features"]
RecoverySettings = SECTIONS["recovery"]
DatasetOptionsSettings = SECTIONS["dataset_options"]
SplitSettings = SECTIONS["split"]
TrainSettings = SECTIONS["train"]
FiguresSettings = SECTIONS["figures"]


def stage_settings(section: str, values: Mapping | None = None) -> Settings:
    """``SECTIONS[section].from_config(values)``, with a clear error for an unknown section."""
    if section not in SECTIONS:
        raise SettingsError(f"unknown settings section {section!r}; known: {', '.join(SECTIONS)}")
    return SECTIONS[section].from_config(values)
