"""``$MPLBACKEND``, checked before matplotlib is imported: matplotlib's own refusal ("Key backend:
'bogus' is not a valid value") named no variable, and came as a traceback from ``python
scripts/NAME.py`` or as "cannot be loaded" from ``sgd-bench run NAME --help``. The JAX variables
under which sgd-bench cannot run (``JAX_TOGGLES``), checked before a result folder exists: JAX's
own words named its option, not the variable, and a grid left a "running" folder behind.

``check_mplbackend`` is what the ``sgd-bench`` command calls before a command runs;
``script_checks`` is what ``scripts/NAME.py`` calls before it imports its experiment: a bad value
ends the script with one line and status 2, as the command's refusals do. ``run_script`` then runs
the experiment with the command's standard streams (``streams``): ``python scripts/NAME.py | head -1``
finishes the run, as ``sgd-bench run NAME | head -1`` does.
"""

from __future__ import annotations

import os
import re
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
    finishes quietly, is marked complete, and the status is 141 at the end (``streams.output_lost``)."""
    import argparse

    from sgd_bench_harness import streams

    streams.set_up()
    streams.reader_may_leave()
    return streams.output_lost(main(), argparse.Namespace(command="run"))
