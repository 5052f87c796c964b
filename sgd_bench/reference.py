"""Reference solutions (x*, f*) in float64, solved to near machine precision by Newton's method.

Small problems (d <= 2048) form the Hessian with ``jax.hessian``; larger ones solve the Newton
system matrix-free by conjugate gradients on Hessian-vector products. Both use a backtracking
line search far from the solution and pure Newton steps once the gradient is small. The
gradient norm at the returned point is reported, and a warning is raised when it is above
``tol``.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from sgd_bench import _tree, precision, validation
from sgd_bench.compat import enable_x64
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.solver import check_loss

_DENSE_MAX_DIM = 2048


@dataclasses.dataclass(frozen=True)
class ReferenceSolution:
    """A minimizer ``x`` and value ``f`` in float64, with how well they were solved.

    Unpacks as a pair: ``x_star, f_star = reference_solution(problem)``.
    """

    x: Any
    f: float
    grad_norm: float
    iterations: int
    solver: str

    def __iter__(self):
        yield self.x
        yield self.f


def _in_float64(problem: FiniteSum) -> FiniteSum:
    """``problem`` evaluated in float64. Narrower data is cast block by block inside the loss
    instead of copied whole: a float64 copy of 4 GB of float32 data would need 8 GB more."""
    leaves = jax.tree_util.tree_leaves(problem.data)
    if all(jnp.asarray(a).dtype == jnp.float64 or not jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating)
           for a in leaves):
        return problem
    loss_i = problem.loss_i
    return problem.replace(loss_i=_Cast64(loss_i))


@dataclasses.dataclass(frozen=True)
class _Cast64:
    """``loss_i`` with its datum cast to float64 first (hashable, so jit caches it)."""

    loss_i: Any

    def __call__(self, x, datum):
        return self.loss_i(x, _tree.cast_floating(datum, jnp.float64))


@jax.jit
def _value_grad(problem, x):
    return problem.value_and_grad(x)


@jax.jit
def _loss(problem, x):
    return problem.loss(x)


@jax.jit
def _hessian(problem, x):
    # Differentiate with respect to the flat vector, so that the matrix rows and columns follow
    # ravel_pytree's order even when x is a pytree of several leaves.
    # Forward mode over the streamed gradient: reverse mode through the loss's block scan would
    # keep every block as a residual, a second copy of the data (8 GB at n = 1e7, d = 100).
    flat, unravel = ravel_pytree(x)
    return jax.jacfwd(lambda z: ravel_pytree(problem.grad(unravel(z)))[0])(flat)


@jax.jit
def _newton_cg(problem, x, g):
    hvp = lambda v: problem.hvp(x, v)
    size = sum(leaf.size for leaf in jax.tree_util.tree_leaves(g))  # g may be a pytree
    step, _ = jax.scipy.sparse.linalg.cg(hvp, g, tol=1e-14, maxiter=10 * size)
    return step


def _start(problem: FiniteSum, x0):
    """x0 in float64, checked by name: a wrong shape said "x must have shape ..." (the loss's own
    argument), and a complex, integer or list x0 failed inside jax.grad naming no argument."""
    validation.live("x0", x0)  # donated: was JAX's "Array has been deleted" from the first gradient
    if any(jax.dtypes.issubdtype(getattr(a, "dtype", np.float64), jax.dtypes.prng_key) for a in jax.tree_util.tree_leaves(x0)):
        # run's argument order: was "x0 must have shape (3,) ..., got ()", not saying it is a key
        raise TypeError(f"x0 must be a starting point, got {validation.shown(x0)}: reference_solution is "
                        "deterministic and takes no key (reference_solution(problem) or (problem, x0))")
    x0 = problem.check_shape(x0, "x0")
    if problem.x_shape is not None and isinstance(x0, (list, tuple)):
        x0 = np.asarray(x0)  # a list of numbers, as run and the Solver take x0 = [0.0, 0.0, 0.0]
    for leaf in jax.tree_util.tree_leaves(x0):
        validation.unmasked("x0", leaf, "an iterate")  # as run refuses it: was JAX's own message
        dtype = np.dtype(leaf.dtype) if hasattr(leaf, "dtype") else np.asarray(leaf).dtype
        if dtype == bool or not precision.is_real(dtype):  # bfloat16 too
            raise TypeError(f"x0 must be real numbers, got dtype {dtype}")
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), x0)  # integers too: grad needs floats


def reference_solution(problem: FiniteSum, x0=None, *, tol: float = 1e-10,
                       max_iter: int = 100) -> ReferenceSolution:
    """Minimizes ``problem`` in float64 and returns (x*, f*) with the gradient norm reached.

    **Arguments:**

    - ``problem``: a smooth ``FiniteSum`` whose minimizer exists (for a convex problem without
      strong convexity, Newton's method with least-squares solves returns one minimizer).
    - ``x0``: the starting point (default: zeros of ``problem.x_shape``).
    - ``tol``: the gradient norm the solution must reach; a warning is raised otherwise.
    - ``max_iter``: Newton iterations at most.
    """
    if not isinstance(problem, FiniteSum):
        raise TypeError(f"problem must be a sgd_bench.FiniteSum, got {type(problem).__name__}")
    _tree.on_host("reference_solution", "Newton steps to a tolerance checked in Python", problem, x0)
    validation.live("problem.data", problem.data)  # a donated array: JAX's error named nothing
    tol = validation.positive_float("tol", tol)
    max_iter = validation.integer("max_iter", max_iter, low=1)
    with enable_x64():
        p64 = _in_float64(problem)
        # zeros in the problem's dtype would keep a float32 problem's Newton steps in float32 (stalls near 1e-7)
        x = _tree.cast_floating(p64.zeros(), jnp.float64) if x0 is None else _start(problem, x0)
        # a pytree x0 of another structure raised inside the user's loss; a complex loss_i (checked
        # only when x0 had no x_shape) was jax.grad's "grad requires real-valued outputs"
        check_loss(problem, x, "x0")
        flat, unravel = ravel_pytree(x)
        dense = flat.size <= _DENSE_MAX_DIM
        f, g = _value_grad(p64, x)
        gnorm = float(jnp.linalg.norm(ravel_pytree(g)[0]))
        if not (np.isfinite(float(f)) and np.isfinite(gnorm)):
            # Otherwise LAPACK fails inside the first Newton solve with a message about its own
            # arguments; data swapped in with replace(data=...) skips the problem's own checks.
            raise ValueError(f"reference_solution: f or its gradient is not finite at the start "
                             f"(f = {float(f)}, ||grad f|| = {gnorm}) for {problem.name!r}: its data "
                             "or x0 hold NaN or Inf, or the loss overflows there")
        it = 0
        stalled = 0
        f0, curvature0 = float(f), None
        for it in range(1, max_iter + 1):
            gflat = np.asarray(ravel_pytree(g)[0])
            if dense:
                h = np.asarray(_hessian(p64, x))
                curvature0 = np.linalg.norm(h, 2) if curvature0 is None else curvature0
                step = np.linalg.lstsq(h, gflat, rcond=None)[0]
            else:
                step = np.asarray(ravel_pytree(_newton_cg(p64, x, g))[0])
            xflat = np.asarray(ravel_pytree(x)[0])
            slope = float(gflat @ step)
            t = 1.0
            # Armijo backtracking far from the solution; a pure Newton step once the gradient is
            # below tol: there the decrease (~||g||^2 / L) is below the rounding of f's sum over
            # n terms (at n = 1e6 the search failed every step, 18 Hessians instead of 3).
            while gnorm >= tol:
                x_new = unravel(jnp.asarray(xflat - t * step))
                f_new = float(_loss(p64, x_new))
                if f_new <= float(f) - 1e-4 * t * slope or t < 1e-10:
                    break
                t *= 0.5
            x_new = unravel(jnp.asarray(xflat - t * step))
            f_new, g_new = _value_grad(p64, x_new)
            gnorm_new = float(jnp.linalg.norm(ravel_pytree(g_new)[0]))
            if not np.isfinite(gnorm_new):
                break
            if gnorm_new >= gnorm and gnorm < tol:
                stalled += 1  # floating-point floor reached: keep the best point
                if stalled >= 2:
                    break
                continue
            x, f, g, gnorm = x_new, f_new, g_new, gnorm_new
            if gnorm < tol * 1e-3:
                break
        if curvature0:  # dense only (a Hessian's norm)
            _warn_no_minimizer(problem, f0, float(f), curvature0, np.linalg.norm(np.asarray(_hessian(p64, x)), 2),
                               float(np.linalg.norm(ravel_pytree(x)[0])), it)
        x = jax.tree_util.tree_map(np.asarray, x)
        result = ReferenceSolution(x, float(f), gnorm, it, "newton" if dense else "newton-cg")
    if not gnorm <= tol:
        warnings.warn(f"reference_solution for {problem.name!r} reached ||grad f|| = {gnorm:.3e} "
                      f"> tol = {tol:.1e} after {it} Newton steps", RuntimeWarning, stacklevel=2)
    return result


# f and the Hessian's norm both this many times below their values at x0: no minimizer in sight
_FLAT = 1e-8


class NoMinimizerWarning(UserWarning):
    """``reference_solution`` found f falling toward its infimum only as ||x|| grows: no minimizer exists.
    A UserWarning (not the RuntimeWarning of a tolerance missed): the run that asked goes on, told."""


def _warn_no_minimizer(problem, f0, f, curvature0, curvature, norm, it) -> None:
    """Warns when f fell to about 0 and its curvature with it: f approaches an infimum only as ||x||
    grows (logistic loss on separable data with mu = 0), so the point returned is no minimizer. A
    zero-residual least squares keeps its Hessian; a minimizer at a finite point keeps some curvature."""
    if abs(f) <= _FLAT * abs(f0) and curvature <= _FLAT * curvature0:
        warnings.warn(f"reference_solution for {problem.name!r}: f fell from {f0:.3g} to {f:.3g} and the Hessian's "
                      f"norm from {curvature0:.3g} to {curvature:.3g} (||x|| = {norm:.3g} after {it} Newton steps): "
                      "f seems to approach its infimum only as ||x|| grows, so there is no minimizer and x is none "
                      "(logistic loss on separable data with mu = 0 does this: give mu > 0 or more samples)",
                      NoMinimizerWarning, stacklevel=3)
