"""Parquet output: tables written atomically with the provenance of their software."""

from __future__ import annotations

import json
import os

import pandas as pd

from cantaor.util.atomic import atomic_path


def frame_to_parquet(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` to parquet at ``path`` (not atomically), without the pandas index,
    with cantaor's and its dependencies' versions in the schema metadata
    (:func:`cantaor.util.provenance.parquet_versions` reads them back)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cantaor.util.provenance import PARQUET_KEY, package_versions

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {
        **(table.schema.metadata or {}),
        PARQUET_KEY: json.dumps(package_versions(), sort_keys=True).encode(),
    }
    pq.write_table(table.replace_schema_metadata(metadata), path)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` to parquet atomically (see :func:`frame_to_parquet`)."""
    with atomic_path(path) as tmp:
        frame_to_parquet(frame, tmp)
