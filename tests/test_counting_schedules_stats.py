"""The overflow-free gradient counter, the step-size schedules and the seed statistics."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sgd_bench import Count, schedules, stats
from sgd_bench.compat import enable_x64
from sgd_bench.schedules import as_schedule

U32 = 2**32


# -- Count -------------------------------------------------------------------------------------
def test_count_carries_past_2_to_the_32():
    c = Count.zero().add(U32 - 1).add(2)
    assert int(c) == U32 + 1
    assert int(c.hi) == 1 and int(c.lo) == 1
    assert np.asarray(c).dtype == np.int64 and int(np.asarray(c)) == U32 + 1


def test_count_carry_on_uint32_arrays():
    c = Count.from_parts(jnp.array([0, 0, 5, 7], jnp.uint32), jnp.array([U32 - 1, 5, U32 - 2, 0], jnp.uint32))
    out = c.add(jnp.array([1, 3, 3, U32 - 1], jnp.uint32))
    want = np.array([U32, 8, 6 * U32 + 1, 7 * U32 + U32 - 1], dtype=np.int64)
    np.testing.assert_array_equal(out.to_numpy(), want)
    np.testing.assert_array_equal(np.asarray(out.hi), [1, 0, 6, 7])
    with pytest.raises(TypeError, match="scalar"):
        int(out)


def test_count_is_exact_under_jit_and_scan_with_x64_off():
    # 50 full gradients at n = 10^8 pass 2^32 (and 2^31, where int32 would wrap)
    n, steps = 10**8, 50
    with enable_x64(False):
        @jax.jit
        def count(c):
            def body(c, _):
                return c.add(n), None
            return jax.lax.scan(body, c, None, length=steps)[0]

        c = count(Count.zero())
        assert c.hi.dtype == jnp.uint32 and c.lo.dtype == jnp.uint32
        assert int(c) == n * steps
        # the same under vmap
        many = jax.vmap(lambda k: Count.zero().add(k).add(k))(
            jnp.array([U32 // 2, U32 - 1, 3], jnp.uint32))
        np.testing.assert_array_equal(np.asarray(many), [U32, 2 * U32 - 2, 6])


def test_count_of_a_python_int_above_int32():
    assert int(Count.zero().add(3_000_000_000).add(3_000_000_000)) == 6_000_000_000


# -- schedules ---------------------------------------------------------------------------------
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


# -- stats -------------------------------------------------------------------------------------
@pytest.fixture
def seeds():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((6, 4)) + 3.0
    diverged = np.array([False, True, False, False, True, False])
    values[1] = np.inf
    values[4, 2] = np.nan
    values[4, 0] = 1e300
    return values, diverged


def test_stats_leave_diverged_seeds_out(seeds):
    values, diverged = seeds
    kept = values[[0, 2, 3, 5]]
    m = kept.sum(axis=0) / 4
    np.testing.assert_allclose(stats.mean(values, diverged), m, rtol=1e-15)
    se = np.sqrt(((kept - m) ** 2).sum(axis=0) / 3) / 2
    np.testing.assert_allclose(stats.stderr(values, diverged), se, rtol=1e-12)
    q = stats.quantiles(values, (0.0, 0.5, 1.0), diverged)
    srt = np.sort(kept, axis=0)
    np.testing.assert_allclose(q[0.0], srt[0])
    np.testing.assert_allclose(q[0.5], (srt[1] + srt[2]) / 2, rtol=1e-15)
    np.testing.assert_allclose(q[1.0], srt[-1])
    summary = stats.summarize(values, diverged, qs=(0.5,))
    assert summary.num_seeds == 6 and summary.num_diverged == 2
    np.testing.assert_allclose(summary.mean, m, rtol=1e-15)
    lo, hi = summary.band(2.0)
    np.testing.assert_allclose(lo, m - 2 * se, rtol=1e-12)
    np.testing.assert_allclose(hi, m + 2 * se, rtol=1e-12)
    # without the mask the blown-up seeds poison the mean
    assert not np.all(np.isfinite(stats.mean(values)))


def test_stats_without_mask_and_edge_cases():
    values = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_array_equal(stats.mean(values), [2.0, 4.0])
    np.testing.assert_allclose(stats.stderr(values), [1.0, 2.0])  # s / sqrt(2)
    assert np.all(np.isnan(stats.mean(values, np.array([True, True]))))
    assert np.all(np.isnan(stats.stderr(values, np.array([False, True]))))
    assert np.all(np.isnan(stats.quantiles(values, (0.5,), np.array([True, True]))[0.5]))
