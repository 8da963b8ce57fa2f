import subprocess
import sys

import pandas as pd

from cantaor.cli import main


def test_mine_writes_the_closed_patterns(tmp_path):
    database = tmp_path / "phrases.txt"
    database.write_text("C A A B C\nA B C B\nC A B C\nA B B C A\n")
    output = tmp_path / "motifs.tsv"
    assert (
        main(
            [
                "mine",
                str(database),
                "-o",
                str(output),
                "--min-support",
                "2",
                "--max-gap",
                "none",
                "-q",
            ]
        )
        == 0
    )
    table = pd.read_csv(output, sep="\t")
    assert list(table.columns) == ["pattern", "support", "length"]
    found = dict(zip(table["pattern"], table["support"]))
    assert found["A B C"] == 4 and found["C A B C"] == 2
    assert "A B" not in found  # not closed: A B C has the same support


def test_mine_contiguous_to_stdout(tmp_path, capsys):
    database = tmp_path / "phrases.txt"
    database.write_text("+1 -2 +3\n+1 -2 +3 +1\n-2 +3\n")
    assert main(["mine", str(database), "--min-support", "2", "--min-length", "2"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == ["pattern\tsupport\tlength", "-2 +3\t3\t2", "+1 -2 +3\t2\t3"]
    assert "2 closed patterns from 3 sequences" in out.err


def test_bad_input_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cantaor.cli", "mine", str(tmp_path / "missing.txt")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "missing.txt" in result.stderr and result.stdout == ""


# What a light command must not import: the numeric, audio, learning, plotting and
# workflow stacks (each costs from tenths of a second to seconds of CPU to import).
HEAVY_PACKAGES = {
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "sklearn",
    "torch",
    "numba",
    "librosa",
    "soundfile",
    "soxr",
    "essentia",
    "onnxruntime",
    "mir_eval",
    "matplotlib",
    "snakemake",
    "jsonschema",
    "yaml",
    "tqdm",
}


def test_help_and_mine_import_no_heavy_package(tmp_path):
    contours = tmp_path / "contours.txt"
    contours.write_text("+1 -2 +1 +1 -2\n+1 -2 +1\n-2 +1 +1 -2\n", encoding="utf-8")
    code = (
        "import contextlib, sys\n"
        "from cantaor.cli import main\n"
        "with contextlib.suppress(SystemExit):\n"
        "    main(sys.argv[1:])\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    for arguments in (["--help"], ["mine", str(contours), "--min-support", "2", "-q"]):
        done = subprocess.run(
            [sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True
        )
        imported = set(done.stdout.splitlines()[-1].split())
        assert "cantaor" in imported  # the check itself ran
        assert not HEAVY_PACKAGES & imported, (arguments, sorted(HEAVY_PACKAGES & imported))
