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
    The workflow configuration sections that made the model's inputs:
    ``f0``, ``contour``, ``mining``, ``features`` and ``dataset_options``
    (see config/README.md); identification repeats them exactly.
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
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cantaor import __version__
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

#: Configuration keys identification reads, by section; export refuses a
#: configuration that lacks any of them.
REQUIRED_CONFIG: dict[str, tuple[str, ...]] = {
    "f0": (
        "method",
        "sample_rate",
        "hop_length",
        "frame_length",
        "fmin_hz",
        "fmax_hz",
        "voicing_tolerance",
        "reference_hz",
    ),
    "contour": (
        "method",
        "band_cents",
        "min_gap_s",
        "min_phrase_s",
        "smooth_s",
        "min_segment_s",
        "interval_thresholds_cents",
    ),
    "mining": ("scope", "min_support", "min_gap", "max_gap", "min_length", "max_length"),
    "features": (
        "sample_rate",
        "win_s",
        "hop_s",
        "n_fft",
        "n_mels",
        "n_mfcc",
        "spectrogram_n_fft",
        "pad_bins_to",
        "n_frames",
        "min_duration_s",
        "dtype",
    ),
    "dataset_options": ("segment_s", "seed", "avoid_motifs"),
}

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
    """

    path: Path
    manifest: dict
    model: object
    metadata: dict
    clusters: dict
    dictionaries: pd.DataFrame
    rejection: dict | None = None

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


def _config_sections(config: Mapping, source: str) -> dict:
    """The sections of :data:`REQUIRED_CONFIG`, checked complete."""
    missing = []
    sections = {}
    for section, keys in REQUIRED_CONFIG.items():
        values = config.get(section)
        if not isinstance(values, Mapping):
            missing.append(section)
            continue
        missing += [f"{section}.{key}" for key in keys if key not in values]
        sections[section] = json.loads(json.dumps(dict(values)))  # plain JSON types
    if missing:
        raise ModelDirError(f"{source}: configuration lacks {', '.join(missing)}")
    return sections


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


def _expected_bins(feature: str, features: Mapping) -> int:
    from cantaor.features.acoustic import feature_bins

    n_bins = feature_bins(
        feature,
        sample_rate=features["sample_rate"],
        win_s=features["win_s"],
        hop_s=features["hop_s"],
        n_fft=features["n_fft"],
        n_mels=features["n_mels"],
        n_mfcc=features["n_mfcc"],
        fmin_hz=features.get("fmin_hz", 0.0),
        fmax_hz=features.get("fmax_hz"),
        spectrogram_n_fft=features["spectrogram_n_fft"],
    )
    return n_bins if features["pad_bins_to"] is None else int(features["pad_bins_to"])


def _load_model(path: Path):
    from cantaor.training.loop import load_model

    try:
        return load_model(path)
    except Exception as err:  # torch and pickle raise many types for a bad file
        raise ModelDirError(f"{path}: model file does not load ({err})") from err


def _check_model(metadata: dict, path: Path, *, feature: str, features: Mapping) -> None:
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
        workflow) takes the sections of :data:`REQUIRED_CONFIG` from
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
        ``out_dir``.

    Raises
    ------
    ModelDirError
        When an input is missing or inconsistent; the message names it.
    """
    from cantaor.dataset.items import DATASETS
    from cantaor.features.acoustic import FEATURES

    out_dir = Path(out_dir)
    model_path, clusters_path = Path(model_path), Path(clusters_path)
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
    singers = [str(singer) for singer in metadata["classes"]]
    if not clusters_path.is_file():
        raise ModelDirError(f"{clusters_path}: contour clusters not found")
    clusters = _read_json(clusters_path, "contour clusters")
    _check_clusters(clusters, clusters_path, sections["contour"]["method"])

    dictionary_paths = {str(singer): Path(path) for singer, path in dictionary_paths.items()}
    if rejection_path is not None:
        rejection_path = Path(rejection_path)
        _check_rejection(_read_json(rejection_path, "rejection rule"), rejection_path)
    lacking = [singer for singer in singers if singer not in dictionary_paths]
    if lacking:
        raise ModelDirError(
            f"{model_path}: no motif dictionary given for singer(s) {', '.join(lacking)}"
        )
    n_motifs = {}
    for singer, path in sorted(dictionary_paths.items()):
        table = read_dictionary(path)
        others = sorted(set(table["singer"]) - {singer})
        if others:
            raise ModelDirError(f"{path}: dictionary of {singer!r} lists singer(s) {others}")
        n_motifs[singer] = len(table)

    _check_destination(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        staging.chmod(0o777 & ~_umask())
        files = {"model": MODEL_FILE, "clusters": CLUSTERS_FILE, "dictionaries": {}}
        _copy(model_path, staging / MODEL_FILE)
        _copy(clusters_path, staging / CLUSTERS_FILE)
        for singer, path in sorted(dictionary_paths.items()):
            relative = f"{DICTIONARY_DIR}/{singer_path_name(singer)}.tsv"
            _copy(path, staging / relative)
            files["dictionaries"][singer] = relative
        if rejection_path is not None:
            _copy(rejection_path, staging / REJECTION_FILE)
            files["rejection"] = REJECTION_FILE
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "created_by": package_versions(),
            "singers": singers,
            "dataset": dataset,
            "feature": feature,
            "model_name": model_name,
            "model_options": metadata["model_options"],
            "config": sections,
            "files": files,
            "sha256": {
                str(path.relative_to(staging)): _sha256(path)
                for path in sorted(staging.rglob("*"))
                if path.is_file()
            },
            "n_motifs": n_motifs,
        }
        write_json(manifest, staging / MANIFEST)  # last: its presence marks a complete copy
        _swap_into_place(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out_dir


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
    built = _config_sections(json.loads(recorded), str(model_path))
    if config is not None:
        given = _config_sections(config, "workflow configuration")
        differing = [
            f"{section}.{key}: {value!r} when built, {given[section].get(key)!r} now"
            for section, values in built.items()
            for key, value in values.items()
            if key in given[section] and given[section][key] != value
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
    sections = _config_sections(manifest["config"], str(manifest_path))

    for relative, expected in sorted(manifest["sha256"].items()):
        file = path / relative
        if not file.is_file():
            raise ModelDirError(f"{file}: missing from the model directory")
        if _sha256(file) != expected:
            raise ModelDirError(
                f"{file}: contents differ from the manifest's checksum (changed or corrupt)"
            )

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
    tables = []
    for singer, relative in sorted(manifest["files"]["dictionaries"].items()):
        table = read_dictionary(path / relative)
        if set(table["singer"]) - {singer}:
            raise ModelDirError(f"{path / relative}: not the dictionary of {singer!r}")
        tables.append(table)
    lacking = sorted(set(manifest["singers"]) - set(manifest["files"]["dictionaries"]))
    if lacking:
        raise ModelDirError(f"{manifest_path}: no dictionary for singer(s) {', '.join(lacking)}")
    dictionaries = pd.concat(tables, ignore_index=True)
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
    )
