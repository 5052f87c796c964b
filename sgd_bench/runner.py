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


def _log(problem, state, x_star, log_iterates):
    return _metrics(problem, state.x, x_star), state.grad_evals, (state.x if log_iterates else None)


def _begin(problem, x0, key, x_star, *, method, log_every, log_iterates):
    """The initial carry and the log at step 0."""
    carry = stepper(method, problem.n, log_every).init(problem, x0, key)
    return carry, _log(problem, carry[0], x_star, log_iterates)


def _chunks(problem, key, x_star, carry, c0, *, method, log_every, num, log_iterates):
    """Chunks c0, ..., c0 + num - 1 of ``log_every`` steps, each followed by its log."""
    steps_fn = stepper(method, problem.n, log_every)

    def chunk(carry, c):
        carry = steps_fn.advance(problem, key, carry, c * log_every, log_every)
        return carry, _log(problem, carry[0], x_star, log_iterates)

    return lax.scan(chunk, carry, c0 + jnp.arange(num, dtype=jnp.int32))


def _tail(problem, key, x_star, carry, k0, *, method, log_every, rem, log_iterates):
    """The last ``rem`` < ``log_every`` steps, from step k0, and the final log."""
    carry = stepper(method, problem.n, log_every).advance(problem, key, carry, k0, rem)
    return carry, _log(problem, carry[0], x_star, log_iterates)


def _finish(carry, parts, steps, log_every) -> Trace:
    """The trace from the final carry and the logs (leading axis = log point) in order."""
    (loss, gnorm, dist), grad_evals, xs = jax.tree_util.tree_map(lambda *a: jnp.concatenate(a), *parts)
    step = jnp.asarray(log_steps(steps, log_every))
    limit = DIVERGENCE_FACTOR * jnp.maximum(jnp.abs(loss[0]), 1.0)
    bad = ~jnp.isfinite(loss) | (loss > limit)
    diverged = jnp.any(bad)
    diverged_step = jnp.where(diverged, step[jnp.argmax(bad)], -1)
    return Trace(step, grad_evals, loss, gnorm, dist, carry[0].x, diverged, diverged_step, xs)


def _one(tree):
    return jax.tree_util.tree_map(lambda a: a[None], tree)


def _run_impl(problem, x0, key, x_star, *, method: Method, steps: int, log_every: int,
              log_iterates: bool = False) -> Trace:
    num_chunks, rem = divmod(steps, log_every)
    opts = dict(method=method, log_every=log_every, log_iterates=log_iterates)
    carry, first = _begin(problem, x0, key, x_star, **opts)
    carry, logged = _chunks(problem, key, x_star, carry, jnp.int32(0), num=num_chunks, **opts)
    parts = [_one(first), logged]
    if rem:
        k0 = jnp.asarray(num_chunks * log_every, jnp.int32)
        carry, last = _tail(problem, key, x_star, carry, k0, rem=rem, **opts)
        parts.append(_one(last))
    return _finish(carry, parts, steps, log_every)


_STATIC = ("method", "steps", "log_every", "log_iterates")
_run_jit = jax.jit(_run_impl, static_argnames=_STATIC)


@functools.partial(jax.jit, static_argnames=_STATIC)
def _run_seeds_jit(problem, x0, keys, x_star, *, method, steps, log_every, log_iterates=False):
    one = functools.partial(_run_impl, method=method, steps=steps, log_every=log_every,
                            log_iterates=log_iterates)
    return jax.vmap(one, in_axes=(None, None, 0, None))(problem, x0, keys, x_star)


# The pieces of a run as separate programs, for runs that report progress between chunks.
# ``seeded`` vmaps a piece over a leading key axis (and the carry and logs that follow it).
_PIECE_STATIC = ("method", "log_every", "log_iterates", "num", "rem")


@functools.partial(jax.jit, static_argnames=_PIECE_STATIC[:3] + ("seeded",))
def _begin_jit(problem, x0, key, x_star, *, method, log_every, log_iterates, seeded):
    fn = functools.partial(_begin, method=method, log_every=log_every, log_iterates=log_iterates)
    if seeded:
        return jax.vmap(fn, in_axes=(None, None, 0, None))(problem, x0, key, x_star)
    return fn(problem, x0, key, x_star)


def _continue(fn, seeded, problem, key, x_star, carry, k):
    """``fn`` carries one run on from step ``k``, or, when ``seeded``, every seed's run (their
    keys and carries batched; the problem, x* and k shared)."""
    if seeded:
        return jax.vmap(fn, in_axes=(None, 0, None, 0, None))(problem, key, x_star, carry, k)
    return fn(problem, key, x_star, carry, k)


@functools.partial(jax.jit, static_argnames=_PIECE_STATIC[:4] + ("seeded",))
def _chunks_jit(problem, key, x_star, carry, c0, *, method, log_every, log_iterates, num, seeded):
    fn = functools.partial(_chunks, method=method, log_every=log_every, num=num,
                           log_iterates=log_iterates)
    return _continue(fn, seeded, problem, key, x_star, carry, c0)


@functools.partial(jax.jit, static_argnames=_PIECE_STATIC[:3] + ("rem", "seeded"))
def _tail_jit(problem, key, x_star, carry, k0, *, method, log_every, log_iterates, rem, seeded):
    fn = functools.partial(_tail, method=method, log_every=log_every, rem=rem,
                           log_iterates=log_iterates)
    return _continue(fn, seeded, problem, key, x_star, carry, k0)


def _group_size(num_chunks: int, target_groups: int = 20) -> int:
    """The largest divisor of ``num_chunks`` that still gives about ``target_groups`` redraws;
    a divisor keeps every group the same length, so one program serves them all."""
    limit = max(1, num_chunks // target_groups)
    return max(g for g in range(1, limit + 1) if num_chunks % g == 0)


def _run_with_progress(problem, x0, key, x_star, *, method, steps, log_every, log_iterates,
                       seeded, label, draw=True):
    """The run as begin / groups of chunks / tail programs, redrawing a bar after each group
    (when ``draw``).

    The programs perform the same steps as the single-program run and the sampler's stream
    depends only on the key and the step number; XLA may fuse a program differently, so
    values can differ in the last bit (never between two runs of this function).
    """
    import contextlib

    from sgd_bench.progress import Bar

    opts = dict(method=method, log_every=log_every, log_iterates=log_iterates, seeded=seeded)
    num_chunks, rem = divmod(steps, log_every)
    group = _group_size(num_chunks) if num_chunks else 1
    seed_axis = 1 if seeded else 0

    def stack(tree):
        return jax.tree_util.tree_map(lambda a: jnp.expand_dims(a, seed_axis), tree)

    with (Bar(steps, label) if draw else contextlib.nullcontext()) as bar:
        carry, first = _begin_jit(problem, x0, key, x_star, **opts)
        parts = [stack(first)]
        for c0 in range(0, num_chunks, group):
            carry, logged = _chunks_jit(problem, key, x_star, carry, jnp.int32(c0), num=group, **opts)
            parts.append(logged)
            if bar is not None:
                jax.block_until_ready(carry)
                bar.update((c0 + group) * log_every)
        if rem:
            k0 = jnp.asarray(num_chunks * log_every, jnp.int32)
            carry, last = _tail_jit(problem, key, x_star, carry, k0, rem=rem, **opts)
            parts.append(stack(last))
            if bar is not None:
                jax.block_until_ready(carry)
                bar.update(steps)
    return _finish_jit(carry, parts, steps=steps, log_every=log_every, seeded=seeded)


@functools.partial(jax.jit, static_argnames=("steps", "log_every", "seeded"))
def _finish_jit(carry, parts, *, steps, log_every, seeded):
    finish = functools.partial(_finish, steps=steps, log_every=log_every)
    return jax.vmap(finish)(carry, parts) if seeded else finish(carry, parts)


def _use_progress(progress) -> bool:
    if progress is None:
        from sgd_bench import progress as progress_mod

        return progress_mod.enabled()
    return bool(progress)


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
        log_every: int | None = None, x_star=None, log_iterates: bool = False,
        progress: bool | None = None) -> Trace:
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
    - ``progress``: draw a progress bar on stderr, redrawn after each group of chunks. The run
      is then split into a few programs doing the same steps; XLA may fuse them differently,
      so values can differ in the last bit from the single-program run. ``None`` follows
      ``sgd_bench.progress.get_mode()``: off in the library, on a terminal in the CLI.

    A method whose state has a ``key`` field (for its own randomness, such as injected
    gradient noise) gets a key derived from ``key`` there; the sampler's stream is unchanged.

    **Returns:** a ``Trace``.
    """
    x0, key, steps, log_every, x_star = _check_args(problem, method, x0, key, steps, log_every, x_star)
    if _use_progress(progress) and steps > log_every:
        return _run_with_progress(problem, x0, key, x_star, method=method, steps=steps,
                                  log_every=log_every, log_iterates=bool(log_iterates),
                                  seeded=False, label=method.name)
    return _run_jit(problem, x0, key, x_star, method=method, steps=steps, log_every=log_every,
                    log_iterates=bool(log_iterates))


def seed_keys(key, seeds: int) -> jax.Array:
    """The per-seed keys ``run_seeds`` uses: ``jax.random.split(key, seeds)``."""
    seeds = _checks.integer("seeds", seeds, low=1)
    return jax.random.split(_as_key(key), seeds)


def run_seeds(problem: FiniteSum, method: Method, x0, key, *, seeds: int, steps: int,
              log_every: int | None = None, x_star=None, log_iterates: bool = False,
              progress: bool | None = None) -> Trace:
    """``run`` for ``seeds`` keys ``jax.random.split(key, seeds)``, vmapped in one program.

    Seed s of the result equals ``run(problem, method, x0, seed_keys(key, seeds)[s], ...)``.
    Every field of the returned ``Trace`` gets a leading axis of length ``seeds``; the data is
    shared by all seeds, not copied.
    """
    x0, key, steps, log_every, x_star = _check_args(problem, method, x0, key, steps, log_every, x_star)
    keys = seed_keys(key, seeds)
    return _run_keys(problem, method, x0, keys, x_star, steps, log_every, log_iterates, progress)


def run_keys(problem: FiniteSum, method: Method, x0, keys, *, steps: int,
             log_every: int | None = None, x_star=None, log_iterates: bool = False,
             progress: bool | None = None) -> Trace:
    """``run`` for each key of the key array ``keys`` (leading axis), vmapped in one program.

    ``run_seeds(..., key, seeds=S)`` is ``run_keys(..., seed_keys(key, S))``; a slice of those
    keys runs a block of the same seeds (the grid runner resumes seed blocks this way).
    """
    x0, _, steps, log_every, x_star = _check_args(problem, method, x0, 0, steps, log_every, x_star)
    if not (hasattr(keys, "dtype") and jnp.issubdtype(keys.dtype, jax.dtypes.prng_key)
            and keys.ndim == 1 and keys.shape[0] >= 1):
        raise TypeError(f"keys must be a 1-D array of typed PRNG keys such as seed_keys(key, seeds), "
                        f"got {getattr(keys, 'dtype', type(keys).__name__)} of shape {jnp.shape(keys)}")
    return _run_keys(problem, method, x0, keys, x_star, steps, log_every, log_iterates, progress)


def _run_keys(problem, method, x0, keys, x_star, steps, log_every, log_iterates, progress):
    if _use_progress(progress) and steps > log_every:
        label = f"{method.name} x {keys.shape[0]} seeds"
        return _run_with_progress(problem, x0, keys, x_star, method=method, steps=steps,
                                  log_every=log_every, log_iterates=bool(log_iterates),
                                  seeded=True, label=label)
    return _run_seeds_jit(problem, x0, keys, x_star, method=method, steps=steps,
                          log_every=log_every, log_iterates=bool(log_iterates))


def run_keys_chunked(problem: FiniteSum, method: Method, x0, keys, *, steps: int,
                     log_every: int | None = None, x_star=None, progress: bool | None = None,
                     label: str | None = None) -> Trace:
    """``run_keys`` always as the chunked programs that progress bars use, drawing the bar
    only when ``progress`` (default: ``sgd_bench.progress`` mode) says so.

    Its traces do not depend on whether a bar was drawn, which the grid runner relies on when
    it resumes an interrupted run under a different terminal.
    """
    x0, _, steps, log_every, x_star = _check_args(problem, method, x0, 0, steps, log_every, x_star)
    return _run_with_progress(problem, x0, keys, x_star, method=method, steps=steps,
                              log_every=log_every, log_iterates=False, seeded=True,
                              label=label or f"{method.name} x {keys.shape[0]} seeds",
                              draw=_use_progress(progress))
