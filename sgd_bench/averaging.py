"""Polyak-Ruppert averaging as a wrapper around any method.

``averaged(method)`` runs ``method`` unchanged and keeps the running mean of its iterates,
x̄_k = 1/(k - s + 1) sum_{j=s}^{k} x_j over the steps since ``start`` = s (x̄_k = x_k before s).
The averaged iterate is the wrapper state's ``x``, so it is what the runner evaluates; the raw
iterate stays in ``inner.x``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from sgd_bench import _checks
from sgd_bench.counting import Count
from sgd_bench.methods import Method


class AveragedState(NamedTuple):
    """The averaged iterate ``x``, the wrapped method's state, counts, and a key for it."""

    x: Any
    inner: Any
    grad_evals: Count
    key: Any


def _num_averaged(k, start):
    """How many iterates x_start..x_{k+1} the mean holds after step k (0 before ``start``)."""
    return jnp.maximum(k + 1 - start + 1, 0)


def averaged(method: Method, start: int = 0) -> Method:
    """Polyak-Ruppert averaging of ``method``'s iterates from step ``start`` on.

    **Arguments:**

    - ``method``: any ``Method``; it runs unchanged.
    - ``start``: the first iterate x_start in the mean (0 averages from x_0; a later start
      drops the transient, "tail averaging").

    **Returns:** a ``Method`` whose evaluated iterate is x̄_k; gradient evaluations are the
    wrapped method's.
    """
    if not isinstance(method, Method):
        raise TypeError(f"method must be a sgd_bench.Method, got {type(method).__name__}")
    start = _checks.integer("start", start, low=0)

    def init(x0, problem):
        inner = method.init(x0, problem)
        return AveragedState(inner.x, inner, inner.grad_evals, jax.random.key(0))

    def step(state, problem, idx, k):
        inner = state.inner
        if "key" in getattr(inner, "_fields", ()):
            inner = inner._replace(key=state.key)
        inner = method.step(inner, problem, idx, k)
        count = _num_averaged(k, start)
        # Before start the "mean" is just the iterate; from start on, a running mean.
        weight = jnp.where(count > 0, 1.0 / jnp.maximum(count, 1), 1.0)
        x = jax.tree_util.tree_map(
            lambda avg, new: avg + jnp.asarray(weight, new.dtype) * (new - avg), state.x, inner.x)
        return AveragedState(x, inner, inner.grad_evals, state.key)

    return Method(init, step, method.batch_size, method.sampling, f"{method.name}, averaged")
