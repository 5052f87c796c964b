"""The ``sgd-bench`` command's own standard streams: what it does when they cannot take what it
writes. A finished run is not undone by its terminal: a character the terminal's encoding lacks is
shown escaped, a progress line that a full disk refuses is dropped (the run goes on), and a full
standard output is named as such.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys


class DroppingWrites:
    """A text stream whose writes never raise ``OSError``: ``2>/dev/full`` (a log on a full disk)
    made the first progress line kill the run, its folder left "running"."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def flush(self):
        with contextlib.suppress(OSError):
            self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def set_up() -> None:
    """For the command itself (not a call from Python): a path or label the terminal's encoding
    lacks is escaped on the standard output (a finished run exited 2 over ``--out oü`` with
    ``PYTHONIOENCODING=ascii``), and the standard error drops what it cannot write."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if sys.stderr is not None:
        sys.stderr = DroppingWrites(sys.stderr)


def no_space(err: OSError, args) -> str:
    """The one line for a full disk (exit 3), naming what was being written: ``list`` and ``env``
    write only the standard output (``sgd-bench list > /dev/full`` blamed "the output folder",
    which they have none of, and said that a run resumes)."""
    if err.filename is None and not hasattr(args, "out") and not hasattr(args, "dir"):
        with contextlib.suppress(OSError, ValueError):  # no second error when Python flushes at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return f"error: cannot write to the standard output ({err.strerror}): free some space where it goes"
    where = err.filename or getattr(args, "out", None) or getattr(args, "dir", None) or "the output folder"
    if err.errno == errno.EFBIG:  # `ulimit -f`, or FAT32's 4 GiB: it was "[Errno 27] File too large", exit 2
        return (f"error: a file in {where} would pass the largest file allowed here ({err.strerror}: "
                "the process's `ulimit -f`, or the file system's limit): raise the limit or choose "
                "another --out, then run the same command again (a run resumes from the cells it stored)")
    return (f"error: no space left on the device writing {where} ({err.strerror}): free some space and run "
            "the same command again (a run resumes from the cells it stored)")
