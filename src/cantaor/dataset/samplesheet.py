"""The sample sheet: which recording is sung by which singer.

A tab-separated file with the columns ``recording_id``, ``singer`` and ``path``
and, optionally, ``style`` and ``group`` (an album or session: recordings that
share a group share recording conditions and are never split apart).

A line whose first character is ``#`` is a comment; a ``#`` anywhere else is
part of a field (``cante #2.wav``, group ``Antología #1``).

A singer label is text (``Camarón``, ``José Mercé``), kept as written
(Unicode NFC) in every table, figure and verdict; where it becomes part of a
file name it is replaced by :func:`singer_path_name`.
"""

from __future__ import annotations

import io
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from cantaor.util.names import singer_path_name

REQUIRED_COLUMNS = ("recording_id", "singer", "path")
OPTIONAL_COLUMNS = ("style", "group")

#: What the workflow appends to a recording id in its own file names
#: (``results/contour/{id}.segments.parquet``, ``results/f0/{id}.status.json``,
#: ``results/demo/truth/{id}.f0.parquet``, ``{id}.motifs.parquet``): an id ending
#: in one of them could name another recording's file.
RESERVED_SUFFIXES = (".segments", ".status", ".f0", ".motifs")


class SampleSheetError(ValueError):
    """A sample sheet that cannot be used; the message names the file and row."""


def load_schema(path: str | os.PathLike) -> dict:
    """Read a JSON schema written as YAML."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def read_sample_sheet(
    path: str | os.PathLike,
    *,
    schema: dict,
    singers: Sequence[str] | None = None,
    check_files: bool = True,
) -> pd.DataFrame:
    """Read and validate a sample sheet.

    Parameters
    ----------
    path : str or PathLike
        The TSV file.
    schema : dict
        JSON schema every row must satisfy (``workflow/schemas/recordings.schema.yaml``).
    singers : sequence of str, optional
        The singers the configuration declares; a row naming any other singer is
        an error. None accepts every singer.
    check_files : bool
        Require every ``path`` to be an existing file (relative paths are taken
        from the current working directory, as Snakemake does).

    Returns
    -------
    pd.DataFrame
        One row per recording, indexed by ``recording_id``; ``style`` and ``group``
        are filled in when absent (``group`` defaults to the recording id).

    Raises
    ------
    SampleSheetError
        Naming the file, the row (1-based, header excluded) and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise SampleSheetError(f"{path}: sample sheet not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise SampleSheetError(f"{path}: not UTF-8 text ({err})") from err
    # Comments are whole lines; pandas' comment= would also cut a field at a '#'.
    kept = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    try:
        sheet = pd.read_csv(io.StringIO(kept), sep="\t", dtype=str, keep_default_na=False)
    except Exception as err:
        raise SampleSheetError(f"{path}: cannot parse as tab-separated values ({err})") from err
    missing = [column for column in REQUIRED_COLUMNS if column not in sheet.columns]
    if missing:
        raise SampleSheetError(f"{path}: missing column(s) {', '.join(missing)}")
    if sheet.empty:
        raise SampleSheetError(f"{path}: no recordings listed")
    for column in OPTIONAL_COLUMNS:
        if column not in sheet.columns:
            sheet[column] = ""
    sheet["group"] = sheet["group"].where(sheet["group"] != "", sheet["recording_id"])
    # One label per singer however the file composed its accents (macOS writes NFD).
    sheet["singer"] = [unicodedata.normalize("NFC", label) for label in sheet["singer"]]

    validator = jsonschema.Draft202012Validator(schema)
    known_singers = set(singers) if singers is not None else None
    seen: dict[str, int] = {}
    seen_folded: dict[str, tuple[int, str]] = {}
    path_names: dict[str, str] = {}
    for row_number, row in enumerate(sheet.to_dict(orient="records"), start=1):
        where = f"{path} row {row_number} (recording_id {row['recording_id']!r})"
        error = jsonschema.exceptions.best_match(validator.iter_errors(row))
        if error is not None:
            field = ".".join(str(part) for part in error.absolute_path) or "row"
            raise SampleSheetError(f"{where}: {field}: {error.message}")
        if row["recording_id"] in seen:
            raise SampleSheetError(
                f"{where}: duplicate recording_id, first used in row {seen[row['recording_id']]}"
            )
        seen[row["recording_id"]] = row_number
        recording = row["recording_id"]
        reserved = [suffix for suffix in RESERVED_SUFFIXES if recording.endswith(suffix)]
        if reserved:
            suffix = reserved[0]
            base = recording[: -len(suffix)]
            raise SampleSheetError(
                f"{where}: recording_id ends with {suffix!r}, which the workflow appends to "
                f"its own file names: the files of this recording and the {suffix[1:]} "
                f"files of a recording {base!r} would collide; rename it, e.g. "
                f"{base + suffix.replace('.', '_')!r}"
            )
        folded = recording.casefold()
        if folded in seen_folded:
            first_row, first = seen_folded[folded]
            raise SampleSheetError(
                f"{where}: recording_id differs from {first!r} (row {first_row}) only in "
                "letter case; their files would collide on case-insensitive file systems "
                "(macOS, Windows); rename one"
            )
        seen_folded[folded] = (row_number, recording)
        name = singer_path_name(row["singer"]).casefold()
        other = path_names.setdefault(name, row["singer"])
        if other != row["singer"]:
            raise SampleSheetError(
                f"{where}: singer {row['singer']!r} and singer {other!r} would share the file "
                f"name {singer_path_name(row['singer'])!r}; make the labels differ by more "
                "than letter case"
            )
        if known_singers is not None and row["singer"] not in known_singers:
            raise SampleSheetError(
                f"{where}: unknown singer {row['singer']!r}; the config declares "
                f"{', '.join(sorted(known_singers))}"
            )
        if check_files and not Path(row["path"]).is_file():
            raise SampleSheetError(f"{where}: audio file {row['path']!r} not found")
    return sheet.set_index("recording_id", drop=False)
