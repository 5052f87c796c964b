"""Quasi-Newton methods in the stochastic regime: preconditioned SGD and stochastic L-BFGS.

The lecture says that momentum and quasi-Newton-like methods "do not improve rates in the
stochastic case" and "can only improve constant factors". These two methods let the benchmark
measure the quasi-Newton half of that sentence:

- ``preconditioned_sgd(step_size, preconditioner)``: x_{k+1} = x_k - alpha_k P g_k with a fixed
  symmetric positive definite matrix P. With P = grad^2 f(x*)^{-1} (``inverse_hessian``) this is
  the ideal stochastic Newton method: the best a quasi-Newton method could learn, given for
  free. With ``batch_size=None`` it is preconditioned gradient descent (Newton's method on a
  quadratic, with step 1 and P the inverse Hessian).
- ``stochastic_lbfgs(step_size)``: the SQN method of Byrd, Hansen, Nocedal & Singer (2016),
  Algorithm 1. SGD steps x_{k+1} = x_k - alpha_k H_t g_k, where H_t is the L-BFGS inverse-Hessian
  approximation (two-loop recursion, Algorithm 2) built from curvature pairs collected every L
  steps at averaged iterates: s_t = xbar_t - xbar_{t-1}, the difference of the means of the
  iterates of the last two windows of L steps, and y_t = grad^2 F_S(xbar_t) s_t, a Hessian-
  vector product on a fresh sample S of b_H indices. Until the first pair exists (the first 2L
  steps) H_t = I, which is the paper's plain SGD phase.

Iterates may be any pytree: both methods work on the flattened vector (``ravel_pytree``), so the
preconditioner is a (D, D) matrix with D the number of scalars in x.

Accounting: a step counts B per-sample gradients in ``grad_evals`` (n for a full gradient); the
stochastic L-BFGS state also counts b_H Hessian-vector products in ``hvp_evals`` per curvature
pair it forms.

A note on cost: the curvature pair is formed behind a ``lax.cond`` on the step count k alone
(k + 1 a multiple of L, and k + 1 >= 2L), so one b_H-row Hessian-vector product runs per L steps.
Under ``vmap`` over seeds k is one unbatched scalar (``solver.SEED_AXES``), so the cond stays a
real branch in seed-batched programs (a predicate that read the per-seed state would turn it into
a select that runs the product every step). Under a sweep over L the predicate is batched and
XLA runs both branches: the same numbers, more compute.

The Hessian sample is drawn from the method's own key with ``fold_in(key, k)`` (as noisy SGD's
noise), so the runner's index stream is unchanged and the run does not depend on how it is cut.

References: R. H. Byrd, S. L. Hansen, J. Nocedal, Y. Singer, "A stochastic quasi-Newton method
for large-scale optimization", SIAM J. Optim. 26(2), 2016; J. Nocedal, S. Wright, Numerical
Optimization, 2nd ed., Algorithm 7.4 (the two-loop recursion).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from sgd_bench import _tree, validation
from sgd_bench.counting import Count
from sgd_bench.methods import Method, check_batch
from sgd_bench.sampling import SAMPLINGS
from sgd_bench.schedules import as_schedule


# -- preconditioned SGD --------------------------------------------------------------------------
class PreconditionedSGDState(NamedTuple):
    """State of preconditioned SGD: the iterate and the gradient-evaluation count."""

    x: Any
    grad_evals: Count


def _flat_dim(problem) -> int | None:
    if problem.x_shape is None:
        return None
    return int(np.prod(problem.x_shape))


SEMIDEFINITE_CHECK_MAX_D = 1024  # eigvalsh on the host is O(D^3): ~0.2 s at D = 1024


def _check_semidefinite(preconditioner) -> None:
    """Refuses a concrete P whose symmetric part has a negative eigenvalue: along its
    eigenvector -P g points uphill, so the run climbs (checked for D <= 1024; beyond, a negative
    diagonal entry, e_i^T P e_i < 0, as ``climbs`` checks a traced P)."""
    if isinstance(preconditioner, jax.core.Tracer):
        return
    # a complex P lost its imaginary part with only NumPy's ComplexWarning; a sparse one was
    # "must be a square (D, D) matrix, got shape ()" (its np.asarray is a 0-d object)
    arr = np.asarray(validation.dense_array("preconditioner", preconditioner, real=True,
                                            owner="preconditioned_sgd"), np.float64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        return
    if not np.all(np.isfinite(arr)):  # replace(preconditioner=NaN) was NumPy's LinAlgError "did not converge"
        raise ValueError("preconditioner must be finite (it has NaN or inf entries)")
    if arr.shape[0] > SEMIDEFINITE_CHECK_MAX_D:  # -I of D = 1100 ran uphill unflagged (rose stayed False)
        diag = np.diagonal(arr)
        if np.any(diag < 0):
            i = int(np.argmin(diag))
            raise ValueError(f"preconditioner must be positive semi-definite (x^T P x >= 0), but P[{i}, {i}] = "
                             f"{diag[i]:.3g} < 0: along e_{i} -P g climbs (beyond D = {SEMIDEFINITE_CHECK_MAX_D} "
                             "only the diagonal is checked)")
        return
    eig = np.linalg.eigvalsh((arr + arr.T) / 2.0)
    if eig[0] < -1e-12 * max(abs(eig[-1]), abs(eig[0])):
        raise ValueError(f"preconditioner must be positive semi-definite (x^T P x >= 0), but its "
                         f"symmetric part has eigenvalue {eig[0]:.3g}: along it -P g climbs")
    if not eig[-1] > 0:  # P = 0 stands still, as a step size of 0 would (which is refused)
        raise ValueError("preconditioner must have a positive eigenvalue; its symmetric part is zero, "
                         "so the run would stand still")


def climbs(preconditioner) -> jax.Array:
    """Traceable: whether P's symmetric part has a negative eigenvalue (beyond rounding: 64 eps
    of the dtype, or 1e-12, relative to the largest) or NaN, i.e. -alpha P g climbs along it; the
    host check's rule, for a P traced inside a user's ``jit``. Beyond D = 1024 only the diagonal
    is looked at (a negative e_i^T P e_i), as an eigendecomposition there costs O(D^3)."""
    P = jnp.asarray(preconditioner)
    P = P.astype(jnp.promote_types(P.dtype, jnp.float32))
    if P.shape[0] > SEMIDEFINITE_CHECK_MAX_D:
        return ~jnp.all(jnp.diagonal(P) >= 0) | ~jnp.all(jnp.isfinite(P))
    eig = jnp.linalg.eigvalsh((P + P.T) / 2)
    tol = max(1e-12, 64 * float(jnp.finfo(P.dtype).eps)) * jnp.max(jnp.abs(eig))
    return ~(eig[0] >= -tol) | ~jnp.all(jnp.isfinite(P))


def _fits_dtype(preconditioner, dtype, owner: str) -> None:
    """Refuses a concrete P that ``dtype`` cannot hold, as ``precision`` refuses data: an entry
    beyond its largest number (1e39 I on a float32 problem was inf, the run flagged diverged, not
    refused), or all of its nonzero entries below its smallest normal (1e-40 I was 0 there: the run
    stood still, unflagged; entries far below the others, flushed, are negligible next to them)."""
    if isinstance(preconditioner, jax.core.Tracer):
        return
    info, name = jnp.finfo(dtype), jnp.dtype(dtype).name
    with np.errstate(over="ignore"):
        arr = np.abs(np.asarray(preconditioner, np.float64))
    if np.any(arr > float(info.max)):
        raise ValueError(f"preconditioner has entries up to {float(arr.max()):.3g}, beyond the largest {name} "
                         f"({float(info.max):.3g}), the dtype of {owner}: there they are inf. Scale it down "
                         "(and the step size up), or compute in float64 (with jax_enable_x64)")
    (low, smallest), nonzero = validation.zero_below(dtype), int(np.count_nonzero(arr))
    tiny = int(np.count_nonzero((arr > 0) & (arr < low)))
    if nonzero and tiny == nonzero:  # some only (I with 1e-40 off the diagonal): negligible next to the rest
        raise ValueError(f"all {nonzero} nonzero entries of the preconditioner are below {smallest} "
                         f"({low:.3g}), the dtype of {owner}: there they are 0, so the run would stand "
                         "still. Scale it up (and the step size down), or compute in float64 (with jax_enable_x64)")


def _check_preconditioner(p, problem):
    _check_semidefinite(p.preconditioner)  # also after replace(preconditioner=...)
    _fits_dtype(p.preconditioner, problem.dtype, f"problem {problem.name!r}")
    d = _flat_dim(problem)
    shape = np.shape(p.preconditioner)
    if d is not None and shape != (d, d):
        raise ValueError(f"preconditioner must have shape (D, D) = ({d}, {d}) for problem "
                         f"{problem.name!r} (D scalars in x), got {shape}")


def _pre_init(p, x0, problem, key):
    del key
    # Shapes are static while JAX traces: a problem without x_shape (a pytree iterate) could not be
    # checked before, and the step's P @ g was JAX's "dot_general requires contracting dimensions"
    d, shape = sum(int(np.size(a)) for a in jax.tree_util.tree_leaves(x0)), np.shape(p.preconditioner)
    if shape != (d, d):
        raise ValueError(f"preconditioner must have shape (D, D) = ({d}, {d}) for problem {problem.name!r} "
                         f"(D scalars in x0), got {shape}")
    return PreconditionedSGDState(x0, Count.zero())


def _pre_step(p, state, problem, idx, k):
    if p.batch_size is None:
        g, used = problem.grad(state.x), problem.n
    else:
        g, used = problem.batch_grad(state.x, idx), idx.shape[0]
    flat_x, unravel = ravel_pytree(state.x)
    flat_g, _ = ravel_pytree(g)
    direction = jnp.asarray(p.preconditioner, flat_g.dtype) @ flat_g
    x = flat_x - jnp.asarray(p.step_size(k), flat_x.dtype) * direction
    return PreconditionedSGDState(unravel(x), state.grad_evals.add(used))


def preconditioned_sgd(step_size, preconditioner, batch_size: int | None = 1,
                       sampling: str = "with_replacement") -> Method:
    """SGD preconditioned by a fixed matrix, x_{k+1} = x_k - alpha_k P g_k.

    **Arguments:**

    - ``step_size``: a float alpha > 0 or a schedule ``k -> alpha_k``.
    - ``preconditioner``: P, a (D, D) array (traced: another matrix of the same shape reuses
      the compiled program). ``inverse_hessian(problem, x_star)`` gives the ideal one.
    - ``batch_size``: |B_k| >= 1, or ``None`` for full gradients (preconditioned GD).
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.
    """
    schedule = as_schedule(step_size)
    if not isinstance(preconditioner, jax.core.Tracer):
        validation.live("preconditioner", preconditioner)  # was JAX's "Array has been deleted"
        arr = np.asarray(validation.dense_array("preconditioner", preconditioner, real=True,
                                                owner="preconditioned_sgd"))
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise ValueError(f"preconditioner must be a square (D, D) matrix, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("preconditioner must be finite (it has NaN or inf entries)")
        _check_semidefinite(arr)
        if not jax.config.jax_enable_x64 and not isinstance(preconditioner, jax.Array):
            # jnp.asarray below makes it float32: 1e39 I became inf, refused as "must be finite"
            _fits_dtype(arr, jnp.float32, "JAX's arrays while jax_enable_x64 is off")
    if batch_size is None:
        validation.choice("sampling", sampling, SAMPLINGS)
        b, name = None, "preconditioned GD"
    else:
        b, sampling = check_batch(batch_size, sampling)
        name = "preconditioned SGD" + ("" if b == 1 else f" batch {b}")
    return Method(_pre_init, _pre_step,
                  hyperparams={"step_size": schedule, "preconditioner": jnp.asarray(preconditioner)},
                  batch_size=b, sampling=sampling, name=name, check=_check_preconditioner)


def inverse_hessian(problem, x) -> jax.Array:
    """grad^2 f(x)^{-1} as a dense (D, D) matrix, computed in the problem's dtype (float32 for
    float16 / bfloat16, returned in theirs) by an
    eigendecomposition of the symmetrized Hessian (so the result is exactly symmetric).

    Raises ``ValueError`` unless the Hessian at x is positive definite."""
    from sgd_bench.curvature import dense_hessian
    from sgd_bench.finite_sum import FiniteSum
    from sgd_bench.solver import check_x

    validation.instance("problem", problem, FiniteSum, "a sgd_bench.FiniteSum")
    # under jit it was JAX's TracerArrayConversionError from NumPy's eigh
    _tree.on_host("inverse_hessian", "NumPy's eigendecomposition of the Hessian", problem, x)
    x = validation.float_leaves(x, problem.dtype)  # an int x was jacfwd's "requires real-valued inputs"
    check_x("x", x, problem)  # a wrong shape was JAX's dot_general error
    hess = np.asarray(dense_hessian(problem, x))
    dtype = hess.dtype  # NumPy's eigh has no float16 / bfloat16 (was its "unsupported in linalg"): float32 there
    hess = hess.astype(np.float32) if dtype.itemsize < 4 else hess
    hess = (hess + hess.T) / 2
    eigs, vecs = np.linalg.eigh(hess)
    if not eigs[0] > 0:
        raise ValueError(f"the Hessian of {problem.name!r} at x is not positive definite "
                         f"(smallest eigenvalue {eigs[0]:.3g}): no inverse-Hessian preconditioner")
    return jnp.asarray((vecs / eigs) @ vecs.T, dtype)


# -- stochastic L-BFGS (SQN) -----------------------------------------------------------------------
class StochasticLBFGSState(NamedTuple):
    """Iterate; sum of the current window's iterates; the previous window's mean; the ring buffers of curvature pairs (newest at ``head``) and how many are valid; the
    method's key; gradient and Hessian-vector-product counts."""

    x: Any
    window_sum: jax.Array
    prev_mean: jax.Array
    s_pairs: jax.Array
    y_pairs: jax.Array
    num_pairs: jax.Array
    head: jax.Array
    key: Any
    grad_evals: Count
    hvp_evals: Count


def two_loop(g, s_pairs, y_pairs, num_pairs, head):
    """H g for the L-BFGS matrix H of the pairs in the ring buffers (rows; the newest at
    ``head``, the ``num_pairs`` newest valid), with H_0 = (s^T y / y^T y) I from the newest pair
    (H_0 = I without pairs, so H g = g). Nocedal & Wright, Algorithm 7.4."""
    m = s_pairs.shape[0]
    order = (head - jnp.arange(m)) % m               # newest first
    s, y = s_pairs[order], y_pairs[order]
    valid = jnp.arange(m) < num_pairs
    sy = jnp.sum(s * y, axis=1)
    rho = jnp.where(valid, 1.0 / jnp.where(valid, sy, 1.0), 0.0).astype(g.dtype)

    def first(q, row):
        s_i, y_i, rho_i = row
        a = rho_i * jnp.dot(s_i, q)
        return q - a * y_i, a

    q, alphas = lax.scan(first, g, (s, y, rho))
    yy = jnp.sum(y[0] * y[0])
    gamma = jnp.where(num_pairs > 0, sy[0] / jnp.where(num_pairs > 0, yy, 1.0), 1.0)
    r = gamma.astype(g.dtype) * q

    def second(r, row):
        s_i, y_i, rho_i, a = row
        b = rho_i * jnp.dot(y_i, r)
        return r + (a - b) * s_i, None

    r, _ = lax.scan(second, r, (s, y, rho, alphas), reverse=True)  # oldest first
    return r


def _sqn_init(p, x0, problem, key):
    del problem
    flat, _ = ravel_pytree(x0)
    d = flat.shape[0]
    zeros = jnp.zeros((p.memory_size, d), flat.dtype)
    return StochasticLBFGSState(x0, jnp.zeros_like(flat), jnp.zeros_like(flat),
                                zeros, zeros, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32),
                                key, Count.zero(), Count.zero())


def _sqn_step(p, state, problem, idx, k):
    g = problem.batch_grad(state.x, idx)
    flat_x, unravel = ravel_pytree(state.x)
    flat_g, _ = ravel_pytree(g)
    direction = two_loop(flat_g, state.s_pairs, state.y_pairs, state.num_pairs, state.head)
    x_next = flat_x - jnp.asarray(p.step_size(k), flat_x.dtype) * direction

    # The window of L steps averages the iterates at which gradients were evaluated (x_k).
    window_sum = state.window_sum + flat_x
    L = p.update_every
    ends = (k + 1) % L == 0
    mean = window_sum / jnp.asarray(L, flat_x.dtype)
    # A pair needs two finished windows. The predicate reads k and L only, never the per-seed
    # state, so it stays unbatched under vmap over seeds and the cond a branch.
    formed = ends & (k + 1 >= 2 * L)
    m = p.memory_size

    def form(buffers):
        s_pairs, y_pairs, num_pairs, head = buffers
        s = mean - state.prev_mean
        rows = jax.random.randint(jax.random.fold_in(state.key, k), (p.hessian_batch,), 0,
                                  problem.n)
        grad_s = lambda z: ravel_pytree(problem.batch_grad(unravel(z), rows))[0]
        y = jax.jvp(grad_s, (mean,), (s,))[1]
        # The pair enters only with positive curvature s^T y > 0 (always for a convex f_S, s != 0).
        keep = jnp.dot(s, y) > 0
        new_head = (head + 1) % m
        return (jnp.where(keep, s_pairs.at[new_head].set(s), s_pairs),
                jnp.where(keep, y_pairs.at[new_head].set(y), y_pairs),
                jnp.where(keep, jnp.minimum(num_pairs + 1, m), num_pairs),
                jnp.where(keep, new_head, head))

    s_pairs, y_pairs, num_pairs, head = lax.cond(
        formed, form, lambda buffers: buffers,
        (state.s_pairs, state.y_pairs, state.num_pairs, state.head))
    return StochasticLBFGSState(
        unravel(x_next), jnp.where(ends, jnp.zeros_like(window_sum), window_sum),
        jnp.where(ends, mean, state.prev_mean), s_pairs, y_pairs,
        num_pairs, head, state.key, state.grad_evals.add(idx.shape[0]),
        state.hvp_evals.add(jnp.where(formed, p.hessian_batch, 0)))


def stochastic_lbfgs(step_size, *, memory_size: int = 10, update_every: int = 10,
                     hessian_batch: int = 64, batch_size: int = 1,
                     sampling: str = "with_replacement") -> Method:
    """Stochastic L-BFGS (SQN; Byrd, Hansen, Nocedal & Singer 2016, Algorithm 1).

    x_{k+1} = x_k - alpha_k H_t g_k with g_k the mini-batch gradient and H_t the L-BFGS matrix of
    the last ``memory_size`` curvature pairs; every L = ``update_every`` steps a pair
    s_t = xbar_t - xbar_{t-1}, y_t = grad^2 F_S(xbar_t) s_t is formed from the means of the
    iterates of the last two windows and a Hessian sample S of ``hessian_batch`` indices drawn
    uniformly with replacement. Before the first pair (2L steps) the steps are plain SGD.

    **Arguments:**

    - ``step_size``: a float alpha > 0 or a schedule ``k -> alpha_k`` (the paper: beta/k).
    - ``memory_size``: M >= 1 pairs kept (static: it sets array shapes).
    - ``update_every``: L >= 1 steps per pair (traced).
    - ``hessian_batch``: b_H >= 1 indices per Hessian-vector product (static: a shape).
    - ``batch_size``: |B_k| >= 1 of the gradient.
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"`` (of the gradient's
      indices; the Hessian sample is always uniform with replacement).
    """
    schedule = as_schedule(step_size)
    b, sampling = check_batch(batch_size, sampling)
    memory_size = validation.integer("memory_size", memory_size, low=1)
    update_every = _update_every("update_every", update_every)
    hessian_batch = validation.integer("hessian_batch", hessian_batch, low=1)
    return Method(_sqn_init, _sqn_step,
                  hyperparams={"step_size": schedule, "update_every": update_every},
                  options={"memory_size": memory_size, "hessian_batch": hessian_batch},
                  batch_size=b, sampling=sampling,
                  name="stochastic L-BFGS" + ("" if b == 1 else f" batch {b}"),
                  check=_check_update_every)


def _update_every(name, value) -> int:
    return validation.integer(name, value, low=1, high=2**31 - 2)


def _check_update_every(p, problem) -> None:
    """``update_every`` as the constructor takes it, after ``replace`` or a sweep (0 ran)."""
    validation.each("update_every", p.update_every, _update_every)
