"""CPU seconds for the light commands to start: ``cantaor --help`` and ``cantaor mine``.

Each command runs ``--repeats`` times in a fresh Python process (as the ``cantaor`` entry
point runs it); the table gives the median user + system CPU seconds of the whole process
(from ``resource.getrusage(RUSAGE_CHILDREN)``), and the third-party packages it imported.
``cantaor mine`` reads a three-line file of contours. CPU time, not wall time, so that a
shared machine's load does not count.

Usage: python benchmarks/bench_startup.py [--repeats 5] [--src DIR]
(``--src``: the source tree whose ``cantaor`` the commands import, to compare two trees;
by default the one this process imports)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import cantaor
from cantaor.report.tables import markdown_table

# Runs the command's main() as the entry point does, then names the third-party
# top-level packages it imported.
RUN = (
    "import sys\n"
    "from cantaor.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "names = {name.split('.')[0] for name in sys.modules}\n"
    "extra = sorted(n for n in names - set(sys.stdlib_module_names) if not n.startswith('_'))\n"
    "sys.stderr.write('IMPORTED ' + ' '.join(n for n in extra if n != 'cantaor') + '\\n')\n"
)

CONTOURS = "+1 -2 +1 +1 -2\n+1 -2 +1\n-2 +1 +1 -2\n"


def cpu_seconds(arguments: list[str], src: Path) -> tuple[float, str]:
    """User + system CPU seconds of one process running ``cantaor *arguments``."""
    environment = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", RUN, *arguments],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    imported = done.stderr.rsplit("IMPORTED ", 1)[-1].strip()
    return seconds, imported or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--src", type=Path, default=Path(cantaor.__file__).parents[1])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        contours = Path(tmp) / "contours.txt"
        contours.write_text(CONTOURS, encoding="utf-8")
        commands = {
            "cantaor --help": ["--help"],
            "cantaor mine (3 lines)": ["mine", str(contours), "--min-support", "2", "-q"],
        }
        rows = []
        for name, arguments in commands.items():
            runs = [cpu_seconds(arguments, args.src) for _ in range(args.repeats)]
            seconds = [run[0] for run in runs]
            rows.append(
                [
                    name,
                    f"{statistics.median(seconds):.3f}",
                    f"{min(seconds):.3f}",
                    f"{max(seconds):.3f}",
                    runs[-1][1],
                ]
            )
    numbers = ["median CPU s", "min", "max"]
    columns = ["command", *numbers, "third-party packages imported"]
    print(markdown_table(rows, columns, right=numbers))


if __name__ == "__main__":
    main()
