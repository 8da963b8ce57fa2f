"""Plain, timestamped log lines for rule log files (no progress-bar redraws)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable


def line_logger(
    path: str | os.PathLike | None = None, *, capture_stderr: bool = False
) -> Callable[[str], None]:
    """Return ``log(message)`` appending ``[elapsed s] message`` lines to ``path``.

    Parameters
    ----------
    path : path, optional
        Log file; None writes to stderr. Each line is flushed at once so a log
        file can be followed while a job runs.
    capture_stderr : bool
        Also send this process's stderr (warnings, tracebacks) to the log file,
        as a Snakemake rule's script should.
    """
    started = time.perf_counter()
    handle = open(path, "a", encoding="utf-8") if path is not None else sys.stderr
    if capture_stderr and path is not None:
        sys.stderr = handle

    def log(message: str) -> None:
        handle.write(f"[{time.perf_counter() - started:9.2f} s] {message}\n")
        handle.flush()

    return log
