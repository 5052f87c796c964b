"""Synthetic data generated on the device with ``jax.random``, sized by (n, d) and a seed.

Features are standard normal. Logistic labels are sign(<a_i, w> + noise) for a planted w ~
N(0, I/d) scaled so that <a_i, w> has unit variance; least-squares targets are <a_i, w> + noise.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from sgd_bench import _checks
from problems.linear import least_squares, logistic_regression


def _design(seed, n, d, dtype):
    n = _checks.integer("n", n, low=1)
    d = _checks.integer("d", d, low=1)
    seed = _checks.integer("seed", seed, low=0)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    k_a, k_w, k_e = jax.random.split(jax.random.key(seed), 3)
    A = jax.random.normal(k_a, (n, d), dtype)
    w = jax.random.normal(k_w, (d,), dtype) / jnp.sqrt(jnp.asarray(d, dtype))
    noise = jax.random.normal(k_e, (n,), dtype)
    return A, A @ w, noise


def synthetic_logreg(n: int = 1000, d: int = 10, *, seed: int = 0, mu: float = 0.0,
                     noise: float = 0.5, dtype=None):
    """Logistic regression on Gaussian features with labels sign(<a, w> + noise * eps)."""
    noise = _checks.nonnegative_float("noise", noise)
    A, z, eps = _design(seed, n, d, dtype)
    y = jnp.where(z + noise * eps >= 0, 1.0, -1.0).astype(A.dtype)
    return logistic_regression(A, y, mu, name=f"logreg n={n} d={d}", validate=False)


def synthetic_least_squares(n: int = 1000, d: int = 10, *, seed: int = 0, mu: float = 0.0,
                            noise: float = 0.1, dtype=None):
    """Least squares on Gaussian features with targets <a, w> + noise * eps."""
    noise = _checks.nonnegative_float("noise", noise)
    A, z, eps = _design(seed, n, d, dtype)
    return least_squares(A, z + noise * eps, mu, name=f"least-squares n={n} d={d}", validate=False)


def lecture_logreg(seed: int = 0, dtype=None):
    """The lecture's strongly convex binary logistic regression: m = 200, d = 10, mu = 1."""
    problem = synthetic_logreg(200, 10, seed=seed, mu=1.0, noise=0.5, dtype=dtype)
    return problem.replace(name="lecture-logreg")
