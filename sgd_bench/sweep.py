"""Hyperparameter sweeps: every grid point x every seed in one compiled program.

``sweep(problem, method, x0, key, over={"step_size": grid}, seeds=S, steps=K)`` replaces the
named hyperparameters of ``method`` by the grid values and runs all configurations x seeds as a
``vmap`` over the method's swept leaves of a ``vmap`` over the seed keys. Nothing else about
the method changes, so the program is the one ``run_seeds`` uses, batched once more: the
compiled code is shared by every grid of the same size, and configuration c, seed s equals
``run_seeds(problem, method.replace(<config c>), x0, key, seeds=S)`` seed s. Every
configuration runs the same seed keys (common random numbers), which makes differences between
configurations less noisy.

Grids over several hyperparameters are their product (``product=True``) or zipped
(``product=False``). When the states and logs of all configurations would not fit in memory,
the grid runs in blocks of configurations, each a call of the same program.
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import precision, validation
from sgd_bench import memory
from sgd_bench._values import tree_hash, trees_equal
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.methods import Method
from sgd_bench.schedules import at_default, replaced_whole
from sgd_bench.runner import Trace, check_args, check_rise_factor, execute, seed_keys, use_progress


class Sweep(NamedTuple):
    """What ``sweep`` returns.

    - ``trace``: a ``Trace`` whose fields have leading axes (config, seed);
    - ``configs``: the value of each swept hyperparameter per configuration, shape (C,);
    - ``method``: the method the grid was applied to (``method.replace(config)`` is config c).
    """

    trace: Trace
    configs: dict
    method: Method

    def config(self, c: int) -> dict:
        """The hyperparameters of configuration ``c`` (negative counts from the end, as for a
        list) as plain numbers."""
        total = len(next(iter(self.configs.values())))
        # NumPy's IndexError ("index 2 is out of bounds for axis 0 with size 2", "only integers,
        # slices ...") named no argument
        c = validation.integer("c", c, low=-total, high=total - 1)
        return {name: np.asarray(v)[c].item() for name, v in self.configs.items()}

    def method_at(self, c: int) -> Method:
        """The method of configuration ``c`` (a separate run of it equals the sweep's row c)."""
        return self.method.replace(self.config(c))

    # as Trace: by value (a NamedTuple's ``==`` raised JAX's ambiguous-truth error)
    def __eq__(self, other):
        if not isinstance(other, Sweep):  # a plain tuple's own == would compare the arrays again
            return False if isinstance(other, tuple) else NotImplemented
        return trees_equal(self[:2], other[:2]) and self.method == other.method

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        return hash((tree_hash(self[:2]), self.method))


class _Marker:
    def __init__(self, i):
        self.i = i


def swept_positions(method: Method, names) -> tuple[int, ...]:
    """Where the hyperparameters ``names`` sit among the method's pytree leaves."""
    marked = method.replace({name: _Marker(i) for i, name in enumerate(names)})
    leaves = jax.tree_util.tree_leaves(marked)
    where = {leaf.i: pos for pos, leaf in enumerate(leaves) if isinstance(leaf, _Marker)}
    missing = [names[i] for i in range(len(names)) if i not in where]
    if missing:
        raise ValueError(f"cannot sweep {missing}: not a traced value of method {method.name!r}")
    return tuple(where[i] for i in range(len(names)))


def _set_defaults(method: Method, over) -> Method:
    """``method`` with each name of ``over`` that ``replace`` takes whole (a value at its default, None:
    svrg's loop_length, sag's step_size; a number for a schedule other than a constant, also nested:
    ``inner.step_size`` of ``averaged(sgd(inverse_time(...)))``) set to its grid's first value, so that it
    is a traced value the sweep can replace (was "has no hyperparameter 'loop_length'"; leftovers34b);
    ``_grid`` names anything else that is wrong."""
    known = method.values()
    for name, grid in (over.items() if isinstance(over, Mapping) else ()):
        head, *rest = name.split(".") if isinstance(name, str) else ("",)
        if name in known or head not in method.hyperparams or not replaced_whole(method.hyperparams[head], rest):
            continue
        if isinstance(grid, (str, bytes)):
            raise ValueError(f"over[{name!r}] must hold real numbers (ints or floats), got {grid!r}")
        _no_keys(name, grid)
        if np.size(first := np.ravel(np.asarray(grid, dtype=object))[:1]) == 0:
            raise ValueError(f"over[{name!r}] must be a non-empty 1-D grid, got shape {np.shape(grid)}")
        try:
            method = method.replace({name: first[0]})
        except (TypeError, ValueError) as err:
            raise type(err)(f"over: {err}") from None  # a bad first value, as the loop below says it
        if name not in method.values():  # None: still the default, and "no hyperparameter" followed
            raise ValueError(f"over[{name!r}] must hold real numbers (ints or floats), got {grid!r}")
    return method


def _no_keys(name, grid) -> None:
    """Refuses a grid of PRNG keys by name: NumPy's asarray of it raised JAX's "cannot be converted"."""
    if isinstance(grid, jax.Array) and jax.dtypes.issubdtype(grid.dtype, jax.dtypes.prng_key):
        raise TypeError(f"over[{name!r}] must hold real numbers (ints or floats), got {validation.shown(grid)}")


def _real_objects(arr: np.ndarray) -> np.ndarray:
    """An object grid of real numbers (Fractions, ints beyond int64) as float64, as sgd() takes
    one Fraction; any other grid unchanged."""
    if arr.dtype != object or not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                                      for v in arr.ravel()):
        return arr
    try:
        return arr.astype(np.float64)
    except OverflowError:  # 10**400: named as not finite
        return np.full(arr.shape, np.inf)


def _grid(method: Method, over, product: bool, dtype) -> dict[str, np.ndarray]:
    if not isinstance(over, Mapping) or not over:
        raise TypeError("over must be a non-empty mapping of hyperparameter names to 1-D grids, "
                        f"such as {{'step_size': np.logspace(-3, 0, 16)}}; got {over!r}")
    known = method.values()
    columns = {}
    for name, grid in over.items():
        if name not in known:
            raise ValueError(f"over[{name!r}]: method {method.name!r} has no hyperparameter "
                             f"{name!r}; it has {sorted(known)}{at_default(method.hyperparams)}")
        validation.unmasked(f"over[{name!r}]", grid)  # its mask was dropped: masked values ran too
        validation.live(f"over[{name!r}]", grid)  # a donated grid: was JAX's "Array has been deleted"
        _no_keys(name, grid)
        if any(isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves(grid)):  # was JAX's TracerArrayConversionError
            raise TypeError(f"over[{name!r}] must hold host numbers (sweep checks its grid and splits it into blocks "
                            "on the host), got a traced array: make the grid outside jit, or vmap run_seeds over it")
        try:
            arr = np.asarray(grid)
        except ValueError:  # [0.1, [0.2]] was NumPy's "setting an array element with a sequence ..."
            raise ValueError(f"over[{name!r}] must be a 1-D grid of numbers, got {grid!r}") from None
        if arr.ndim == 0:
            arr = arr[None]
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"over[{name!r}] must be a non-empty 1-D grid, got shape {arr.shape}")
        arr = _real_objects(arr)
        if arr.dtype == bool or not precision.is_real(arr.dtype):  # was "must hold finite numbers" of Fraction(1, 10) or "0.1"
            raise ValueError(f"over[{name!r}] must hold real numbers (ints or floats), got {grid!r}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"over[{name!r}] must hold finite numbers, got {grid!r}")
        is_int = jnp.result_type(known[name]).kind in "iu"  # a traced base value (a user's jit): np.asarray failed
        if is_int and not np.all(arr == np.round(arr)):
            raise ValueError(f"over[{name!r}] must hold integers ({name} is a count), got {grid!r}")
        if is_int and not np.all(np.abs(arr) <= 2**31 - 1):  # the int32 cast wrapped: 2**32 + 3 ran as 3
            raise ValueError(f"over[{name!r}] must hold integers of at most 2**31 - 1 (int32), got {grid!r}")
        columns[name] = arr.astype(np.int32 if is_int else dtype)
    names = list(columns)
    if product:
        # sized before it is built: 3000**3 configurations went into a list of tuples (a hang, then
        # the machine's memory) before the run's own memory check could refuse them
        total = int(np.prod([len(v) for v in columns.values()], dtype=object))
        memory.check_fits(total * sum(v.itemsize for v in columns.values()),
                          f"over: the product of the grids, {total:,} configurations",
                          hint="sweep smaller grids, or zip them (product=False)")
        mesh = np.meshgrid(*(columns[n] for n in names), indexing="ij")  # itertools.product's order
        return {n: m.ravel() for n, m in zip(names, mesh)}
    sizes = {len(v) for v in columns.values()}
    if len(sizes) != 1:
        raise ValueError(f"with product=False every grid needs the same length; got "
                         f"{ {n: len(v) for n, v in columns.items()} }")
    return columns


def sweep(problem: FiniteSum, method: Method, x0, key, *, over: Mapping[str, Any], seeds: int,
          steps: int, log_every: int | None = None, x_star=None, product: bool = True,
          block: int | None = None, progress: bool | None = None,
          rise_factor: float | None = None) -> Sweep:
    """Runs ``method`` at every grid point of ``over`` for ``seeds`` seeds, in one program.

    **Arguments:**

    - ``problem``, ``method``, ``x0``, ``key``, ``steps``, ``log_every``, ``x_star``: as for
      ``run_seeds``.
    - ``over``: hyperparameter names (``method.values()`` lists them: ``step_size``,
      ``step_size.mu``, ``inner.step_size``, ...) mapped to 1-D grids of values. A value at its
      default (``svrg``'s ``loop_length``), or a whole schedule's numbers (``step_size`` of
      ``sgd(inverse_time(...))``), takes a grid too: the method takes its first value first.
    - ``seeds``: seeds per configuration (the same keys ``seed_keys(key, seeds)`` for all).
    - ``product``: the product of the grids (default) or, when ``False``, the grids zipped.
    - ``block``: configurations per program call; default: as many as fit in a quarter of the
      free memory (all of them, usually).
    - ``progress``, ``rise_factor``: as for ``run``.

    **Returns:** a ``Sweep``: ``trace`` with leading axes (config, seed), ``configs``.

    >>> import jax.numpy as jnp, numpy as np, problems, sgd_bench as sb
    >>> problem = problems.lecture_logreg()
    >>> out = sb.sweep(problem, sb.sgd(0.1, batch_size=10), jnp.zeros(10), 0,
    ...                over={"step_size": np.logspace(-2, 0, 4)}, seeds=8, steps=200)
    >>> out.trace.loss.shape        # (configs, seeds, log points)
    (4, 8, 101)
    """
    # product="no" is truthy: it ran the product where the grids were to be zipped
    product = validation.boolean("product", product)
    rise_factor = check_rise_factor(rise_factor)
    x0, key, steps, log_every, x_star = check_args(problem, method, x0, key, steps, log_every, x_star)
    seeds = validation.integer("seeds", seeds, low=1)
    # checked as given first: checked only in the problem's float32, -0.1 was echoed as
    # -0.10000000149011612; then as cast (1e-50 is 0.0 in float32). float64 -> float32 rounds each
    # value as the direct cast does
    method = _set_defaults(method, over)
    configs = _grid(method, over, product, np.dtype(np.float64))
    names = list(configs)
    for cast in (False, True):
        if cast:
            # at least float32: in a bfloat16 problem's own dtype adam's b2 = 0.999 was 1.0 and refused,
            # and the numbers are traced in float32 there anyway (from_optax, a step cast where used)
            wide = jnp.promote_types(problem.dtype, jnp.float32)
            configs = {n: v.astype(wide) if v.dtype.kind == "f" else v for n, v in configs.items()}
        try:  # the grid's values obey the rules of the method's own (a step size > 0, a loop >= 1, ...)
            method.replace({n: configs[n] for n in names}).validate(problem)
        except (TypeError, ValueError) as err:  # TypeError: a float for svrg's default loop_length
            raise type(err)(f"over: {err}") from None
    swept = swept_positions(method, names)
    total = len(configs[names[0]])
    estimate = memory.estimate_run_bytes(problem, method, seeds, max(steps, 1), log_every, x0=x0)
    per_config = estimate.per_seed * seeds
    if block is None:
        free = memory.available_bytes()
        block = total if free is None else max(1, min(total, int(free // 4 // max(per_config, 1))))
    block = validation.integer("block", block, low=1)
    block = min(block, total)
    memory.check_run_fits(estimate._replace(seeds=seeds * block),
                          f"a block of {block} configurations x {seeds} seeds")
    keys = seed_keys(key, seeds)
    draw = use_progress(progress) and steps > log_every
    parts = []
    for start in range(0, total, block):
        take = np.arange(start, start + block).clip(max=total - 1)  # the last block repeats its end
        values = tuple(jnp.asarray(configs[n][take]) for n in names)
        out = execute(problem, method, x0, keys, x_star, steps=steps, log_every=log_every,
                      mode="sweep", swept=swept, values=values, progress=draw, rise_factor=rise_factor,
                      label=f"{method.name}: configs {start + 1}-{min(start + block, total)} "
                            f"of {total} x {seeds} seeds")
        keep = min(block, total - start)
        parts.append(jax.tree_util.tree_map(lambda a: a[:keep], out))
    trace = parts[0] if len(parts) == 1 else jax.tree_util.tree_map(
        lambda *a: jnp.concatenate(a), *parts)
    return Sweep(trace, configs, method)
