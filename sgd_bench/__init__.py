"""sgd-bench's engine: the theory of stochastic gradient descent next to measured numbers, in JAX.

The public surface, one name per line below (``import sgd_bench as sb``):

- problems' type: ``FiniteSum`` (a pytree whose only child is the data; gradients by autodiff,
  full sums streamed), ``L2``; the catalog of problems is the sibling package ``problems``;
- methods as data (``Method``, ``Params``): ``gd``, ``sgd``, ``from_optax`` and the zoo (noise,
  averaging, line search, L-BFGS, growing batches, variance reduction, lazy sparse updates,
  quasi-Newton, online Newton); ``sgd_bench.specs`` maps a ``--method`` spec to any of them;
- the runner: ``run``, ``run_seeds``, ``run_keys`` (jitted ``lax.scan`` loops, ``vmap`` across
  seeds), ``Solver`` (step-level), ``sweep``; ``Count`` of gradient evaluations; ``schedules``;
- measuring: ``stats`` over seeds, ``theory`` (constants, bounds, checks, rate fits),
  ``timing``, ``step_flops``, ``reference_solution``, ``shard``.

It imports neither matplotlib nor ``problems`` nor the harness ``sgd_bench_harness`` (the
experiments, grids, records, reports and the ``sgd-bench`` command), which are built on it.

Each name is imported when it is first used (PEP 562), not with the package: ``import
sgd_bench`` alone, and so ``python -m sgd_bench --help``, imports no JAX. ``sb.run``, ``from
sgd_bench import run`` and ``dir(sb)`` work as with eager imports.
"""

import importlib
import importlib.util
import sys
import types

__version__ = "0.1.0"

# name: (module, attribute; None: the module itself), in the order they were imported eagerly
_PUBLIC = {
    "schedules": ("sgd_bench.schedules", None),
    "stats": ("sgd_bench.stats", None),
    "theory": ("sgd_bench.theory", None),
    "timing": ("sgd_bench.timing", None),
    "averaged": ("sgd_bench.averaging", "averaged"),
    "Count": ("sgd_bench.counting", "Count"),
    "FiniteSum": ("sgd_bench.finite_sum", "FiniteSum"),
    "L2": ("sgd_bench.finite_sum", "L2"),
    "PROBLEM_CLASSES": ("sgd_bench.finite_sum", "PROBLEM_CLASSES"),
    "PrecisionWarning": ("sgd_bench.validation", "PrecisionWarning"),
    "step_flops": ("sgd_bench.flops", "step_flops"),
    "batch_sizes": ("sgd_bench.growing_batch", "batch_sizes"),
    "growing_batch": ("sgd_bench.growing_batch", "growing_batch"),
    "lbfgs": ("sgd_bench.lbfgs", "lbfgs"),
    "gd_armijo": ("sgd_bench.line_search", "gd_armijo"),
    "Method": ("sgd_bench.methods", "Method"),
    "Params": ("sgd_bench.methods", "Params"),
    "from_optax": ("sgd_bench.optax_methods", "from_optax"),
    "gd": ("sgd_bench.methods", "gd"),
    "sgd": ("sgd_bench.methods", "sgd"),
    "noisy_sgd": ("sgd_bench.noise", "noisy_sgd"),
    "inverse_hessian": ("sgd_bench.quasi_newton", "inverse_hessian"),
    "preconditioned_sgd": ("sgd_bench.quasi_newton", "preconditioned_sgd"),
    "stochastic_lbfgs": ("sgd_bench.quasi_newton", "stochastic_lbfgs"),
    "NoMinimizerWarning": ("sgd_bench.reference", "NoMinimizerWarning"),
    "ReferenceSolution": ("sgd_bench.reference", "ReferenceSolution"),
    "reference_solution": ("sgd_bench.reference", "reference_solution"),
    "NegativeStepWarning": ("sgd_bench.runner", "NegativeStepWarning"),
    "UphillStepWarning": ("sgd_bench.flags", "UphillStepWarning"),
    "Trace": ("sgd_bench.runner", "Trace"),
    "log_steps": ("sgd_bench.runner", "log_steps"),
    "run": ("sgd_bench.runner", "run"),
    "run_keys": ("sgd_bench.runner", "run_keys"),
    "run_seeds": ("sgd_bench.runner", "run_seeds"),
    "seed_keys": ("sgd_bench.runner", "seed_keys"),
    "SAMPLINGS": ("sgd_bench.sampling", "SAMPLINGS"),
    "Schedule": ("sgd_bench.schedules", "Schedule"),
    "shard": ("sgd_bench.sharding", "shard"),
    "Solver": ("sgd_bench.solver", "Solver"),
    "SolverState": ("sgd_bench.solver", "SolverState"),
    "Sweep": ("sgd_bench.sweep", "Sweep"),
    "sweep": ("sgd_bench.sweep", "sweep"),
    "online_newton": ("sgd_bench.two_phase", "online_newton"),
    "sag": ("sgd_bench.variance_reduction", "sag"),
    "saga": ("sgd_bench.variance_reduction", "saga"),
    "sarah": ("sgd_bench.variance_reduction", "sarah"),
    "svrg": ("sgd_bench.variance_reduction", "svrg"),
    "lazy_saga": ("sgd_bench.lazy_saga", "lazy_saga"),
    "lazy_sgd": ("sgd_bench.lazy_sgd", "lazy_sgd"),
}
__all__ = list(_PUBLIC)  # so that `from sgd_bench import *` imports them, as it did eagerly


def __getattr__(name: str):
    """A public name, imported on first use and kept; a submodule (``sgd_bench.runner``), imported."""
    if name in _PUBLIC:
        module, attribute = _PUBLIC[name]
        value = importlib.import_module(module)
        value = value if attribute is None else getattr(value, attribute)
        globals()[name] = value  # the dict, not setattr: _Package below would drop a submodule
        return value
    # a dotted name is no attribute: find_spec imported its parent and raised ModuleNotFoundError
    if not name.startswith("_") and "." not in name and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


class _Package(types.ModuleType):
    """The package's module type: importing ``sgd_bench.sweep`` (or ``lbfgs``, ``growing_batch``,
    ``lazy_saga``, ``lazy_sgd``) binds that submodule as the package's attribute of the same name,
    which would hide the public function; eager imports rebound the function at once, and so
    the function keeps the name here."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and _PUBLIC.get(name, ("", None))[1] is not None:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
