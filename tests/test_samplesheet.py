import re
import unicodedata
from pathlib import Path

import pytest

from cantaor.dataset.samplesheet import (
    SampleSheetError,
    load_schema,
    read_sample_sheet,
    singer_path_name,
)

SCHEMA = load_schema(Path(__file__).parents[1] / "workflow/schemas/recordings.schema.yaml")


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a.wav", "b.wav"):
        (tmp_path / name).write_bytes(b"RIFF")
    return tmp_path


def write(tmp_path, rows, header="recording_id\tsinger\tpath\tstyle\tgroup"):
    path = tmp_path / "recordings.tsv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_reads_a_valid_sheet_and_fills_groups(corpus):
    path = write(corpus, ["r1\tEM\ta.wav\tdebla\talbum1", "r2\tAM\tb.wav\t\t"])
    sheet = read_sample_sheet(path, schema=SCHEMA)
    assert sheet.loc["r1", "group"] == "album1"
    assert sheet.loc["r2", "group"] == "r2"
    assert list(sheet["singer"]) == ["EM", "AM"]


def test_optional_columns_may_be_absent(corpus):
    path = write(corpus, ["r1\tEM\ta.wav"], header="recording_id\tsinger\tpath")
    sheet = read_sample_sheet(path, schema=SCHEMA)
    assert sheet.loc["r1", "style"] == "" and sheet.loc["r1", "group"] == "r1"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ["r1\tEM\ta.wav\t\t", "r1\tAM\tb.wav\t\t"],
            r"row 2 \(recording_id 'r1'\): duplicate recording_id, first used in row 1",
        ),
        (
            ["r1\tEM\ta.wav\t\t", "r2\tAM\tmissing.wav\t\t"],
            r"row 2 \(recording_id 'r2'\): audio file 'missing.wav' not found",
        ),
        (["r 1\tEM\ta.wav\t\t"], r"row 1 \(recording_id 'r 1'\): recording_id: .* does not match"),
        (["r1\t\ta.wav\t\t"], r"row 1 .*singer"),
    ],
)
def test_bad_rows_are_named(corpus, rows, message):
    with pytest.raises(SampleSheetError, match=message):
        read_sample_sheet(write(corpus, rows), schema=SCHEMA)


def test_unknown_singer(corpus):
    path = write(corpus, ["r1\tEM\ta.wav\t\t", "r2\tXX\tb.wav\t\t"])
    with pytest.raises(
        SampleSheetError, match=r"row 2 .*unknown singer 'XX'; the config declares AM, EM"
    ):
        read_sample_sheet(path, schema=SCHEMA, singers=["EM", "AM"])


def test_missing_column_and_missing_file(corpus):
    with pytest.raises(SampleSheetError, match="missing column"):
        read_sample_sheet(write(corpus, ["r1\tEM"], header="recording_id\tsinger"), schema=SCHEMA)
    with pytest.raises(SampleSheetError, match="sample sheet not found"):
        read_sample_sheet(corpus / "nope.tsv", schema=SCHEMA)
    with pytest.raises(SampleSheetError, match="no recordings"):
        read_sample_sheet(write(corpus, []), schema=SCHEMA)


def test_hash_starts_a_comment_only_at_the_start_of_a_line(corpus):
    (corpus / "cante #2.wav").write_bytes(b"RIFF")
    path = write(
        corpus,
        [
            "# recorded in 1974",
            "r1\tEM\tcante #2.wav\tsoleá #1\tAntología #1",
            "#r2\tEM\tb.wav\t\t",
            "r3\tEM\tb.wav\tdebla\tAntología #2",
        ],
    )
    sheet = read_sample_sheet(path, schema=SCHEMA)
    assert list(sheet["recording_id"]) == ["r1", "r3"]
    assert sheet.loc["r1", "path"] == "cante #2.wav"
    assert sheet.loc["r1", "style"] == "soleá #1"
    assert list(sheet["group"]) == ["Antología #1", "Antología #2"]


def test_unicode_singer_labels_are_kept_as_written(corpus):
    decomposed = unicodedata.normalize("NFD", "Camarón")
    path = write(
        corpus,
        ["r1\tCamarón\ta.wav\t\t", f"r2\t{decomposed}\tb.wav\t\t", "r3\tJosé Mercé\ta.wav\t\t"],
    )
    sheet = read_sample_sheet(path, schema=SCHEMA)
    # one singer however the accents were composed (NFC, as written on screen)
    assert list(sheet["singer"]) == ["Camarón", "Camarón", "José Mercé"]


@pytest.mark.parametrize("label", [" EM", "EM ", "E\x01M", "E\x7fM"])
def test_singer_labels_without_edges_or_control_characters(corpus, label):
    path = corpus / "recordings.tsv"
    path.write_text(f"recording_id\tsinger\tpath\nr1\t{label}\ta.wav\n")
    with pytest.raises(SampleSheetError, match=r"row 1 .*singer"):
        read_sample_sheet(path, schema=SCHEMA)


def test_singer_path_names_are_safe_and_distinct():
    labels = ["S1", "Camarón", "José Mercé", "Jose Merce", "José  Mercé", "Niña de los Peines"]
    names = [singer_path_name(label) for label in labels]
    assert names[0] == "S1" and names[2].startswith("Jose_Merce-")
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) for name in names)
    assert singer_path_name(unicodedata.normalize("NFD", "Camarón")) == names[1]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ["x\tEM\ta.wav\t\t", "x.segments\tAM\tb.wav\t\t"],
            r"row 2 \(recording_id 'x.segments'\): recording_id ends with '.segments', which "
            r"the workflow appends .* rename it, e.g. 'x_segments'",
        ),
        (["y.status\tEM\ta.wav\t\t"], r"row 1 .*ends with '.status'"),
        (
            ["Take1\tEM\ta.wav\t\t", "take1\tAM\tb.wav\t\t"],
            r"row 2 \(recording_id 'take1'\): recording_id differs from 'Take1' \(row 1\) only "
            r"in letter case",
        ),
        (
            ["r1\tEM\ta.wav\t\t", "r2\tem\tb.wav\t\t"],
            r"row 2 .*singer 'em' and singer 'EM' would share the file name",
        ),
    ],
)
def test_ids_and_singers_that_would_collide_on_disk(corpus, rows, message):
    with pytest.raises(SampleSheetError, match=message):
        read_sample_sheet(write(corpus, rows), schema=SCHEMA)
