"""Polyak-Ruppert averaging as a wrapper around any method.

``averaged(method)`` runs ``method`` unchanged and keeps the running mean of its iterates,
x̄_k = 1/(k - s + 1) sum_{j=s}^{k} x_j over the steps since ``start`` = s (x̄_k = x_k before s).
The averaged iterate is the wrapper state's ``x``, so it is what the runner evaluates; the raw
iterate stays in ``inner.x``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax.numpy as jnp

from sgd_bench import _tree, validation
from sgd_bench.counting import Count
from sgd_bench.methods import Method


class AveragedState(NamedTuple):
    """The averaged iterate ``x``, the wrapped method's state, and its count."""

    x: Any
    inner: Any
    grad_evals: Count


def _num_averaged(k, start):
    """How many iterates x_start..x_{k+1} the mean holds after step k (0 before ``start``)."""
    return jnp.maximum(k + 1 - start + 1, 0)


def _init(p, x0, problem, key):
    inner = p.inner.init(x0, problem, key)
    return AveragedState(inner.x, inner, inner.grad_evals)


def _step(p, state, problem, idx, k):
    inner = p.inner.step(state.inner, problem, idx, k)
    count = _num_averaged(k, p.start)
    # Before start the "mean" is just the iterate (a mean of one); from start on, a running mean.
    x = _tree.mean_update(state.x, inner.x, jnp.maximum(count, 1))
    return AveragedState(x, inner, inner.grad_evals)


def averaged(method: Method, start: int = 0) -> Method:
    """Polyak-Ruppert averaging of ``method``'s iterates from step ``start`` on.

    **Arguments:**

    - ``method``: any ``Method``; it runs unchanged (its hyperparameters are this method's
      ``inner.*`` values: ``averaged(sgd(0.1)).replace({"inner.step_size": 0.05})``, a number in
      place of a whole schedule too).
    - ``start``: the first iterate x_start in the mean (0 averages from x_0; a later start
      drops the transient, "tail averaging"); a traced hyperparameter.

    **Returns:** a ``Method`` whose evaluated iterate is x̄_k; gradient evaluations are the
    wrapped method's.
    """
    if not isinstance(method, Method):
        raise TypeError(f"method must be a sgd_bench.Method, got {type(method).__name__}")
    start = _start("start", start)
    return Method(_init, _step, hyperparams={"inner": method, "start": start},
                  batch_size=method.batch_size, sampling=method.sampling,
                  name=f"{method.name}, averaged", check=_check)


def _start(name, value) -> int:
    # int32, the step counter's type: 2**40 was JAX's OverflowError naming "method[1]"
    return validation.integer(name, value, low=0, high=2**31 - 1)


def _check(p, problem) -> None:
    """``start`` as the constructor takes it, after ``replace`` or a sweep (-5 ran)."""
    validation.each("start", p.start, _start)
