"""Which software made a result: versions of cantaor and the packages results depend on.

Every parquet file cantaor writes carries them in its schema metadata (key
``cantaor.versions``, read back with :func:`parquet_versions`); metrics, model files,
model directories and the results table record the same mapping.
"""

from __future__ import annotations

import json
import os
from functools import cache

from cantaor import __version__

#: Packages whose versions are recorded, besides cantaor itself.
VERSIONED_PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "torch",
    "librosa",
    "essentia",
    "soundfile",
    "soxr",
)

#: Schema metadata key of the versions in a parquet file.
PARQUET_KEY = b"cantaor.versions"


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    found = [("cantaor", __version__)]
    for name in VERSIONED_PACKAGES:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, "not installed"))
    return tuple(found)


def package_versions() -> dict[str, str]:
    """``{package: version}`` for cantaor and :data:`VERSIONED_PACKAGES` (read once per process,
    from the installed distributions' metadata, without importing them)."""
    return dict(_versions())


def versions_line() -> str:
    """The versions as one line of text, for reports."""
    return ", ".join(f"{name} {value}" for name, value in _versions())


def parquet_versions(path: str | os.PathLike) -> dict[str, str]:
    """The versions recorded in the parquet file at ``path`` (empty if none)."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata[PARQUET_KEY]) if PARQUET_KEY in metadata else {}
