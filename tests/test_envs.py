"""The conda environments in envs/ against pyproject.toml's pins and the rules' scripts.

Conda channels are not reachable on the test machines, so the environments are never
built here: these checks catch the drift that a build would (a missing package, a pin
that differs from the one the tests ran with) by reading the files.
"""

import ast
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parents[1]
ENVS = sorted((REPO / "envs").glob("*.yaml"))
RULE_FILES = [REPO / "Snakefile", *sorted((REPO / "workflow/rules").glob("*.smk"))]
SRC = REPO / "src"

# conda-forge name -> PyPI name, where they differ.
CONDA_TO_PYPI = {
    "pysoundfile": "soundfile",
    "soxr-python": "soxr",
    "pytorch": "torch",
    "matplotlib-base": "matplotlib",
}
# Packages an environment may pin that pyproject.toml does not list.
TOOLING = {"python", "pip"}
# Top-level import name -> PyPI name, for every third-party package the code imports.
IMPORT_TO_PYPI = {
    "numpy": "numpy",
    "pandas": "pandas",
    "scipy": "scipy",
    "pyarrow": "pyarrow",
    "soundfile": "soundfile",
    "soxr": "soxr",
    "librosa": "librosa",
    "essentia": "essentia",
    "sklearn": "scikit-learn",
    "torch": "torch",
    "yaml": "pyyaml",
    "jsonschema": "jsonschema",
    "matplotlib": "matplotlib",
    "mir_eval": "mir_eval",
    "swift_f0": "swift-f0",
}


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject():
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def pyproject_pins():
    """{canonical PyPI name: version, or None where not pinned with ==}."""
    project = pyproject()["project"]
    requirements = list(project["dependencies"])
    for group in project.get("optional-dependencies", {}).values():
        requirements += group
    pins = {}
    for line in requirements:
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        exact = len(specs) == 1 and specs[0].operator == "=="
        pins[canonical(requirement.name)] = specs[0].version if exact else None
    return pins


def load_env(path):
    return yaml.safe_load(path.read_text())


def env_packages(path):
    """{canonical PyPI name: (version, spec as written)} for conda and pip entries."""
    packages = {}
    for entry in load_env(path)["dependencies"]:
        if isinstance(entry, dict):
            for line in entry["pip"]:
                requirement = Requirement(line)
                specs = list(requirement.specifier)
                version = (
                    specs[0].version if len(specs) == 1 and specs[0].operator == "==" else None
                )
                packages[canonical(requirement.name)] = (version, line)
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*=\s*([^=\s,|<>*]+)", entry)
        name = entry.split("=")[0].split()[0] if not match else match[1]
        name = CONDA_TO_PYPI.get(name, name)
        packages[canonical(name)] = (match[2] if match else None, entry)
    return packages


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_parses_with_conda_forge_only(path):
    env = load_env(path)
    assert isinstance(env, dict) and isinstance(env.get("dependencies"), list)
    assert env.get("channels") == ["conda-forge", "nodefaults"]


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_pins_match_pyproject(path):
    pins = pyproject_pins()
    for name, (version, written) in env_packages(path).items():
        assert version is not None, f"{path.name}: {written!r} is not pinned to one version"
        if name == "python":
            requires = SpecifierSet(pyproject()["project"]["requires-python"])
            assert requires.contains(version), f"{path.name}: python {version} vs {requires}"
        elif name not in TOOLING:
            assert name in pins, f"{path.name}: {written!r} is not a dependency in pyproject.toml"
            assert pins[name] is not None, f"pyproject.toml does not pin {name} with =="
            assert version == pins[name], (
                f"{path.name}: {written!r} but pyproject.toml pins {name}=={pins[name]}"
            )


def test_every_env_pins_python():
    for path in ENVS:
        assert "python" in env_packages(path), f"{path.name} does not pin python"


# --- rules ------------------------------------------------------------------------


def rule_blocks():
    """[(file, rule name, {directive: first line of its value}, body text)] per rule."""
    rules = []
    for path in RULE_FILES:
        lines = path.read_text().splitlines()
        starts = [
            (i, m[1])
            for i, line in enumerate(lines)
            if (m := re.match(r"(?:rule|checkpoint)\s+(\w+)\s*:", line))
        ]
        for (start, name), (end, _) in zip(starts, [*starts[1:], (len(lines), None)]):
            body = []
            for line in lines[start + 1 : end]:
                if line.strip() and not line[0].isspace():
                    break
                body.append(line)
            directives = {}
            for i, line in enumerate(body):
                m = re.match(r"    (\w+):\s*(.*)$", line)
                if m:
                    value = m[2] or next((b.strip() for b in body[i + 1 :] if b.strip()), "")
                    directives[m[1]] = value
            rules.append((path, name, directives, "\n".join(body)))
    return rules


RULES = rule_blocks()
# Rules that run a job (a target rule like `all`, with input only, runs nothing).
JOB_RULES = [
    rule for rule in RULES if {"script", "shell", "run", "notebook", "wrapper"} & set(rule[2])
]


def rule_id(rule):
    return rule[1]


def quoted(value):
    m = re.fullmatch(r"""(["'])(.+)\1,?""", value)
    assert m, f"expected a quoted path, got {value!r}"
    return m[2]


def test_rules_are_found():
    assert len(JOB_RULES) >= 10
    assert {"f0", "train", "predict", "feature_store"} <= {rule[1] for rule in JOB_RULES}


@pytest.mark.parametrize("rule", JOB_RULES, ids=rule_id)
def test_every_rule_has_conda_and_log(rule):
    path, name, directives, _ = rule
    assert "conda" in directives, f"rule {name} ({path.name}) has no conda:"
    assert "log" in directives, f"rule {name} ({path.name}) has no log:"
    env = (path.parent / quoted(directives["conda"])).resolve()
    assert env.parent == REPO / "envs" and env.exists(), f"rule {name}: {env}"


# --- what each rule's script imports ------------------------------------------------


def module_file(name):
    path = SRC.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imports_of_node(node):
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if node.level == 0 and node.module:
        return {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return set()


class _Imports(ast.NodeVisitor):
    def __init__(self):
        self.eager, self.lazy, self.depth = set(), set(), 0

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node):
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":  # never runs
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node):
        (self.lazy if self.depth else self.eager).update(imports_of_node(node))

    visit_ImportFrom = visit_Import


@cache
def imports_of(path):
    """(imported when the module loads, imported inside functions): dotted names."""
    visitor = _Imports()
    visitor.visit(ast.parse(path.read_text()))
    return visitor.eager, visitor.lazy - visitor.eager


def cantaor_modules(names):
    files = set()
    for name in names:
        parts = name.split(".")
        if parts[0] != "cantaor":
            continue
        for i in range(1, len(parts) + 1):
            found = module_file(".".join(parts[:i]))
            if found:
                files.add(found)
    return files


def third_party(names):
    tops = {name.split(".")[0] for name in names}
    return {top for top in tops if top != "cantaor" and top not in sys.stdlib_module_names}


def script_requirements(script):
    """Top-level import names a rule's script needs in its environment.

    The script's own imports, wherever they are; the imports inside functions of the
    cantaor modules it imports by name (the functions it calls, e.g. essentia inside
    cantaor.pitch.f0); and the module-level imports of every cantaor module loaded that way,
    transitively.
    """
    script_eager, script_lazy = imports_of(script)
    direct = cantaor_modules(script_eager | script_lazy)
    needed = third_party(script_eager | script_lazy)
    to_load = set(direct)
    for module in direct:
        _, lazy = imports_of(module)
        needed |= third_party(lazy)
        to_load |= cantaor_modules(lazy)
    loaded = set()
    while to_load:
        module = to_load.pop()
        if module in loaded:
            continue
        loaded.add(module)
        eager, _ = imports_of(module)
        needed |= third_party(eager)
        to_load |= cantaor_modules(eager) - loaded
    return needed


SCRIPT_RULES = [rule for rule in JOB_RULES if "script" in rule[2] and "conda" in rule[2]]


@pytest.mark.parametrize("rule", SCRIPT_RULES, ids=rule_id)
def test_rule_env_has_what_its_script_imports(rule):
    path, name, directives, body = rule
    script = (path.parent / quoted(directives["script"])).resolve()
    env = (path.parent / quoted(directives["conda"])).resolve()
    assert script.exists(), f"rule {name}: no script {script}"
    packages = env_packages(env)
    needed = script_requirements(script)
    unknown = needed - set(IMPORT_TO_PYPI)
    assert not unknown, f"rule {name}: add {sorted(unknown)} to IMPORT_TO_PYPI in this test"
    missing = sorted(
        f"{module} ({IMPORT_TO_PYPI[module]})"
        for module in needed
        if canonical(IMPORT_TO_PYPI[module]) not in packages
    )
    assert not missing, f"rule {name}: {env.name} lacks {', '.join(missing)}"
    if ".parquet" in body:  # pandas reads and writes parquet through pyarrow
        assert "pyarrow" in packages, f"rule {name} uses parquet; {env.name} lacks pyarrow"


def test_requirements_follow_functions_of_imported_modules():
    # f0.py imports cantaor.pitch.f0, which imports essentia and librosa inside functions.
    f0, pitch = REPO / "workflow/scripts/f0.py", module_file("cantaor.pitch.f0")
    _, lazy = imports_of(pitch)
    assert third_party(lazy) and third_party(lazy) <= script_requirements(f0)
    assert third_party({"numpy.typing", "os.path", "cantaor.util.audio"}) == {"numpy"}
