"""The experiments, one module each, registered by name: ``sgd-bench run NAME`` runs ``NAMES``' NAME.

Each module defines ``NAME``, ``DESCRIPTION``, ``FULL`` and ``QUICK`` configs, ``run(config, out)``,
``report(out)`` and ``main(argv)`` (see ``sgd_bench_harness.experiment``). They are imported by
name, so they work from an installed wheel; ``scripts/NAME.py`` in a checkout only launches them.
``experiments()``, ``load(name)`` and ``description(name)`` are what the command line uses: the registry, or the ``*.py``
files of a folder of one's own when ``$SGD_BENCH_SCRIPTS`` names one.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType

# The registry: adding an experiment means adding its module here and its name below.
NAMES = (
    "batch_cost",
    "gd_vs_sgd_large_n",
    "gpu_bench",
    "lecture_logreg",
    "local_minima",
    "minibatch_error",
    "momentum_stochastic",
    "peers",
    "pl_bounds",
    "rates_table",
    "sgd_trajectories",
    "sharp_minima",
    "sparse_logreg",
    "startup",
    "step_size_sweep",
    "two_phase",
    "variance_reduction",
)


def module(name: str) -> ModuleType:
    """Imports the experiment ``name`` (one of ``NAMES``)."""
    if name not in NAMES:
        raise ValueError(f"unknown experiment {name!r}; known experiments: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")


def scripts_dir() -> Path | None:
    """A folder of one's own experiment scripts (``$SGD_BENCH_SCRIPTS``), or None: the registry."""
    env = os.environ.get("SGD_BENCH_SCRIPTS")
    # ~ expanded, as SGD_BENCH_DATA's and SGD_BENCH_COMPILATION_CACHE's are (a .env file leaves it)
    from sgd_bench_harness.arg_types import home_expanded

    return Path(home_expanded(env, "SGD_BENCH_SCRIPTS=")) if env else None  # ~nosuchuser: a ValueError


def experiments() -> dict[str, str]:
    """{name: where it comes from} of every experiment: the modules registered in
    ``sgd_bench_harness.experiments``, or the ``*.py`` files of ``$SGD_BENCH_SCRIPTS`` when it is set."""
    folder = scripts_dir()
    if folder is None:
        return {name: f"{__name__}.{name}" for name in NAMES}
    if not folder.is_dir():
        raise FileNotFoundError(f"no experiment scripts at {folder} (SGD_BENCH_SCRIPTS): not a folder")
    return {p.stem: str(p) for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")}


def load(name: str) -> ModuleType:
    """Imports the experiment ``name``; unknown names list the known ones."""
    known = experiments()
    if name not in known:
        raise ValueError(f"unknown experiment {name!r}; known experiments: "
                         f"{', '.join(known) or f'none (no *.py file in {scripts_dir()}, SGD_BENCH_SCRIPTS)'}")
    if scripts_dir() is None:
        return importlib.import_module(known[name])
    if not Path(known[name]).is_file():  # a FIFO named NAME.py would block the import (and `list`) forever
        raise ValueError(f"experiment script {known[name]} cannot be loaded: not a regular file")
    folder = os.path.abspath(scripts_dir())
    if folder not in sys.path:  # its own helpers (_common.py, skipped as experiments) import as under
        sys.path.append(folder)  # `python DIR/NAME.py`: "No module named '_common'"; last, shadowing nothing of ours
    spec = importlib.util.spec_from_file_location(f"sgd_bench_experiments.{name}", known[name])
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a script of one's own (SGD_BENCH_SCRIPTS) with a syntax error, ...
        where = f" (line {err.lineno})" if isinstance(err, SyntaxError) and err.lineno else ""
        raise ValueError(f"experiment script {known[name]} cannot be loaded{where}: "
                         f"{type(err).__name__}: {err}") from None
    except SystemExit as err:  # sys.exit(main()) without `if __name__ == "__main__":` ended `list` midway
        raise ValueError(f"experiment script {known[name]} cannot be loaded: it exits when imported "
                         f"(SystemExit {err.code!r}); put its top-level run under "
                         "`if __name__ == \"__main__\":`") from None
    if not callable(getattr(module, "main", None)):  # else an AttributeError when it is run
        raise ValueError(f"experiment script {known[name]} defines no main(argv), which sgd-bench run calls")
    return module


def description(name: str) -> str:
    """What ``sgd-bench list`` shows for ``name``: the first paragraph of its ``DESCRIPTION``, on one
    line (a script's multi-line one broke the list's columns), or why it cannot be loaded."""
    from sgd_bench_harness.experiment import one_line

    try:
        text = getattr(load(name), "DESCRIPTION", "")
    except ValueError as err:  # one broken script does not hide the others
        return f"(cannot be loaded: {one_line(err)})"
    return " ".join(re.split(r"\n[ \t\r\f\v]*\n", str(text).strip())[0].split())
