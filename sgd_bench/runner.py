"""The scan runner: ``run`` for one key, ``run_seeds`` for many keys in one compiled program.

A run of ``steps`` steps is cut into chunks of ``log_every`` steps. Each chunk draws its
(T, B) index block in one vectorized sampler call, runs the method's steps in a ``lax.scan``,
and only then evaluates the full-data metrics (f, ||grad f||^2, ||x - x*||) once, at the log
point. The problem's data is an argument of the jitted function, never a closure constant.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sgd_bench import _checks
from sgd_bench import _tree
from sgd_bench.counting import Count
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.methods import Method
from sgd_bench.sampling import make_sampler

# A method whose state has a ``key`` field gets fold_in(run key, METHOD_KEY_TAG) there. The
# sampler folds in step numbers and epochs, which stay below 2**31, so this never collides.
METHOD_KEY_TAG = np.uint32(0xFFFFFFFF)

# A seed has diverged once its loss is not finite or exceeds this multiple of max(|f(x_0)|, 1).
DIVERGENCE_FACTOR = 1e6


class Trace(NamedTuple):
    """What a run returns; ``run_seeds`` adds a leading seed axis to every field.

    - ``step``: logged step numbers k (0 first, ``steps`` last), int32.
    - ``grad_evals``: exact per-sample gradient evaluations at each logged step (a ``Count``;
      ``np.asarray(trace.grad_evals)`` gives int64).
    - ``loss``: f(x_k) at each logged step.
    - ``grad_norm_sq``: ||grad f(x_k)||^2 at each logged step.
    - ``dist``: ||x_k - x*|| at each logged step, or ``None`` when no ``x_star`` was given.
    - ``x``: the final iterate.
    - ``diverged``: whether f(x_k) became NaN/Inf or exceeded 1e6 max(|f(x_0)|, 1).
    - ``diverged_step``: the first logged step where it did, or -1.
    - ``xs``: the iterates at the logged steps (leading axis = log point) when the run was
      asked for them with ``log_iterates=True``, else ``None``.
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


def log_steps(steps: int, log_every: int) -> np.ndarray:
    """The step numbers a run logs: 0, log_every, 2 log_every, ..., and ``steps`` itself."""
    logged = np.arange(0, steps + 1, log_every, dtype=np.int64)
    if logged[-1] != steps:
        logged = np.append(logged, steps)
    return logged.astype(np.int32)


def _metrics(problem: FiniteSum, x, x_star):
    f, g = problem.value_and_grad(x)
    dist = None if x_star is None else jnp.sqrt(_tree.sq_norm(_tree.sub(x, x_star)))
    return f, _tree.sq_norm(g), dist


def _init_state(method: Method, problem, x0, key):
    state = method.init(x0, problem)
    if "key" in getattr(state, "_fields", ()):
        state = state._replace(key=jax.random.fold_in(key, METHOD_KEY_TAG))
    return state


class Stepper(NamedTuple):
    """The method and its sampler as two functions over a carry (state, sampler state).

    ``init(problem, x0, key) -> carry`` and ``advance(problem, key, carry, k0, t) -> carry``
    runs steps k0, ..., k0 + t - 1 in one ``lax.scan``. The runner and the timing harness
    share it, so a timed run performs exactly the runner's steps.
    """

    init: Any
    advance: Any


def stepper(method: Method, n: int, chunk: int) -> Stepper:
    """The ``Stepper`` of ``method`` on a problem with ``n`` samples, for chunks <= ``chunk``."""
    sampler = None
    if method.batch_size is not None:
        sampler = make_sampler(method.sampling, n, method.batch_size, chunk)

    def init(problem, x0, key):
        state = _init_state(method, problem, x0, key)
        return state, (() if sampler is None else sampler.init(key))

    def advance(problem, key, carry, k0, t):
        state, sampler_state = carry
        if sampler is None:
            idx = jnp.zeros((t, 0), jnp.int32)
        else:
            idx, sampler_state = sampler.sample(sampler_state, key, k0, t)

        def body(s, inputs):
            k, idx_k = inputs
            return method.step(s, problem, idx_k, k), None

        ks = k0 + jnp.arange(t, dtype=jnp.int32)
        state, _ = lax.scan(body, state, (ks, idx))
        return state, sampler_state

    return Stepper(init, advance)


def _run_impl(problem, x0, key, x_star, *, method: Method, steps: int, log_every: int,
              log_iterates: bool = False) -> Trace:
    num_chunks, rem = divmod(steps, log_every)
    steps_fn = stepper(method, problem.n, log_every)

    def log(state):
        return _metrics(problem, state.x, x_star), state.grad_evals, (state.x if log_iterates else None)

    def chunk(carry, c):
        carry = steps_fn.advance(problem, key, carry, c * log_every, log_every)
        return carry, log(carry[0])

    carry = steps_fn.init(problem, x0, key)
    first = log(carry[0])
    carry, logged = lax.scan(chunk, carry, jnp.arange(num_chunks, dtype=jnp.int32))
    parts = [jax.tree_util.tree_map(lambda a: a[None], first), logged]
    if rem:
        carry = steps_fn.advance(problem, key, carry, jnp.asarray(num_chunks * log_every, jnp.int32), rem)
        parts.append(jax.tree_util.tree_map(lambda a: a[None], log(carry[0])))
    (loss, gnorm, dist), grad_evals, xs = jax.tree_util.tree_map(
        lambda *a: jnp.concatenate(a), *parts)

    step = jnp.asarray(log_steps(steps, log_every))
    limit = DIVERGENCE_FACTOR * jnp.maximum(jnp.abs(loss[0]), 1.0)
    bad = ~jnp.isfinite(loss) | (loss > limit)
    diverged = jnp.any(bad)
    diverged_step = jnp.where(diverged, step[jnp.argmax(bad)], -1)
    return Trace(step, grad_evals, loss, gnorm, dist, carry[0].x, diverged, diverged_step, xs)


_STATIC = ("method", "steps", "log_every", "log_iterates")
_run_jit = jax.jit(_run_impl, static_argnames=_STATIC)


@functools.partial(jax.jit, static_argnames=_STATIC)
def _run_seeds_jit(problem, x0, keys, x_star, *, method, steps, log_every, log_iterates=False):
    one = functools.partial(_run_impl, method=method, steps=steps, log_every=log_every,
                            log_iterates=log_iterates)
    return jax.vmap(one, in_axes=(None, None, 0, None))(problem, x0, keys, x_star)


def _as_key(key):
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return jax.random.key(int(key))
    arr = key
    is_typed = hasattr(arr, "dtype") and jnp.issubdtype(arr.dtype, jax.dtypes.prng_key)
    if is_typed:
        if arr.shape != ():
            raise ValueError(f"key must be a single PRNG key, got a key array of shape {arr.shape}")
        return arr
    if hasattr(arr, "shape") and arr.shape == (2,) and arr.dtype == jnp.uint32:
        return arr
    raise TypeError(f"key must be a PRNG key such as jax.random.key(0) (or an int seed), got {key!r}")


def _check_x(name, x, problem):
    leaves = jax.tree_util.tree_leaves(x)
    if not leaves:
        raise ValueError(f"{name} must be an array (or a pytree of arrays), got {x!r}")
    if problem.x_shape is not None:
        shape = jnp.shape(x)
        if not hasattr(x, "shape") or tuple(shape) != problem.x_shape:
            got = shape if hasattr(x, "shape") else type(x).__name__
            raise ValueError(f"{name} must have shape {problem.x_shape} for problem "
                             f"{problem.name!r}, got {got}")
    else:
        datum = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype),
                                       problem.data)
        try:
            out = jax.eval_shape(problem.loss_i, x, datum)
        except Exception as err:
            raise ValueError(f"{name} does not fit problem {problem.name!r}: loss_i(x, datum) "
                             f"failed with {type(err).__name__}: {err}") from None
        if getattr(out, "shape", None) != ():
            raise ValueError(f"loss_i of problem {problem.name!r} must return a scalar; with "
                             f"{name} it returns shape {getattr(out, 'shape', None)}")
    for leaf in leaves:
        _checks.finite_array(name, leaf)


def _cast_x(x, problem):
    def cast(a):
        a = jnp.asarray(a)
        return a if jnp.issubdtype(a.dtype, jnp.floating) else a.astype(problem.dtype)
    return jax.tree_util.tree_map(cast, x)


def _check_args(problem, method, x0, key, steps, log_every, x_star):
    if not isinstance(problem, FiniteSum):
        raise TypeError(f"problem must be a sgd_bench.FiniteSum, got {type(problem).__name__}")
    if not isinstance(method, Method):
        raise TypeError(f"method must be a sgd_bench.Method (gd, sgd, from_optax, ...), "
                        f"got {type(method).__name__}")
    steps = _checks.integer("steps", steps, low=1, high=2**31 - 2)
    if log_every is None:
        log_every = max(1, steps // 100)
    log_every = _checks.integer("log_every", log_every, low=1, high=steps)
    if method.batch_size is not None and method.batch_size > problem.n:
        raise ValueError(f"batch_size must be in [1, n] = [1, {problem.n}] for problem "
                         f"{problem.name!r}, got {method.batch_size}")
    _check_x("x0", x0, problem)
    x0 = _cast_x(x0, problem)
    if x_star is not None:
        _check_x("x_star", x_star, problem)
        if not _tree.structure_matches(x0, x_star):
            raise ValueError("x_star must have the same structure and shapes as x0")
        x_star = _cast_x(x_star, problem)
    return x0, _as_key(key), steps, log_every, x_star


def run(problem: FiniteSum, method: Method, x0, key, *, steps: int,
        log_every: int | None = None, x_star=None, log_iterates: bool = False) -> Trace:
    """Runs ``method`` on ``problem`` from ``x0`` for ``steps`` steps as one compiled scan.

    **Arguments:**

    - ``problem``: a ``FiniteSum``.
    - ``method``: a ``Method`` (``gd``, ``sgd``, ``from_optax``, ...).
    - ``x0``: the starting point.
    - ``key``: a PRNG key (``jax.random.key(0)``) or an int seed; drives the sampler only.
    - ``steps``: the number of steps, >= 1.
    - ``log_every``: steps between log points (default: ``max(1, steps // 100)``); the full
      loss and gradient are evaluated only at log points.
    - ``x_star``: a known minimizer; when given, the trace records ||x_k - x*||.
    - ``log_iterates``: also return the iterates at the log points (``Trace.xs``), for
      quantities computed after the run (gradient variance along the run, ...).

    A method whose state has a ``key`` field (for its own randomness, such as injected
    gradient noise) gets a key derived from ``key`` there; the sampler's stream is unchanged.

    **Returns:** a ``Trace``.
    """
    x0, key, steps, log_every, x_star = _check_args(problem, method, x0, key, steps, log_every, x_star)
    return _run_jit(problem, x0, key, x_star, method=method, steps=steps, log_every=log_every,
                    log_iterates=bool(log_iterates))


def seed_keys(key, seeds: int) -> jax.Array:
    """The per-seed keys ``run_seeds`` uses: ``jax.random.split(key, seeds)``."""
    seeds = _checks.integer("seeds", seeds, low=1)
    return jax.random.split(_as_key(key), seeds)


def run_seeds(problem: FiniteSum, method: Method, x0, key, *, seeds: int, steps: int,
              log_every: int | None = None, x_star=None, log_iterates: bool = False) -> Trace:
    """``run`` for ``seeds`` keys ``jax.random.split(key, seeds)``, vmapped in one program.

    Seed s of the result equals ``run(problem, method, x0, seed_keys(key, seeds)[s], ...)``.
    Every field of the returned ``Trace`` gets a leading axis of length ``seeds``; the data is
    shared by all seeds, not copied.
    """
    x0, key, steps, log_every, x_star = _check_args(problem, method, x0, key, steps, log_every, x_star)
    keys = seed_keys(key, seeds)
    return _run_seeds_jit(problem, x0, keys, x_star, method=method, steps=steps,
                          log_every=log_every, log_iterates=bool(log_iterates))
