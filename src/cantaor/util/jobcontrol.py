"""Snakemake's side of stopping on SIGINT: its running jobs stop with it.

Snakemake's local executor, on SIGINT, stops scheduling and then waits for
the running jobs to end on their own (its thread pool's shutdown), so a
SIGINT sent to Snakemake alone (``kill -INT``, a scheduler, a supervisor)
leaves a training job running for hours. The workflow calls
:func:`stop_jobs_on_interrupt` while it is parsed, in Snakemake's own
process; the jobs' scripts turn the SIGTERM it sends into a clean exit
(:func:`cantaor.util.interrupt.exit_on_signals`). Uses psutil, which Snakemake
itself depends on, to find the jobs' processes.
"""

from __future__ import annotations

import os
import signal


def terminate_descendants() -> int:
    """Send SIGTERM to every descendant process of this one; return how many."""
    import psutil

    children = psutil.Process(os.getpid()).children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    return len(children)


def stop_jobs_on_interrupt() -> bool:
    """On SIGINT, terminate this process's descendants (its jobs), then interrupt as before.

    For Snakemake's own process: a SIGINT then stops the running jobs, as
    Ctrl-C in a terminal (which signals the whole process group) does, instead
    of waiting for them. A process that ignores SIGINT keeps ignoring it, and
    a call from another thread than the main one changes nothing.

    Returns
    -------
    bool
        Whether the handler was installed.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        return False

    def handler(signum, frame):
        terminate_descendants()
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:
        return False
    return True
