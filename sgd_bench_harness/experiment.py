"""The command line every experiment shares, and how a run stores, checks and reports what it measured.

An experiment script defines ``NAME``, ``DESCRIPTION``, ``FULL`` and ``QUICK`` configs and
``run(config, out)``, and hands its command line to ``experiment.main``::

    def main(argv=None) -> int:
        return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                               overrides={"seeds": "seeds", "steps": "steps"})

``overrides`` says which of ``--seeds``, ``--steps`` and ``--dtype`` the experiment takes and
how each changes its config: a config key to set, or ``fn(config, value) -> config``. An option
the experiment does not take is refused with a one-line reason (exit code 2), never ignored.

Where a run writes, what is sgd-bench's and the one-run-per-folder lock are
``sgd_bench_harness.folders``. A folder whose run was interrupted with the same config hash is
resumed in place: the grid runner skips its finished cells, and an experiment skips the pieces of
its run it stored with ``part`` (an experiment without parts runs again there).

Every script splits its work in two: ``run`` computes and stores what its figures and summary
need (``save``: tidy records, ``meta.json``, ``checks.json``), then calls ``report(out)``, which
draws the figures and writes ``summary.md`` from the stored files alone (``load``, ``close``).
``sgd-bench report`` calls the same ``report`` to rebuild a result without re-running it.

The records' row count and SHA-256 go into ``meta.json`` (``"records"``) with ``save``, and
``sgd-bench report`` checks them.

A claim that fails is a result, not an error: the run writes its folder, prints the claim as
FAIL and is marked complete, then exits with status 4 (``FAILED_CLAIMS``) so that scripts and
CI can tell. A claim the run could not evaluate (``holds`` null with its reason in ``skipped``;
SKIP, ``check_words.verdict``) neither holds nor fails. ``--allow-failed-claims`` exits 0
instead, for exploratory runs (other sizes, seeds or steps than the claims were written for); the
quick runs of the test suite use it and check the claims they mean to themselves.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import hashlib
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

from sgd_bench_harness import cleanup, folders, work
from sgd_bench_harness.check_words import MARKS, check_line, check_lines, readable, verdict  # noqa: F401
# the option types, also reached as experiment.positive_int etc. by the experiments' own options
from sgd_bench_harness.arg_types import (DTYPES, Parser, abbreviated, array_length, dtype_name, given_twice, note_repeats,  # noqa: F401
                                         folder_path, integer, number, positive_int, printable, step_count)

OPTIONS = ("seeds", "steps", "dtype")
FAILED_CLAIMS = 4  # the exit status of a run that wrote its result but some claim of it failed


def _checkout() -> Path | None:
    """The repository this package runs from (an editable install of a clone), or None (a wheel)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "sgd_bench").is_dir() else None


def results_root() -> Path:
    """The committed gallery ``results/`` (written only with ``--out results``): the repository's,
    or ``./results`` when sgd-bench is installed from a wheel."""
    return (_checkout() or Path.cwd()) / "results"


def runs_root() -> Path:
    """Where new runs go by default: the repository's git-ignored ``runs/`` folder (``runs/_quick/``
    for ``--quick``), so that running the README's commands never dirties a clone; ``./runs`` when
    sgd-bench is installed from a wheel. Committing a run into the gallery is a deliberate
    ``--out results``."""
    return (_checkout() or Path.cwd()) / "runs"


# True only inside ``checking_only``: a context variable, so the setting ends with the caller's block.
_CHECKING = contextvars.ContextVar("sgd_bench_checking_only", default=False)


CHECKED: dict[str, str] = {}  # experiment -> the config hash its checked argv runs (a pass compares)
TAKES: dict[str, tuple[str, ...]] = {}  # experiment -> which of OPTIONS it takes (run --all passes them on)


@contextlib.contextmanager
def checking_only() -> Iterator[None]:
    """Within this block ``main`` parses and validates its arguments, then returns 0 without
    running (noting its config hash in ``CHECKED`` and which of OPTIONS it takes in ``TAKES``); the
    CLI checks every named experiment this way before running the first one."""
    CHECKED.clear()
    TAKES.clear()
    token = _CHECKING.set(True)
    try:
        yield
    finally:
        _CHECKING.reset(token)


# None, unless ``sgd-bench run`` runs the experiment: its --out ROOT is then the folder above ROOT/NAME, and
# this is NAME ("" until ``main`` names it), where ``python scripts/NAME.py --out X`` names the result itself.
_UNDER_RUN: contextvars.ContextVar[str | None] = contextvars.ContextVar("sgd_bench_under_run", default=None)


@contextlib.contextmanager
def under_run() -> Iterator[None]:
    """Within this block ``main`` is run by ``sgd-bench run``, whose --out names the folder above the result."""
    token = _UNDER_RUN.set("")
    try:
        yield
    finally:
        _UNDER_RUN.reset(token)


def _check_not_moved(out: Path, keep: Callable[[Path], str] | None = None) -> None:
    """``folders.check_not_moved`` with the --out of the way the run was started (see ``under_run``)."""
    folders.check_not_moved(out, keep=keep, name=_UNDER_RUN.get())


PARTS = "parts"  # a run's finished pieces (``part``), kept until the run is complete
PART_STEM = 200  # the longest file name of a part, less ".json" and the temporary name's extra


def part(out: Path, label: str, compute: Callable[[], Any],
         log: Callable[[str], None] = lambda text: print(text, file=sys.stderr)) -> Any:
    """One resumable piece of an experiment's run (a problem size, a problem, ...).

    The first time, ``compute()`` runs and its JSON-able result is stored in
    ``out/parts/<label>.json``; an interrupted run resumed in the same folder (``main`` resumes
    only a run of the same config hash) reads it back instead of computing it again. Either way
    the value returned is the stored JSON: tuples come back as lists, NumPy scalars as Python
    numbers, floats (NaN included) exactly. ``main`` removes the parts once the run is complete, and
    those of a result another experiment's ``run`` stored inside its folder (gpu_bench's ``scaling/``).
    """
    from sgd_bench_harness import results

    stem = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", label)
    if len(stem) > PART_STEM:  # a file name has at most 255 bytes: a long label is stored under
        # its start and a digest (the label inside the file says which piece it is, as before)
        stem = f"{stem[:PART_STEM - 17]}-{hashlib.sha256(label.encode()).hexdigest()[:16]}"
    path = Path(out) / PARTS / (stem + ".json")
    stored = folders.read_json(path)
    if isinstance(stored, dict) and stored.get("label") == label:
        log(f"{label}: stored by the interrupted run, skipped")
        return stored["value"]
    value = compute()
    _check_not_moved(out, keep=lambda now: results.write_json(now / PARTS / path.name, {
        "label": label, "value": value}) or f"its finished piece {label!r}")  # not into a re-created old path
    results.write_json(path, {"label": label, "value": value})
    return folders.read_json(path)["value"]  # as a resumed run would see it, so both runs go on alike


class Stored(NamedTuple):
    """What a run stored for its report: the tidy records, ``meta.json`` and ``checks.json``."""
    rows: list[dict[str, Any]]
    meta: dict[str, Any]
    checks: list[dict[str, Any]]


def save(out: Path, *, rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any],
         checks: Sequence[Mapping[str, Any]]) -> None:
    """Writes the records, ``meta.json`` and ``checks.json`` that ``report`` reads back. The
    ``status`` and ``config_hash`` that ``main`` marked in ``meta.json`` are kept."""
    from sgd_bench_harness import results
    from sgd_bench_harness import records

    out = Path(out)
    _check_not_moved(out)  # moved while it ran: its records went into a re-created old path
    previous = folders.read_meta(out) or {}
    meta = dict(meta)
    for key in ("status", "config_hash", folders.MARKER[0]):
        if key in previous:
            meta.setdefault(key, previous[key])
    rows = list(rows)
    written = records.write_records(out / "records", rows)
    meta["records"] = records.records_digest(written, len(rows))
    results.write_json(out / "checks.json", list(checks))
    results.write_json(out / "meta.json", meta)  # last: it says which run the files belong to


def load(out: Path) -> Stored:
    """The records, meta and checks a run stored in ``out``; FileNotFoundError naming what is
    missing when the folder is not a finished run's."""
    from sgd_bench_harness import records

    out = Path(out)
    meta, checks = folders.read_meta(out), folders.read_json(out / "checks.json")
    if meta is None or checks is None or records.find_records(out) is None:
        missing = [f for f, ok in (("meta.json", meta is not None), ("checks.json", checks is not None),
                                   ("records", records.find_records(out) is not None)) if not ok]
        raise FileNotFoundError(f"{out} lacks {', '.join(missing)}: it holds no stored run to report "
                                "(run the experiment again)")
    return Stored(records.read_records(out), meta, checks)


def open_report(out: Path) -> Stored:
    """The start of every ``report``: the file-only matplotlib backend and the house style, then
    what the run stored (``load``)."""
    import matplotlib

    matplotlib.use("Agg")  # report writes files; it must work without a display
    from sgd_bench_harness import plots

    plots.style()
    return load(out)


def one_line(err: BaseException) -> str:
    """An error's message on one line, as the exit-2 contract promises (some messages list things)."""
    text = printable(" ".join(str(err).split()))  # an ESC in a typed path: shown as \\x1b, not obeyed
    if isinstance(err, FloatingPointError):  # JAX_DEBUG_NANS=1 stopped the first diverged seed: a traceback
        text += ("; JAX_DEBUG_NANS or JAX_DEBUG_INFS stops a run at its first NaN or inf, and a diverged seed "
                 "is one that sgd-bench records and flags: unset them, then run the same command again to resume")
    return text


def say(text: str) -> None:
    """One line on stderr, prefixed with the command's name (here, not in ``report``, so that
    the command line prints it without importing what reports need)."""
    print(f"sgd-bench: {printable(text)}", file=sys.stderr)  # one line, whatever a typed path holds


def close(out: Path, text: str, *, checks: Sequence[Mapping[str, Any]], echo: bool = False,
          header: str | None = None, tables: Sequence[tuple[Sequence[Mapping[str, Any]], Sequence[str]]] = (),
          wall: float | None = None) -> None:
    """Writes ``summary.md``; with ``echo`` (at the end of a run) also prints ``header``, the
    ``(rows, columns)`` tables, a PASS/FAIL line per check and where the result went."""
    from sgd_bench_harness import results

    results.write_text(Path(out) / "summary.md", text)
    if not echo:
        return
    if header:
        print(f"\n{header}")
    for rows, columns in tables:
        print(results.text_table(rows, list(columns)))
        print()
    for c in checks:
        print(f"[{MARKS[verdict(c)][1]}] {check_line(c)}")
    print(f"wrote {results.printable(out)}/" + ("" if wall is None else f" in {wall:.1f} s"))  # one line


def at_least(option: str, minimum: int | Callable[[dict], int], why: str, key: str | None = None,
             then: Callable[[dict, int], dict] | None = None) -> Callable[[dict, int], dict]:
    """An ``overrides`` entry: ``--OPTION`` must be at least ``minimum`` (a number, or a function
    of the config; ``why`` goes into the refusal), then sets ``config[key or option]``, or
    ``then(config, value) -> config`` when the value goes somewhere deeper."""
    def apply(config: dict, value: int) -> dict:
        least = minimum(config) if callable(minimum) else minimum
        if value < least:
            raise ValueError(f"--{option} must be >= {least} ({why})")
        return then(config, value) if then is not None else {**config, key or option: value}
    return apply


def in_each(entries: str, key: str) -> Callable[[dict, Any], dict]:
    """An override's ``then`` for a config that lists its runs: sets ``key`` to the value in every
    entry of the tuple ``config[entries]`` (``--seeds`` for each problem, each method, ...)."""
    return lambda config, value: {**config, entries: tuple(dict(e, **{key: value}) for e in config[entries])}


def parser(name: str, doc: str | None, folder: str | None = None,
           takes: tuple[str, ...] | None = None,
           options: Mapping[str, Mapping[str, Any]] | None = None) -> argparse.ArgumentParser:
    """The argument parser every experiment shares. Options outside ``takes`` (default: all)
    are still parsed, so that they can be refused with a reason, but ``--help`` hides them.
    ``options`` adds a script's own: ``{name: add_argument keywords}`` for ``--name``."""
    summary = (doc or name).strip().split("\n\n")[0]
    p = note_repeats(Parser(prog=f"sgd-bench run {name}", description=summary))
    p.add_argument("--quick", action="store_true", help="a seconds-long run into runs/_quick/")
    def shown(option, text):
        return text if takes is None or option in takes else argparse.SUPPRESS

    # bounded here, as typed: past the bounds a run failed inside NumPy or the engine, naming neither
    p.add_argument("--seeds", type=array_length, help=shown("seeds", "seeds per method"))
    p.add_argument("--steps", type=step_count, help=shown("steps", "steps per run"))
    p.add_argument("--dtype", type=dtype_name, help=shown("dtype", "float32 or float64"))
    for option, kwargs in (options or {}).items():
        p.add_argument(f"--{option}", **kwargs)
    p.add_argument("--out", type=folder_path, help=f"output folder (default runs/{folder or name}; "
                   f"results/{folder or name} is the committed gallery)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing result in the output folder instead of writing a new one")
    p.add_argument("--no-work-limit", action="store_true",
                   help=f"run even when the options ask for over {work.MAX_FACTOR:,}x the full run's work")
    p.add_argument("--allow-failed-claims", action="store_true",
                   help=f"exit 0 even when a claim fails (default: the result is written, then the run "
                        f"exits with status {FAILED_CLAIMS}); for exploratory runs")
    return p


def failed_claims(out: Path) -> tuple[list[str], int]:
    """(the claims of ``out/checks.json`` that do not hold, how many claims it has); a claim not
    evaluated (``verdict`` "skipped") is not a failed one."""
    checks = folders.read_json(Path(out) / "checks.json")
    if not isinstance(checks, list):
        return [], 0
    failed = [str(c.get("claim", "?")) for c in checks if isinstance(c, dict) and verdict(c) == "fails"]
    return failed, len(checks)


def apply_overrides(config: dict, args: argparse.Namespace, overrides: Mapping[str, Any],
                    name: str) -> dict:
    """``config`` with the given ``--seeds/--steps/--dtype`` applied; raises ValueError for an
    option the experiment does not take."""
    config = dict(config)
    for option in (*OPTIONS, *(o for o in overrides if o not in OPTIONS)):
        value = getattr(args, option, None)
        if value is None:
            continue
        how = overrides.get(option)
        if how is None:
            takes = ", ".join(f"--{o}" for o in OPTIONS if o in overrides) or "none of them"
            raise ValueError(f"experiment {name} does not take --{option} (it takes {takes})")
        config = dict(how(config, value)) if callable(how) else {**config, how: value}
    if getattr(args, "steps", None) is not None and isinstance(config.get("log_every"), int) \
            and isinstance(config.get("steps"), int) and config["steps"] < config["log_every"]:
        # refused here, not by the runner after the folder exists ("log_every must be ...")
        raise ValueError(f"--steps must be >= {config['log_every']} (experiment {name} logs every "
                         f"{config['log_every']} steps), got {config['steps']}")
    return config


def main(argv, *, name: str, doc: str | None, full: Mapping[str, Any], quick: Mapping[str, Any],
         run: Callable[[dict, Path], Any], overrides: Mapping[str, Any] | None = None,
         dtype_key: str = "dtype", folder: str | None = None,
         options: Mapping[str, Mapping[str, Any]] | None = None, grows: Mapping[str, int] | None = None) -> int:
    """Parses ``argv``, picks the output folder and calls ``run(config, out)``; returns 0, or
    ``FAILED_CLAIMS`` (4) when a claim of the finished run fails and ``--allow-failed-claims``
    was not given.

    ``options`` are the script's own command-line options, ``{name: add_argument keywords}``;
    ``overrides[name]`` says how each changes the config, as for the shared ones; ``grows``, those of
    them the work grows with, for the estimate said before the run (``work.check``).

    The default output folder is ``runs/<folder or name>`` (``runs/_quick/...`` with
    ``--quick``), git-ignored; the committed gallery is written only with ``--out results/...``.

    Bad options exit with status 2 and a one-line reason. The run's ``meta.json`` is marked
    "running" before and "complete" after, with the config hash that keys it.
    """
    from sgd_bench import progress
    from sgd_bench_harness import compile_cache, results
    from sgd_bench_harness import records

    compile_cache.enable()  # a script run directly caches its programs too (off: SGD_BENCH_COMPILATION_CACHE=0)
    p = parser(name, doc, folder, takes=tuple(overrides or {}), options=options)
    if _CHECKING.get():
        TAKES[name] = tuple(o for o in OPTIONS if o in (overrides or {}))
    args = p.parse_args(argv)
    for line in [] if _CHECKING.get() else given_twice(args):  # said once, by the run
        say(line)
    try:
        config = apply_overrides(dict(quick if args.quick else full), args, overrides or {}, name)
        work.check(name, full, args, lambda only: apply_overrides(dict(full), only, overrides or {}, name),
                   say=(lambda text: None) if _CHECKING.get() else say,  # said once, by the run
                   limit=not args.no_work_limit, grows=grows)
    except ValueError as err:
        p.error(str(err))
    default = runs_root() / ("_quick" if args.quick else "") / (folder or name)
    try:
        records.records_format()  # a bad SGD_BENCH_RECORDS fails here, not after the run
        progress.forced()  # and a bad SGD_BENCH_PROGRESS here, not inside the run (a traceback)
    except ValueError as err:
        p.error(str(err))
    digest = results.config_hash(name, config, dtype=str(config.get(dtype_key, "")))
    if _CHECKING.get():
        try:
            folders.check_writable(args.out or default)
        except ValueError as err:
            p.error(str(err))
        CHECKED[name] = digest
        return 0
    try:
        what = "--out" if args.out and _UNDER_RUN.get() is None else "the result folder"  # run's ROOT/NAME: not typed
        out, resume = folders.output_folder(args.out or default, digest, overwrite=args.overwrite, what=what,
                                    log=lambda text: print(printable(text), file=sys.stderr))
    except ValueError as err:
        p.error(str(err))
    with contextlib.ExitStack() as held:
        # main(argv) from Python records its argv as the script's (not sys.argv); under sgd-bench run, the command's
        held.enter_context(results.recording_command(
            None if argv is None else ["python", f"scripts/{name}.py", *argv], replace=False))
        made = cleanup.outermost_missing(Path(out))  # what this run creates, removed again if it refuses
        held.callback(_UNDER_RUN.reset, _UNDER_RUN.set(None if _UNDER_RUN.get() is None else name))
        held.push(lambda kind, err, tb: _stored_in(err, out))  # a Ctrl-C says what is stored there
        try:
            held.enter_context(folders.lock(out, what=what))
        except ValueError as err:
            p.error(str(err))
        folders.mark(out, folders.STATUS_RUNNING, digest, {"experiment": name, "config": config})
        try:
            with progress.mode("auto"):  # bars on a terminal, also when a script is run directly
                run(config, out)
        except (ValueError, TypeError, MemoryError):
            if not resume:
                cleanup.discard_if_empty(out, made)
            raise
        _check_not_moved(out)
        # and the parts of a result inside it, which another experiment's run stored (gpu_bench's scaling/)
        for parts in (out / PARTS, *(p / PARTS for p in out.iterdir() if not p.is_symlink() and (p / "meta.json").is_file())):
            shutil.rmtree(parts, ignore_errors=True)
        folders.mark(out, folders.STATUS_COMPLETE, digest)
    failed, total = failed_claims(out)
    if failed and not args.allow_failed_claims:
        print(f"sgd-bench: {len(failed)} of {total} claims of {name} failed (FAIL above; written to "
              f"{printable(out)}/); exit status {FAILED_CLAIMS} (--allow-failed-claims exits 0)", file=sys.stderr)
        return FAILED_CLAIMS
    return 0


def _stored_in(err: BaseException | None, out: Path) -> None:
    """Names the run's folder on a Ctrl-C (the innermost run's, when runs nest), for its words."""
    if isinstance(err, KeyboardInterrupt) and not hasattr(err, "folder"):
        err.folder = out
