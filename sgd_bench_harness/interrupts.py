"""A Ctrl-C of a run is never lost: it stops the run, or comes again a moment later.

Python turns SIGINT into ``KeyboardInterrupt`` in whatever Python code runs when the signal is
handled. When that is a garbage-collection callback (JAX's ``_xla_gc_callback`` runs often while
programs compile) or a ``__del__``, Python prints "Exception ignored in: ..." with a traceback and
goes on: ``sgd-bench run --problem lecture-logreg --method gd --method sgd --steps 300000``, Ctrl-C
after its first cell, finished the grid and exited 0 in 1 try of 4 here. ``ctrl_c_not_lost``
installs a SIGINT handler for the run (``sgd-bench run`` and ``python scripts/NAME.py``) that raises
``KeyboardInterrupt`` as Python's own does, except there: then the signal is sent again
``AGAIN_SECONDS`` later, when the callback has returned. Decided: not a flag checked between cells
and pieces, which would wait for the end of a cell (minutes) where the signal again waits
milliseconds.

SIGTERM (``kill PID``, a batch system's stop, ``timeout``) ended a run at once, exit 143 and no
word. The same handler turns it into ``Terminated``, a ``KeyboardInterrupt``: the run stops as
after a Ctrl-C, says what is stored and that the same command resumes it, and exits with 143
(128 + 15), the status a shell gives a process SIGTERM ended. SIGHUP (the run's terminal closed) ended it
with 129 and no word: it is taken as SIGTERM is (``HungUp``: the words go to the standard error if it can
still be written, a log; exit 129). A SIGHUP ignored by the parent (``nohup``) stays ignored.
"""

from __future__ import annotations

import gc
import os
import signal
import threading

AGAIN_SECONDS = 0.05


def _in_ignored_context(frame) -> bool:
    """Whether ``frame`` (or a caller of it) is a garbage-collection callback or a ``__del__``, where
    Python prints an exception and drops it."""
    callbacks = {getattr(c, "__code__", None) for c in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


class Terminated(KeyboardInterrupt):
    """A SIGTERM of the run, stopping it as a Ctrl-C does (exit status ``STATUS``; ``WORDS`` begin its line)."""

    STATUS = 128 + signal.SIGTERM
    WORDS = "terminated (SIGTERM)"


class HungUp(Terminated):
    """A SIGHUP of the run (its terminal closed), stopping it as SIGTERM does."""

    STATUS = 128 + 1  # signal.SIGHUP, which Windows lacks
    WORDS = "hung up (SIGHUP: its terminal was closed)"


STOPPED = (130, Terminated.STATUS, HungUp.STATUS)  # the statuses of a run stopped by a signal
_RAISED = {signal.SIGTERM: Terminated, getattr(signal, "SIGHUP", None): HungUp}


def on_sigint(signum, frame) -> None:
    """The run's SIGINT, SIGTERM and SIGHUP handler: ``KeyboardInterrupt`` (``Terminated`` for SIGTERM,
    ``HungUp`` for SIGHUP), or the same signal again a moment later."""
    if _in_ignored_context(frame):
        timer = threading.Timer(AGAIN_SECONDS, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    raise _RAISED.get(signum, KeyboardInterrupt)


def ctrl_c_not_lost() -> None:
    """Installs ``on_sigint`` for SIGINT, where Python's own handler is installed, and for SIGTERM
    and SIGHUP, where their default (to end the process) is (a signal ignored by the parent,
    ``nohup``-style, stays ignored)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_sigint)
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, on_sigint)
