"""``$MPLBACKEND``, checked before matplotlib is imported: matplotlib's own refusal ("Key backend:
'bogus' is not a valid value") named no variable, and came as a traceback from ``python
scripts/NAME.py`` or as "cannot be loaded" from ``sgd-bench run NAME --help``.

``check_mplbackend`` is what the ``sgd-bench`` command calls before a command runs;
``script_checks`` is what ``scripts/NAME.py`` calls before it imports its experiment: a bad value
ends the script with one line and status 2, as the command's refusals do. ``run_script`` then runs
the experiment with the command's standard streams (``streams``): ``python scripts/NAME.py | head -1``
finishes the run, as ``sgd-bench run NAME | head -1`` does.
"""

from __future__ import annotations

import os
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


def script_checks() -> None:
    """For ``python scripts/NAME.py``: exits with one line (status 2) when ``check_mplbackend`` refuses."""
    try:
        check_mplbackend()
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
