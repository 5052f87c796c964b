"""Result folders beside the one a run was asked for: ``NAME-YYYYmmdd-HHMMSS`` (``folders.output_folder``
writes there when NAME holds a finished result it may not replace).

Decided (issue 18): the same command finds the interrupted run it left in such a folder. It went to a new
``NAME-DATE`` each time, beside the finished NAME, computing again what the first had stored, and a
``NAME-DATE`` moved under another --out root was not found either (the target there, ROOT/NAME, did not
exist: a fresh run). ``interrupted`` looks beside the target for a ``NAME-DATE`` folder of the same config
whose run is not complete, that no live run holds and that can be written; the newest is resumed.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path


def fresh(target: Path) -> Path:
    """A new ``NAME-YYYYmmdd-HHMMSS`` (``-2``, ``-3``, ... when taken) beside ``target``."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, suffix = target.with_name(f"{target.name}-{stamp}"), 2
    while folder.exists():
        folder = target.with_name(f"{target.name}-{stamp}-{suffix}")
        suffix += 1
    return folder


def interrupted(target: Path, config_hash: str) -> Path | None:
    """The newest ``NAME-DATE`` folder beside ``target`` that holds an interrupted run of ``config_hash``
    (sgd-bench's, not complete, not held by a live run), or None."""
    from sgd_bench_harness import folders

    pattern = re.compile(re.escape(target.name) + r"-(\d{8}-\d{6})(?:-(\d+))?")
    found = []
    try:
        entries = list(target.parent.iterdir()) if target.parent.is_dir() else []
    except OSError:  # an unreadable parent: nothing to resume there
        return None
    for path in entries:
        match = pattern.fullmatch(path.name)
        if not match or path.is_symlink() or not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
            continue  # a read-only one would fail the same command at every try
        meta = folders.read_meta(path)
        if (folders.is_result(meta) and meta.get("config_hash") == config_hash
                and meta.get("status") != folders.STATUS_COMPLETE and folders.lock_holder(path) is None):
            found.append(((match.group(1), int(match.group(2) or 1)), path))
    return max(found)[1] if found else None
