"""minibatch_error's measurement of the mini-batch gradient error e = g_B - grad f(x): at fixed
points for every B from one draw of n indices, and along a run from two consecutive iterates."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from sgd_bench.compat import batched_map

Z_FAMILY = 3.29  # 99.9% intervals: dozens of comparisons must not fail by chance
MODES = {"with_replacement": "with replacement", "reshuffle": "without replacement (reshuffle)"}
FORMULAS = {"with_replacement": "v/B", "reshuffle": "(n-B)/(n-1) v/B"}


@jax.jit
def prefix_errors(problem, x, idx):
    """||g_B - grad f(x)||^2 for every B in 1..n, for each row of ``idx`` (draws, n).

    Row t is step t of a run with batch size n: with replacement n iid uniform indices, with
    ``reshuffle`` one fresh uniform permutation (one epoch per step). Its first B entries are a
    batch of size B of the same kind (iid, or a uniform subset), so one row serves every B.
    """
    g = problem.grad(x)

    def one(rows):
        per = problem.per_sample_grads(x, rows) - g  # (n, d)
        means = jnp.cumsum(per, axis=0) / jnp.arange(1, rows.shape[0] + 1, dtype=per.dtype)[:, None]
        return jnp.sum(means * means, axis=1)

    return batched_map(one, idx, 64)


@jax.jit
def errors_along(problem, xs, xs_next, alpha):
    """f(x_k), ||grad f(x_k)||^2 and ||e_k||^2 for iterates xs (P, d) and their successors.

    A step is x_(k+1) = x_k - alpha g_B(x_k), so the batch gradient the run used is
    (x_k - x_(k+1)) / alpha and its error e_k = g_B(x_k) - grad f(x_k) follows from two iterates,
    exact up to rounding (|delta e| ~ eps ||x|| / alpha).
    """
    def one(args):
        x, x_next = args
        f, g = problem.value_and_grad(x)
        e = (x - x_next) / alpha - g
        return f, jnp.sum(g * g), jnp.sum(e * e)

    return batched_map(one, (xs, xs_next), 256)
