"""The runner: ``run`` for one key, ``run_seeds`` / ``run_keys`` for many keys in one program.

A run of ``steps`` steps logs at steps 0, ``log_every``, 2 ``log_every``, ..., ``steps``.
Between log points it advances the ``Solver`` state (``sgd_bench.solver.advance_state``); at a
log point it evaluates the full-data metrics (f, ||grad f||^2, ||x - x*||) and every counter
the method keeps, once. Every run is the same two compiled programs: ``begin`` (the state at
x0 and the log at step 0) and ``segment`` (log points c0 .. c1 - 1, with c0, c1, ``steps`` and
``log_every`` traced). Without a progress bar one segment covers the run; with a bar the same
program runs on groups of log points, so a bar can never change a result. The problem's data
and the method's hyperparameters are arguments of the programs, never constants in them.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import validation
from sgd_bench import _tree
from sgd_bench._values import tree_hash, trees_equal
from sgd_bench.counting import Count
from sgd_bench.flags import (DIVERGENCE_FACTOR, RISE_FACTOR, NegativeStepWarning,  # noqa: F401
                             above_start, check_rise_factor, first_negative_step, traced_preconditioner_climbs,
                             warn_negative, warn_uphill)
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.methods import Method
from sgd_bench.progress import Bar
from sgd_bench.progress import enabled as progress_enabled  # ``progress`` is an argument here
from sgd_bench.solver import (DEFAULT_CHUNK, MAX_STEPS, METHOD_KEY_TAG, SolverState,  # noqa: F401
                              advance_state, as_key, cast_x, check_forward_only, check_method_state,
                              check_problem_method, check_x,
                              counts, init_state, SEED_AXES)

class Trace(NamedTuple):
    """What a run returns; ``run_seeds`` adds a leading seed axis to every field (``sweep`` a
    leading (config, seed) pair).

    - ``step``: logged step numbers k (0 first, ``steps`` last), int32.
    - ``grad_evals``: exact per-sample gradient evaluations at each logged step (a ``Count``;
      ``np.asarray(trace.grad_evals)`` gives int64).
    - ``loss``: f(x_k) at each logged step.
    - ``grad_norm_sq``: ||grad f(x_k)||^2 at each logged step.
    - ``dist``: ||x_k - x*|| at each logged step, or ``None`` when no ``x_star`` was given.
    - ``x``: the final iterate.
    - ``diverged``: whether f(x_k) became NaN/Inf or exceeded 1e6 max(|f(x_0)|, 1) at a log
      point. ``sgd_bench.stats`` leaves such seeds out.
    - ``diverged_step``: the first logged step where it did, or -1.
    - ``xs``: the iterates at the logged steps (leading axis = log point) when the run was
      asked for them with ``log_iterates=True``, else ``None``.
    - ``counts``: every evaluation counter the method keeps at each logged step, by name
      (``grad_evals``; ``loss_evals`` of a line search, ``hvp_evals`` of a Newton step), and
      ``uphill_steps`` of ``lbfgs``: steps its line search took above f(x_k) (warned about).
    - ``negative_step_at``: the first step k < ``steps`` at which one of the method's step
      sizes (``sgd_bench.methods.step_sizes``) is negative or NaN, or -1: such a run climbs
      uphill from step k on. A negative constant is refused when the method is built (and by
      ``replace`` and ``sweep``); a schedule that turns negative later (one's own callable or
      ``Schedule`` formula, an optax schedule) is run as asked, flagged here and warned about
      (``NegativeStepWarning``). Not checked, so -1 there: the learning rate of a ready optax
      transformation (``from_optax(optax.sgd(schedule))``), which optax hides. Under a user's
      ``jax.jit`` the host refusals cannot run: a traced negative constant is flagged here, a traced
      preconditioner that is not positive semi-definite sets 0, and nothing is warned
      (``sgd_bench.flags`` lists what is not flagged).
    - ``rose``: whether f(x_k) became NaN/Inf or rose above ``rise_factor`` max(|f(x_0)|, 1)
      (default ``RISE_FACTOR`` = 10) at a log point; a diverged seed has always risen. A flag
      beside ``diverged``, not a filter: statistics keep a seed that rose but stayed finite.
    - ``rose_step``: the first logged step where it did, or -1.
    """

    step: jax.Array
    grad_evals: Count
    loss: jax.Array
    grad_norm_sq: jax.Array
    dist: jax.Array | None
    x: Any
    diverged: jax.Array
    diverged_step: jax.Array
    xs: Any = None
    counts: Any = None
    negative_step_at: Any = None
    rose: Any = None
    rose_step: Any = None

    # A NamedTuple compares its fields with ``==``: arrays, so ``trace == copy`` raised JAX's
    # ambiguous-truth error. Traces compare by value (NaNs of a diverged seed in the same places
    # are equal), as Count does.
    def __eq__(self, other):
        if not isinstance(other, Trace):  # a plain tuple's own == would compare the arrays again
            return False if isinstance(other, tuple) else NotImplemented
        return trees_equal(self, other)

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        return tree_hash(self)


def log_steps(steps: int, log_every: int) -> np.ndarray:
    """The step numbers a run logs: 0, log_every, 2 log_every, ..., and ``steps`` itself."""
    # as run checks them (log_every = 0 was a ZeroDivisionError inside NumPy's arange)
    steps = validation.integer("steps", steps, low=0, high=MAX_STEPS)
    log_every = validation.integer("log_every", log_every, low=1)
    logged = np.arange(0, steps + 1, log_every, dtype=np.int64)
    if logged[-1] != steps:
        logged = np.append(logged, steps)
    return logged.astype(np.int32)


def _log(problem, state: SolverState, x_star, log_iterates):
    f, g = problem.value_and_grad(state.x)
    dist = None if x_star is None else jnp.sqrt(_tree.sq_norm(_tree.sub(state.x, x_star)))
    return dict(loss=f, grad_norm_sq=_tree.sq_norm(g), dist=dist, counts=counts(state.method),
                xs=state.x if log_iterates else None)


def _begin(problem, method, x0, key, x_star, steps, *, chunk, num_logs, log_iterates):
    state = init_state(problem, method, x0, key, chunk=chunk)
    first = _log(problem, state, x_star, log_iterates)
    logs = jax.tree_util.tree_map(
        lambda a: jnp.zeros((num_logs,) + jnp.shape(a), jnp.asarray(a).dtype).at[0].set(a), first)
    return state, logs, first_negative_step(method, steps)


def _segment(problem, method, state, logs, c0, c1, log_every, steps, x_star, *, chunk,
             log_iterates):
    """Log points c0 + 1, ..., c1: advance to each, then log it (c0, c1 traced)."""

    def body(c, carry):
        state, logs = carry
        t = jnp.minimum(log_every, steps - c * log_every)
        state = advance_state(problem, method, state, t, chunk=chunk)
        entry = _log(problem, state, x_star, log_iterates)
        logs = jax.tree_util.tree_map(lambda buf, v: buf.at[c + 1].set(v), logs, entry)
        return state, logs

    return jax.lax.fori_loop(c0, c1, body, (state, logs))


def _first(bad, step):
    flag = jnp.any(bad)
    return flag, jnp.where(flag, step[jnp.argmax(bad)], -1)


def _finish(state, logs, step, negative_step_at, rise_factor) -> Trace:
    loss = logs["loss"]
    diverged, diverged_step = _first(above_start(loss, DIVERGENCE_FACTOR), step)
    # a diverged seed has risen too, whatever the factor
    rose, rose_step = _first(above_start(loss, jnp.minimum(rise_factor, DIVERGENCE_FACTOR)), step)
    return Trace(step, logs["counts"]["grad_evals"], loss, logs["grad_norm_sq"], logs["dist"],
                 state.x, diverged, diverged_step, logs["xs"], logs["counts"], negative_step_at,
                 rose, rose_step)


# -- batching: one run, a batch of seeds, or a grid of configurations x seeds ---------------------------
# ``mode`` is "one", "seeds" or "sweep". In a sweep, ``values`` holds the swept leaves of the
# method with a leading config axis, and ``swept`` (static) their positions among its leaves.

# How the configurations of a sweep are vmapped: only the method's state gets a config axis.
# Every configuration runs the same seed keys, and the sampler never sees a hyperparameter, so
# its stream is one per seed: unbatched over configurations, a batch's rows are gathered once
# per seed and multiply all configurations' iterates at once (27 step sizes of a batch-100 step
# gathered 27 times as many rows before).
CONFIG_AXES = SolverState(method=0, sampler=None, k=None, key=None)

def _with_values(method, swept, values):
    if not swept:
        return method
    leaves, treedef = jax.tree_util.tree_flatten(method)
    for i, v in zip(swept, values):
        leaves[i] = v
    return jax.tree_util.tree_unflatten(treedef, leaves)


@functools.partial(jax.jit, static_argnames=("mode", "swept", "chunk", "num_logs", "log_iterates"))
def _begin_jit(problem, method, values, x0, key, x_star, steps, *, mode, swept, chunk, num_logs,
               log_iterates):
    def fn(m, k):
        return _begin(problem, m, x0, k, x_star, steps, chunk=chunk, num_logs=num_logs,
                      log_iterates=log_iterates)

    if mode == "one":
        return fn(method, key)

    def seeds(m):
        return jax.vmap(lambda k: fn(m, k), out_axes=(SEED_AXES, 0, 0))(key)

    if mode == "seeds":
        return seeds(method)
    # Every configuration runs the same seed keys (common random numbers).
    return jax.vmap(lambda v: seeds(_with_values(method, swept, v)),
                    out_axes=(CONFIG_AXES, 0, 0))(values)


@functools.partial(jax.jit, static_argnames=("mode", "swept", "chunk", "log_iterates"))
def _segment_jit(problem, method, values, state, logs, c0, c1, log_every, steps, x_star, *, mode,
                 swept, chunk, log_iterates):
    def fn(m, s, lg):
        return _segment(problem, m, s, lg, c0, c1, log_every, steps, x_star, chunk=chunk,
                        log_iterates=log_iterates)

    if mode == "one":
        return fn(method, state, logs)

    def seeds(m, s, lg):
        return jax.vmap(lambda s1, l1: fn(m, s1, l1), in_axes=(SEED_AXES, 0),
                        out_axes=(SEED_AXES, 0))(s, lg)

    if mode == "seeds":
        return seeds(method, state, logs)
    return jax.vmap(lambda v, s, lg: seeds(_with_values(method, swept, v), s, lg),
                    in_axes=(0, CONFIG_AXES, 0), out_axes=(CONFIG_AXES, 0))(values, state, logs)


@functools.partial(jax.jit, static_argnames=("depth",))
def _finish_jit(state, logs, step, negative_step_at, rise_factor, *, depth):
    fn = _finish
    for level in range(depth):
        fn = jax.vmap(fn, in_axes=(SEED_AXES if level == 0 else CONFIG_AXES, 0, None, 0, None))
    return fn(state, logs, step, negative_step_at, rise_factor)


def _group_size(num_logs: int, target_groups: int = 20) -> int:
    """Log points per redraw of a progress bar: about ``target_groups`` redraws per run."""
    return max(1, -(-num_logs // target_groups))


def use_progress(progress) -> bool:
    """Whether a run draws a bar: ``progress`` as given, or the progress mode's default if None."""
    if progress is None:
        return progress_enabled()
    if not isinstance(progress, (bool, np.bool_)):  # progress="no" is truthy: it drew a bar
        raise TypeError(f"progress must be True, False or None, got {validation.shown(progress)}")
    return bool(progress)


def execute(problem, method, x0, key, x_star, *, steps, log_every, log_iterates=False,
            mode="one", swept=(), values=(), chunk=DEFAULT_CHUNK,
            progress=False, label="run", rise_factor=RISE_FACTOR) -> Trace:
    """Runs the begin and segment programs (checked arguments; used by run, run_keys, sweep)."""
    check_forward_only(f"a run ({label})", problem, method, x0, x_star, values)  # JAX's error came after it
    chunk = max(1, min(chunk, log_every))
    step = log_steps(steps, log_every)
    num_logs = len(step)
    state, logs, negative = _begin_jit(problem, method, values, x0, key, x_star, jnp.int32(steps),
                                       mode=mode, swept=swept, chunk=chunk, num_logs=num_logs,
                                       log_iterates=bool(log_iterates))
    opts = dict(mode=mode, swept=swept, chunk=chunk, log_iterates=bool(log_iterates))
    args = (jnp.int32(log_every), jnp.int32(steps), x_star)
    last = num_logs - 1
    group = _group_size(last) if progress else max(last, 1)
    with (Bar(steps, label) if progress else contextlib.nullcontext()) as bar:
        for c0 in range(0, last, group):
            c1 = min(c0 + group, last)
            state, logs = _segment_jit(problem, method, values, state, logs, jnp.int32(c0),
                                       jnp.int32(c1), *args, **opts)
            if bar is not None:
                jax.block_until_ready(logs)
                bar.update(int(step[c1]))
    depth = {"one": 0, "seeds": 1, "sweep": 2}[mode]
    # the factor is traced (a float argument): another value never compiles again
    climbs = traced_preconditioner_climbs(method)  # None unless a user's jit traced one: unchecked on the host
    negative = negative if climbs is None else jnp.where(climbs, 0, negative)
    trace = _finish_jit(state, logs, jnp.asarray(step), negative, float(rise_factor), depth=depth)
    if not isinstance(negative, jax.core.Tracer):  # inside a user's jax.jit the flag stays in the
        warn_negative(np.asarray(negative), label)  # trace (np.asarray of a tracer was JAX's error)
        warn_uphill(trace.counts, label)  # a failed line search's uphill step (lbfgs) was silent
    return trace


def check_args(problem, method, x0, key, steps, log_every, x_star):
    check_problem_method(problem, method)
    steps = validation.integer("steps", steps, low=0, high=MAX_STEPS)
    if log_every is None:
        log_every = max(1, steps // 100)
    log_every = validation.integer("log_every", log_every, low=1, high=max(steps, 1))
    check_x("x0", x0, problem)
    x0 = cast_x(x0, problem)
    check_method_state(problem, method, x0)
    if x_star is not None:
        check_x("x_star", x_star, problem)
        if not _tree.structure_matches(x0, _tree.listed(x_star, problem.x_shape)):
            raise ValueError("x_star must have the same structure and shapes as x0")
        x_star = cast_x(x_star, problem, "x_star")
    return x0, as_key(key), steps, log_every, x_star


def run(problem: FiniteSum, method: Method, x0, key, *, steps: int,
        log_every: int | None = None, x_star=None, log_iterates: bool = False,
        progress: bool | None = None, rise_factor: float | None = None) -> Trace:
    """Runs ``method`` on ``problem`` from ``x0`` for ``steps`` steps, logging as it goes.

    **Arguments:**

    - ``problem``: a ``FiniteSum``.
    - ``method``: a ``Method`` (``gd``, ``sgd``, ``from_optax``, ...).
    - ``x0``: the starting point.
    - ``key``: a PRNG key (``jax.random.key(0)``) or an int seed; drives the sampler, and the
      method's own randomness through ``fold_in(key, METHOD_KEY_TAG)``.
    - ``steps``: the number of steps, >= 0.
    - ``log_every``: steps between log points (default: ``max(1, steps // 100)``); the full
      loss and gradient are evaluated only at log points.
    - ``x_star``: a known minimizer; when given, the trace records ||x_k - x*||.
    - ``log_iterates``: also return the iterates at the log points (``Trace.xs``).
    - ``progress``: draw a progress bar on stderr. The run is the same compiled program with
      or without it. ``None`` follows ``sgd_bench.progress.get_mode()``: off in the library, on
      a terminal in the CLI.
    - ``rise_factor``: ``Trace.rose`` flags a loss above ``rise_factor`` max(|f(x_0)|, 1) at a
      log point (default ``RISE_FACTOR`` = 10; >= 1). Another value does not compile again.

    **Returns:** a ``Trace``. Another step size, mu, or new data of the same shapes runs in the
    program compiled for the first call.
    """
    rise_factor = check_rise_factor(rise_factor)  # before check_args converts x0 (a compile)
    log_iterates = validation.boolean("log_iterates", log_iterates)  # "no" is truthy: it logged them
    x0, key, steps, log_every, x_star = check_args(problem, method, x0, key, steps, log_every, x_star)
    _check_seed_memory(problem, method, x0, 1, steps, log_every, log_iterates)  # lbfgs(10**9) alone would not fit
    return execute(problem, method, x0, key, x_star, steps=steps, log_every=log_every,
                   log_iterates=log_iterates, mode="one",
                   progress=use_progress(progress) and steps > log_every, label=method.name,
                   rise_factor=rise_factor)


def seed_keys(key, seeds: int) -> jax.Array:
    """The per-seed keys ``run_seeds`` uses: ``jax.random.split(key, seeds)``."""
    from sgd_bench import memory

    seeds = validation.integer("seeds", seeds, low=1)
    key = as_key(key)
    # 10**12 keys would abort the process inside XLA (not a MemoryError): refuse them here
    memory.check_fits(seeds * memory.KEY_BYTES, f"seed_keys: storing {seeds:,} seed keys", hint="use fewer seeds")  # "keys needs"
    return jax.random.split(key, seeds)


def _check_seed_memory(problem, method, x0, seeds, steps, log_every, log_iterates=False):
    from sgd_bench import memory

    estimate = memory.estimate_run_bytes(problem, method, seeds, max(steps, 1), log_every, x0=x0,
                                         log_iterates=log_iterates)
    memory.check_run_fits(estimate, f"{method.name} with {seeds:,} seed{'s' if seeds != 1 else ''}")


def run_seeds(problem: FiniteSum, method: Method, x0, key, *, seeds: int, steps: int,
              log_every: int | None = None, x_star=None, log_iterates: bool = False,
              progress: bool | None = None, rise_factor: float | None = None) -> Trace:
    """``run`` for ``seeds`` keys ``jax.random.split(key, seeds)``, vmapped in one program.

    Seed s of the result equals ``run(problem, method, x0, seed_keys(key, seeds)[s], ...)``.
    Every field of the returned ``Trace`` gets a leading axis of length ``seeds``; the data is
    shared by all seeds, not copied. A request whose states and logs cannot fit in memory is
    refused with the numbers before anything is allocated.
    """
    rise_factor = check_rise_factor(rise_factor)  # before check_args converts x0 (a compile)
    log_iterates = validation.boolean("log_iterates", log_iterates)  # "no" is truthy: it logged them
    seeds = validation.integer("seeds", seeds, low=1)  # before check_args too: a bad seeds compiled nothing
    x0, key, steps, log_every, x_star = check_args(problem, method, x0, key, steps, log_every, x_star)
    _check_seed_memory(problem, method, x0, seeds, steps, log_every, log_iterates)
    keys = seed_keys(key, seeds)
    return _run_keys(problem, method, x0, keys, x_star, steps, log_every, log_iterates, progress,
                     rise_factor)


def run_keys(problem: FiniteSum, method: Method, x0, keys, *, steps: int,
             log_every: int | None = None, x_star=None, log_iterates: bool = False,
             progress: bool | None = None, rise_factor: float | None = None) -> Trace:
    """``run`` for each key of the key array ``keys`` (leading axis), vmapped in one program.

    ``run_seeds(..., key, seeds=S)`` is ``run_keys(..., seed_keys(key, S))``; a slice of those
    keys runs a block of the same seeds (the grid runner resumes seed blocks this way).
    """
    rise_factor = check_rise_factor(rise_factor)  # before check_args converts x0 (a compile)
    log_iterates = validation.boolean("log_iterates", log_iterates)  # "no" is truthy: it logged them
    x0, _, steps, log_every, x_star = check_args(problem, method, x0, 0, steps, log_every, x_star)
    check_keys(keys)
    _check_seed_memory(problem, method, x0, int(keys.shape[0]), steps, log_every, log_iterates)
    return _run_keys(problem, method, x0, keys, x_star, steps, log_every, log_iterates, progress,
                     rise_factor)


def check_keys(keys) -> None:
    """Refuses ``keys`` unless it is a 1-D array of at least one typed PRNG key (``run_keys``,
    ``horizons.final_gaps``)."""
    validation.live("keys", keys)  # JAX's "Array has been deleted with shape=uint32[3,2]" from inside
    if not (hasattr(keys, "dtype") and jnp.issubdtype(keys.dtype, jax.dtypes.prng_key)
            and keys.ndim == 1 and keys.shape[0] >= 1):
        # a list of keys has no dtype, and jnp.shape(list) raised JAX's "JAX array with PRNGKey
        # dtype cannot be converted to a NumPy array" while this message was being written
        if isinstance(keys, (list, tuple)):
            got = f"a {type(keys).__name__} of {len(keys)} (stack the keys into one array: jnp.stack(keys))"
        else:
            got = f"{getattr(keys, 'dtype', type(keys).__name__)} of shape {getattr(keys, 'shape', ())}"
        if getattr(keys, "shape", None) == (0,):  # was "must be a 1-D array" of a 1-D one
            raise ValueError("keys must hold at least one key, got an empty array of shape (0,)")
        raise TypeError(f"keys must be a 1-D array of typed PRNG keys such as seed_keys(key, seeds), got {got}")


def _run_keys(problem, method, x0, keys, x_star, steps, log_every, log_iterates, progress, rise_factor):
    return execute(problem, method, x0, keys, x_star, steps=steps, log_every=log_every,
                   log_iterates=log_iterates, mode="seeds",
                   progress=use_progress(progress) and steps > log_every,
                   label=f"{method.name} x {keys.shape[0]} seeds", rise_factor=rise_factor)


def run_keys_chunked(problem: FiniteSum, method: Method, x0, keys, *, steps: int,
                     log_every: int | None = None, x_star=None, progress: bool | None = None,
                     label: str | None = None, rise_factor: float | None = None) -> Trace:
    """``run_keys`` with a progress label of the caller's. Kept for the grid runner: every run
    is one program whether a bar is drawn or not, so its traces never depend on the terminal."""
    x0, _, steps, log_every, x_star = check_args(problem, method, x0, 0, steps, log_every, x_star)
    return execute(problem, method, x0, keys, x_star, steps=steps, log_every=log_every,
                   mode="seeds", progress=use_progress(progress) and steps > log_every,
                   label=label or f"{method.name} x {keys.shape[0]} seeds",
                   rise_factor=check_rise_factor(rise_factor))
