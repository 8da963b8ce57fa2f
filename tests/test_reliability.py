"""The bad-input catalogue of RELIABILITY.md: every case works or stops with one clear message.

Audio cases go through :func:`cantaor.pitch.f0.f0_of_file`, the call the ``f0`` rule
makes, under both policies; one representative workflow run takes the formats,
odd paths and bad files through the whole pipeline with ``on_bad_recording: skip``.
Sample sheet and config cases go through the workflow's checks (a dry run).
"""

import inspect
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml
from test_workflow import snakemake, write_config

from cantaor.dataset.samplesheet import SampleSheetError, load_schema, read_sample_sheet
from cantaor.pitch.f0 import CLIPPING_WARNING, extract_f0, f0_of_file, hz_to_cents
from cantaor.util.audio import AudioError, load_audio
from cantaor.util.parquet import write_parquet

REPO = Path(__file__).resolve().parents[1]
# The f0 settings of config/config.yaml that the f0 rule passes to extract_f0.
F0_OPTIONS = {
    key: value
    for key, value in yaml.safe_load((REPO / "config/config.yaml").read_text())["f0"].items()
    if key in inspect.signature(extract_f0).parameters
}
TONE_HZ = 220.0
TONE_S = 1.5
# A folder name with spaces, both quote characters, non-ASCII letters and a shell metacharacter.
ODD_DIR = "Grabaciones \"de campo\" — Peña 'La Niña' $HOME"


def harmonic_tone(sample_rate, *, f0_hz=TONE_HZ, seconds=TONE_S, gain=0.3):
    """A steady harmonic tone (harmonics below Nyquist), float64."""
    time_s = np.arange(int(seconds * sample_rate)) / sample_rate
    harmonics = range(1, int(sample_rate / 2 / f0_hz))
    return gain * sum(np.sin(2 * np.pi * k * f0_hz * time_s) / k for k in harmonics)


def _write(path, audio, rate, **kwargs):
    sf.write(path, audio, rate, **kwargs)
    return path


# name -> (file name, writer): audio that must be read and tracked correctly.
WORKING = {
    "stereo": ("stereo.wav", lambda p: _write(p, np.stack([harmonic_tone(44100)] * 2, 1), 44100)),
    "8-bit": ("8bit.wav", lambda p: _write(p, harmonic_tone(22050), 22050, subtype="PCM_U8")),
    "24-bit": ("24bit.wav", lambda p: _write(p, harmonic_tone(44100), 44100, subtype="PCM_24")),
    "8 kHz": ("8khz.wav", lambda p: _write(p, harmonic_tone(8000), 8000)),
    "96 kHz": ("96khz.wav", lambda p: _write(p, harmonic_tone(96000), 96000, subtype="PCM_24")),
    "mp3": ("tone.mp3", lambda p: _write(p, harmonic_tone(44100), 44100, format="MP3")),
    "flac": ("tone.flac", lambda p: _write(p, harmonic_tone(44100), 44100, subtype="PCM_24")),
    "ogg": ("tone.ogg", lambda p: _write(p, harmonic_tone(44100), 44100, subtype="VORBIS")),
    "clipping": (
        "clipped.wav",
        lambda p: _write(p, np.clip(harmonic_tone(44100, gain=3.0), -1, 1), 44100),
    ),
}


def _truncated(path, fraction=0.5):
    """Write a tone in the format of ``path`` and cut the file at ``fraction``."""
    _write(path, harmonic_tone(44100), 44100)
    content = path.read_bytes()
    path.write_bytes(content[: int(len(content) * fraction)])
    return path


def _bytes(path, content):
    path.write_bytes(content)
    return path


def _corrupt_header(path):
    _write(path, harmonic_tone(44100), 44100)
    content = bytearray(path.read_bytes())
    content[8:16] = b"garbage!"
    return _bytes(path, bytes(content))


def _non_finite(value):
    def write(path):
        audio = harmonic_tone(44100)
        audio[1000] = value
        return _write(path, audio, 44100, subtype="FLOAT")

    return write


# name -> (file name, writer, the problem the message must state).
STOPPING = {
    "truncated wav": ("cut.wav", _truncated, "truncated WAV file: the header declares"),
    "truncated flac": ("cut.flac", _truncated, "cannot read audio"),
    "truncated mp3": ("cut.mp3", _truncated, "truncated audio file: decoded "),
    "corrupt header": ("corrupt.wav", _corrupt_header, "cannot read audio"),
    "zero-length file": ("empty.wav", lambda p: _bytes(p, b""), "cannot read audio"),
    "text named .wav": ("notes.wav", lambda p: _bytes(p, b"a text file\n"), "cannot read audio"),
    "header only": ("header.wav", lambda p: _truncated(p, 44 / 132344), "truncated WAV file"),
    "NaN samples": ("nan.wav", _non_finite(np.nan), "audio holds NaN or infinite samples"),
    "infinite samples": ("inf.wav", _non_finite(np.inf), "audio holds NaN or infinite samples"),
    "all silence": (
        "silence.wav",
        lambda p: _write(p, np.zeros(44100), 44100),
        "no voiced frames (silence, or no pitched sound)",
    ),
    "missing file": ("missing.wav", lambda p: p, "audio file not found"),
}


@pytest.fixture
def odd_dir(tmp_path):
    folder = tmp_path / ODD_DIR
    folder.mkdir()
    return folder


def test_formats_are_available():
    formats = sf.available_formats()
    assert {"WAV", "FLAC", "OGG", "MP3"} <= set(formats), formats


@pytest.mark.parametrize("case", WORKING)
def test_audio_that_works(case, odd_dir):
    name, writer = WORKING[case]
    path = writer(odd_dir / name)
    table, status = f0_of_file(path, on_bad_recording="fail", **F0_OPTIONS)
    assert status["status"] == "ok" and status["reason"] == ""
    assert status["duration_s"] == pytest.approx(TONE_S, abs=0.06)  # mp3 adds decoder delay
    assert (status["clipped_share"] > 0.01) == (case == "clipping"), status["clipped_share"]
    voiced = table.loc[table["voiced"], "pitch_cents"]
    assert len(voiced) > 0.8 * len(table)
    expected = hz_to_cents(np.array([TONE_HZ]), reference_hz=F0_OPTIONS["reference_hz"])[0]
    assert abs(np.median(voiced) - expected) < 20


@pytest.mark.parametrize("case", STOPPING)
@pytest.mark.parametrize("policy", ["fail", "skip"])
def test_audio_that_stops_names_the_file_and_the_problem(case, policy, odd_dir):
    name, writer, problem = STOPPING[case]
    path = writer(odd_dir / name)
    if policy == "fail":
        with pytest.raises(AudioError) as error:
            f0_of_file(path, on_bad_recording="fail", **F0_OPTIONS)
        message = str(error.value)
    else:
        table, status = f0_of_file(path, on_bad_recording="skip", **F0_OPTIONS)
        assert status["status"] == "skipped" and table.empty
        message = status["reason"]
    assert message.startswith(f"{odd_dir / name}: ")
    assert problem in message
    assert "\n" not in message


def test_a_truncated_wav_with_an_open_length_is_read(tmp_path):
    """Streaming writers leave the data size at 0; such files are read as they are."""
    path = _write(tmp_path / "stream.wav", harmonic_tone(8000), 8000)
    content = bytearray(path.read_bytes())
    data = content.index(b"data")
    content[data + 4 : data + 8] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(content[: len(content) // 2]))
    audio, rate = load_audio(path)
    assert rate == 8000 and audio.size == (len(content) // 2 - data - 8) // 2


def test_a_killed_writer_leaves_no_output_and_its_temporary_is_removed(tmp_path):
    """SIGKILL inside atomic_path: no output appears; the next write removes the temporary."""
    target = tmp_path / "out dir" / "f0 'x'.parquet"
    code = (
        "import os, signal, sys\n"
        "from cantaor.util.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'half a file')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(target)], check=False)
    assert killed.returncode == -signal.SIGKILL
    (leftover,) = target.parent.iterdir()
    assert leftover.name.startswith(".f0 'x'.parquet.") and not target.exists()
    other = target.parent / "other.parquet.abcdefgh.parquet"  # not a temporary of target
    other.write_bytes(b"")
    write_parquet(pd.DataFrame({"a": [1]}), target)
    assert sorted(path.name for path in target.parent.iterdir()) == [
        "f0 'x'.parquet",
        other.name,
    ]


SCHEMA = load_schema(REPO / "workflow/schemas/recordings.schema.yaml")


@pytest.mark.parametrize("recording_id", ["../x", "a/b", ".hidden", "x\\y", "a b", ""])
def test_recording_ids_that_could_leave_results_are_refused(tmp_path, recording_id):
    (tmp_path / "a.wav").write_bytes(b"")
    sheet = tmp_path / "recordings.tsv"
    sheet.write_text(f"recording_id\tsinger\tpath\nok\tS1\ta.wav\n{recording_id}\tS1\ta.wav\n")
    with pytest.raises(SampleSheetError) as error:
        read_sample_sheet(sheet, schema=SCHEMA, check_files=False)
    message = str(error.value)
    assert message.startswith(f"{sheet} row 2 (recording_id {recording_id!r}): recording_id: ")
    assert "does not match" in message or "should be non-empty" in message


# --- through the workflow -------------------------------------------------------------


def _demo_audio(folder, n_singers, recordings_per_singer, duration_s=6.0):
    """Demo recordings as float wav files; returns {(singer, recording): path}."""
    from cantaor.demo.corpus import write_demo_recording

    paths = {}
    for singer in range(n_singers):
        for recording in range(recordings_per_singer):
            name = f"S{singer + 1}_R{recording + 1}"
            write_demo_recording(
                wav_path=folder / f"{name}.wav",
                f0_path=folder / f"truth/{name}.f0.parquet",
                motifs_path=folder / f"truth/{name}.motifs.parquet",
                singer_index=singer,
                recording_index=recording,
                n_singers=n_singers,
                duration_s=duration_s,
                seed=1,
            )
            paths[singer + 1, recording + 1] = folder / f"{name}.wav"
    return paths


def _sheet(workdir, rows):
    lines = ["recording_id\tsinger\tpath"] + ["\t".join(row) for row in rows]
    (workdir / "recordings.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.workflow
def test_formats_odd_paths_and_bad_files_through_the_whole_workflow(tmp_path):
    """The representative run: every format, quoted/non-ASCII folders, paths outside the
    working directory, and bad files skipped and listed; it finishes with a results table."""
    workdir, outside, source = tmp_path / "work", tmp_path / "elsewhere", tmp_path / "source"
    corpus = workdir / ODD_DIR
    for folder in (corpus, outside, source):
        folder.mkdir(parents=True)
    # 12 s: two or more phrases per recording, so a singer's one training recording can
    # still give whole phrases to validation.
    demo = _demo_audio(source, n_singers=3, recordings_per_singer=2, duration_s=12.0)

    def convert(key, path, **kwargs):
        audio, rate = load_audio(demo[key])
        if kwargs.pop("stereo", False):
            audio = np.stack([audio, 0.8 * audio], axis=1)
        if kwargs.pop("clip", False):
            audio = np.clip(3 * audio, -1, 1)
        new_rate = kwargs.pop("rate", rate)
        if new_rate != rate:
            audio, _ = load_audio(demo[key], sample_rate=new_rate)
        sf.write(path, audio, new_rate, **kwargs)
        return path

    convert((1, 1), corpus / "toná 1 (8-bit, 8 kHz).wav", rate=8000, subtype="PCM_U8")
    convert((1, 2), corpus / "toná 2 24-bit 96 kHz.flac", rate=96000, subtype="PCM_24")
    convert((2, 1), corpus / "saeta 'estéreo'.mp3", stereo=True, format="MP3")
    convert((2, 2), corpus / 'debla "saturada".ogg', clip=True, subtype="VORBIS")
    convert((3, 1), outside / "martinete.wav", clip=True, subtype="PCM_16")
    convert((3, 2), outside / "fandango.wav", subtype="FLOAT")
    _truncated(corpus / "cortada.wav")
    _bytes(corpus / "vacía.wav", b"")
    _non_finite(np.nan)(corpus / "nan.wav")
    _sheet(
        workdir,
        [
            ("S1_tona", "S1", f"{ODD_DIR}/toná 1 (8-bit, 8 kHz).wav"),
            ("S1_hires", "S1", f"{ODD_DIR}/toná 2 24-bit 96 kHz.flac"),
            ("S2_mp3", "S2", f"{ODD_DIR}/saeta 'estéreo'.mp3"),
            ("S2_clipped", "S2", f'{ODD_DIR}/debla "saturada".ogg'),
            ("S3_absolute", "S3", str(outside / "martinete.wav")),
            ("S3_relative", "S3", "../elsewhere/fandango.wav"),
            ("bad_truncated", "S1", f"{ODD_DIR}/cortada.wav"),
            ("bad_empty", "S2", f"{ODD_DIR}/vacía.wav"),
            ("bad_nan", "S3", f"{ODD_DIR}/nan.wav"),
        ],
    )
    write_config(
        workdir,
        corpus={
            "source": "samplesheet",
            "samplesheet": "recordings.tsv",
            "on_bad_recording": "skip",
        },
        datasets=["motifs"],
        split={"strategies": ["group"]},
        features={"kinds": ["logmel"]},
        train={"models": ["residual_blstm"], "epochs": 1},
    )
    outside_before = sorted(outside.iterdir())
    snakemake(workdir, "results/report/results.md", "results/report/skipped_recordings.tsv")

    skipped = pd.read_csv(workdir / "results/report/skipped_recordings.tsv", sep="\t")
    reasons = dict(zip(skipped["recording_id"], skipped["reason"], strict=True))
    assert sorted(reasons) == ["bad_empty", "bad_nan", "bad_truncated"]
    assert reasons["bad_truncated"].startswith(f"{ODD_DIR}/cortada.wav: truncated WAV file")
    assert reasons["bad_empty"].startswith(f"{ODD_DIR}/vacía.wav: cannot read audio")
    assert reasons["bad_nan"] == f"{ODD_DIR}/nan.wav: audio holds NaN or infinite samples"
    for recording in ["S1_tona", "S1_hires", "S2_mp3", "S2_clipped", "S3_absolute", "S3_relative"]:
        status = json.loads((workdir / f"results/f0/{recording}.status.json").read_text())
        assert status["status"] == "ok", recording
        assert status["duration_s"] == pytest.approx(12.0, abs=0.06), recording
        assert status["voiced_frames"] > 100, recording
        log = (workdir / f"results/logs/f0/{recording}.log").read_text()
        if recording == "S3_absolute":  # clipped 16-bit PCM: flagged in the status and the log
            assert status["clipped_share"] > 0.01
            assert "WARNING: " in log and "% of the samples are clipped" in log
        elif recording != "S2_clipped":  # clipping before lossy coding is mostly smeared
            assert status["clipped_share"] < CLIPPING_WARNING, recording
            assert "WARNING" not in log, recording
    items = pd.read_parquet(workdir / "results/features/motifs/items.parquet")
    assert set(items["singer"]) == {"S1", "S2", "S3"}
    assert not set(items["recording"]) & set(reasons)
    assert "residual_blstm" in (workdir / "results/report/results.md").read_text()
    # Outputs are named by recording_id only: nothing was written beside the audio.
    assert sorted(outside.iterdir()) == outside_before
    assert sorted(p.name for p in workdir.iterdir()) == sorted(
        [".snakemake", "config", "recordings.tsv", "results", ODD_DIR]
    )
    leftovers = re.compile(r"\..+\.[a-z0-9_]{8}(\.\w+)?|.+\.tmp")
    assert [p for p in (workdir / "results").rglob("*") if leftovers.fullmatch(p.name)] == []


@pytest.mark.workflow
def test_a_singer_without_motifs_stops_naming_the_singer(tmp_path):
    demo = _demo_audio(tmp_path / "audio", n_singers=2, recordings_per_singer=2)
    for recording, note_hz in [(1, 220.0), (2, 330.0)]:
        sf.write(
            tmp_path / f"audio/steady_{recording}.wav",
            harmonic_tone(44100, f0_hz=note_hz, seconds=4),
            44100,
        )
    _sheet(
        tmp_path,
        [
            ("S1_R1", "S1", str(demo[1, 1])),
            ("S1_R2", "S1", str(demo[1, 2])),
            ("T_R1", "T", "audio/steady_1.wav"),
            ("T_R2", "T", "audio/steady_2.wav"),
        ],
    )
    write_config(tmp_path, corpus={"source": "samplesheet", "samplesheet": "recordings.tsv"})
    result = snakemake(tmp_path, "results/motifs/T.dictionary.tsv", check=False)
    assert result.returncode != 0
    log = (tmp_path / "results/logs/motifs/T.log").read_text()
    assert (
        "singer T: no motif found in its 2 recording(s) (T_R1, T_R2) with "
        "mining.min_support=2, mining.min_length=" in log
    )
    assert not (tmp_path / "results/motifs/T.dictionary.tsv").exists()
    assert not (tmp_path / "results/motifs/T.occurrences.parquet").exists()


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"train": {"epochs": "many"}},
            ["On instance['train']['epochs']", "'many' is not of type 'integer'"],
        ),
        ({"train": {"epoch": 3}}, ["On instance['train']", "'epoch' was unexpected"]),
    ],
    ids=["wrong type", "unknown key"],  # out of range: test_workflow.py
)
def test_bad_config_values_stop_naming_the_key(tmp_path, overrides, expected):
    write_config(tmp_path, **overrides)
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for fragment in expected:
        assert fragment in output
    assert not (tmp_path / "results").exists()


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("../x\tS1\ta.wav", "row 1 (recording_id '../x'): recording_id: '../x' does not match"),
        ("x\tS1\tnowhere/b.wav", "row 1 (recording_id 'x'): audio file 'nowhere/b.wav' not found"),
    ],
    ids=["path-like recording_id", "missing file"],
)
def test_bad_sample_sheet_rows_stop_before_any_job(tmp_path, row, expected):
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "recordings.tsv").write_text(f"recording_id\tsinger\tpath\n{row}\n")
    write_config(tmp_path, corpus={"source": "samplesheet", "samplesheet": "recordings.tsv"})
    result = snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert f"recordings.tsv {expected}" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


# --- safety by inspection -------------------------------------------------------------

SOURCES = [*sorted((REPO / "src").rglob("*.py")), *sorted((REPO / "workflow").rglob("*.py"))]
RULES = [REPO / "Snakefile", *sorted((REPO / "workflow/rules").glob("*.smk"))]


def _call_text(text, start):
    """The arguments of a call whose opening parenthesis ends at ``start``."""
    depth = 1
    for end in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end]
    raise AssertionError("unbalanced call")


def test_torch_load_is_always_weights_only():
    calls = [
        (path.name, _call_text(text, match.end()))
        for path in SOURCES
        for text in [path.read_text()]
        for match in re.finditer(r"torch\.load\(", text)
    ]
    assert calls, "expected torch.load calls in src"
    assert all("weights_only=True" in call for _, call in calls), calls


def test_yaml_is_loaded_safely_and_nothing_is_unpickled():
    unsafe = re.compile(
        r"yaml\.(load|unsafe_load|full_load)\(|yaml\.(Unsafe|Full)?Loader\b|pickle\.loads?\("
        r"|allow_pickle=True"
    )
    offenders = [
        (path.name, match.group())
        for path in [*SOURCES, *RULES]
        for match in unsafe.finditer(path.read_text())
    ]
    assert offenders == []


def test_no_user_path_reaches_a_shell():
    """Rules run Python scripts (paths are passed as objects); the package spawns no shell."""
    rule_text = {path.name: path.read_text() for path in RULES}
    assert not [
        name for name, text in rule_text.items() if re.search(r"^\s+(shell|run):", text, re.M)
    ]
    assert sum(len(re.findall(r"^\s+script:", text, re.M)) for text in rule_text.values()) > 10
    shells = re.compile(r"os\.system\(|os\.popen\(|shell=True")
    assert [path.name for path in SOURCES if shells.search(path.read_text())] == []
    # The one child process: jitcache's warm-up, a fixed argv with no user data.
    spawning = [path.name for path in SOURCES if "subprocess." in path.read_text()]
    assert spawning == ["jitcache.py"]
    jitcache_source = next(path for path in SOURCES if path.name == "jitcache.py").read_text()
    assert '[sys.executable, "-m", "cantaor.util.jitcache"]' in jitcache_source


@pytest.mark.workflow
def test_every_output_log_and_benchmark_is_under_results(tmp_path):
    """Every job of a full run writes under results/ only (outputs are named from
    wildcards that the schemas restrict)."""
    write_config(tmp_path)
    jobs = snakemake(tmp_path, "--dry-run").stdout
    declared = [
        path
        for line in re.findall(r"^\s+(?:output|log|benchmark): (.+)$", jobs, re.M)
        for path in line.split(", ")
    ]
    assert len(declared) > 100
    assert [path for path in declared if not path.startswith("results/")] == []
