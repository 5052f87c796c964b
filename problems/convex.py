"""Convex finite sums that are not strongly convex: the "convex" row of the lecture's rates table.

- ``rank_deficient_least_squares``: f_i(x) = 1/2 (<a_i, x> - b_i)^2 with a design of rank r < d,
  A = sqrt(n) U diag(s) V^T, whose r non-zero eigenvalues of A^T A / n are log-spaced between 1
  and 1/cond (so L = 1). The minimizers form an affine set of dimension d - r. Targets
  b = A V 1 + noise eps_perp (eps_perp orthogonal to the range of A) put equal weight on every
  eigendirection, which makes GD from x_0 = 0
  follow f(x_k) - f* ~ 1/k for 1 << k << cond: the worst-case convex rate. (Least squares is
  also PL with the smallest non-zero eigenvalue 1/cond, so for k >> cond the rate turns linear.)
- ``nonseparable_logistic``: unregularized logistic regression on overlapping classes. Its
  minimizer is finite exactly when the data is not separable, which the factory checks with a
  linear program (``is_separable``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import FiniteSum
from sgd_bench import validation
from sgd_bench.memory import check_host_fits
from problems.linear import least_squares, logistic_regression
from problems.nonconvex import gaussian_classification


def rank_deficient_least_squares(n: int = 500, d: int = 50, rank: int = 40, *, seed: int = 0,
                                 cond: float = 1e5, noise: float = 0.5, dtype=None) -> FiniteSum:
    """Least squares with a rank-``rank`` design and log-spaced spectrum in [1/cond, 1]. Class ``"convex"``.

    **Arguments:**

    - ``n``, ``d``: samples and features, with ``rank`` <= min(n, d) (``rank`` < d for rank
      deficiency).
    - ``cond``: the ratio of the largest to the smallest non-zero eigenvalue of A^T A / n.
    - ``noise``: the standard deviation of the target noise (residual at x*, so sigma_*^2 > 0).
    """
    n = validation.integer("n", n, low=1)
    d = validation.integer("d", d, low=1)
    # n = 1 said "rank must be an integer in [1, 1], got 40": a default the caller never passed
    rank = validation.integer("rank", rank, low=1, high=min(n, d),
                              why=validation.bound_from("rank", rank, 40, f"at most min(n, d) = {min(n, d)}"))
    cond = validation.positive_float("cond", cond)
    if cond < 1:
        raise ValueError(f"cond must be >= 1, got {cond!r}")
    noise = validation.nonnegative_float("noise", noise)
    dt = validation.requested_dtype("dtype", dtype)
    validation.derived_within_dtype("cond", cond, 1.0 / cond, "the smallest non-zero eigenvalue 1/cond =",
                                    jax.dtypes.canonicalize_dtype(dt), positive=True)
    rng = np.random.default_rng(validation.integer("seed", seed, low=0, high=validation.MAX_SEED))
    # Host float64: U, its scaled copy and the QR workspace (n x rank each), A, a few n-vectors.
    check_host_fits(8 * (n * d + 3 * n * rank + d * rank + 4 * n), (n * d + n) * dt.itemsize,
                    f"rank-deficient least squares with n={n}, d={d}, rank={rank}")
    U, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    V, _ = np.linalg.qr(rng.standard_normal((d, rank)))
    eigs = np.logspace(0.0, -np.log10(cond), rank)
    A = np.sqrt(n) * (U * np.sqrt(eigs)) @ V.T
    # The noise is kept orthogonal to the range of A: the residual at x* is exactly the noise
    # (sigma_*^2 > 0) while the minimum-norm minimizer stays V 1, with equal weight on every
    # eigendirection, so no direction of small curvature is favoured.
    eps = rng.standard_normal(n)
    eps -= U @ (U.T @ eps)
    b = A @ V.sum(axis=1) + noise * eps
    # noise = 1e39 on float32 was refused as "b contains 365 NaN or Inf value(s)", 1e20 an inf loss
    validation.squares_within_dtype("noise", noise, b, "squared targets up to", jax.dtypes.canonicalize_dtype(dt))
    return least_squares(jnp.asarray(A, dt), jnp.asarray(b, dt), 0.0,
                         name=f"rank-deficient-ls n={n} d={d} r={rank}", validate=False)


def is_separable(A, y) -> bool:
    """Whether some x has y_i <a_i, x> > 0 for every i (a linear program: y_i <a_i, x> >= 1)."""
    from scipy.optimize import linprog  # scipy ships with jax

    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    res = linprog(np.zeros(A.shape[1]), A_ub=-(y[:, None] * A), b_ub=-np.ones(len(y)),
                  bounds=[(None, None)] * A.shape[1], method="highs")
    if res.status not in (0, 2):
        raise RuntimeError(f"the separability LP failed: {res.message}")
    return res.status == 0


def nonseparable_logistic(n: int = 1000, d: int = 10, *, seed: int = 0, noise: float = 1.0,
                          dtype=None) -> FiniteSum:
    """Unregularized logistic regression on Gaussian data with overlapping classes. Class ``"convex"``.

    Labels are sign(<a, w> + noise eps); the factory raises if the sample happens to be separable
    (then no minimizer exists): raise ``noise`` or ``n``.
    """
    n = validation.integer("n", n, low=2)
    d = validation.integer("d", d, low=1)
    noise = validation.nonnegative_float("noise", noise)
    dt = validation.requested_dtype("dtype", dtype)
    # Host float64: A and the LP's constraint matrix y * A (n x d each), a few n-vectors.
    check_host_fits(8 * (2 * n * d + 4 * n), (n * d + n) * dt.itemsize,
                    f"non-separable logistic regression with n={n}, d={d}")
    A, y = gaussian_classification(n, d, validation.integer("seed", seed, low=0, high=validation.MAX_SEED), noise)
    if is_separable(A, y):
        raise ValueError(f"the sample (n={n}, d={d}, noise={noise}, seed={seed}) is linearly separable, "
                         "so unregularized logistic regression has no minimizer; raise noise or n")
    return logistic_regression(jnp.asarray(A, dt), jnp.asarray(y, dt), 0.0,
                               name=f"nonseparable-logistic n={n} d={d}", validate=False)
