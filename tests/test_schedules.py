"""The step-size schedules (``sgd_bench.schedules``) against their formulas, and ``as_schedule``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sgd_bench import schedules
from sgd_bench.schedules import as_schedule


KS = list(range(0, 40)) + [99, 1000, 123456]


def test_constant():
    s = schedules.constant(0.3)
    assert all(float(s(k)) == 0.3 for k in KS)


@pytest.mark.parametrize("mu", [0.05, 1.0, 3.0])
def test_lecture_decreasing(mu):
    s = schedules.lecture_decreasing(mu)
    for k in KS:
        assert float(s(k)) == pytest.approx((2 * k + 1) / (2 * mu * (k + 1) ** 2), rel=1e-14)
    assert float(s(0)) == pytest.approx(1 / (2 * mu), rel=1e-15)
    # vectorized over an int32 step counter, as inside the runner
    ks = jnp.arange(40, dtype=jnp.int32)
    want = np.array([(2 * k + 1) / (2 * mu * (k + 1) ** 2) for k in range(40)])
    np.testing.assert_allclose(np.asarray(jax.jit(s)(ks)), want, rtol=1e-14)


@pytest.mark.parametrize("a, k0", [(1.0, 10.0), (0.25, 3.0), (2.0, 0.5)])
def test_inverse_time(a, k0):
    s = schedules.inverse_time(a, k0)
    for k in KS:
        assert float(s(k)) == pytest.approx(a / (1 + k / k0), rel=1e-14)


@pytest.mark.parametrize("a", [0.1, 2.0])
def test_inverse_sqrt(a):
    s = schedules.inverse_sqrt(a)
    for k in KS:
        assert float(s(k)) == pytest.approx(a / math.sqrt(k + 1), rel=1e-14)


def test_as_schedule():
    assert float(as_schedule(0.2)(17)) == 0.2
    s = optax.exponential_decay(0.5, transition_steps=10, decay_rate=0.5)
    wrapped = as_schedule(s)  # any callable runs as it is, as a static schedule
    assert wrapped.wrapped is s and float(wrapped(20)) == float(s(20))
    assert wrapped.params == {}
    f = schedules.inverse_sqrt(1.0)
    assert as_schedule(f) is f
    with pytest.raises(ValueError, match="lr"):
        as_schedule(-1.0, name="lr")
