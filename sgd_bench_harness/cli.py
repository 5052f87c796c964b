"""The ``sgd-bench`` command line (also ``python -m sgd_bench``): ``list``, ``run``, ``report``, ``env``.

Experiments are the modules registered in ``sgd_bench_harness.experiments`` (or the files of a
folder of one's own, ``$SGD_BENCH_SCRIPTS``); each defines ``NAME``, ``DESCRIPTION`` and ``main(argv)``. ``sgd-bench run`` with no name runs
the default suite; with ``--problem`` and ``--method`` it runs an ad-hoc grid instead
(``sgd_bench_harness.grid``). Bad input exits with status 2 and one line on stderr (an ``--out`` that
cannot be written, and a result folder another run holds, included), an allocation that cannot
fit with 3, a run that wrote its result but whose claims did not all hold with 4
(``--allow-failed-claims``: 0; with several experiments every one runs, then 4), an
interrupted run with 130 (run the same command again to resume it).
``SGD_BENCH_DEBUG=1`` shows full tracebacks instead.

New runs go to the git-ignored ``runs/`` (``experiment.runs_root``); the committed gallery
``results/`` is written only with ``--out results``. ``run --all`` runs every experiment
(``_run_all``: resumable). ``report DIR`` writes a ``summary.html`` per result (``sgd_bench_harness.pages``)
and, unless DIR is itself one result, ``index.md``/``index.html`` over them.

``report`` rewrites only sgd-bench's own files: result folders whose ``meta.json`` is
sgd-bench's (``experiment.is_result``), and ``index.md``/``index.html`` it wrote itself (a
user's own index is refused, exit 2). A result whose records differ from the row count and
checksum stored in its ``meta.json``, or whose ``meta.json`` is empty or not JSON, is listed as
corrupted and not rebuilt, and ``report`` exits with status 1.
"""

from __future__ import annotations

import argparse
import html
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

DEFAULT_SUITE = ("lecture_logreg",)


def scripts_dir() -> Path | None:
    """A folder of one's own experiment scripts (``$SGD_BENCH_SCRIPTS``), or None: the registry."""
    env = os.environ.get("SGD_BENCH_SCRIPTS")
    return Path(env) if env else None


def experiments() -> dict[str, str]:
    """{name: where it comes from} of every experiment: the modules registered in
    ``sgd_bench_harness.experiments``, or the ``*.py`` files of ``$SGD_BENCH_SCRIPTS`` when it is set."""
    folder = scripts_dir()
    if folder is None:
        from sgd_bench_harness import experiments as registry

        return {name: f"{registry.__name__}.{name}" for name in registry.NAMES}
    if not folder.is_dir():
        raise FileNotFoundError(f"no experiment scripts at {folder} (SGD_BENCH_SCRIPTS): not a folder")
    return {p.stem: str(p) for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")}


def load(name: str) -> ModuleType:
    """Imports the experiment ``name``; unknown names list the known ones."""
    known = experiments()
    if name not in known:
        raise ValueError(f"unknown experiment {name!r}; known experiments: {', '.join(known)}")
    if scripts_dir() is None:
        return importlib.import_module(known[name])
    spec = importlib.util.spec_from_file_location(f"sgd_bench_experiments.{name}", known[name])
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a script of one's own (SGD_BENCH_SCRIPTS) with a syntax error, ...
        where = f" (line {err.lineno})" if isinstance(err, SyntaxError) and err.lineno else ""
        raise ValueError(f"experiment script {known[name]} cannot be loaded{where}: "
                         f"{type(err).__name__}: {err}") from None
    return module


def _one_line(err: BaseException) -> str:
    """An error's message on one line, as the exit-2 contract promises (some messages list things)."""
    return " ".join(str(err).split())


def _err(text: str) -> None:
    print(f"sgd-bench: {text}", file=sys.stderr)


# -- run -----------------------------------------------------------------------------------------
def _cmd_run(args) -> int:
    from sgd_bench_harness import results

    results.records_format()  # a bad SGD_BENCH_RECORDS is refused before anything runs
    if args.out is not None and not args.out.strip():
        # Path("") is the current folder: an empty --out (an unset shell variable) would write there.
        raise ValueError("--out must name a folder, got an empty string")
    if args.problem or args.method:
        if args.all:
            raise ValueError("--all runs the experiments; a grid (--problem/--method) is one run")
        if args.experiments:
            raise ValueError("give either experiment names or --problem/--method (a grid), not both")
        return _run_grid(args)
    for option in ("log_every", "key", "block"):
        if getattr(args, option) is not None:
            raise ValueError(f"--{option.replace('_', '-')} applies to grids (--problem/--method) only")
    from sgd_bench_harness import experiment

    if args.all and args.experiments:
        raise ValueError("--all runs every experiment: give either --all or experiment names")
    twice = sorted({n for n in args.experiments if args.experiments.count(n) > 1})
    if twice:  # the second would only write a copy beside the first
        raise ValueError(f"experiment {', '.join(twice)} is named twice; name each experiment once")
    names = all_experiments() if args.all else (args.experiments or list(DEFAULT_SUITE))
    modules = [load(name) for name in names]  # fail on a bad name before running anything
    argvs = []
    for name in names:
        argv = ["--quick"] if args.quick else []
        for option in ("seeds", "steps", "dtype"):
            if getattr(args, option) is not None:
                argv += [f"--{option}", str(getattr(args, option))]
        if args.out is not None:
            argv += ["--out", str(Path(args.out) / name)]
        if args.overwrite:
            argv.append("--overwrite")
        if args.allow_failed_claims:
            argv.append("--allow-failed-claims")
        argvs.append(argv + list(getattr(args, "extra", [])))
    with experiment.checking_only():  # an option the last experiment refuses fails before the first runs
        for module, argv in zip(modules, argvs):
            module.main(argv)
    if args.all:
        return _run_all(args, names, modules, argvs)
    failed = []
    for name, module, argv in zip(names, modules, argvs):
        code = module.main(argv)
        if code == experiment.FAILED_CLAIMS:  # a result with a failed claim: the others still run
            failed.append(name)
        elif code:
            return code
    return _failed_claims_status(failed, len(names))


def _failed_claims_status(failed: list[str], total: int) -> int:
    from sgd_bench_harness import experiment

    if not failed:
        return 0
    if total > 1:
        _err(f"claims failed in {len(failed)} of {total} experiments: {', '.join(failed)}")
    return experiment.FAILED_CLAIMS


# Experiments that measure an accelerator: ``run --all`` leaves them out when JAX sees only a CPU
# (gpu_bench's full size, n = 10^8, is sized for a GPU's memory).
ACCELERATOR_ONLY = ("gpu_bench",)
ALL_STATE = ".sgd-bench-all.json"  # an --all pass in progress: what it finished, and in how long


def all_experiments() -> list[str]:
    """The experiments ``run --all`` runs: every script, less ``ACCELERATOR_ONLY`` on a CPU."""
    import jax

    names = list(experiments())
    if jax.default_backend() == "cpu":
        names = [n for n in names if n not in ACCELERATOR_ONLY]
    return names


def _run_all(args, names, modules, argvs) -> int:
    """Runs every experiment in turn, with a line before and after each. The pass keeps its
    progress in ``OUT/.sgd-bench-all.json``: the same command after an interruption skips the
    experiments this pass finished (and an interrupted experiment resumes its own stored
    parts), so ``--overwrite`` never redoes work of the same pass. The file goes when all are done."""
    import time

    from sgd_bench_harness import experiment, results

    root = Path(args.out) if args.out else experiment.runs_root() / ("_quick" if args.quick else "")
    experiment.check_writable(root)
    state_path = root / ALL_STATE
    key = {"argvs": argvs}
    state = experiment.read_json(state_path)
    if not (isinstance(state, dict) and state.get("key") == key and isinstance(state.get("done"), dict)):
        state = {"key": key, "done": {}}
    left_out = sorted(set(experiments()) - set(names))
    if left_out:
        _err(f"--all leaves out {', '.join(left_out)}: JAX sees no accelerator here (run it by name to force it)")
    total = len(names)
    failed = state.setdefault("failed", [])  # kept with the progress: a resumed pass still reports them
    for i, (name, module, argv) in enumerate(zip(names, modules, argvs), start=1):
        if name in state["done"]:
            _err(f"[{i}/{total}] {name}: finished earlier in this pass ({state['done'][name]:.0f} s), skipped")
            continue
        _err(f"[{i}/{total}] {name}: running")
        started = time.perf_counter()
        code = module.main(argv)
        if code == experiment.FAILED_CLAIMS:
            if name not in failed:
                failed.append(name)
        elif code:
            return code
        state["done"][name] = time.perf_counter() - started
        root.mkdir(parents=True, exist_ok=True)
        results.write_json(state_path, state)
        _err(f"[{i}/{total}] {name}: done in {state['done'][name]:.0f} s")
    seconds = sum(state["done"].values())
    state_path.unlink(missing_ok=True)
    print(f"all {total} experiments done into {root}/: {seconds / 60:.1f} minutes of running "
          "(resumed passes included)")
    return _failed_claims_status(list(failed), total)


def _run_grid(args) -> int:
    import jax

    from sgd_bench.spec_parsing import parse_spec
    from sgd_bench.specs import build_methods
    from sgd_bench_harness import experiment, grid, grid_report, results

    # Once, here: a grid computes in float64 (problems, reference values, 63-bit seed keys),
    # and the library functions it calls leave the global switch to their caller.
    jax.config.update("jax_enable_x64", True)
    if not args.problem:
        raise ValueError("a grid needs --problem (sgd-bench list shows the problems)")
    if not args.method:
        raise ValueError("a grid needs --method, such as --method gd --method sgd:batch=10")
    quick = args.quick
    config = grid.grid_config(
        args.problem, args.method, seeds=args.seeds or (4 if quick else 10),
        steps=args.steps or (100 if quick else 1000), log_every=args.log_every,
        dtype=args.dtype or "float64", key=0 if args.key is None else args.key,
        block=args.block or grid.DEFAULT_BLOCK)
    digest = results.config_hash(grid.KIND, config, dtype=config["dtype"])
    root = Path(args.out) if args.out else experiment.runs_root() / ("_quick" if quick else "")
    experiment.check_writable(root)
    # Everything is checked before the result folder exists, so that a refusal leaves no orphan
    # "running" folder behind: every problem and method is built once (a bad spec fails here),
    # and the memory of the largest cell is estimated before anything compiles.
    for ptext in config["problems"]:
        problem = grid.build_problem(parse_spec(ptext, "--problem"), config["dtype"])
        methods = [build_methods(parse_spec(mtext, "--method"), problem)
                   for mtext in config["methods"]]
        grid.check_resources(config, problem, methods)
        del problem, methods
    out, resume = experiment.output_folder(root / f"grid-{digest}", digest, overwrite=args.overwrite,
                                           log=lambda text: print(text, file=sys.stderr))
    command = "sgd-bench " + " ".join(sys.argv[1:]) if sys.argv and "sgd" in Path(sys.argv[0]).name \
        else None
    with experiment.lock(out):
        table = grid.run_grid(config, out, resume=resume, command=command)
    print(results.text_table(table, grid_report.summary_columns(table)))
    print(f"wrote {out}/ (summary.md, grid.png, records, meta.json)")
    return 0


# -- report --------------------------------------------------------------------------------------
def _checks_line(folder: Path) -> str:
    from sgd_bench_harness import experiment

    checks = experiment.read_json(folder / "checks.json")
    if not isinstance(checks, list) or not checks:
        return "-"
    held = sum(bool(c.get("holds")) for c in checks if isinstance(c, dict))
    return f"{held}/{len(checks)} hold"


def _rebuild(folder: Path, meta: dict) -> str:
    """Rebuilds one result folder's summary and figures from its records, if it knows how."""
    from sgd_bench_harness import grid, grid_report

    if meta.get("kind") == grid.KIND:
        grid_report.report(folder)
        return "rebuilt from records"
    name = meta.get("experiment")
    try:
        module = load(name) if name else None
    except (ValueError, FileNotFoundError):
        module = None
    if module is not None and hasattr(module, "report"):
        module.report(folder)
        return "rebuilt from records"
    return "as written by the run"


# The index files ``report`` writes carry these lines; a file without them is the user's own
# and is never overwritten.
_INDEX_SIGNATURES = {"index.md": "Every result folder under this one, as `sgd-bench report` found it",
                     "index.html": "<title>sgd-bench results</title>"}


def _check_index_is_ours(root: Path) -> None:
    for name, signature in _INDEX_SIGNATURES.items():
        path = root / name
        if path.exists() and not path.is_file():  # a FIFO would block the read below
            raise ValueError(f"{path} is not a regular file, and report writes {name} there; move it, "
                             "or report another folder")
        if path.exists():
            try:
                ours = signature in path.read_text(errors="replace")
            except OSError:
                ours = False
            if not ours:
                raise ValueError(f"{path} was not written by sgd-bench report, which would overwrite it; "
                                 "move it, or report another folder")


def _find_results(root: Path) -> tuple[list[Path], list[str]]:
    """The result folders under ``root`` (``root`` itself when it is one), and a note for each
    folder with a meta.json that is not sgd-bench's (skipped, never rewritten)."""
    from sgd_bench_harness import experiment

    if experiment.is_result(experiment.read_json(root / "meta.json")):
        return [root], []
    # Folders whose name starts with "_" (results/_quick) are scratch: reported only when asked.
    # A grid's cells and a script's parts are pieces of a result, not results.
    found = sorted(p.parent for p in root.rglob("meta.json")
                   if not {"cells", experiment.PARTS} & set(p.relative_to(root).parts)
                   and not any(part.startswith("_") for part in p.relative_to(root).parts))
    folders, notes = [], []
    for folder in found:
        meta = experiment.read_json(folder / "meta.json")
        if experiment.is_result(meta) or _corrupt_meta(folder):
            folders.append(folder)
        else:
            notes.append(f"{folder}: skipped, its meta.json is not an sgd-bench result's")
    return folders, notes


def _corrupt_meta(folder: Path) -> str | None:
    """Why a folder's meta.json is broken when the folder still holds records (a result whose
    meta.json was emptied or cut), or None."""
    from sgd_bench_harness import experiment, results

    if results.find_records(folder) is None:
        return None
    try:
        text = (folder / "meta.json").read_text()
    except OSError as err:
        return f"meta.json cannot be read ({err.strerror})"
    if not text.strip():
        return "meta.json is empty"
    if experiment.read_json(folder / "meta.json") is None:
        return "meta.json is not valid JSON"
    return None


def _cmd_report(args) -> int:
    """Rebuilds every result under the folder and writes the index; exits 1 when a result is
    corrupted (its records differ from the row count and checksum in its meta.json, or its
    meta.json is broken): such a result is listed, loudly, but not rebuilt."""
    from sgd_bench_harness import experiment, pages, results

    root = Path(args.dir) if args.dir else experiment.runs_root()
    if not root.is_dir():
        raise FileNotFoundError(f"no results folder at {root}: run an experiment first (sgd-bench run)")
    folders, notes = _find_results(root)
    single = folders == [root]
    if not single:
        _check_index_is_ours(root)
    for note in notes:
        _err(note)
    if not folders:
        raise FileNotFoundError(f"no results in {root} (no folder with sgd-bench's meta.json)")
    rows, corrupted = [], 0
    for folder in folders:
        meta = experiment.read_meta(folder) or {}
        broken = _corrupt_meta(folder) if not meta else None
        if broken is None and "records" in meta and meta.get("status") == experiment.STATUS_COMPLETE:
            broken = results.verify_records(folder, meta["records"])
        holder = experiment.lock_holder(folder)  # a run writing there now: its files are not final
        busy = None if holder is None else f"not rebuilt: a run is writing it now (pid {holder})"
        if busy:
            how, broken = busy, None
            _err(f"{folder}: {how}")
        elif broken:
            corrupted += 1
            how = f"CORRUPTED, not rebuilt: {broken}"
            _err(f"{folder}: {how}; re-run it to rebuild")
        else:
            try:
                how = _rebuild(folder, meta)
            except Exception as err:  # one broken folder must not stop the index
                if isinstance(err, KeyError):  # stored files without what this version's report reads
                    how = (f"not rebuilt: its stored files lack {err}, so an older version of "
                           f"{meta.get('experiment', 'the script')} wrote them; re-run it to rebuild")
                else:
                    how = f"not rebuilt ({type(err).__name__}: {_one_line(err)})"
                _err(f"{folder}: {how}")
        if not busy and not broken:
            index = None if single else root / "index.html"
            if pages.write_result_page(folder, index) is None and (folder / "summary.md").exists():
                _err(f"{folder}: {pages.PAGE} left as it is: sgd-bench did not write it")
        figures = sorted(p.name for p in folder.glob("*.png"))
        rows.append(dict(result=str(folder.relative_to(root)) if folder != root else folder.name,
                         kind=str(meta.get("kind", "experiment")),
                         status="corrupted" if broken else str(meta.get("status", "?")),
                         created=str(meta.get("created", "?")), commit=str(meta.get("git_commit") or "?")[:12],
                         device=", ".join(map(str, meta.get("devices", [])[:1])) or "?",
                         dtype=meta.get("dtype", "?"), checks=_checks_line(folder), summary=how,
                         _folder=folder, _figures=figures))
        print(f"{rows[-1]['result']}: {how}")
    if single:  # one result folder: its own page only, never index files inside a result
        print(f"wrote {root / pages.PAGE}")
    else:
        _write_index(root, rows)
        print(f"wrote {root / 'index.md'} and {root / 'index.html'} over {len(rows)} result(s)")
    if corrupted:
        _err(f"{corrupted} corrupted result(s): see the lines above")
        return 1
    return 0


def _write_index(root: Path, rows: list[dict]) -> None:
    from sgd_bench_harness import results

    def rel(folder: Path, name: str) -> str:
        return os.path.relpath(folder / name, root)

    md_rows = []
    for r in rows:
        link = f"[{r['result']}]({rel(r['_folder'], 'summary.md')})" if (r["_folder"] / "summary.md").exists() \
            else r["result"]
        md_rows.append({**r, "result": link})
    columns = ["result", "kind", "status", "created", "commit", "device", "dtype", "checks", "summary"]
    text = ("# sgd-bench results\n\nEvery result folder under this one, as `sgd-bench report` found it; "
            "each link opens the run's summary.\n\n" + results.markdown_table(md_rows, columns) + "\n")
    results.write_text(root / "index.md", text)
    cards = []
    for r in rows:
        imgs = "".join(f'<img src="{html.escape(rel(r["_folder"], f))}" alt="{html.escape(f)}">'
                       for f in r["_figures"][:2])
        page = "summary.html" if (r["_folder"] / "summary.html").exists() else "summary.md"
        summary = rel(r["_folder"], page)
        cards.append(
            f'<section><h2><a href="{html.escape(summary)}">{html.escape(r["result"])}</a></h2>'
            f'<p>{html.escape(r["kind"])} · {html.escape(r["status"])} · {html.escape(r["created"])} · '
            f'commit {html.escape(r["commit"])} · {html.escape(r["device"])} · {html.escape(str(r["dtype"]))} · '
            f'checks: {html.escape(r["checks"])}</p>{imgs}</section>')
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>sgd-bench results</title><style>"
            "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
            "section{border-top:1px solid #ddd;padding:.5em 0}img{max-width:49%;margin-right:1%}"
            "p{color:#555;font-size:.9em}</style></head><body><h1>sgd-bench results</h1>"
            + "".join(cards) + "</body></html>\n")
    results.write_text(root / "index.html", page)


# -- list / env ----------------------------------------------------------------------------------
def _cmd_list(args) -> int:
    del args
    import problems
    import sgd_bench
    from sgd_bench import specs

    print("experiments (sgd-bench run NAME):")
    for name in experiments():
        try:
            description = getattr(load(name), "DESCRIPTION", "")
        except ValueError as err:  # one broken script does not hide the others
            description = f"(cannot be loaded: {_one_line(err)})"
        marker = " [default]" if name in DEFAULT_SUITE else ""
        print(f"  {name:<22} {description}{marker}")
    print("problems (--problem NAME[:key=value,...], or problems.get(NAME, **kwargs)):")
    for name, text in problems.describe().items():
        print(f"  {name:<22} {text}")
    print("methods (--method NAME[:key=value,...]):")
    for name, text in specs.method_catalog().items():
        print(f"  {name:<22} {text}")
    print(f"samplings (sampling=...): {', '.join(sgd_bench.SAMPLINGS)}")
    print(f"schedules (sgd:schedule=...): {', '.join(specs.SCHEDULES)}; in Python also "
          "inverse_time(a, k0) and any optax schedule")
    return 0


def _cmd_env(args) -> int:
    del args
    from sgd_bench import memory
    from sgd_bench_harness import results

    env = results.environment()
    free = memory.available_bytes()
    env["free memory"] = "unknown" if free is None else f"{free / 2**30:.1f} GiB on {env['devices'][0]}"
    for key, value in env.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v)
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key:>13}: {value}")
    return 0


# -- entry point ---------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    from sgd_bench_harness.experiment import DTYPES, positive_int

    parser = argparse.ArgumentParser(prog="sgd-bench", description="SGD theory next to measured numbers.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run experiments (default: the default suite) or an ad-hoc grid",
        description="Run experiment scripts by name, or a grid of --problem x --method over seeds. "
                    "With one experiment named, its own options pass on to it "
                    "(sgd-bench run gd_vs_sgd_large_n --sizes 10000 100000). "
                    "Example: sgd-bench run --problem lecture-logreg --method gd "
                    "--method sgd:step=0.1,batch=10 --method optax:adam,lr=1e-3 --seeds 100")
    run.add_argument("experiments", nargs="*", help=f"experiment names (default: {' '.join(DEFAULT_SUITE)})")
    run.add_argument("--all", action="store_true", help="every experiment in turn, with a line per "
                     "experiment; the same command again resumes an interrupted pass (gpu_bench only "
                     "when JAX sees an accelerator)")
    run.add_argument("--quick", action="store_true", help="a seconds-long run into runs/_quick/")
    run.add_argument("--seeds", type=positive_int, help="seeds per method")
    run.add_argument("--steps", type=positive_int, help="steps per run")
    run.add_argument("--dtype", choices=DTYPES, help="floating-point type of data and iterates")
    run.add_argument("--out", help="output root folder (experiment NAME writes OUT/NAME; default runs/, "
                     "git-ignored; --out results writes into the committed gallery)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing result instead of "
                     "writing a new folder beside it")
    run.add_argument("--allow-failed-claims", action="store_true",
                     help="exit 0 when an experiment's claim fails (default: every experiment runs and "
                          "writes its result, then the exit status is 4)")
    g = run.add_argument_group("grid (instead of experiment names)")
    g.add_argument("--problem", action="append", metavar="SPEC",
                   help="problem NAME[:key=value,...] (repeatable), e.g. logreg:n=10000,d=20")
    g.add_argument("--method", action="append", metavar="SPEC",
                   help="method NAME[:key=value,...] (repeatable), e.g. sgd:step=0.1,batch=10 or optax:adam,lr=1e-3")
    g.add_argument("--log-every", type=positive_int, help="steps between logged metrics (default steps/100)")
    g.add_argument("--key", type=int, help="PRNG seed of the seed keys (default 0)")
    g.add_argument("--block", type=positive_int, help="seeds per cell, the unit of resumption (default 32)")
    run.set_defaults(func=_cmd_run)
    report = sub.add_parser("report", help="rebuild summaries and figures from stored records, and an index",
                            description="Rebuild summary.md, summary.html and figures from stored records "
                                        "(nothing is re-run), then write index.md and index.html over all "
                                        "results of the folder.")
    report.add_argument("dir", nargs="?", help="a folder of results (writes index.md and index.html there), "
                        "or one result (its summary.html only); default: runs/, where new runs go; "
                        "results/ is the committed gallery")
    report.set_defaults(func=_cmd_report)
    sub.add_parser("list", help="list experiments, problems, methods and schedules").set_defaults(func=_cmd_list)
    sub.add_parser("env", help="show versions, devices, precision and free memory").set_defaults(func=_cmd_env)
    return parser


def main(argv=None) -> int:
    """Runs the command line; returns the exit status."""
    from sgd_bench import progress
    from sgd_bench_harness import compile_cache

    compile_cache.enable()  # SGD_BENCH_COMPILATION_CACHE=0 turns it off

    argv = sys.argv[1:] if argv is None else list(argv)
    named = [a for a in argv[1:] if a in experiments()]
    if argv[:1] == ["run"] and len(named) == 1 and ({"-h", "--help"} & set(argv)):
        try:
            load(named[0]).main(["--help"])  # the experiment's own help, its options included
        except SystemExit:
            pass
        print(f"\nThrough sgd-bench run, --out DIR is a root folder: this experiment writes DIR/{named[0]}.")
        return 0
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    # An experiment's own options (gd_vs_sgd_large_n --sizes, gpu_bench --n) go on to its script,
    # which validates them, when exactly one experiment is named.
    if extra and not (args.command == "run" and len(args.experiments) == 1
                      and not (args.problem or args.method)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}"
                     + (" (an experiment's own options need exactly one experiment named)"
                        if args.command == "run" else ""))
    args.extra = extra
    with progress.mode("auto"):  # bars on a terminal, for this command only
        return _dispatch(args)


def _dispatch(args) -> int:
    """Runs the parsed command; an error of the input or the environment is one line on stderr
    and an exit status (2, or 3 for memory), not a traceback."""
    if os.environ.get("SGD_BENCH_DEBUG"):  # full tracebacks, for bug reports
        return args.func(args)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as err:  # OSError: a path given that cannot be used
        _err(f"error: {_one_line(err)}")
        return 2
    except MemoryError as err:
        _err(f"error: {_one_line(err)}")
        return 3
    except RuntimeError as err:
        if "Unable to initialize backend" not in str(err):
            raise
        # JAX_PLATFORMS=bogus, or a platform this machine lacks: the environment, not a bug
        _err(f"error: JAX cannot start (JAX_PLATFORMS={os.environ.get('JAX_PLATFORMS', '')!r}): "
             f"{_one_line(err)}")
        return 2
    except KeyboardInterrupt:
        _err("interrupted; finished cells are stored, so the same command resumes the run")
        return 130
