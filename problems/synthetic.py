"""Synthetic data generated on the device with ``jax.random``, sized by (n, d) and a seed.

The n x d features are generated in blocks of rows written into one preallocated array, so the
peak memory is the data plus one block (no host round trip, no temporary copies); a memory
estimate is checked before allocating.

Every dtype gets the same problem: the numbers are drawn in float64 (JAX's widest float, when
x64 is on) and each block is cast to the requested dtype as it is written, so float32 data is
float64 data rounded once, and the labels and targets are computed in float64 before the cast.
With x64 off, float64 does not exist and the numbers are drawn in float32. Features are standard normal. Logistic labels are sign(<a_i, w> + noise) for a planted w ~
N(0, I/d) scaled so that <a_i, w> has unit variance; least-squares targets are <a_i, w> + noise.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from sgd_bench import validation
from sgd_bench.memory import check_fits
from problems.linear import least_squares, logistic_regression


# Larger than any standard normal number jax.random.normal draws: sqrt(2) erfinv(u) with |u| at
# most 1 - 2**-52 (8.2), or 1 - 2**-23 in float32 (5.3).
MAX_DRAW = 10.0
# Rows generated per block; block i uses the key fold_in(key, i).
_GEN_BLOCK_ROWS = 1 << 15


def _wide() -> jnp.dtype:
    """The precision the numbers are drawn in, whatever dtype they are stored in."""
    return jnp.dtype(jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _normal_rows(key, w, n, d, dtype):
    """(A, A @ w): n x d standard normal rows drawn in ``w``'s (wide) precision and stored in
    ``dtype``, and their products with ``w`` computed in the wide precision from the same draws."""
    rows = min(n, _GEN_BLOCK_ROWS)
    num_blocks = -(-n // rows)

    def body(i, carry):
        out, z = carry
        block = jax.random.normal(jax.random.fold_in(key, i), (rows, d), w.dtype)
        # The last block is aligned to the end (it may overlap the previous one) so every
        # update has the same static shape.
        start = jnp.minimum(i * rows, n - rows)
        out = lax.dynamic_update_slice_in_dim(out, block.astype(dtype), start, axis=0)
        return out, lax.dynamic_update_slice_in_dim(z, block @ w, start, axis=0)

    return lax.fori_loop(0, num_blocks, body, (jnp.zeros((n, d), dtype), jnp.zeros((n,), w.dtype)))


def check_size(n: int, d: int, dtype) -> tuple[int, int, jnp.dtype]:
    """(n, d, dtype) checked, and MemoryError when the data cannot fit, before anything is made
    (``gpu_bench`` asks first, so that it does not run its scaling part for a size it refuses)."""
    n = validation.integer("n", n, low=1)
    d = validation.integer("d", d, low=1)
    dtype = jnp.dtype(validation.requested_dtype("dtype", dtype))
    check_fits(n * d * dtype.itemsize + 3 * n * _wide().itemsize,
               f"synthetic data with n={n}, d={d} in {dtype.name}")
    return n, d, dtype


def _design(seed, n, d, dtype):
    """(A in ``dtype``, A @ w and the noise in the wide precision) for a planted w."""
    seed = validation.jax_seed("seed", seed)  # jax.random.key: 32 bits with x64 off
    n, d, dtype = check_size(n, d, dtype)
    wide = _wide()
    # The partitionable threefry (JAX's default from 0.5 on) gives the same numbers on every JAX
    # version we support, so a seed names one data set everywhere.
    with jax.threefry_partitionable(True):
        k_a, k_w, k_e = jax.random.split(jax.random.key(seed), 3)
        w = jax.random.normal(k_w, (d,), wide) / jnp.sqrt(jnp.asarray(d, wide))
        A, z = _normal_rows(k_a, w, n, d, dtype)
        noise = jax.random.normal(k_e, (n,), wide)
    return A, z, noise


def _within(dtype, **values) -> None:
    """The numbers that enter the data or the loss, refused by name when the dtype cannot hold
    them (FiniteSum refuses mu too, but only once the data is made)."""
    dtype = jax.dtypes.canonicalize_dtype(validation.requested_dtype("dtype", dtype))
    validation.within_dtype(values.items(), dtype, "the data")


def synthetic_logreg(n: int = 1000, d: int = 10, *, seed: int = 0, mu: float = 0.0,
                     noise: float = 0.5, dtype=None):
    """Logistic regression on Gaussian features with labels sign(<a, w> + noise * eps)."""
    mu = validation.nonnegative_float("mu", mu)  # every argument is checked before data is made
    noise = validation.nonnegative_float("noise", noise)
    _within(dtype, mu=mu)
    A, z, eps = _design(seed, n, d, dtype)
    y = jnp.where(z + noise * eps >= 0, 1.0, -1.0).astype(A.dtype)  # signs from float64 values
    return logistic_regression(A, y, mu, name=f"logreg n={n} d={d}", validate=False)


def synthetic_least_squares(n: int = 1000, d: int = 10, *, seed: int = 0, mu: float = 0.0,
                            noise: float = 0.1, dtype=None):
    """Least squares on Gaussian features with targets <a, w> + noise * eps."""
    mu = validation.nonnegative_float("mu", mu)  # every argument is checked before data is made
    noise = validation.nonnegative_float("noise", noise)
    _within(dtype, mu=mu, noise=noise)  # noise = 1e39 made b = inf in float32, silently
    # noise = 1e38 too (b = noise * eps), and 1e19 made the loss's squared residuals inf: JAX's
    # normal draws stay below MAX_DRAW (8.2 in float64, 5.3 in float32)
    validation.squares_within_dtype("noise", noise, noise * MAX_DRAW, "squared residuals "
                                    f"(noise times a normal draw, |draw| < {MAX_DRAW:g}) up to",
                                    jax.dtypes.canonicalize_dtype(validation.requested_dtype("dtype", dtype)))
    A, z, eps = _design(seed, n, d, dtype)
    b = (z + noise * eps).astype(A.dtype)  # in float64, then rounded once like A
    return least_squares(A, b, mu, name=f"least-squares n={n} d={d}", validate=False)


def lecture_logreg(seed: int = 0, dtype=None):
    """The lecture's strongly convex binary logistic regression: m = 200, d = 10, mu = 1."""
    problem = synthetic_logreg(200, 10, seed=seed, mu=1.0, noise=0.5, dtype=dtype)
    return problem.replace(name="lecture-logreg")
