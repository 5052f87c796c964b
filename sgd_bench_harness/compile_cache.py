"""JAX's persistent compilation cache, on by default for the command line and the scripts.

A first call in a new process spends most of its time compiling; with the cache a later
process loads the compiled program from disk instead. ``enable()`` points
``jax_compilation_cache_dir`` at a user cache folder (``$XDG_CACHE_HOME/sgd-bench/jax``, or
``~/.cache/sgd-bench/jax``) and lowers JAX's thresholds so that the small programs of a
benchmark are cached too. ``SGD_BENCH_COMPILATION_CACHE=0`` turns it off; any other value
than 0/off/1/on is taken as the folder, and one that cannot be created is said on stderr (the run
goes on without the cache). The library itself never turns it on: an importing
program keeps its own JAX configuration.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "SGD_BENCH_COMPILATION_CACHE"
_OFF = ("0", "off", "false", "no")


def default_dir() -> Path:
    """The user cache folder the command line uses. A relative ``$XDG_CACHE_HOME`` is ignored, as
    the XDG Base Directory specification asks (it made a new cache under each working folder)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return Path(base if os.path.isabs(base) else Path.home() / ".cache") / "sgd-bench" / "jax"


def _not_a_folder(folder: Path) -> str | None:
    """Why ``folder`` cannot be made because a file is in the way, in words (mkdir said only
    "File exists" or "Not a directory"), or None."""
    for at in (folder, *folder.parents):
        if at.is_file():  # a regular file (a device as /dev/null keeps the system's words)
            what = "it is a file" if at == folder else f"{at} is a file"
            return (f"{what}, not a folder; give a folder (created when missing) for the compiled "
                    "programs, or 0 to turn the cache off")
    return None


def enable(path: str | os.PathLike | None = None) -> Path | None:
    """Turns the persistent cache on (folder: ``path``, else ``$SGD_BENCH_COMPILATION_CACHE``,
    else ``default_dir()``); returns the folder, or None when the environment turns it off or
    the folder cannot be created (then nothing changes)."""
    setting = os.environ.get(ENV, "").strip()
    if path is None and setting.lower() in _OFF:
        return None
    from sgd_bench_harness.arg_types import home_expanded

    try:  # ~nosuchuser/c: "RuntimeError: Could not determine home directory.", a traceback
        folder = Path(path) if path is not None else (
            Path(home_expanded(setting)) if setting and setting.lower() not in ("1", "on", "true", "yes")
            else default_dir())
        # XLA takes the folder as UTF-8: a byte 0xff in it (or in $HOME) failed the first compile
        # with pybind's "incompatible function arguments", blamed on --problem
        os.fspath(folder).encode("utf-8")
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError, RecursionError) as err:  # mkdir recurses once per missing folder
        if path is None and setting:  # a folder the user named: say so (the default may fail quietly)
            why = ("not valid UTF-8" if isinstance(err, UnicodeEncodeError) else "nested too deep to create"
                   if isinstance(err, RecursionError) else str(err) if isinstance(err, ValueError)
                   else _not_a_folder(folder) or err.strerror or err)
            print(f"sgd-bench: {ENV}={setting!r} cannot be used ({why}); compiling "
                  "without the persistent cache", file=sys.stderr)
        return None
    import jax  # here, so that importing this module costs no JAX

    jax.config.update("jax_compilation_cache_dir", str(folder))
    # JAX skips programs that compile in under a second by default; a benchmark's are many
    # and small, and together they are most of a first call's time.
    for option, value in (("jax_persistent_cache_min_compile_time_secs", 0.0),
                          ("jax_persistent_cache_min_entry_size_bytes", 0)):
        try:
            jax.config.update(option, value)
        except (AttributeError, KeyError):  # an older JAX without this option
            pass
    return folder
