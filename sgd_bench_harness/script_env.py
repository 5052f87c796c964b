"""``$MPLBACKEND``, checked before matplotlib is imported: matplotlib's own refusal ("Key backend:
'bogus' is not a valid value") named no variable, and came as a traceback from ``python
scripts/NAME.py`` or as "cannot be loaded" from ``sgd-bench run NAME --help``. The JAX variables
under which sgd-bench cannot run (``JAX_TOGGLES``), checked before a result folder exists: JAX's
own words named its option, not the variable, and a grid left a "running" folder behind.

``check_before_jax`` reads ``JAX_PLATFORMS`` and ``XLA_FLAGS`` before JAX is imported:
``JAX_PLATFORMS=bogus sgd-bench env`` spent 1.8 CPU s importing JAX and starting its backends before
JAX said what was wrong, and an ``XLA_FLAGS`` that is not flags (``garbage``: XLA reads it as a file
name) or a flag of another shape killed the process with a C++ abort (exit 134) that Python cannot
catch. Only the shape is checked: XLA alone knows its flags' names, and an unknown name still aborts.
Decided: memory limited by ``ulimit -v`` is not checked either: XLA reserves address space at start-up
and aborts, and the limit that suffices depends on the machine; the README says to lift it.

``check_mplbackend`` is what the ``sgd-bench`` command calls before a command runs;
``script_checks`` is what ``scripts/NAME.py`` calls before it imports its experiment: a bad value
ends the script with one line and status 2, as the command's refusals do. ``run_script`` then runs
the experiment with the command's standard streams (``streams``): ``python scripts/NAME.py | head -1``
finishes the run, as ``sgd-bench run NAME | head -1`` does.
"""

from __future__ import annotations

import os
import re
import shlex
import sys


def check_mplbackend() -> None:
    """Refuses a ``$MPLBACKEND`` matplotlib does not know, naming the variable."""
    value = os.environ.get("MPLBACKEND")
    if value:
        try:  # importing matplotlib itself validates the variable when it was not imported yet
            from matplotlib import rcsetup
            rcsetup.validate_backend(value)
        except ValueError:
            raise ValueError(f"MPLBACKEND={value!r} is not a backend matplotlib knows; unset it (sgd-bench "
                             "draws its figures into files, with Agg) or name one such as agg") from None


_GUARD = (("allow", "log", "log_explicit"), "it refuses the implicit host-to-device copies sgd-bench makes")
# A JAX variable one may have set for one's own code: {variable: (values sgd-bench runs under, why not others)}.
# JAX_DEBUG_NANS/INFS are left to the run (one line when a seed diverges: experiment.one_line).
JAX_TOGGLES = {
    "JAX_NUMPY_DTYPE_PROMOTION": (("standard",), "sgd-bench's code mixes float32 and float64 arrays, which "
                                  "JAX refuses under strict dtype promotion"),
    "JAX_TRANSFER_GUARD": _GUARD, "JAX_TRANSFER_GUARD_HOST_TO_DEVICE": _GUARD,
    "JAX_TRANSFER_GUARD_DEVICE_TO_HOST": _GUARD, "JAX_TRANSFER_GUARD_DEVICE_TO_DEVICE": _GUARD,
}


def check_jax() -> None:
    """Refuses a JAX variable (``JAX_TOGGLES``) whose value sgd-bench cannot run under, naming it."""
    for variable, (values, why) in JAX_TOGGLES.items():
        value = os.environ.get(variable)
        if value is not None and value not in values:
            raise ValueError(f"{variable}={value!r}: {why}; unset it for sgd-bench, or set it to "
                             f"{' or '.join(values)}")


# The platforms JAX knows without a plugin (JAX_PLATFORMS names them in lower case; cuda and rocm need
# theirs, and JAX says so itself); a plugin package may add others, so with one installed JAX decides.
JAX_PLATFORMS_KNOWN = ("cpu", "tpu", "gpu", "cuda", "rocm")
XLA_FLAG = re.compile(r"--[A-Za-z0-9_]+(=.*)?", re.S)  # a value may hold spaces in quotes: --xla_dump_to="a b"


def check_before_jax() -> str | None:
    """The one line (exit 2) for a ``JAX_PLATFORMS`` or ``XLA_FLAGS`` JAX cannot start under, told
    before JAX is imported, or None."""
    platforms = os.environ.get("JAX_PLATFORMS", "")
    unknown = [p for p in platforms.split(",") if p.strip() and p.strip() not in JAX_PLATFORMS_KNOWN]
    if unknown and not _jax_plugins():
        return (f"error: JAX cannot start (JAX_PLATFORMS={platforms!r}): Unable to initialize backend "
                f"{unknown[0].strip()!r}: JAX knows {', '.join(JAX_PLATFORMS_KNOWN)} (and no JAX plugin is installed "
                "here to add another); unset JAX_PLATFORMS to let JAX choose, or name one such as cpu")
    flags = os.environ.get("XLA_FLAGS", "").strip()
    if flags and not flags.startswith("-") and not os.path.isfile(flags):
        return (f"error: XLA_FLAGS={flags!r} is neither flags (--name=value or --name, separated by spaces) "
                "nor a file of them, and XLA would abort the process on it; fix or unset it")
    try:
        words = shlex.split(flags) if flags.startswith("-") else []
    except ValueError:  # an unmatched quote: XLA decides
        words = []
    bad = next((f for f in words if not XLA_FLAG.fullmatch(f)), None)
    if bad is not None:
        return (f"error: XLA_FLAGS={flags!r}: {bad!r} is not a flag of the form --name=value or --name (separated "
                "by spaces), and XLA would abort the process on it; fix or unset it")
    return None


def _jax_plugins() -> bool:
    """Whether a JAX plugin package (which may add a platform) is installed; no JAX import."""
    from importlib import metadata, util

    try:
        return bool(metadata.entry_points(group="jax_plugins")) or util.find_spec("jax_plugins") is not None
    except (ImportError, ValueError):
        return True  # cannot tell: JAX decides


def jax_cannot_start(err: BaseException) -> str:
    """The line for JAX's refusal of a variable's value at import ("Invalid value "x" for JAX flag
    jax_default_matmul_precision"): the variable named, which JAX's words leave out."""
    from sgd_bench_harness.experiment import one_line

    flag = re.search(r"for JAX flag (jax_\w+)", str(err))
    variable = flag.group(1).upper() if flag else ""  # JAX_ENABLE_X64=2: JAX's words name it already
    named = f" (from the variable {variable}: unset it or give a value JAX takes)" if variable in os.environ else ""
    return f"error: JAX cannot start: {one_line(err)}{named}"


def script_checks() -> None:
    """For ``python scripts/NAME.py``: exits with one line (status 2) when ``check_mplbackend`` or
    ``check_jax`` refuses."""
    line = check_before_jax()
    if line is not None:
        print(f"{os.path.basename(sys.argv[0]) or 'sgd-bench'}: {line}", file=sys.stderr)
        raise SystemExit(2)
    try:
        check_mplbackend()
        check_jax()
    except ValueError as err:
        print(f"{os.path.basename(sys.argv[0]) or 'sgd-bench'}: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def run_script(main) -> int:
    """For ``python scripts/NAME.py``: ``main()``'s exit status, run with the ``sgd-bench run``
    command's standard streams. A reader that left (``| head -1``) raised BrokenPipeError at the
    first printed line, a traceback, and the finished result was left "running"; now the run
    finishes quietly, is marked complete, and the status is 141 at the end (``streams.output_lost``).
    An error of the run is one line and the command's status (``cli._dispatch``: 2, 3 for memory, 130
    for a Ctrl-C, 143 for a SIGTERM, 129 for a SIGHUP, saying what is stored): ``--sizes 10000000000`` was a
    MemoryError traceback, exit 1."""
    import argparse

    from sgd_bench_harness import cli, interrupts, streams

    streams.set_up()
    streams.reader_may_leave()
    interrupts.ctrl_c_not_lost()
    args = argparse.Namespace(command="run", func=lambda _: main(), out=None)  # out: a full disk names the run's folder
    code = cli._dispatch(args)
    if code in interrupts.STOPPED:  # as the sgd-bench command leaves after a Ctrl-C, SIGHUP or
        sys.stdout.flush()  # SIGTERM (cli.main): JAX's threads may crash teardown
        sys.stderr.flush()
        os._exit(code)
    return streams.output_lost(code, args)
