"""Progress of long work with an estimate of the time left.

Two outputs, chosen by where they go:

* a terminal (a stream that ``isatty()``) gets one line redrawn in place,
  at most ten times a second;
* a log (a callable taking a line, such as :func:`cantaor.util.logs.line_logger`)
  gets plain lines, one every ``interval_s`` seconds and one at the end, so a
  Snakemake log file can be read or followed without bar redraws.

>>> lines = []
>>> progress = Progress(4, "store", unit="recordings", log=lines.append, interval_s=0)
>>> for _ in range(4):
...     progress.update()
>>> progress.close()
>>> lines[-1].startswith("store: 4/4 recordings (100%)")
True
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO


def format_seconds(seconds: float) -> str:
    """``75.3`` -> ``'1 min 15 s'``; ``4000`` -> ``'1 h 06 min'``; ``8.24`` -> ``'8.2 s'``."""
    if not math.isfinite(seconds):
        return "?"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {(whole % 3600) // 60:02d} min"


class Progress:
    """Count units of work done out of ``total`` and report them with an ETA.

    Parameters
    ----------
    total : int
        Units of work expected (0 is allowed: the work is then done at once).
    label : str
        What is being done, the start of every line.
    unit : str
        Name of a unit, plural ("items", "recordings", "batches").
    log : callable taking a str, optional
        Receives plain lines: every ``interval_s`` seconds while work goes on,
        and once when :meth:`close` is called.
    stream : text stream, optional
        Redrawn in place when it is a terminal; ignored otherwise (a log is the
        place for plain lines).
    interval_s : float
        Seconds between two log lines.
    final_log_line : bool
        Whether :meth:`close` logs the final state (False when the caller logs
        its own summary of the finished work).
    clock : callable returning seconds
        Monotonic clock (replaceable in tests).

    The estimate assumes the remaining units cost what the units done after
    the first report cost on average: ``(now - t_first) / (done - done_first)
    * (total - done)``, where ``t_first`` and ``done_first`` are the time and
    count at the first :meth:`update`. The first units carry one-off costs
    (imports, JIT compilation, caches) that would otherwise make the early
    estimates absurd (a clip store of 11,158 clips once read "about 171 h
    left" after its first clip); until a unit is done after the first report
    the line says "about ? left".
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        unit: str = "items",
        log: Callable[[str], None] | None = None,
        stream: TextIO | None = None,
        interval_s: float = 30.0,
        final_log_line: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        self.total = int(total)
        self.label = label
        self.unit = unit
        self.done = 0
        self._log = log
        self._stream = stream if stream is not None and _is_terminal(stream) else None
        self._interval_s = float(interval_s)
        self._final_log_line = final_log_line
        self._clock = clock
        self._started = clock()
        self._last_log = self._started
        self._last_draw = -math.inf
        self._closed = False
        self._last_line = None
        self._first: tuple[float, int] | None = None

    @property
    def elapsed_s(self) -> float:
        return self._clock() - self._started

    def eta_s(self) -> float:
        """Seconds left by the average cost of the units done since the first report.

        inf while no unit has been done after the first :meth:`update`.
        """
        if self.done >= self.total:
            return 0.0
        if self._first is None or self.done <= self._first[1]:
            return math.inf
        first_s, first_done = self._first
        return (self._clock() - first_s) / (self.done - first_done) * (self.total - self.done)

    def line(self) -> str:
        """The current state as one line of text."""
        percent = 100.0 if self.total == 0 else 100.0 * self.done / self.total
        text = (
            f"{self.label}: {self.done}/{self.total} {self.unit} ({percent:.0f}%), "
            f"{format_seconds(self.elapsed_s)} elapsed"
        )
        if self.done < self.total:
            text += f", about {format_seconds(self.eta_s())} left"
        return text

    def update(self, n: int = 1) -> None:
        """Record ``n`` more units done and report when it is time to."""
        self.done = min(self.total, self.done + int(n)) if self.total else self.done + int(n)
        now = self._clock()
        if self._first is None:
            self._first = (now, self.done)
        if self._log is not None and now - self._last_log >= self._interval_s:
            self._last_log = now
            self._emit(self.line())
        if self._stream is not None and now - self._last_draw >= 0.1:
            self._last_draw = now
            self._stream.write("\r\x1b[2K" + self.line())
            self._stream.flush()

    def close(self) -> None:
        """Write the final line (once)."""
        if self._closed:
            return
        self._closed = True
        if self._log is not None and self._final_log_line and self.line() != self._last_line:
            self._emit(self.line())
        if self._stream is not None:
            self._stream.write("\r\x1b[2K" + self.line() + "\n")
            self._stream.flush()

    def _emit(self, line: str) -> None:
        self._last_line = line
        self._log(line)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def terminal() -> TextIO | None:
    """``sys.stderr`` when it is a terminal, else None."""
    return sys.stderr if _is_terminal(sys.stderr) else None


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
