"""The experiments, one module each, registered by name: ``sgd-bench run NAME`` runs ``NAMES``' NAME.

Each module defines ``NAME``, ``DESCRIPTION``, ``FULL`` and ``QUICK`` configs, ``run(config, out)``,
``report(out)`` and ``main(argv)`` (see ``sgd_bench_harness.experiment``). They are imported by
name, so they work from an installed wheel; ``scripts/NAME.py`` in a checkout only launches them.
"""

from __future__ import annotations

import importlib
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
