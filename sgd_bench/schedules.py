"""Step-size schedules: plain callables from the step counter k (0-based) to alpha_k.

Any callable ``k -> alpha`` works wherever a step size is accepted, optax schedules included;
a float means a constant step. The factories check their arguments and raise ``ValueError``
naming the bad value.
"""

from __future__ import annotations

from typing import Any, Callable

import jax.numpy as jnp
import numpy as np

from sgd_bench import _checks

Schedule = Callable[[Any], Any]


def _as_float(k) -> jnp.ndarray:
    k = jnp.asarray(k)
    return k.astype(jnp.result_type(float))


def constant(a: float) -> Schedule:
    """alpha_k = a.

    >>> constant(0.1)(7)
    0.1
    """
    a = _checks.positive_float("a", a)

    def schedule(k):
        del k
        return a

    return schedule


def lecture_decreasing(mu: float) -> Schedule:
    """alpha_k = (2k + 1) / (2 mu (k + 1)^2), the lecture's step for mu-PL functions.

    With it SGD satisfies E[f(x_k) - f*] <= L sigma^2 / (2 mu^2 k) (Gower et al. 2019,
    Theorem 3.2; the lecture's "decreasing stepsize" slide).

    >>> float(lecture_decreasing(1.0)(0)), float(lecture_decreasing(1.0)(1))
    (0.5, 0.375)
    """
    mu = _checks.positive_float("mu", mu)

    def schedule(k):
        k = _as_float(k)
        return (2.0 * k + 1.0) / (2.0 * mu * (k + 1.0) ** 2)

    return schedule


def inverse_time(a: float, k0: float) -> Schedule:
    """alpha_k = a / (1 + k / k0): starts at a and halves by k = k0, then decays like 1/k.

    >>> float(inverse_time(1.0, 10.0)(10))
    0.5
    """
    a = _checks.positive_float("a", a)
    k0 = _checks.positive_float("k0", k0)

    def schedule(k):
        return a / (1.0 + _as_float(k) / k0)

    return schedule


def inverse_sqrt(a: float) -> Schedule:
    """alpha_k = a / sqrt(k + 1).

    >>> float(inverse_sqrt(2.0)(3))
    1.0
    """
    a = _checks.positive_float("a", a)

    def schedule(k):
        return a / jnp.sqrt(_as_float(k) + 1.0)

    return schedule


def as_schedule(step_size: Any, name: str = "step_size") -> Schedule:
    """A float becomes ``constant``; a callable is checked to give a finite alpha_0 > 0."""
    if callable(step_size):
        try:
            value = step_size(0)
        except Exception as err:  # the user's callable failed: say which argument it was
            raise TypeError(f"{name} must map a step counter k to a step size; "
                            f"calling it at k=0 raised {err!r}") from None
        try:
            arr = np.asarray(value)
            if arr.ndim != 0:
                raise TypeError(f"it returned an array of shape {arr.shape}, not a scalar")
            first = float(arr)
        except Exception as err:
            raise TypeError(f"{name} must map a step counter k to a scalar step size; "
                            f"at k=0: {err}") from None
        if not np.isfinite(first) or first <= 0:
            raise ValueError(f"{name} must give a step size > 0; at k=0 it gives {first!r}")
        return step_size
    return constant(_checks.positive_float(name, step_size))
