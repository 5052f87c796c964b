"""Problems whose Hessian spectrum spreads over many decades: the regime of Bach & Moulines (2013).

On a problem whose smallest curvature mu is far below 1/(gamma K) for every horizon K of an
experiment, no method can profit from strong convexity: gamma mu K < 1 (or mu K << 1) means the
bounds that need mu say nothing yet. Both problems here know their minimizer exactly, so the
gap f(x) - f* is measured without a numerical reference, and both put the start x0 at a
distance from x* along every eigendirection, the small ones included.

- ``spectral_least_squares``: rows a_i = D z_i with Rademacher z_i and D = diag(i^(-p/2)), so the
  population covariance is diag(i^(-p)) (p = 2: eigenvalues i^-2) and every row has
  ||a_i||^2 = sum_i i^(-p) exactly (R^2 = L_max). Targets b = A w + eps with the noise eps
  projected orthogonal to the range of A and scaled to root-mean-square ``noise``: the
  residual at x* is the noise while the minimizer is exactly w, w_i = i^(-decay). From x0 = 0
  the start is off the easy (large-eigenvalue) subspace: x0 - x* weighs eigendirection i by
  i^(-decay). With decay = 1/2, lambda_i (x0 - x*)_i^2 = i^-3 and ||x0 - x*||^2 = sum 1/i is
  the size Bach & Moulines' bound R^2 ||x0 - x*||^2 / K allows.
- ``geometric_logistic``: unregularized logistic regression with an intercept and d - 1
  features of geometric scales ratio^j (j = 0..d-2), each feature vector z (Rademacher signs)
  repeated three times, twice with label +1 and once with -1. The classes overlap completely
  (the data is not separable), and the minimizer is exactly x* = (log 2, 0, ..., 0): there
  sigmoid(<a, x*>) = 2/3 is the share of +1 labels of every feature vector, so every
  triple's gradient vanishes. f* = log 3 - (2/3) log 2 (the binary entropy of 2/3, in nats).
  The Hessian at x* is (2/9) A^T A / n, with eigenvalues from about 2/9 down to
  (2/9) ratio^(2(d-2)). The third derivative at x* is not zero (sigmoid''(log 2) != 0), so
  constant-step averaged SGD keeps a bias there, the case the two-phase method is for.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from sgd_bench import FiniteSum
from sgd_bench import validation
from sgd_bench.memory import check_host_fits
from problems.linear import least_squares, logistic_regression

LOGISTIC_SHARE = 2 / 3  # share of +1 labels of every feature vector in geometric_logistic


def spectral_least_squares(n: int = 1000, d: int = 80, *, power: float = 3.0, decay: float = 0.5,
                           noise: float = 0.1, seed: int = 0) -> FiniteSum:
    """Least squares with covariance diag(i^-power) and minimizer w_i = i^-decay (exact).

    **Arguments:**

    - ``n`` > ``d``: samples and features.
    - ``power``: the eigenvalues of the population covariance are i^-power, i = 1..d.
    - ``decay``: the minimizer is w_i = i^-decay (x0 = 0 is then off the easy subspace).
    - ``noise``: the root-mean-square residual at x* (> 0: gradient noise at the optimum).
    - ``seed``: NumPy seed of the signs and the noise.

    f* = noise^2 / 2 exactly, at ``spectral_least_squares_solution(d, decay=decay)``.
    """
    n = validation.integer("n", n, low=2)
    # n = 2 said "d must be an integer in [1, 1], got 80": a default the caller never passed
    d = validation.integer("d", d, low=1, high=n - 1, why=validation.bound_from("d", d, 80, f"below n = {n}"))
    power = validation.positive_float("power", power)
    decay = validation.nonnegative_float("decay", decay)
    noise = validation.positive_float("noise", noise)
    rng = np.random.default_rng(validation.integer("seed", seed, low=0, high=validation.MAX_SEED))
    # power = 60 made 49 of 80 columns 0 in float32, decay the minimizer's entries (silently)
    dt = jnp.result_type(float)
    validation.derived_within_dtype("power", power, float(d) ** -power, f"the smallest eigenvalue {d}^-power =", dt,
                                    positive=True)
    validation.derived_within_dtype("decay", decay, float(d) ** -decay, f"the minimizer's entry {d}^-decay =", dt,
                                    positive=True)
    # n = d + 1 = 10**5 was NumPy's "Unable to allocate 74.5 GiB" from inside rng.choice: the
    # signs' int64 draw, A, its scaled copy and Q of the QR are n x d float64 on the host
    check_host_fits(8 * (5 * n * d + 4 * n), (n * d + n) * jnp.dtype(dt).itemsize, f"spectral-ls with n={n}, d={d}")
    i = np.arange(1, d + 1, dtype=np.float64)
    A = rng.choice([-1.0, 1.0], size=(n, d)) * i ** (-power / 2)
    w = i ** -decay
    q, _ = np.linalg.qr(A)
    eps = rng.standard_normal(n)
    eps -= q @ (q.T @ eps)  # orthogonal to range(A): the minimizer stays w
    eps *= noise * np.sqrt(n) / np.linalg.norm(eps)
    # noise = 1e30 gave an inf loss in float32: its squared residuals at x* were beyond it
    validation.squares_within_dtype("noise", noise, eps, "squared residuals at x* up to", dt)
    return least_squares(jnp.asarray(A), jnp.asarray(A @ w + eps), 0.0,
                         name=f"spectral LS (eigenvalues i^-{power:g}, d={d})")


def spectral_least_squares_solution(d: int = 80, *, decay: float = 0.5) -> np.ndarray:
    """The exact minimizer w_i = i^-decay of ``spectral_least_squares`` with these d, decay."""
    return np.arange(1, d + 1, dtype=np.float64) ** -float(decay)


def geometric_logistic(n: int = 3000, d: int = 12, *, ratio: float = 0.5, seed: int = 1) -> FiniteSum:
    """Unregularized logistic regression with features of geometric scales and exact x*.

    **Arguments:**

    - ``n``: samples, a multiple of 3 (each feature vector appears three times).
    - ``d``: the dimension: an intercept and d - 1 features with scales ratio^j, j = 0..d-2.
    - ``ratio``: in (0, 1), the ratio of successive feature scales (eigenvalues: ratio^2).
    - ``seed``: NumPy seed of the signs.

    The minimizer is exactly (log 2, 0, ..., 0) and f* = log 3 - 2/3 log 2
    (``geometric_logistic_solution``, ``geometric_logistic_f_star``).
    """
    n = validation.integer("n", n, low=3)
    if n % 3:
        raise ValueError(f"n must be a multiple of 3 (each feature vector appears with labels "
                         f"+1, +1, -1), got {n}")
    d = validation.integer("d", d, low=2)
    ratio = validation.positive_float("ratio", ratio)
    if not ratio < 1:
        raise ValueError(f"ratio must be in (0, 1), got {ratio!r}")
    # ratio = 1e-5 zeroed the last features' eigenvalues in float32 (below its smallest normal)
    validation.derived_within_dtype("ratio", ratio, ratio ** (2 * (d - 2)),
                                    f"the smallest eigenvalue ratio^{2 * (d - 2)} =", jnp.result_type(float),
                                    positive=True)
    rng = np.random.default_rng(validation.integer("seed", seed, low=0, high=validation.MAX_SEED))
    check_host_fits(8 * (3 * n * d + 4 * n), (n * d + n) * jnp.dtype(jnp.result_type(float)).itemsize,
                    f"geometric-logistic with n={n}, d={d}")  # as the other generated families
    m = n // 3
    scales = ratio ** np.arange(d - 1, dtype=np.float64)
    z = np.concatenate([np.ones((m, 1)), rng.choice([-1.0, 1.0], size=(m, d - 1)) * scales], axis=1)
    A = np.concatenate([z, z, z])
    y = np.concatenate([np.ones(m), np.ones(m), -np.ones(m)])
    return logistic_regression(jnp.asarray(A), jnp.asarray(y), 0.0,
                               name=f"geometric logistic (scales {_exact(ratio)}^j, d={d})")


def _exact(ratio: float) -> str:
    """The ratio as :g writes it where that is exact, else every digit (0.999999999 was "1")."""
    return f"{ratio:g}" if float(f"{ratio:g}") == ratio else repr(ratio)


def geometric_logistic_solution(d: int = 12) -> np.ndarray:
    """The exact minimizer (log 2, 0, ..., 0) of ``geometric_logistic``."""
    x = np.zeros(d)
    x[0] = np.log(LOGISTIC_SHARE / (1 - LOGISTIC_SHARE))
    return x


def geometric_logistic_f_star() -> float:
    """f* of ``geometric_logistic``: the binary entropy of 2/3 in nats."""
    q = LOGISTIC_SHARE
    return float(-q * np.log(q) - (1 - q) * np.log(1 - q))
