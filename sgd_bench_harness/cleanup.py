"""What a refused run leaves behind, removed: its result folder while it holds only ``meta.json``
and the lock, and the empty folders above it that the run itself created (``experiment.main``);
and the new folder a run beside a finished result claims (``claimed``)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from sgd_bench_harness import folders


def outermost_missing(path: Path) -> Path | None:
    """The outermost folder on ``path`` that does not exist yet (what writing ``path`` creates), or None."""
    missing = None
    for folder in (path, *path.parents):
        if folder.exists() or folder.is_symlink():
            break
        missing = folder
    return missing


def discard_if_empty(out: Path, made: Path | None = None) -> None:
    """Removes a result folder that a run refused in, if the run stored nothing there yet (only
    ``meta.json`` and the lock): no orphan "running" folder for ``report`` to list. The folders
    above it up to ``made``, which the run created, go too while empty (an ``--out ROOT`` that
    ``sgd-bench run NAME`` created for ROOT/NAME was left behind empty)."""
    out = Path(out)
    if out.is_dir() and {p.name for p in out.iterdir()} <= {"meta.json", folders.LOCK_FILE}:
        shutil.rmtree(out, ignore_errors=True)
        if made is not None and made != out and made in out.parents:
            for folder in out.parents:
                try:
                    folder.rmdir()  # only while empty: a file anyone put there keeps it
                except OSError:
                    break
                if folder == made:
                    break


def claimed(folder: Path) -> bool:
    """Whether this call made ``folder`` (``folders.output_folder``'s ``NAME-DATE-TIME``), so that no other
    run takes it: False when it exists already. Two runs started in one second both named the same new
    folder; the second wrote its result over the first's. Another error is left to the lock, which says it."""
    try:
        os.mkdir(folder)
    except OSError as err:
        return err.errno != errno.EEXIST
    return True
