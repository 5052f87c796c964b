"""Non-smooth convex finite sums and their exact references: hinge-loss SVM, absolute-loss regression.

- Hinge: f_i(x) = max(0, 1 - y_i <a_i, x>) (+ mu/2 ||x||^2), labels y_i in {-1, +1}.
- Absolute loss: f_i(x) = |<a_i, x> - b_i| (+ mu/2 ||x||^2), least absolute deviations.

Both are convex and G-Lipschitz per sample with G_i = ||a_i|| (``info["G_max"]`` = max_i G_i),
but not smooth: the class is ``"nonsmooth"`` and the theory refuses smooth bounds for them.
Autodiff of ``maximum`` and ``abs`` returns a subgradient, so ``gd`` and ``sgd`` with the step
c/sqrt(k+1) are the (stochastic) subgradient method.

Reference (x*, f*): without a ridge term both problems are linear programs, solved here by
HiGHS (``scipy.optimize.linprog``, scipy ships with jax). ``lp_reference`` reports f(x_LP)
evaluated by the problem itself and the LP's dual objective, a certified lower bound on f*:
their difference bounds the error of f* (about 1e-12 on the problems here). On non-separable
data the hinge objective is coercive, so the minimum exists.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import FiniteSum, L2
from sgd_bench import validation
from sgd_bench.memory import check_host_fits
from problems.linear import check_design
from problems.nonconvex import gaussian_classification


def hinge_loss(x, datum):
    """The per-sample hinge loss max(0, 1 - y <a, x>) for datum = (a, y)."""
    a, y = datum
    return jnp.maximum(0.0, 1.0 - y * jnp.dot(a, x))


def absolute_loss(x, datum):
    """The per-sample absolute loss |<a, x> - b| for datum = (a, b)."""
    a, b = datum
    return jnp.abs(jnp.dot(a, x) - b)


def _generation_args(n, d, seed, noise, dtype, *, what, min_n):
    """The checked (n, d, seed, noise, dtype) of a synthetic problem, refused before any data is
    drawn when its host copies cannot fit."""
    n = validation.integer("n", n, low=min_n)
    d = validation.integer("d", d, low=1)
    noise = validation.nonnegative_float("noise", noise)
    dt = validation.requested_dtype("dtype", dtype)
    # Host float64: A and its copy for the Lipschitz constants (n x d each), a few n-vectors.
    check_host_fits(8 * (2 * n * d + 4 * n), (n * d + n) * dt.itemsize, f"{what} with n={n}, d={d}")
    return n, d, validation.integer("seed", seed, low=0, high=validation.MAX_SEED), noise, dt


def _lipschitz_info(A, mu):
    a64 = np.asarray(A, dtype=np.float64)
    return {"G_max": float(np.sqrt(np.max(np.einsum("ij,ij->i", a64, a64)))), "mu": float(mu)}


def hinge_svm(A, y, mu: float = 0.0, *, name: str = "hinge-svm", validate: bool = True) -> FiniteSum:
    """The hinge-loss SVM f_i(x) = max(0, 1 - y_i <a_i, x>) + mu/2 ||x||^2. Class ``"nonsmooth"``.

    **Arguments:**

    - ``A``: features, shape (n, d).
    - ``y``: labels in {-1, +1}, shape (n,).
    - ``mu``: ridge strength >= 0 (``lp_reference`` needs mu = 0).
    - ``name``: a label for tables and plots.
    - ``validate``: check the labels on the host.
    """
    mu = validation.nonnegative_float("mu", mu)
    validate = validation.boolean("validate", validate)  # "no" checked the labels, then FiniteSum refused it
    A, y = check_design("A", A, "y", y, labels=validate)
    return FiniteSum(hinge_loss, (A, y), regularizer=L2(mu) if mu > 0 else None, name=name,
                     problem_class="nonsmooth", x_shape=(A.shape[1],), info=_lipschitz_info(A, mu),
                     validate=validate)


def absolute_regression(A, b, mu: float = 0.0, *, name: str = "absolute-regression",
                        validate: bool = True) -> FiniteSum:
    """Least absolute deviations f_i(x) = |<a_i, x> - b_i| + mu/2 ||x||^2. Class ``"nonsmooth"``."""
    mu = validation.nonnegative_float("mu", mu)
    A, b = check_design("A", A, "b", b)
    return FiniteSum(absolute_loss, (A, b), regularizer=L2(mu) if mu > 0 else None, name=name,
                     problem_class="nonsmooth", x_shape=(A.shape[1],), info=_lipschitz_info(A, mu),
                     validate=validate)


def synthetic_hinge(n: int = 500, d: int = 10, *, seed: int = 0, noise: float = 1.0, dtype=None) -> FiniteSum:
    """Hinge SVM on Gaussian features with labels sign(<a, w> + noise eps), w ~ N(0, I/d).

    With noise > 0 and n well above d the classes overlap, so the data is not separable and the
    minimizer is finite.
    """
    n, d, seed, noise, dt = _generation_args(n, d, seed, noise, dtype, what="hinge-svm", min_n=2)
    A, y = gaussian_classification(n, d, seed, noise)
    return hinge_svm(jnp.asarray(A, dt), jnp.asarray(y, dt), name=f"hinge-svm n={n} d={d}", validate=False)


def synthetic_absolute(n: int = 500, d: int = 10, *, seed: int = 0, noise: float = 0.5, dtype=None) -> FiniteSum:
    """Absolute-loss regression on Gaussian features, targets <a, w> + noise * Laplace(0, 1)."""
    n, d, seed, noise, dt = _generation_args(n, d, seed, noise, dtype, what="absolute-regression", min_n=1)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    b = A @ rng.standard_normal(d) + noise * rng.laplace(size=n)
    return absolute_regression(jnp.asarray(A, dt), jnp.asarray(b, dt), name=f"absolute-regression n={n} d={d}",
                               validate=False)


# -- exact references by linear programming ------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LPReference:
    """x* and f* of a non-smooth problem from its linear program; unpacks as (x, f).

    ``f`` is f(x) evaluated by the problem, ``lower`` the LP's dual objective (a certified lower
    bound on f*), ``gap`` = f - lower bounds the error of f.
    """

    x: Any
    f: float
    lower: float
    gap: float
    solver: str

    def __iter__(self):
        yield self.x
        yield self.f


_loss = jax.jit(FiniteSum.loss)


def _solve_lp(c, A_ub, b_ub, bounds):
    from scipy.optimize import linprog  # scipy ships with jax

    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status != 0:
        raise RuntimeError(f"the linear program failed: {res.message}")
    # HiGHS gives d(objective)/d(b_ub) as the marginals; at optimum the dual objective is
    # b_ub . marginals (the variables' bounds are 0 or free and add nothing).
    return res.x, float(b_ub @ res.ineqlin.marginals)


def lp_reference(problem: FiniteSum) -> LPReference:
    """The exact minimizer of an unregularized hinge-SVM or absolute-loss problem, by HiGHS.

    Hinge:    min 1/n sum_i t_i  s.t.  t_i >= 1 - y_i <a_i, x>, t_i >= 0.
    Absolute: min 1/n sum_i t_i  s.t.  -t_i <= <a_i, x> - b_i <= t_i.
    """
    validation.instance("problem", problem, FiniteSum, "a FiniteSum made by hinge_svm or "
                     "absolute_regression")
    if problem.regularizer is not None:
        raise ValueError("lp_reference solves the unregularized problems (mu = 0); with a ridge term "
                         "the problem is a quadratic program")
    A, v = (np.asarray(a, dtype=np.float64) for a in problem.data)
    n, d = A.shape
    c = np.concatenate([np.zeros(d), np.full(n, 1.0 / n)])
    eye = np.eye(n)
    if problem.loss_i is hinge_loss:
        A_ub = np.hstack([-(v[:, None] * A), -eye])
        b_ub = -np.ones(n)
        bounds = [(None, None)] * d + [(0, None)] * n
    elif problem.loss_i is absolute_loss:
        A_ub = np.vstack([np.hstack([A, -eye]), np.hstack([-A, -eye])])
        b_ub = np.concatenate([v, -v])
        bounds = [(None, None)] * (d + n)
    else:
        raise ValueError(f"lp_reference knows the hinge and absolute losses; problem {problem.name!r} "
                         f"uses {getattr(problem.loss_i, '__name__', problem.loss_i)!r}")
    z, lower = _solve_lp(c, A_ub, b_ub, bounds)
    x = z[:d]
    f = float(_loss(problem, jnp.asarray(x, problem.dtype)))
    return LPReference(x, f, lower, f - lower, f"HiGHS LP, certified gap {max(f - lower, 0.0):.1e}")
