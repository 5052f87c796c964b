"""Gradient noise of a finite sum in float64: E_i ||grad f_i(x)||^2, the per-sample variance
v(x) = E_i ||grad f_i(x) - grad f(x)||^2, and the lecture's sigma^2 measured along a run.

All sums over samples stream over row blocks of ``problem.block_rows`` rows, so they never hold
the n x d matrix of per-sample gradients; many points (seeds x log points) are mapped in batches.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import _tree, validation
from sgd_bench.compat import batched_map, enable_x64
from sgd_bench.curvature import check_point, flat_size, to_float64
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.gradient_table import regularizer_grad
from sgd_bench.runner import Trace
from sgd_bench.solver import check_loss


# -- gradient moments --------------------------------------------------------------------------
def _row_sum(problem, per_row, x):
    """sum_i per_row(x, datum_i), streamed by the problem (row blocks, and shards if any)."""
    return problem.stream_sum(lambda z, block: jnp.sum(jax.vmap(per_row, in_axes=(None, 0))(z, block)), x)


def _second_moment(problem, x):
    """E_i ||grad f_i(x)||^2 = 1/n sum_i ||grad loss_i(x) + grad r(x)||^2."""
    g_reg = regularizer_grad(problem, x)

    def per_row(z, datum):
        return _tree.sq_norm(jax.tree_util.tree_map(jnp.add, jax.grad(problem.loss_i)(z, datum), g_reg))

    return _row_sum(problem, per_row, x) / problem.n


def _variance(problem, x):
    """E_i ||grad f_i(x) - grad f(x)||^2, in two passes (no cancellation far from x*)."""
    g_loss = jax.tree_util.tree_map(jnp.subtract, problem.grad(x), regularizer_grad(problem, x))

    def per_row(z, datum):
        return _tree.sq_norm(_tree.sub(jax.grad(problem.loss_i)(z, datum), g_loss))

    return _row_sum(problem, per_row, x) / problem.n


_second_moment_jit = jax.jit(_second_moment)
_variance_jit = jax.jit(_variance)


@functools.partial(jax.jit, static_argnames=("batch_size",))
def _second_moment_many(problem, xs, batch_size):
    return batched_map(lambda x: _second_moment(problem, x), xs, batch_size)


@functools.partial(jax.jit, static_argnames=("batch_size",))
def _variance_many(problem, xs, batch_size):
    return batched_map(lambda x: _variance(problem, x), xs, batch_size)


@functools.partial(jax.jit, static_argnames=("batch_size",))
def _loss_many(problem, xs, batch_size):
    return batched_map(problem.loss, xs, batch_size)


def _map_points(fn, problem, xs, leading):
    """Applies ``fn`` at every point of ``xs`` (leaves with ``leading`` batch axes)."""
    # xs of another problem, or leading 0 / 3 for (seeds, log points, d): JAX's "dot_general
    # requires contracting dimensions ..." or "Gradient only defined for scalar-output functions";
    # leading -1 ran on a wrong split, silently
    validation.instance("problem", problem, FiniteSum, "a sgd_bench.FiniteSum")
    leading = validation.integer("leading", leading, low=0)
    xs = validation.float_leaves(xs, np.float64)  # int points: jax.grad's error from inside
    for leaf in jax.tree_util.tree_leaves(xs):
        shape = np.shape(leaf)
        if len(shape) < leading or (problem.x_shape is not None and shape[leading:] != problem.x_shape):
            raise ValueError(f"xs must have shape (<{leading} batch axes>) + {problem.x_shape} for problem "
                             f"{problem.name!r} (leading={leading}), got {shape}")
    if problem.x_shape is None:  # a pytree iterate of another structure: the user's loss raised KeyError 'c'
        check_loss(problem, jax.tree_util.tree_map(
            lambda a: jax.ShapeDtypeStruct(np.shape(a)[leading:], jnp.result_type(a)), xs), "xs")
    with enable_x64():
        p64 = to_float64(problem)
        xs64 = to_float64(xs)
        shape = jax.tree_util.tree_leaves(xs64)[0].shape[:leading]
        flat = jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[leading:]), xs64)
        count = int(np.prod(shape))
        if count == 0:  # no points: no values (a[0] below was JAX's "index is out of bounds")
            return np.zeros(shape)
        # Points per batch: keep the batch's per-sample work near a few million entries.
        per_point = problem.n * max(flat_size(jax.tree_util.tree_map(lambda a: a[0], flat)), 1)
        batch = int(max(1, min(count, 2**22 // per_point)))
        return np.asarray(fn(p64, flat, batch)).reshape(shape)


def second_moment(problem: FiniteSum, x) -> float:
    """E_i ||grad f_i(x)||^2 = 1/n sum_i ||grad f_i(x)||^2 in float64 (one streamed pass)."""
    x = check_point(problem, x)
    with enable_x64():
        return float(_second_moment_jit(to_float64(problem), to_float64(x)))


def gradient_variance(problem: FiniteSum, x) -> float:
    """v(x) = E_i ||grad f_i(x) - grad f(x)||^2, the per-sample gradient variance, in float64.

    Computed in two passes (the full gradient first), so it does not suffer the cancellation of
    E_i ||grad f_i||^2 - ||grad f||^2 far from x*. A mini-batch gradient's error e = g_B - grad f
    has E||e||^2 = v/B with replacement and (n - B)/(n - 1) v/B without
    (``sgd_bench.bounds.minibatch_error``).
    """
    x = check_point(problem, x)
    with enable_x64():
        return float(_variance_jit(to_float64(problem), to_float64(x)))


def second_moments(problem: FiniteSum, xs, *, leading: int = 1) -> np.ndarray:
    """``second_moment`` at many points; ``xs`` has ``leading`` batch axes (e.g. seed, log point)."""
    return _map_points(_second_moment_many, problem, xs, leading)


def gradient_variances(problem: FiniteSum, xs, *, leading: int = 1) -> np.ndarray:
    """``gradient_variance`` at many points; ``xs`` has ``leading`` batch axes."""
    return _map_points(_variance_many, problem, xs, leading)


# -- sigma^2 along a run -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Sigma2Estimate:
    """The lecture's sigma^2 (a bound on E ||grad f_{i_k}(x_k)||^2 along a run), as measured.

    - ``value``: max over logged k of the seed mean of E_i ||grad f_i(x_k)||^2;
    - ``stderr``: the standard error of that seed mean;
    - ``step``: the logged k where the maximum is;
    - ``steps``, ``mean``, ``mean_stderr``: the seed mean and its standard error at each logged k;
    - ``sup``: the largest value over all seeds and logged k (a pointwise bound);
    - ``num_seeds`` and ``run``: the run it came from.
    """

    value: float
    stderr: float
    step: int
    steps: np.ndarray
    mean: np.ndarray
    mean_stderr: np.ndarray
    sup: float
    num_seeds: int
    run: str

    def describe(self) -> str:
        return (f"sigma^2 = {self.value:.4g} ± {self.stderr:.1g} (max over logged k of the mean over "
                f"{self.num_seeds} seeds of E_i||grad f_i(x_k)||^2, reached at k = {self.step}; "
                f"run: {self.run})")


def sigma2_along_run(problem: FiniteSum, trace: Trace, *, run: str = "", start: int = 0) -> Sigma2Estimate:
    """Estimates the lecture's sigma^2 from the iterates a run logged.

    The lecture's bounds assume E ||grad f_{i_k}(x_k)||^2 <= sigma^2 at every k. Taking total
    expectations in its derivation, the expectation over the run's randomness suffices, so the
    estimate is max_k (1/S) sum_s E_i ||grad f_i(x_k^(s))||^2 over the logged k and the S seeds.
    Steps between log points are not seen: log densely where the gradients change fast.

    **Arguments:**

    - ``problem``: the problem the run was on; ``ValueError`` when the trace's logged loss at its
      last log point is not f there on it (``_check_trace_fits``: the trace of another problem).
    - ``trace``: a ``run_seeds`` trace made with ``log_iterates=True`` (a ``run`` trace counts
      as one seed).
    - ``run``: a label of the run (method, step size, seeds), kept with the estimate.
    - ``start``: ignore logged steps k < ``start`` (an integer >= 0).
    """
    validation.instance("run", run, str, "a string, a label of the run")  # 5 was kept as '5'
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be a sgd_bench.Trace, got {type(trace).__name__}")
    if trace.xs is None:
        raise ValueError("trace has no iterates: run with log_iterates=True to estimate sigma^2")
    steps = np.asarray(trace.step)
    xs = trace.xs
    if steps.ndim == 1:  # a single run: add the seed axis
        xs = jax.tree_util.tree_map(lambda a: a[None], xs)
        steps = steps[None]
    steps = steps[0]
    start = validation.integer("start", start, low=0)  # -1 was taken as "from the start"
    keep = steps >= start
    if not np.any(keep):
        raise ValueError(f"start = {start} is past the last logged step {int(steps[-1])}")
    validation.instance("problem", problem, FiniteSum, "a sgd_bench.FiniteSum")
    for leaf in jax.tree_util.tree_leaves(xs):  # a trace of another problem was named "xs"
        if problem.x_shape is not None and np.shape(leaf)[2:] != problem.x_shape:
            raise ValueError(f"trace's iterates have shape {np.shape(leaf)[2:]}, but problem {problem.name!r} "
                             f"has x_shape {problem.x_shape}: was the trace run on another problem?")
    _check_trace_fits(problem, trace, xs)
    values = second_moments(problem, xs, leading=2)  # (S, T)
    seeds = values.shape[0]
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(seeds) if seeds > 1 else np.zeros_like(mean)
    t = int(np.flatnonzero(keep)[np.argmax(mean[keep])])
    return Sigma2Estimate(float(mean[t]), float(se[t]), int(steps[t]), steps, mean, se,
                          float(np.max(values[:, keep])), seeds, str(run))


# How far the trace's logged loss may be from f at its iterate: the run logged it in the problem's
# dtype, this recomputes it in float64 (the tolerance of constants(reference=...), wider for a narrow dtype).
# 1e-3 relative covers a float32 sum streamed over many blocks (~eps per block, 10^4 blocks at n = 10^7);
# another problem's trace misses f by far more (another data set: O(1) relative), except one whose f
# agrees to 1e-3, whose sigma^2 then agrees about as well. Near its minimum a float32 f is all rounding:
# a least-squares residual is eps |a||x| ~ eps sqrt(f(x_0)) whatever its true size, so f is off by
# ~ eps sqrt(f f(0)) (up to eps^2 d f(0) at the floor): TRACE_ROUNDING eps sqrt(|f| max(|f(0)|, |f|)) more
# is allowed for a narrow dtype (features ~3000 in float32 converged to f = 3.8e-8 where float64 says 1.3e-8,
# and were refused). f(0) is evaluated once, in float64.
TRACE_RTOL, TRACE_ATOL, TRACE_ROUNDING = 1e-3, 1e-8, 100.0


def _check_trace_fits(problem: FiniteSum, trace: Trace, xs) -> None:
    """Refuses the trace of another problem of the same shape (its sigma^2 was measured here,
    silently). A Trace does not know its problem, so the cheap check is a fingerprint it carries:
    its logged loss at the last log point of each seed against f there on ``problem``, S loss
    evaluations (the last point, not the first: f(0) of every logistic regression is log 2). A
    same-shape problem whose f agrees there to 1e-3 (plus a narrow dtype's rounding near a minimum,
    ``TRACE_ROUNDING``) passes; so does a diverged (non-finite) seed."""
    last = jax.tree_util.tree_map(lambda a: a[:, -1], xs)
    losses = np.asarray(trace.loss, np.float64).reshape(-1, np.shape(trace.loss)[-1])
    logged = losses[:, -1]
    value = _map_points(_loss_many, problem, last, 1)
    eps = float(jnp.finfo(problem.dtype).eps)
    rtol = max(TRACE_RTOL, 30 * eps)
    # the data's own scale, f(0) (|b|^2 / 2 for least squares), not f(x_0): a start far away
    # (f(x_0) = 1e30) would have let any trace pass
    at_zero = 0.0
    if eps > 1e-15:  # a narrow dtype (float64's rounding is far below TRACE_ATOL: one evaluation saved)
        zero = jax.tree_util.tree_map(lambda a: np.zeros_like(a[:1]), last)
        at_zero = float(np.abs(_map_points(_loss_many, problem, zero, 1)[0]))
    with np.errstate(invalid="ignore", over="ignore"):
        size = np.maximum(np.abs(value), np.abs(logged))
        scale = np.maximum(at_zero if np.isfinite(at_zero) else 0.0, size)
        rounding = TRACE_ROUNDING * eps * np.sqrt(size * scale) if eps > 1e-15 else 0.0
        bad = np.isfinite(logged) & ~(np.abs(value - logged) <= rtol * size + TRACE_ATOL + rounding)
    if np.any(bad):
        s = int(np.flatnonzero(bad)[0])
        raise ValueError(f"trace does not fit problem {problem.name!r}: it logged f = {logged[s]:.6g} at its last "
                         f"iterate (seed {s}), but f there on this problem is {value[s]:.6g}: was the trace run "
                         "on another problem? Pass the problem the run was on")
