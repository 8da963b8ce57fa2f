"""Self-describing model directories: everything ``cantaor identify`` needs.

A model directory holds a trained classifier together with the settings and
data that turn a new recording into the classifier's inputs, so that a
recording can be identified without the workflow's ``results/`` folder or its
configuration::

    manifest.json            what follows, and how it was made
    model.pt                 the trained model (cantaor.training.loop.save_model)
    clusters.json            the contour clusters (results/contour/clusters.json)
    dictionaries/{name}.tsv  one motif dictionary per singer the model knows
                             (name: :func:`cantaor.util.names.singer_path_name`)
    rejection.json           optional: the calibrated open-set rejection rule
                             (:mod:`cantaor.evaluation.openset`)

``manifest.json`` (format :data:`FORMAT_NAME`, version :data:`FORMAT_VERSION`):

``format``, ``format_version``
    Name and version of this layout; a reader refuses any other version.
``created_by``
    Versions of cantaor and of the libraries the results depend on.
``singers``
    The model's classes, in output order.
``dataset``, ``feature``, ``model_name``, ``model_options``
    Which (dataset, feature, model) run of the workflow the model comes from.
``config``
    The settings that made the model's inputs, every key of the sections
    :data:`STORED_SECTIONS` (``f0``, ``contour``, ``mining``, ``features``,
    ``dataset_options``; see config/README.md), as
    :meth:`cantaor.config.settings.Settings.to_dict` writes them; keys a
    directory written before they existed lacks take the schema's default.
    Identification builds the same settings objects and runs the workflow's
    per-recording functions with them.
``files``
    Relative path and SHA-256 of every other file, checked on loading.
``n_motifs``
    Motifs in each singer's dictionary.

Every file is written atomically, into a temporary directory beside the
destination that is renamed into place only once complete, so a reader never
sees a half-written model directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cantaor import __version__
from cantaor.config.settings import Settings, SettingsError, stage_settings
from cantaor.util.atomic import atomic_path, write_json
from cantaor.util.names import singer_path_name
from cantaor.util.provenance import package_versions

FORMAT_NAME = "cantaor-model-dir"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MODEL_FILE = "model.pt"
CLUSTERS_FILE = "clusters.json"
REJECTION_FILE = "rejection.json"
#: Keys a rejection rule must have (:data:`cantaor.evaluation.openset.STAGES`).
REJECTION_KEYS = ("min_pitch_continuity", "min_items", "min_confidence")
DICTIONARY_DIR = "dictionaries"

#: The configuration sections a model directory stores (as settings objects,
#: :mod:`cantaor.config.settings`): those that made the model's inputs.
STORED_SECTIONS = ("f0", "contour", "mining", "features", "dataset_options")

_DICTIONARY_COLUMNS = ("motif_id", "singer", "pattern", "length", "support", "scope")


class ModelDirError(ValueError):
    """A model directory (or its inputs) that cannot be used; the message names the file."""


@dataclass(frozen=True)
class ModelDir:
    """A loaded, validated model directory.

    Attributes
    ----------
    path : Path
        The directory.
    manifest : dict
        ``manifest.json`` as read.
    model : torch.nn.Module
        The classifier, on the CPU, in eval mode.
    metadata : dict
        The model file's metadata (:func:`cantaor.training.loop.load_model`).
    clusters : dict
        ``clusters.json``: ``method`` and ``centers_cents`` at least.
    dictionaries : pd.DataFrame
        Every singer's dictionary, one table (columns ``motif_id``, ``singer``,
        ``pattern``, ``length``, ``support``, ``scope``).
    rejection : dict or None
        ``rejection.json``: the calibrated open-set rule
        (:mod:`cantaor.evaluation.openset`), or None for a directory without one.
    settings : dict of str -> Settings
        The stored settings of :data:`STORED_SECTIONS`, validated
        (:mod:`cantaor.config.settings`).
    """

    path: Path
    manifest: dict
    model: object
    metadata: dict
    clusters: dict
    dictionaries: pd.DataFrame
    rejection: dict | None = None
    settings: Mapping = field(default_factory=dict)

    @property
    def singers(self) -> list[str]:
        """The model's classes, in output order."""
        return list(self.manifest["singers"])

    @property
    def config(self) -> dict:
        """The workflow configuration sections the model was made with."""
        return self.manifest["config"]

    @property
    def dataset(self) -> str:
        """The dataset the model was trained on."""
        return self.manifest["dataset"]

    @property
    def feature(self) -> str:
        """The feature the model reads."""
        return self.manifest["feature"]

    @property
    def model_name(self) -> str:
        """The model's name (a key of ``cantaor.models.MODELS``)."""
        return self.manifest["model_name"]


def read_dictionary(path: str | os.PathLike) -> pd.DataFrame:
    """Read a motif dictionary TSV with every text column kept as text.

    A single-symbol pattern such as ``+1`` would otherwise be read as a number.

    Raises
    ------
    ModelDirError
        If the file is missing, unreadable or lacks a dictionary column.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelDirError(f"{path}: motif dictionary not found")
    try:
        table = pd.read_csv(
            path,
            sep="\t",
            dtype={"motif_id": str, "singer": str, "pattern": str, "scope": str},
            keep_default_na=False,
        )
    except Exception as err:  # pandas raises several types for malformed tables
        raise ModelDirError(f"{path}: cannot read motif dictionary ({err})") from err
    missing = [column for column in _DICTIONARY_COLUMNS if column not in table.columns]
    if missing:
        raise ModelDirError(f"{path}: motif dictionary lacks column(s) {', '.join(missing)}")
    table = table[list(_DICTIONARY_COLUMNS)]
    try:
        return table.astype({"length": "int64", "support": "int64"})
    except (TypeError, ValueError) as err:
        raise ModelDirError(f"{path}: non-integer length or support ({err})") from err


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_json(path: Path, what: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelDirError(f"{path}: cannot read {what} ({err})") from err
    if not isinstance(value, dict):
        raise ModelDirError(f"{path}: {what} is not a JSON object")
    return value


def _config_sections(config: Mapping, source: str) -> dict[str, Settings]:
    """The settings of :data:`STORED_SECTIONS`, validated; absent keys take their default."""
    missing = [
        section for section in STORED_SECTIONS if not isinstance(config.get(section), Mapping)
    ]
    if missing:
        raise ModelDirError(f"{source}: configuration lacks {', '.join(missing)}")
    try:
        return {section: stage_settings(section, config[section]) for section in STORED_SECTIONS}
    except SettingsError as err:
        raise ModelDirError(f"{source}: {err}") from None


def _check_clusters(clusters: dict, path: Path, contour_method: str | None = None) -> None:
    method = clusters.get("method")
    if method not in ("kmeans", "bands"):
        raise ModelDirError(f"{path}: unknown contour method {method!r}")
    centers = clusters.get("centers_cents")
    if method == "kmeans" and not (isinstance(centers, list) and centers):
        raise ModelDirError(f"{path}: contour method 'kmeans' but no centers_cents")
    if contour_method is not None and contour_method != method:
        raise ModelDirError(
            f"{path}: clusters made with contour method {method!r} but the configuration "
            f"says {contour_method!r}; the results folder and the configuration disagree"
        )


def _expected_bins(feature: str, features: Settings) -> int:
    from cantaor.features.acoustic import feature_bins

    n_bins = feature_bins(feature, **features.arguments_of(feature_bins))
    return n_bins if features.pad_bins_to is None else int(features.pad_bins_to)


def _load_model(path: Path):
    from cantaor.training.loop import load_model

    try:
        return load_model(path)
    except Exception as err:  # torch and pickle raise many types for a bad file
        raise ModelDirError(f"{path}: model file does not load ({err})") from err


def _check_model(metadata: dict, path: Path, *, feature: str, features: Settings) -> None:
    options = metadata.get("model_options") or {}
    expected = _expected_bins(feature, features)
    if options.get("n_bins") != expected:
        raise ModelDirError(
            f"{path}: the model reads {options.get('n_bins')} bins per frame but {feature!r} "
            f"with these feature settings has {expected}"
        )


def export_model_dir(
    out_dir: str | os.PathLike,
    *,
    model_path: str | os.PathLike,
    clusters_path: str | os.PathLike,
    dictionary_paths: Mapping[str, str | os.PathLike],
    config: Mapping | None,
    dataset: str,
    feature: str,
    model_name: str,
    rejection_path: str | os.PathLike | None = None,
) -> Path:
    """Write a model directory from a finished workflow run.

    Parameters
    ----------
    out_dir : path
        The directory to write. If it exists it must be empty or a model
        directory (it is then replaced as a whole); anything else is refused.
    model_path : path
        ``results/models/{dataset}/{feature}/{model}/model.pt``.
    clusters_path : path
        ``results/contour/clusters.json``.
    dictionary_paths : mapping of singer -> path
        ``results/motifs/{singer}.dictionary.tsv`` of at least every singer
        the model predicts.
    config : mapping or None
        The workflow configuration (``snakemake.config`` or config/config.yaml
        as read). The manifest states the settings the model file records it
        was built with (``extra["built_with"]``, written by the workflow's
        train rule); a ``config`` that differs from them in any key is refused,
        naming the keys, so a manifest never states settings its files were
        not built with. A model file without that record (trained outside the
        workflow) takes the sections of :data:`STORED_SECTIONS` from
        ``config``, which is then required.
    dataset : str
        The dataset the model was trained on (a key of
        :data:`cantaor.dataset.items.DATASETS`).
    feature : str
        The feature it reads (:data:`cantaor.features.acoustic.FEATURES`).
    model_name : str
        The model (a key of ``cantaor.models.MODELS``); must match the file.
    rejection_path : path, optional
        The model's calibrated rejection rule (``rejection.json`` written by
        the workflow's open_set rule), copied into the directory.

    Returns
    -------
    Path
        ``out_dir``; a :class:`ModelDirError` names an input missing or inconsistent.
    """
    out_dir = Path(out_dir)
    model_path, clusters_path = Path(model_path), Path(clusters_path)
    metadata, sections = _checked_model(
        model_path, config, dataset=dataset, feature=feature, model_name=model_name
    )
    _check_clusters_file(clusters_path, sections["contour"].method)
    singers = [str(singer) for singer in metadata["classes"]]
    if rejection_path is not None:
        rejection_path = Path(rejection_path)
        _check_rejection(_read_json(rejection_path, "rejection rule"), rejection_path)
    n_motifs = _checked_dictionaries(dictionary_paths, singers, model_path)
    files, copies = _layout(model_path, clusters_path, dictionary_paths, rejection_path)
    manifest = {
        "singers": singers,
        "dataset": dataset,
        "feature": feature,
        "model_name": model_name,
        "model_options": metadata["model_options"],
        "config": {section: values.to_dict() for section, values in sections.items()},
        "files": files,
        "n_motifs": n_motifs,
    }
    _check_destination(out_dir)
    _write_staged(out_dir, copies, manifest)
    return out_dir


def _layout(
    model_path: Path,
    clusters_path: Path,
    dictionary_paths: Mapping[str, str | os.PathLike],
    rejection_path: Path | None,
) -> tuple[dict, dict[str, Path]]:
    """The manifest's ``files`` entry, and the copies to make (relative path -> source)."""
    files = {"model": MODEL_FILE, "clusters": CLUSTERS_FILE, "dictionaries": {}}
    copies = {MODEL_FILE: model_path, CLUSTERS_FILE: clusters_path}
    for singer, path in sorted((str(s), Path(p)) for s, p in dictionary_paths.items()):
        files["dictionaries"][singer] = f"{DICTIONARY_DIR}/{singer_path_name(singer)}.tsv"
        copies[files["dictionaries"][singer]] = path
    if rejection_path is not None:
        files["rejection"] = REJECTION_FILE
        copies[REJECTION_FILE] = rejection_path
    return files, copies


def _manifest_header() -> dict:
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created_by": package_versions(),
    }


def _check_clusters_file(clusters_path: Path, contour_method: str) -> None:
    if not clusters_path.is_file():
        raise ModelDirError(f"{clusters_path}: contour clusters not found")
    clusters = _read_json(clusters_path, "contour clusters")
    _check_clusters(clusters, clusters_path, contour_method)


def _checked_model(
    model_path: Path, config: Mapping | None, *, dataset: str, feature: str, model_name: str
) -> tuple[dict, dict[str, Settings]]:
    """The model file's metadata and the settings it was built with, checked."""
    from cantaor.dataset.items import DATASETS
    from cantaor.features.acoustic import FEATURES

    if dataset not in DATASETS:
        raise ModelDirError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    if feature not in FEATURES:
        raise ModelDirError(f"unknown feature {feature!r}; choose one of {', '.join(FEATURES)}")
    if not model_path.is_file():
        raise ModelDirError(f"{model_path}: model file not found")
    _, metadata = _load_model(model_path)
    sections = _built_with(metadata, model_path, config)
    if metadata["model_name"] != model_name:
        raise ModelDirError(
            f"{model_path}: holds model {metadata['model_name']!r}, not {model_name!r}"
        )
    _check_model(metadata, model_path, feature=feature, features=sections["features"])
    return metadata, sections


def _checked_dictionaries(
    dictionary_paths: Mapping[str, str | os.PathLike], singers: list[str], model_path: Path
) -> dict[str, int]:
    """Motifs per dictionary; every singer the model predicts must have its own."""
    lacking = [singer for singer in singers if singer not in map(str, dictionary_paths)]
    if lacking:
        raise ModelDirError(
            f"{model_path}: no motif dictionary given for singer(s) {', '.join(lacking)}"
        )
    n_motifs = {}
    for singer, path in sorted((str(s), Path(p)) for s, p in dictionary_paths.items()):
        table = read_dictionary(path)
        others = sorted(set(table["singer"]) - {singer})
        if others:
            raise ModelDirError(f"{path}: dictionary of {singer!r} lists singer(s) {others}")
        n_motifs[singer] = len(table)
    return n_motifs


def _write_staged(out_dir: Path, copies: Mapping[str, Path], manifest: dict) -> None:
    """Copy ``copies`` (relative path -> source) and the manifest, with checksums, into place."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        staging.chmod(0o777 & ~_umask())
        for relative, source in copies.items():
            _copy(source, staging / relative)
        manifest = (
            _manifest_header()
            | manifest
            | {
                "sha256": {
                    str(path.relative_to(staging)): _sha256(path)
                    for path in sorted(staging.rglob("*"))
                    if path.is_file()
                }
            }
        )
        write_json(manifest, staging / MANIFEST)  # last: its presence marks a complete copy
        _swap_into_place(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _built_with(metadata: dict, model_path: Path, config: Mapping | None) -> dict:
    """The settings the model's inputs were built with, checked against ``config``."""
    recorded = (metadata.get("extra") or {}).get("built_with")
    if recorded is None:
        if config is None:
            raise ModelDirError(
                f"{model_path}: the model file does not record the settings it was built "
                "with; give the workflow configuration it ran with"
            )
        return _config_sections(config, "workflow configuration")
    recorded = json.loads(recorded)
    built = _config_sections(recorded, str(model_path))
    if config is not None:
        given = _config_sections(config, "workflow configuration")
        differing = [
            f"{section}.{key}: {built[section][key]!r} when built, {given[section][key]!r} now"
            for section in STORED_SECTIONS
            for key in recorded[section]
            if given[section][key] != built[section][key]
        ]
        if differing:
            raise ModelDirError(
                f"{model_path}: built with other settings than the configuration given "
                f"({'; '.join(differing)}); run snakemake so that the results follow the "
                "configuration, or give the configuration the results were made with"
            )
    return built


def check_not_newer(model_path: Path, paths: list[Path]) -> None:
    """Refuse files of a results folder remade after the model was trained.

    In a results folder the workflow made, a model is newer than the clusters
    and dictionaries its training items came from; one that is older was
    trained on others (another mining or contour setting, run since).
    """
    trained = model_path.stat().st_mtime
    newer = [str(path) for path in paths if path.is_file() and path.stat().st_mtime > trained]
    if newer:
        raise ModelDirError(
            f"{', '.join(newer)}: remade after {model_path} was trained (with other "
            "settings); run snakemake to retrain the model on them"
        )


def _check_rejection(rule: dict, path: Path) -> None:
    bad = [
        key
        for key in REJECTION_KEYS
        if not isinstance(rule.get(key), int | float) or isinstance(rule.get(key), bool)
    ]
    if bad:
        raise ModelDirError(f"{path}: rejection rule lacks numeric {', '.join(bad)}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _copy(source: Path, destination: Path) -> None:
    with atomic_path(destination) as tmp:
        shutil.copyfile(source, tmp)


def _check_destination(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ModelDirError(f"{out_dir}: exists and is not a directory")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise ModelDirError(
            f"{out_dir}: exists, is not empty and is not a model directory; not replacing it"
        )


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Rename ``staging`` onto ``out_dir``, replacing an existing one as a whole."""
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
    os.replace(out_dir, retired / out_dir.name)
    try:
        os.replace(staging, out_dir)
    except OSError:
        os.replace(retired / out_dir.name, out_dir)  # put the old one back
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)


def _read_manifest(path: Path) -> dict:
    """``manifest.json`` of a model directory, checked for format, version and keys."""
    if not path.is_dir():
        raise ModelDirError(f"{path}: model directory not found")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ModelDirError(f"{path}: not a cantaor model directory (no {MANIFEST})")
    manifest = _read_json(manifest_path, "manifest")
    if manifest.get("format") != FORMAT_NAME:
        raise ModelDirError(
            f"{manifest_path}: not a cantaor model directory manifest "
            f"(format {manifest.get('format')!r}, expected {FORMAT_NAME!r})"
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        made_by = (manifest.get("created_by") or {}).get("cantaor", "an unknown version")
        raise ModelDirError(
            f"{manifest_path}: made by cantaor {made_by} in model directory format {version}; "
            f"this cantaor ({__version__}) reads format {FORMAT_VERSION}. Export the model "
            "again with this cantaor, or use the cantaor that made it."
        )
    missing = [
        key
        for key in ("singers", "dataset", "feature", "model_name", "config", "files", "sha256")
        if key not in manifest
    ]
    if missing:
        raise ModelDirError(f"{manifest_path}: manifest lacks {', '.join(missing)}")
    files = manifest["files"]
    if not (
        isinstance(files, dict)
        and isinstance(files.get("model"), str)
        and isinstance(files.get("clusters"), str)
        and isinstance(files.get("dictionaries"), dict)
        and isinstance(manifest["sha256"], dict)
        and isinstance(manifest["config"], dict)
    ):
        raise ModelDirError(f"{manifest_path}: malformed manifest (files, sha256 or config)")
    return manifest


def _check_checksums(path: Path, sha256: Mapping[str, str]) -> None:
    for relative, expected in sorted(sha256.items()):
        file = path / relative
        if not file.is_file():
            raise ModelDirError(f"{file}: missing from the model directory")
        if _sha256(file) != expected:
            raise ModelDirError(
                f"{file}: contents differ from the manifest's checksum (changed or corrupt)"
            )


def _read_dictionaries(path: Path, manifest: dict) -> pd.DataFrame:
    """Every singer's dictionary of the directory, as one table."""
    tables = []
    for singer, relative in sorted(manifest["files"]["dictionaries"].items()):
        table = read_dictionary(path / relative)
        if set(table["singer"]) - {singer}:
            raise ModelDirError(f"{path / relative}: not the dictionary of {singer!r}")
        tables.append(table)
    lacking = sorted(set(manifest["singers"]) - set(manifest["files"]["dictionaries"]))
    if lacking:
        raise ModelDirError(f"{path / MANIFEST}: no dictionary for singer(s) {', '.join(lacking)}")
    return pd.concat(tables, ignore_index=True)


def load_model_dir(path: str | os.PathLike) -> ModelDir:
    """Read and validate a model directory.

    Parameters
    ----------
    path : path
        A directory written by :func:`export_model_dir`.

    Returns
    -------
    ModelDir

    Raises
    ------
    ModelDirError
        When the directory or its manifest is missing, the manifest is of
        another format or version, a file is missing or differs from its
        checksum, or the model does not load; the message names the file and
        the problem.
    """
    path = Path(path)
    manifest = _read_manifest(path)
    files = manifest["files"]
    sections = _config_sections(manifest["config"], str(path / MANIFEST))
    _check_checksums(path, manifest["sha256"])
    model_path = path / manifest["files"]["model"]
    model, metadata = _load_model(model_path)
    if list(metadata["classes"]) != list(manifest["singers"]):
        raise ModelDirError(
            f"{model_path}: predicts {list(metadata['classes'])} but the manifest lists "
            f"{list(manifest['singers'])}"
        )
    _check_model(metadata, model_path, feature=manifest["feature"], features=sections["features"])
    clusters_path = path / manifest["files"]["clusters"]
    clusters = _read_json(clusters_path, "contour clusters")
    _check_clusters(clusters, clusters_path)
    dictionaries = _read_dictionaries(path, manifest)
    rejection = None
    if files.get("rejection") is not None:
        rejection_path = path / files["rejection"]
        rejection = _read_json(rejection_path, "rejection rule")
        _check_rejection(rejection, rejection_path)
    return ModelDir(
        path=path,
        manifest=manifest,
        model=model,
        metadata=metadata,
        clusters=clusters,
        dictionaries=dictionaries,
        rejection=rejection,
        settings=sections,
    )
