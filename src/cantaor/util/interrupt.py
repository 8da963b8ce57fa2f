"""Stopping on SIGINT and SIGTERM: in a job's script, and for Snakemake's jobs.

Two gaps let a training job outlive the run that started it:

- a process started with SIGINT ignored (a job of a run started in the
  background, ``snakemake ... &``) never gets Python's KeyboardInterrupt, and
  SIGTERM ends Python without running ``finally`` blocks;
- Snakemake's local executor, on SIGINT, stops scheduling and then waits for
  the running jobs to end on their own (its thread pool's shutdown), so a
  SIGINT sent to Snakemake alone (``kill -INT``, a scheduler, a supervisor)
  leaves a training job running for hours.

:func:`exit_on_signals` closes the first (the training script calls it);
:func:`cantaor.util.jobcontrol.stop_jobs_on_interrupt` the second (the workflow
calls it while it is parsed, in Snakemake's own process).
"""

from __future__ import annotations

import signal
from collections.abc import Callable


class Interrupted(KeyboardInterrupt):
    """Raised in a script by :func:`exit_on_signals` when SIGINT or SIGTERM arrives."""


def exit_on_signals(log: Callable[[str], None] | None = None) -> None:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` in this process.

    The exception unwinds the stack, so temporary files are removed
    (:func:`cantaor.util.atomic.atomic_path`) and a training checkpoint written at the
    end of the last epoch stays for a rerun to resume. Call it from the main
    thread.

    Parameters
    ----------
    log : callable, optional
        Receives one line naming the signal.
    """

    def handler(signum, _frame):
        name = signal.Signals(signum).name
        if log is not None:
            log(f"stopped by {name}; a rerun resumes from the last checkpoint")
        raise Interrupted(name)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)
