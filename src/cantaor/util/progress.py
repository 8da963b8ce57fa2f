"""Progress of long work with an estimate of the time left, on tqdm.

Two outputs, chosen by where they go:

* a terminal (a stream that ``isatty()``) gets tqdm's bar, redrawn in place;
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
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


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


class _Discard:
    """A text stream that drops what it is given (tqdm needs one to write to)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class Progress(tqdm):
    """tqdm counting ``total`` units of work, with plain lines for a log.

    Parameters
    ----------
    total : int
        Units of work expected (0 is allowed: the work is then done at once).
    label : str
        What is being done, the start of every line (tqdm's ``desc``).
    unit : str
        Name of a unit, plural ("items", "recordings", "batches").
    log : callable taking a str, optional
        Receives plain lines: every ``interval_s`` seconds while work goes on,
        and once when :meth:`close` is called.
    stream : text stream, optional
        Gets tqdm's bar when it is a terminal; ignored otherwise (a log is the
        place for plain lines).
    interval_s : float
        Seconds between two log lines.
    final_log_line : bool
        Whether :meth:`close` logs the final state (False when the caller logs
        its own summary of the finished work).

    The time left is tqdm's smoothed rate applied to the units still to do,
    with the rate measured from the first :meth:`update` on: the first units
    carry one-off costs (imports, JIT compilation, caches) that would otherwise
    make the early estimates absurd (a clip store of 11,158 clips once read
    "about 171 h left" after its first clip). Until a unit is done after the
    first update the line says "about ? left".
    """

    monitor_interval = 0  # no monitor thread: log lines are scheduled by update()

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
    ) -> None:
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        self._log = log
        self._terminal = stream if stream is not None and _is_terminal(stream) else None
        self._interval_s = float(interval_s)
        self._final_log_line = final_log_line
        self._last_line: str | None = None
        self._first_done = False
        super().__init__(
            total=int(total),
            desc=label,
            unit=f" {unit}",
            file=self._terminal if self._terminal is not None else _Discard(),
            leave=True,
            disable=self._terminal is None and log is None,
        )
        self.label, self.unit_name = label, unit
        self._last_log = getattr(self, "start_t", 0.0)

    def eta_s(self) -> float:
        """Seconds left at the smoothed rate; inf while that rate is unknown."""
        if self.n >= self.total:
            return 0.0
        rate = self.format_dict["rate"]
        return (self.total - self.n) / rate if rate else math.inf

    def line(self) -> str:
        """The current state as one plain line of text."""
        percent = 100.0 if self.total == 0 else 100.0 * self.n / self.total
        text = (
            f"{self.label}: {self.n}/{self.total} {self.unit_name} ({percent:.0f}%), "
            f"{format_seconds(self.format_dict['elapsed'])} elapsed"
        )
        if self.n < self.total:
            text += f", about {format_seconds(self.eta_s())} left"
        return text

    def update(self, n: int = 1) -> bool | None:
        """Record ``n`` more units done; redraw the bar and log when it is time to."""
        displayed = super().update(n)
        if self.disable:
            return displayed
        if not self._first_done:
            # Forget the first update's one-off costs: the rate starts here.
            self._first_done = True
            self._ema_dn = type(self._ema_dn)(self.smoothing)
            self._ema_dt = type(self._ema_dt)(self.smoothing)
            self.last_print_n, self.last_print_t = self.n, self._time()
        now = self._time()
        if self._log is not None and now - self._last_log >= self._interval_s:
            self._last_log = now
            self._emit(self.line())
        return displayed

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        """Draw the bar on the terminal; nothing when there is none."""
        if self._terminal is None:
            return True
        return super().display(msg, pos)

    def close(self) -> None:
        """Write the final log line (once) and the bar's last state."""
        if getattr(self, "disable", True):  # closed, disabled, or never built
            return
        if self._log is not None and self._final_log_line and self.line() != self._last_line:
            self._emit(self.line())
        super().close()

    def _emit(self, line: str) -> None:
        self._last_line = line
        self._log(line)


def terminal() -> TextIO | None:
    """``sys.stderr`` when it is a terminal, else None."""
    return sys.stderr if _is_terminal(sys.stderr) else None


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
