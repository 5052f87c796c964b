"""Result folders: what is sgd-bench's, where a run writes, and one run at a time per folder.

A run never silently replaces an earlier result: ``output_folder`` sends it to a new sibling
``NAME-YYYYmmdd-HHMMSS`` when the target already holds a finished result, unless ``overwrite``;
a run interrupted with the same config hash is resumed in its folder (the target, or a sibling:
``beside``). Only sgd-bench's own folders are rewritten: ``mark`` writes the marker
``"written_by": "sgd-bench"`` into every ``meta.json``, and ``is_result`` accepts a folder with the
marker or one written before it existed. ``lock`` holds an ``fcntl`` lock on ``.sgd-bench.lock``
(with the owner's PID in it) for as long as a run lasts; the kernel drops it when its owner dies,
so a folder left by a killed run is taken over by the next.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from sgd_bench_harness.arg_types import printable

STATUS_RUNNING, STATUS_COMPLETE = "running", "complete"
MARKER = ("written_by", "sgd-bench")  # the key and value ``mark`` puts in every meta.json
LOCK_FILE = ".sgd-bench.lock"
_HELD: dict[str, int] = {}  # {a folder this process locks, absolute: the lock's fd}, for moved_to
# The folders ``mark`` completed in this process (the command's, see streams.output_lost: a result
# written while its printing failed is named, not said to need a second run).
COMPLETED: list[Path] = []


def read_json(path: Path) -> Any:
    """A JSON file's contents, or None when it is missing or unreadable (or not a regular
    file: reading a FIFO named meta.json would block forever)."""
    if not Path(path).is_file():
        return None
    try:  # -sig: a byte-order mark (an editor's "UTF-8 with BOM") made a result "CORRUPTED: not valid JSON"
        return json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested 100,000 deep
        return None


def read_pass(path: Path, key: Any, argvs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The progress of the ``run --all`` pass ``key`` kept in ``path`` (``{"key", "done": {name:
    seconds}, "failed": [names], "argv": {name: argv}, "where": {name: the result's folder name}}``),
    or a new one. A damaged entry is dropped
    and its experiment runs again: a text as seconds failed the pass after it had run every
    experiment, and a text as ``failed`` named its letters as experiments whose claims failed.
    With another ``key`` (a script added to or removed from the pass), what it finished with the
    argv it has now (``argvs``, {name: argv}) is kept: the whole pass ran again, beside its results.
    An unfinished pass of experiments beyond ``argvs`` (its names, ``others``) keeps what it finished."""
    if Path(path).is_dir():  # the first experiment ran, then "[Errno 21] Is a directory", at every retry
        raise ValueError(f"--all: {path} is a folder, and the pass keeps its progress in a file of that name; "
                         "move or remove it, then run the same command again")
    state, argvs = read_json(path), dict(argvs or {})
    if not (isinstance(state, dict) and isinstance(state.get("done"), dict)
            and isinstance(state.get("failed", []), list)):
        return {"key": key, "done": {}, "failed": [], "argv": argvs, "where": {}, "others": []}
    stored = state.get("argv") if isinstance(state.get("argv"), dict) else {}
    stored = {name: _moved_here(argv, path) for name, argv in stored.items()}

    def here(key_: Any) -> Any:  # both sides as if the pass had always run in this folder
        if isinstance(key_, dict) and isinstance(key_.get("argvs"), list):
            return {**key_, "argvs": [_moved_here(argv, path) for argv in key_["argvs"]]}
        return key_
    same = (lambda name: True) if here(state.get("key")) == here(key) else (
        lambda name: name in argvs and stored.get(name) == _moved_here(argvs[name], path))
    # Another pass's experiments that this one does not run are kept with their argv (run A B into the
    # root of an interrupted --all: its end deleted the file, and --all ran A..Z again beside their results).
    kept = (lambda name: argvs and name not in argvs and isinstance(stored.get(name), list))
    done = {name: seconds for name, seconds in state["done"].items() if isinstance(seconds, (int, float))
            and not isinstance(seconds, bool) and 0 <= seconds < float("inf") and (same(name) or kept(name))}
    failed = [n for n in state.get("failed", []) if isinstance(n, str) and (same(n) or kept(n))]
    where = state.get("where") if isinstance(state.get("where"), dict) else {}
    where = {name: folder for name, folder in where.items() if name in done and isinstance(folder, str)
             and folder not in ("", ".", "..") and os.path.basename(folder) == folder}
    return {"key": key, "done": done, "failed": failed, "argv": {**{n: stored[n] for n in done if kept(n)}, **argvs},
            "where": where, "others": sorted(n for n in stored if kept(n))}


def _moved_here(argv: Any, path: Path) -> Any:
    """A stored pass's argv with each ``--out`` (an experiment's folder, kept as an absolute path)
    put in the folder that holds the progress file ``path`` now. The pass's experiments always
    write there, so a folder moved or renamed since (or a clone moved) keeps its pass: the same
    command ran every finished experiment again, each into NAME-DATE beside its result."""
    if not isinstance(argv, list):
        return argv
    root = os.path.abspath(Path(path).parent)
    return [os.path.join(root, os.path.basename(a)) if i and argv[i - 1] == "--out" and isinstance(a, str) else a
            for i, a in enumerate(argv)]


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The ``meta.json`` of a result folder, or None when it has none, it is unreadable or it
    is not a JSON object (a list, a number, ...)."""
    meta = read_json(Path(folder) / "meta.json")
    return meta if isinstance(meta, dict) else None


def is_result(meta: Any) -> bool:
    """Whether a ``meta.json``'s contents are sgd-bench's: the marker, or (a result written
    before the marker existed) the experiment, status and config hash every run has stored."""
    if not isinstance(meta, dict):
        return False
    if meta.get(MARKER[0]) == MARKER[1]:
        return True
    return (isinstance(meta.get("experiment"), str) and isinstance(meta.get("config_hash"), str)
            and meta.get("status") in (STATUS_RUNNING, STATUS_COMPLETE))


MAX_NEW_FOLDERS = 500  # well under Python's recursion limit (1000), which mkdir(parents=True) meets


def check_writable(target: Path, option: str = "--out") -> None:
    """Raises ValueError naming ``option`` unless a folder can be created or written at
    ``target``: no part of the path may be a file or lie inside another result folder, and the
    deepest existing folder must be writable (not read-only, not someone else's)."""
    target = Path(target)
    try:
        os.path.abspath(target)
    except FileNotFoundError:  # a relative path from a folder deleted under the shell: "[Errno 2]", no name
        raise ValueError(f"{option} {target}: the current folder no longer exists (deleted?); cd to a "
                         "folder that exists, or give an absolute path") from None
    try:  # the run computed, then failed writing its records with "'utf-8' codec can't encode"
        os.path.abspath(target).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{option}: the path {os.fsencode(os.path.abspath(target))!r} is not valid UTF-8, "
                         "and a result's files name their folder in UTF-8; choose a UTF-8 name") from None
    try:
        name_max = os.pathconf(target.anchor or ".", "PC_NAME_MAX")
        path_max = os.pathconf(target.anchor or ".", "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    for part in target.parts:  # else exists() or mkdir fails with "[Errno 36] File name too long: ..."
        if len(os.fsencode(part)) > name_max:
            raise ValueError(f"{option}: the folder name {part[:24]}... is {len(os.fsencode(part))} bytes "
                             f"long, and this file system allows at most {name_max}")
    length = len(os.fsencode(os.path.abspath(target)))
    if length > path_max - 256:  # room for what the run writes inside (cells/..., parts/...)
        raise ValueError(f"{option}: the path is {length} bytes long; this file system allows {path_max}, "
                         "and a run writes files up to 256 bytes deeper; choose a shorter path")
    inside = enclosing_result(target)
    if inside is not None:  # report of that result would not list the new one, nor tell them apart
        raise ValueError(f"{option} {target} is inside the result folder {inside}; a run there would "
                         "mix two results; choose a folder outside it")
    existing, missing = target, 0
    while not existing.exists() and existing != existing.parent:
        if _dangling(existing):  # mkdir said "cannot create the folder (File exists)"
            where = "is" if existing == target else f"is inside {existing}, which is"
            raise ValueError(f"{option} {target} {where} a symbolic link to a missing target "
                             f"({os.readlink(existing)}); create the target, or choose another folder")
        existing, missing = existing.parent, missing + 1
    if missing > MAX_NEW_FOLDERS:  # Path.mkdir(parents=True) recurses once per folder: a RecursionError traceback
        raise ValueError(f"{option} {str(target)[:40]}...: would create {missing} nested folders, and a run "
                         f"creates at most {MAX_NEW_FOLDERS} at once; create the outer ones first "
                         "(mkdir -p), or choose a shallower path")
    if not existing.is_dir():
        where = "is" if existing == target else f"is inside {existing}, which is"
        raise ValueError(f"{option} {target} {where} a file, not a folder; choose a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {target}: cannot write in {existing} (read-only or no permission); "
                         "choose a writable folder")


def _dangling(path: Path) -> bool:
    """Whether ``path`` is a symbolic link whose target does not exist (a loop of links is not)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return path.is_symlink()
    except OSError:
        return False
    return False


def enclosing_result(target: Path) -> Path | None:
    """The nearest folder above ``target`` (not ``target`` itself: a run may write its own folder
    again) that is an sgd-bench result, or None."""
    for parent in Path(os.path.abspath(target)).parents:
        if is_result(read_json(parent / "meta.json")):
            return parent
    return None


def _lock_owner(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


def _pid_alive(pid: int) -> bool:
    try:
        with contextlib.suppress(PermissionError):  # alive, someone else's
            os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _try_lock(path: Path) -> int | None:
    """An fd holding the lock on ``path`` (created if needed), or None when another process holds it. Retries
    when the file was replaced between open and lock: two runs never hold locks on two files of one name."""
    while True:
        # O_NOFOLLOW: a symlink by the lock's name must not lead the PID write (and its
        # truncation) to a file elsewhere
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # its holder removed the file as we opened it: lock the new one


def lock_holder(folder: Path) -> str | None:
    """The PID (as written in the lock file) of the live run holding ``folder``'s lock, or None
    when no run holds it. Nothing is touched."""
    path = Path(folder) / LOCK_FILE
    if path.is_symlink() or not path.is_file():
        return None
    fd = _try_lock(path)
    if fd is None:
        return _lock_owner(path)
    os.close(fd)
    return None


def check_unlocked(folder: Path, what: str = "--out") -> None:
    """Raises ValueError when a live run holds ``folder``'s lock (nothing is touched), naming it as ``what``."""
    holder = lock_holder(folder)
    if holder is not None:
        raise ValueError(f"{what} {folder} is in use by another sgd-bench run (pid {holder}); "
                         "wait for it to finish or choose another --out")


@contextlib.contextmanager
def lock(folder: Path, log: Callable[[str], None] = lambda t: print(printable(t), file=sys.stderr), what="--out") -> Iterator[None]:
    """Holds ``folder``'s lock (creating the folder) while the block runs; a second holder gets a ValueError
    that names the first one's PID, and ``folder`` as ``what``: the --out typed, or the result folder inside
    it (a grid's grid-HASH, or sgd-bench run's ROOT/NAME). The lock of a dead process is taken over."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # /proc/x, /sys/x: access() passes as root, the kernel refuses
        raise ValueError(f"--out {folder}: cannot create the folder ({err.strerror or err}); "
                         "choose a writable folder") from None
    path = folder / LOCK_FILE
    if path.is_symlink() or (path.exists() and not path.is_file()):  # a folder, FIFO or link by that name
        raise ValueError(f"{what} {folder}: {LOCK_FILE} there is not a regular file, so it cannot hold "
                         "the run's lock; remove it or choose another --out")
    fd = _try_lock(path)
    if fd is None:
        raise ValueError(f"{what} {folder} is in use by another sgd-bench run (pid {_lock_owner(path)}); "
                         "wait for it to finish or choose another --out")
    if os.fstat(fd).st_nlink > 1:  # a hard link: the PID write below truncated the other file too
        os.close(fd)
        raise ValueError(f"{what} {folder}: {LOCK_FILE} there is a hard link to another file, so writing "
                         "the run's lock would change that file; remove it or choose another --out")
    previous = _lock_owner(path)
    if previous.isdigit() and int(previous) != os.getpid() and not _pid_alive(int(previous)):
        log(f"{folder}: taking over the lock of pid {previous}, which is no longer running")
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD[os.path.abspath(folder)] = fd
    try:
        yield
    finally:
        now = moved_to(folder)  # moved while held: its lock file goes with it, not left stale there
        _HELD.pop(os.path.abspath(folder), None)
        try:
            _settle_replaced(folder, log)  # while held: no other run has started in the folder
        finally:
            # Removed while still held: a run that opened the old file retries on the new one.
            with contextlib.suppress(OSError):
                os.unlink(path if now is None else now / LOCK_FILE)
            os.close(fd)


def replaced(folder: Path) -> Path:
    """Where ``--overwrite`` keeps the result it replaces while the new run in ``folder`` starts."""
    return folder.with_name(f".{folder.name}.replaced")


def _settle_replaced(folder: Path, log: Callable[[str], None]) -> None:
    """Once the run in ``folder`` ends: the result it replaced is removed when the run stored
    something (complete, or cells and parts it resumes from), else put back."""
    aside = replaced(folder)
    if not aside.is_dir() or aside.is_symlink():
        return
    stored = folder.is_dir() and any(p.name not in ("meta.json", LOCK_FILE) for p in folder.iterdir())
    if stored or (read_meta(folder) or {}).get("status") == STATUS_COMPLETE:
        shutil.rmtree(aside, ignore_errors=True)
        return
    shutil.rmtree(folder, ignore_errors=True)
    aside.rename(folder)
    log(f"{folder}: the run stored nothing, so the result --overwrite was to replace is kept")


def output_folder(target: Path, config_hash: str, *, overwrite: bool = False,
                  log: Callable[[str], None] = print, what: str = "--out") -> tuple[Path, bool]:
    """Where a run with ``config_hash`` should write, given the folder it was asked to use.

    Returns ``(folder, resume)``: ``resume`` is True when ``folder`` holds an interrupted run of
    the same config, whose finished parts may be reused (with ``overwrite`` too: the same command
    resumes; ``overwrite`` replaces a finished result, or an interrupted run of another config). Raises ValueError when ``target`` is a
    non-empty folder that is not an sgd-bench result (nothing there is touched).
    """
    target = Path(target)
    check_writable(target)
    if target.name in ("", ".."):  # `--out .` inside a finished result: "PosixPath('.') has an empty
        target = Path(os.path.abspath(target))  # name"; with --overwrite, rmtree emptied it, then a traceback
    from sgd_bench_harness import beside

    left = None if overwrite else beside.interrupted(target, config_hash)  # NAME-DATE, interrupted
    if left is not None:
        log(f"resuming the interrupted run in {left} (config {config_hash}), beside {target}")
        return left, True
    if not target.exists() or not any(p.name != LOCK_FILE for p in target.iterdir()):
        check_unlocked(target, what)
        return target, False
    meta = read_meta(target)
    if not is_result(meta):
        what = "no meta.json" if not (target / "meta.json").exists() else "its meta.json is not sgd-bench's"
        # under `run NAME --out ROOT` and a pass, the folder is ROOT/NAME, not the --out typed: "choose
        # another --out" alone left that folder unnamed as the thing to move
        raise ValueError(f"{target} exists and is not an sgd-bench result folder ({what}), so no run may "
                         "write there: move or remove that folder, or choose another --out")
    check_unlocked(target, what)  # before anything below reads it as interrupted or removes it
    same = meta.get("config_hash") == config_hash
    if meta.get("status") != STATUS_COMPLETE and same:
        # also with --overwrite, which replaces a result: the README's own rebuild command
        # (run --all --overwrite) computed an interrupted experiment's stored parts again
        log(f"resuming the interrupted run in {target} (config {config_hash})")
        return target, True
    if overwrite:
        log(f"--overwrite: replacing the result in {target}")
        if target.is_symlink():
            shutil.rmtree(target)  # refused ("Cannot call rmtree on a symbolic link"), as before
        shutil.rmtree(replaced(target), ignore_errors=True)  # one that a killed run left
        # set aside, not removed: a run refused inside its script (gd_vs_sgd_large_n --sizes that
        # cannot fit) deleted the result and left nothing; ``lock`` settles it when the run ends
        target.rename(replaced(target))
        return target, False
    fresh = beside.fresh(target)
    what = "the same config" if same else f"config {meta.get('config_hash')}"
    log(f"{target} already holds a result ({what}, created {meta.get('created', '?')}); "
        f"writing {fresh} instead (pass --overwrite to replace it)")
    return fresh, False


def moved_to(folder: Path) -> Path | None:
    """Where ``folder``, whose lock this process holds, is now when it was moved since (``mv R R2``
    while a run wrote R/x: the lock's descriptor follows it), or None (not moved, or unknown)."""
    fd = _HELD.get(os.path.abspath(folder))
    if fd is None:
        return None
    with contextlib.suppress(OSError):
        if os.stat(Path(folder) / LOCK_FILE).st_ino == os.fstat(fd).st_ino:
            return None  # still there
    try:
        now = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return None if now.endswith(" (deleted)") or not os.path.isabs(now) else Path(now).parent


def check_still_there(out: Path, drop: tuple[str, ...] = (), keep: Callable[[Path], str] | None = None,
                      log: Callable[[str], None] = lambda text: print(f"sgd-bench: {text}", file=sys.stderr),
                      what: str = "the grid") -> None:
    """Raises ValueError when a grid's folder ``out`` was moved or removed while it ran (its meta.json
    is gone), after removing ``drop``, the files just written into the old path (writing on left a
    fragment there that ``report`` listed). Moved to a known place (``moved_to``): ``keep(place)``
    stores there what the run had just finished (a grid's cell was lost) and returns its words."""
    now = moved_to(out)
    if (out / "meta.json").is_file() and now is None:
        return
    for name in drop:
        (out / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # only when nothing else is there
        out.rmdir()
    if now is not None and keep is not None and (now / "meta.json").is_file():
        log(f"{out} was moved to {now} while {what} ran: {keep(now)} is stored there")
    raise ValueError(f"{out} was moved or removed while {what} ran (its meta.json is gone), so the run stops "
                     f"and writes nothing there; to finish {what}, run the same command again with --out "
                     f"naming the folder that holds {out.name} now")


def check_not_moved(folder: Path, keep: Callable[[Path], str] | None = None, what: str = "the experiment",
                    name: str | None = None) -> None:
    """Raises ValueError when ``folder``, whose lock this process holds, was moved while ``what`` ran
    (``moved_to``): an experiment's run, or a pass's root, went on writing into the old path and re-created
    it. ``keep(new place)`` stores there what was just finished and returns its words. ``name``: what
    sgd-bench run writes under its --out ROOT (ROOT/NAME), or None where --out names ``folder`` itself."""
    now = moved_to(folder)
    if now is None:
        return
    kept = f"; {keep(now)} is stored there" if keep is not None else ""
    with contextlib.suppress(OSError):  # re-created empty by the writes that came after the move
        Path(folder).rmdir()
    # --out: the result itself (a script, a pass's root), or ROOT of sgd-bench run's ROOT/NAME (renamed NAME first)
    back = "" if name is None or now.name == name else f"rename {now} to {now.parent / name}, then "
    raise ValueError(f"{folder} was moved to {now} while {what} ran{kept}; {what} stops and writes nothing more at "
                     f"the old path: {back}run the same command again with --out {now if name is None else now.parent} to finish it")


def mark(folder: Path, status: str, config_hash: str, extra: Mapping[str, Any] | None = None) -> None:
    """Sets ``status`` and ``config_hash`` in the folder's ``meta.json`` (creating it if needed)."""
    from sgd_bench_harness import results

    meta = read_meta(folder) or {}
    meta.update(extra or {})
    meta[MARKER[0]] = MARKER[1]
    meta["status"] = status
    meta["config_hash"] = config_hash
    results.write_json(Path(folder) / "meta.json", meta)
    if status == STATUS_COMPLETE:
        COMPLETED.append(Path(folder))
