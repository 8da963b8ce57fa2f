from pathlib import Path

import pytest

from cantaor.samplesheet import SampleSheetError, load_schema, read_sample_sheet

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
