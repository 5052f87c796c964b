"""The ``sgd-bench`` command line (also ``python -m sgd_bench``): ``list``, ``run``, ``report``, ``env``.

Experiments are the modules registered in ``sgd_bench_harness.experiments`` (or the files of a
folder of one's own, ``$SGD_BENCH_SCRIPTS``); each defines ``NAME``, ``DESCRIPTION`` and
``main(argv)``. ``sgd-bench run`` with no name runs the lecture experiment; with ``--problem`` and
``--method`` it runs an ad-hoc grid instead (``sgd_bench_harness.grid``). Bad input (a bad JAX_*
variable, an ``--out`` that cannot be written, a result folder another run holds, included) exits
with status 2 and one line on stderr, an allocation that cannot fit or a full disk with 3, a run
that wrote its result but whose claims did not all hold with 4 (``--allow-failed-claims``: 0; with
several experiments every one runs, then 4), an interrupted run with 130, or 143 for a SIGTERM (run the
same command again to resume it); output cut off by its reader (``sgd-bench list | head``) ends silently with 141, as
the shell's tools do (``run`` first finishes its run, quietly, and marks it complete). ``SGD_BENCH_DEBUG=1`` shows full tracebacks instead.

New runs go to the git-ignored ``runs/`` (``experiment.runs_root``); the committed gallery
``results/`` is written only with ``--out results``. ``run --all`` runs every experiment
(``_run_all``: resumable). ``report DIR`` (``sgd_bench_harness.report``) writes a ``summary.html``
per result (``sgd_bench_harness.pages``) and, unless DIR is itself one result,
``index.md``/``index.html`` over them.

``report`` rewrites only sgd-bench's own files: result folders whose ``meta.json`` is
sgd-bench's (``folders.is_result``), and ``index.md``/``index.html`` it wrote itself (a
user's own index is refused, exit 2). A result whose records differ from the row count and
checksum stored in its ``meta.json``, whose ``meta.json`` is empty or not JSON, or whose ``checks.json``
is not a list of checks, is listed as corrupted and not rebuilt, and ``report`` exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import traceback
from pathlib import Path

# Only what every command needs: the rest is imported per command (--help needs no JAX).
from sgd_bench_harness import arg_types, interrupts, passes, run_words, script_env, streams
from sgd_bench_harness.experiment import one_line, say
from sgd_bench_harness.experiments import description, experiments, load
from sgd_bench_harness.passes import ALL_STATE  # noqa: F401  (the pass's progress file, for callers)

DEFAULT_SUITE = ("lecture_logreg",)


# -- run -----------------------------------------------------------------------------------------
def _cmd_run(args) -> int:
    from sgd_bench import progress
    from sgd_bench_harness import records
    from sgd_bench_harness.arg_types import folder_path

    records.records_format()  # a bad SGD_BENCH_RECORDS is refused before anything runs
    progress.forced()  # and so is a bad SGD_BENCH_PROGRESS
    counts = {o: getattr(args, o) for o in ("seeds", "steps") if getattr(args, o) is not None}
    typed = {o: getattr(v, "text", str(v)) for o, v in counts.items()}  # as typed (1e19), for the experiments
    args.seeds, args.steps = (None if v is None else int(v) for v in (args.seeds, args.steps))  # plain ints
    if args.out is not None and not args.out.strip():  # Path("") is the current folder: an unset variable
        given = f"only white space, {args.out!r}" if args.out else "an empty string"  # a tab, a no-break space
        raise ValueError(f"--out must name a folder, got {given}")
    if args.out is not None:  # --out=~/runs: the shell leaves the ~ of such a word (arg_types.folder_path)
        try:
            args.out = str(folder_path(args.out))
        except ValueError as err:  # ~nosuchuser/x
            raise ValueError(f"--out {err}") from None
    if args.problem or args.method:
        if args.all:
            raise ValueError("--all runs the experiments; a grid (--problem/--method) is one run")
        if args.experiments:
            raise ValueError(run_words.BOTH)
        return _run_grid(args)
    for option in ("log_every", "key", "block", "rise_factor"):
        if getattr(args, option) is not None:
            raise ValueError(f"--{option.replace('_', '-')} applies to grids (--problem/--method) only")
    from sgd_bench_harness import experiment

    if args.all and args.experiments:
        raise ValueError("--all runs every experiment: give either --all or experiment names")
    twice = sorted({n for n in args.experiments if args.experiments.count(n) > 1})
    if twice:  # the second would only write a copy beside the first
        raise ValueError(f"experiment {', '.join(twice)} is named twice; name each experiment once")
    names = passes.all_experiments() if args.all else (args.experiments or list(DEFAULT_SUITE))
    modules = [load(name) for name in names]  # fail on a bad name before running anything
    # as typed (--seeds 1e19), so that an experiment's refusal echoes it; a pass keys the number (passes.py)
    argvs, given = [], [(f"--{o}", typed.get(o, str(getattr(args, o)))) for o in ("seeds", "steps", "dtype")
                        if getattr(args, o) is not None]
    for name in names:
        argv = ["--quick"] if args.quick else []
        if not args.all:  # --all's go to the experiments that take them (passes.options_for_all)
            argv += [word for pair in given for word in pair]
        if args.out is not None:  # --out=-y: "-y/NAME" read by the experiment as an option ("expected one argument")
            out = str(Path(args.out) / name)
            argv += ["--out", os.path.join(".", out) if out.startswith("-") else out]
        if args.overwrite:
            argv.append("--overwrite")
        if args.allow_failed_claims:
            argv.append("--allow-failed-claims")
        if args.no_work_limit:  # a pass's (run_words.gathered); one experiment's goes on with its own options
            argv.append(passes.NO_LIMIT)
        argvs.append(argv + list(getattr(args, "extra", [])))
    if args.all and given:
        argvs = passes.options_for_all(names, modules, argvs, given, _checks_only)
    with experiment.checking_only():  # an option the last experiment refuses fails before the first runs
        for module, argv in zip(modules, argvs):
            if _checks_only(module):
                module.main(argv)
    with experiment.under_run():  # --out is the root of ROOT/NAME (a moved folder's hint says so)
        if args.all or len(names) > 1:  # a pass, which the same command resumes (passes.py)
            root = Path(args.out) if args.out else experiment.runs_root() / ("_quick" if args.quick else "")
            return passes.run_all(root, names, modules, argvs, every=args.all)
        return passes.exit_status(names[0], modules[0].main(argvs[0]))  # 0, FAILED_CLAIMS (4), or another


def _checks_only(module) -> bool:
    """Whether ``module.main`` only checks its arguments under ``experiment.checking_only``: an
    experiment module (FULL, QUICK and run(config, out), run by experiment.main). A script of
    one's own with a bare main(argv) would run there for real, and then again."""
    return hasattr(module, "FULL") and hasattr(module, "QUICK") and callable(getattr(module, "run", None))


def _run_grid(args) -> int:
    import jax

    from sgd_bench.spec_parsing import parse_spec
    from sgd_bench.specs import build_methods
    from sgd_bench_harness import experiment, folders, grid, grid_report, results, spec_identity, work

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
        block=args.block or grid.DEFAULT_BLOCK, rise_factor=args.rise_factor)
    digest = results.config_hash(grid.KIND, config, dtype=config["dtype"])
    root = Path(args.out) if args.out else experiment.runs_root() / ("_quick" if quick else "")
    folders.check_writable(root)
    # Everything is checked before the result folder exists, so that a refusal leaves no orphan
    # "running" folder behind: every problem and method is built once (a bad spec fails here),
    # and the memory of the largest cell is estimated before anything compiles.
    same, known = spec_identity.MethodFingerprints(config["methods"]), {}
    for ptext in config["problems"]:
        problem = grid.build_problem(parse_spec(ptext, "--problem"), config["dtype"])
        constants = work.said_constants(problem, ptext, say)  # a line first: it may take minutes
        methods = [build_methods(parse_spec(mtext, "--method"), problem, constants)
                   for mtext in config["methods"]]
        known[ptext] = constants._values  # computed once, not again by the run
        same.add(methods)
        grid.check_steps(config, methods)
        grid.check_resources(config, problem, methods)
        del problem, methods
    same.check()  # sgd:step=0.1 and sgd:step=0.1,batch=1: one method, run twice
    work.grid(config, say, limit=not getattr(args, "no_work_limit", False))  # after memory: exit 3 first
    what = "the grid's folder"  # inside --out: "--out runs/grid-HASH is in use" named a folder never typed
    out, resume = folders.output_folder(root / f"grid-{digest}", digest, overwrite=args.overwrite, what=what,
                                           log=lambda text: print(arg_types.printable(text), file=sys.stderr))
    command = results.command_line()  # the argv given to main, not the host's sys.argv
    try:
        with folders.lock(out, what=what):
            table = grid.run_grid(config, out, resume=resume, command=command, known=known)
    except KeyboardInterrupt as err:  # what is stored there is said (run_words.interrupted)
        err.folder = out
        raise
    print(results.text_table(table, grid_report.summary_columns(table)))
    print(f"wrote {results.printable(out)}/ (summary.md, grid.png, records, meta.json)")  # a newline in --out
    return 0


# -- report / list / env -------------------------------------------------------------------------
def cmd_report(args) -> int:
    """``sgd-bench report``: ``sgd_bench_harness.report.cmd_report``, imported only when it runs
    (it imports every experiment's report: JAX and matplotlib)."""
    from sgd_bench_harness import report

    return report.cmd_report(args)


def _cmd_list(args) -> int:
    del args
    import problems
    import sgd_bench
    from sgd_bench import specs

    names = experiments()  # a bad $SGD_BENCH_SCRIPTS: its one-line error comes before any header
    print("experiments (sgd-bench run NAME):")
    for name in names:  # a script's own file name or DESCRIPTION with an ESC: escaped, not obeyed
        shown = arg_types.printable(name)
        print(f"  {shown:<22} {arg_types.printable(description(name))}{' [default]' if name in DEFAULT_SUITE else ''}")
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
    from sgd_bench_harness import results  # JAX: imported by this command only
    return results.print_environment()


# -- entry point ---------------------------------------------------------------------------------
def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("sgd-bench")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def _parser(checked: bool = True) -> argparse.ArgumentParser:
    from sgd_bench_harness.arg_types import DTYPES, integer, note_repeats, positive_int, rise_factor

    if not checked:  # values as typed: run NAME --seeds x --help finds NAME, and --help wins
        integer = positive_int = rise_factor = str  # noqa: F811

    parser = arg_types.Parser(prog="sgd-bench", description="SGD theory next to measured numbers.")
    parser.add_argument("--version", action="version", version=f"sgd-bench {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = note_repeats(sub.add_parser(
        "run", help="run experiments (default: lecture_logreg) or an ad-hoc grid",
        description="Run experiment scripts by name, or a grid of --problem x --method over seeds. "
                    "With one experiment named, its own options pass on to it "
                    "(sgd-bench run gd_vs_sgd_large_n --sizes 10000 100000). "
                    "Example: sgd-bench run --problem lecture-logreg --method gd "
                    "--method sgd:step=0.1,batch=10 --method optax:adam,lr=1e-3 --seeds 100"))
    run.add_argument("experiments", nargs="*", help=f"experiment names (default: {' '.join(DEFAULT_SUITE)})")
    run.add_argument("--all", action="store_true", help="every experiment in turn, with a line per "
                     "experiment; the same command again resumes an interrupted pass (gpu_bench only "
                     "when JAX sees an accelerator); --seeds, --steps, --dtype and --no-work-limit go to "
                     "the experiments that take them")
    run.add_argument("--quick", action="store_true", help="a seconds-long run into runs/_quick/")
    count = arg_types.keeping_text(positive_int) if checked else str  # the text typed goes on to experiments
    run.add_argument("--seeds", type=count, help="seeds per method")
    run.add_argument("--steps", type=count, help="steps per run")
    run.add_argument("--dtype", choices=DTYPES if checked else None, help="floating-point type of data and iterates")
    run.add_argument("--out", help="output root folder (experiment NAME writes OUT/NAME; default runs/, "
                     "git-ignored; --out results writes into the committed gallery)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing result instead of "
                     "writing a new folder beside it")
    run.add_argument("--allow-failed-claims", action="store_true",
                     help="exit 0 when an experiment's claim fails (default: every experiment runs and "
                          "writes its result, then the exit status is 4)")
    run.add_argument("--no-work-limit", action="store_true", help="run past the work limits (an experiment's "
                     "--seeds/--steps/--scale above 1000x its full run's work, a grid's steps or cells); "
                     "only as typed in full, so that an experiment's own --n stays its own")
    run.exact = ("--no-work-limit",)
    g = run.add_argument_group("grid (instead of experiment names)")
    g.add_argument("--problem", action="append", metavar="SPEC",
                   help="problem NAME[:key=value,...] (repeatable), e.g. logreg:n=10000,d=20")
    g.add_argument("--method", action="append", metavar="SPEC",
                   help="method NAME[:key=value,...] (repeatable), e.g. sgd:step=0.1,batch=10 or optax:adam,lr=1e-3")
    g.add_argument("--log-every", type=positive_int, help="steps between logged metrics (default steps/100)")
    g.add_argument("--key", type=integer, help="PRNG seed of the seed keys (default 0)")
    g.add_argument("--block", type=positive_int, help="seeds per cell, the unit of resumption (default 32; "
                   "more than 100,000 cells is refused without --no-work-limit)")
    g.add_argument("--rise-factor", type=rise_factor, metavar="R",
                   help="flag a seed as risen (summary column rose) once its loss exceeds "
                        "R x max(|f(x_0)|, 1); a finite number >= 1, default 10")
    run.set_defaults(func=_cmd_run)
    report = sub.add_parser("report", help="rebuild summaries and figures from stored records, and an index",
                            description="Rebuild summary.md, summary.html and figures from stored records "
                                        "(nothing is re-run), then write index.md and index.html over all "
                                        "results of the folder.")
    report.add_argument("dir", nargs="?", help="a folder of results (writes index.md and index.html there), "
                        "or one result (its summary.html only); default: runs/, where new runs go; "
                        "results/ is the committed gallery")
    report.set_defaults(func=cmd_report)
    sub.add_parser("list", help="list experiments, problems, methods and schedules").set_defaults(func=_cmd_list)
    sub.add_parser("env", help="show versions, devices, precision and free memory").set_defaults(func=_cmd_env)
    return parser


def main(argv=None) -> int:
    """Runs the command line; returns the exit status."""
    console = argv is None  # the sgd-bench command itself, not a call from Python (tests)
    if console:  # a finished run is not undone by a terminal's encoding or a full log (streams.py)
        streams.set_up()
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    named = run_words.named_for_help(argv, _parser(checked=False))
    if len(named) == 1:
        try:  # a bad $MPLBACKEND, or a script of one's own that cannot be loaded: one line
            script_env.check_mplbackend()
            module = load(named[0])
        except ValueError as err:
            say(f"error: {one_line(err)}")
            return 2
        try:
            try:
                module.main(["--help"])  # the experiment's own help, its options included
            except SystemExit:
                pass
            print(f"\nThrough sgd-bench run, --out DIR is a root folder: this experiment writes DIR/{named[0]}.")
        except BrokenPipeError:  # run NAME --help | head -1: a traceback (exit 1), as list's reader leaving is not
            streams.quiet_stdout()
            return 141
        return streams.output_lost(0, None)  # `>&-` or a full disk: said, 2 or 3 (it exited 0, silently)
    try:
        args, extra = parser.parse_known_args(run_words.help_first(argv))
    except SystemExit as exit:  # --help: argparse drops an OSError of its write, so a reader that left
        if exit.code == 0:  # (run --help | head -1) exited 0: 141, as run NAME --help's does
            with contextlib.suppress(BrokenPipeError):  # DroppingWrites keeps it (console)
                sys.stdout.flush()
            if getattr(sys.stdout, "failed", None) is not None:  # `--help >&-` (or > /dev/full) exited 0
                return streams.output_lost(0, None)  # silently: one line, 2 (3 for a full disk); 141 as before
        raise
    extra = run_words.gathered(args, extra)  # run pl_bounds --quick two_phase: two names
    # An experiment's own options (gd_vs_sgd_large_n --sizes, gpu_bench --n) go on to its script,
    # which validates them, when exactly one experiment is named, after its name.
    if extra and run_words.misplaced(argv, args, extra):
        parser.error(run_words.misplaced(argv, args, extra))
    args.extra = extra
    for line in arg_types.given_twice(args):  # the last one is used, as argparse does (arg_types.py)
        say(line)
    if console and args.command == "run":
        streams.reader_may_leave()
        interrupts.ctrl_c_not_lost()  # a Ctrl-C during a garbage-collection callback was dropped
    if script_env.check_before_jax():  # JAX_PLATFORMS=bogus, XLA_FLAGS=garbage: before JAX's import and abort
        say(script_env.check_before_jax())
        return 2
    try:  # after parsing (--help and a refused argument need no JAX); JAX_ENABLE_X64=garbage: ValueError
        from sgd_bench import progress
    except ValueError as err:
        say(script_env.jax_cannot_start(err))
        return 2
    from sgd_bench_harness import compile_cache, results
    compile_cache.enable()  # SGD_BENCH_COMPILATION_CACHE=0 turns it off
    # bars on a terminal, and the command meta.json records (this argv, after the program as it
    # was started: python -m sgd_bench from a checkout), for this command only
    program = results.invocation() if console else ["sgd-bench"]
    with progress.mode("auto"), results.recording_command([*program, *argv]), streams.warnings_on_one_line(say):
        code = _dispatch(args)
    if code in interrupts.STOPPED and console:
        # Ctrl-C while XLA was running: the interpreter's teardown can then crash in JAX's threads
        # (a segfault, exit -11, seen in 1 of 3 tries) after the cells were stored; leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return streams.output_lost(code, args)  # the results are kept when only their printing failed


def _dispatch(args) -> int:
    """Runs the parsed command; an error of the input or the environment is one line on stderr
    and an exit status (2, or 3 for memory), not a traceback."""
    debug = os.environ.get("SGD_BENCH_DEBUG", "").strip()
    if debug not in ("", "0", "1"):  # "0" or "false" turned the tracebacks on, as any text did
        say(f"error: SGD_BENCH_DEBUG must be 0 or 1 (or unset), got {debug!r}")
        return 2
    if debug == "1":  # full tracebacks, for bug reports
        return args.func(args)
    try:
        if args.command != "env":  # before anything runs or a folder exists
            script_env.check_mplbackend()
            script_env.check_jax()
        return args.func(args)
    except BrokenPipeError:  # sgd-bench list | head: the reader left; say nothing, as cat does
        streams.quiet_stdout()  # no second error when Python flushes at exit
        return 141
    except (ValueError, TypeError, OSError, FloatingPointError) as err:  # OSError: a path given that cannot be used
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            # a resource, as memory is (exit 3); it said "[Errno 28] No space left on device", no path
            say(streams.no_space(err, args))
            return 3
        say(f"error: {one_line(err)}")
        return 2
    except MemoryError as err:
        say(streams.out_of_memory(err) or f"error: {one_line(err)}")
        return 3
    except (RuntimeError, AssertionError) as err:
        if streams.out_of_memory(err):  # XLA's RESOURCE_EXHAUSTED: a traceback, exit 1
            say(streams.out_of_memory(err))
            return 3
        # JAX_PLATFORMS=bogus, or a platform this machine lacks: the environment, not a bug.
        # JAX_PLATFORMS=cuda without a visible NVIDIA GPU is JAX's bare `assert` in xla_bridge.
        where = traceback.extract_tb(err.__traceback__)[-1].filename
        no_backend = isinstance(err, AssertionError) and where.endswith(os.path.join("jax", "_src", "xla_bridge.py"))
        if "Unable to initialize backend" not in str(err) and not no_backend:
            raise
        why = one_line(err) if not no_backend else "none of its platforms is available on this machine"
        say(f"error: JAX cannot start (JAX_PLATFORMS={os.environ.get('JAX_PLATFORMS', '')!r}): {why}")
        return 2
    except KeyboardInterrupt as err:  # each command's own words: report and list resume no run
        say(run_words.interrupted(err) if args.command == "run" else {
            "report": "interrupted; report rebuilds from the stored records, so the same command "
                      "writes the pages again"}.get(args.command, "interrupted"))
        return getattr(err, "STATUS", 130)  # 143 for a SIGTERM, 129 for a SIGHUP (interrupts)
