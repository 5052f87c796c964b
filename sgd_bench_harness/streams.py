"""The ``sgd-bench`` command's own standard streams: what it does when they cannot take what it
writes. A finished run is not undone by its terminal: a character the terminal's encoding lacks is
shown escaped, a progress line that a full disk refuses is dropped (the run goes on), and a full
(or closed) standard output is named as such: for ``run`` and ``report`` the printing is dropped, the command
finishes, and its one line says where the results are (``output_lost``). Also the command's one-line
forms of Python's warnings (``warnings_on_one_line``) and of memory run out (``out_of_memory``, exit 3).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys


class DroppingWrites:
    """A text stream whose writes never raise ``OSError``: ``2>/dev/full`` (a log on a full disk)
    made the first progress line kill the run, its folder left "running". The first error is kept
    (``failed``). With ``pipe_ends``, a closed pipe still raises: ``sgd-bench list | head`` ends
    at once, quietly (the standard output; a log whose reader left never stops a run). Under
    ``run`` (``reader_may_leave``) a closed pipe is dropped too, and the standard output goes
    quiet from then on: ``sgd-bench run NAME | head -1`` killed the run with 141 before it was
    marked complete, a finished result left "running"."""

    def __init__(self, stream, pipe_ends: bool = False):
        self._stream = stream
        self._pipe_ends = pipe_ends
        self.failed: OSError | None = None

    def _dropped(self, err: OSError) -> None:
        self.failed = self.failed or err  # kept also when raised: argparse's --help drops the error
        if self._pipe_ends and isinstance(err, BrokenPipeError):
            raise err
        if isinstance(err, BrokenPipeError):  # nobody reads any more: what follows goes nowhere
            quiet_stdout(self._stream)

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError as err:
            self._dropped(err)
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except OSError as err:
            self._dropped(err)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def set_up() -> None:
    """For the command itself (not a call from Python): a path or label the terminal's encoding
    lacks is escaped on the standard output (a finished run exited 2 over ``--out oü`` with
    ``PYTHONIOENCODING=ascii``), and both streams drop what they cannot write: the standard error
    silently, the standard output said once at the end (``output_lost``)."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    from sgd_bench_harness import folders

    folders.COMPLETED.clear()  # the folders this command finishes, for output_lost
    if sys.stdout is None:  # `>&-`: print() dropped the table and the "wrote" line silently, exit 0; now
        sys.stdout = DroppingWrites(open(os.devnull, "w"), pipe_ends=True)  # said at the end (output_lost),
        sys.stdout.failed = OSError(errno.EBADF, "it is closed")  # /dev/null taking fd 1 from files opened later
    else:
        sys.stdout = DroppingWrites(sys.stdout, pipe_ends=True)
    if sys.stderr is not None:
        sys.stderr = DroppingWrites(sys.stderr)
    else:  # `2>&-`: argparse's usage went to the standard output (its default), its error line nowhere
        sys.stderr = sys.stdout


def reader_may_leave() -> None:
    """For ``run``: a reader that leaves (``| head -1``, quitting ``less``) does not stop the run;
    it finishes, is marked complete, and the command exits 141 at the end (``output_lost``)."""
    if isinstance(sys.stdout, DroppingWrites):
        sys.stdout._pipe_ends = False


def quiet_stdout(stream=None) -> None:
    """Points the standard output at /dev/null, so that it can fail no more (a full one, a closed pipe)."""
    with contextlib.suppress(OSError, ValueError):  # no second error when Python flushes at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), (stream or sys.stdout).fileno())


def output_lost(code: int, args) -> int:
    """``code``, or the command's one line and status (3 for a full disk, else 2) when its
    standard output dropped what it printed (``sgd-bench run ... > /dev/full``). ``run`` and
    ``report`` were told "free some space and run the same command again", yet their results were
    written, and a second run writes a second copy: the line says where they are. ``args`` is
    None for ``--help`` and ``--version``, which only print (``printing_lost``)."""
    if sys.stdout is not None:
        with contextlib.suppress(OSError, ValueError):  # what is still buffered fails now, not at exit
            sys.stdout.flush()
    failed = getattr(sys.stdout, "failed", None)
    if isinstance(failed, BrokenPipeError):  # run's reader left: the run finished all the same
        quiet_stdout()
        return 141 if code in (0, 4) else code
    if failed is None or code not in (0, 4):  # 4: a run whose claims failed, written all the same
        return code
    from sgd_bench_harness import folders
    from sgd_bench_harness.experiment import runs_root, say

    quiet_stdout()
    what = f"error: cannot write to the standard output ({failed.strerror or failed})"
    if args is None or args.command not in ("run", "report"):  # None: --help, --version
        return printing_lost(failed, what)
    if args.command == "run":
        where = ", ".join(f"{p}/" for p in dict.fromkeys(folders.COMPLETED)) or "their folders"
        say(f"{what}: only the printing failed; the run finished and its results are in {where} "
            "(running the command again would write them a second time)")
    elif args.command == "report":
        say(f"{what}: only the printing failed; report rebuilt the results in {args.dir or runs_root()} "
            "and wrote their pages")
    return 3 if failed.errno in (errno.ENOSPC, errno.EDQUOT) else 2


def printing_lost(failed: OSError, what: str) -> int:
    """The one line and status of a command that only prints (list, env, --help, --version) whose
    standard output failed: 3 for a full disk, else 2 (``--help >&-`` exited 0, saying nothing)."""
    from sgd_bench_harness.experiment import say

    if failed.errno in (errno.ENOSPC, errno.EDQUOT):
        say(f"{what}: free some space where it goes")
        return 3
    say(what)  # `list >&-` was told to free some space
    return 2


def no_space(err: OSError, args) -> str:
    """The one line for a full disk (exit 3), naming what was being written: ``list`` and ``env``
    write only the standard output (``sgd-bench list > /dev/full`` blamed "the output folder",
    which they have none of, and said that a run resumes)."""
    if err.filename is None and not hasattr(args, "out") and not hasattr(args, "dir"):
        quiet_stdout()
        return f"error: cannot write to the standard output ({err.strerror}): free some space where it goes"
    where = err.filename or getattr(args, "out", None) or getattr(args, "dir", None) or "the output folder"
    # report's own words: it rewrites only what it derives from the stored records
    why = ("report rebuilds every page, figure and index from the stored records" if hasattr(args, "dir")
           else "a run resumes from the cells it stored")
    if err.errno == errno.EFBIG:  # `ulimit -f`, or FAT32's 4 GiB: it was "[Errno 27] File too large", exit 2
        return (f"error: a file in {where} would pass the largest file allowed here ({err.strerror}: "
                "the process's `ulimit -f`, or the file system's limit): raise the limit or write "
                f"elsewhere, then run the same command again ({why})")
    return (f"error: no space left on the device writing {where} ({err.strerror}): free some space and run "
            f"the same command again ({why})")


@contextlib.contextmanager
def warnings_on_one_line(say):
    """Python's warnings during the command as one line each, "sgd-bench: warning: ...", each text once: one
    showed sgd-bench's file and line, then a line of its source code ("  problem = factory(**kwargs)"), and a
    reference solution that did not converge was said twice (two callers). Filters are kept as they are."""
    import warnings

    from sgd_bench_harness.experiment import one_line

    said = set()

    def show(message, category, filename, lineno, file=None, line=None):
        if one_line(message) not in said:
            said.add(one_line(message))
            say(f"warning: {one_line(message)}")
    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def out_of_memory(err: BaseException) -> str | None:
    """The one line (exit 3) for memory that ran out inside JAX/XLA (its runtime error saying
    RESOURCE_EXHAUSTED or out of memory) or in Python or NumPy (a MemoryError without words, or
    NumPy's "Unable to allocate"), or None: sgd-bench's own MemoryErrors already name the numbers
    and their way out, and any other runtime error stays a traceback (a bug to report)."""
    from sgd_bench_harness.experiment import one_line

    text = str(err).strip()
    if isinstance(err, MemoryError):
        if text and type(err) is MemoryError:
            return None
        what = "host memory"
    elif type(err).__name__ in ("XlaRuntimeError", "JaxRuntimeError") and (
            "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower()):
        import jax

        what = f"memory on JAX's device ({jax.default_backend()})"
    else:
        return None
    said = f" ({one_line(text)[:200]})" if text else ""
    return (f"error: the run ran out of {what}{said}: run fewer seeds at once (--seeds, or --block for "
            "a grid), in float32 (--dtype float32), or a smaller problem")
