"""Empirical rate fits on sequences whose order is known exactly, their intervals, and the
lecture's table with the verdicts that compare a fit against it (NumPy only, no runs)."""

from __future__ import annotations

import numpy as np
import pytest

from sgd_bench import rates, theory


def test_linear_rate_of_an_exact_geometric_sequence():
    k = np.arange(0, 60)
    values = 3.0 * 0.8**k
    fit = theory.fit_linear_rate(k, values)
    assert fit.kind == "linear" and fit.num_seeds == 1
    assert fit.value == pytest.approx(0.8, rel=1e-12)
    assert fit.lo <= 0.8 <= fit.hi and fit.hi - fit.lo < 1e-10
    assert np.exp(fit.log_c) == pytest.approx(3.0, rel=1e-10)
    np.testing.assert_allclose(fit.predict(k), values, rtol=1e-10)
    assert "least-squares" in fit.interval


def test_power_rate_of_an_exact_power_law_uses_the_last_decade():
    k = np.arange(0, 1001, 10)
    values = np.where(k > 0, 5.0 * np.maximum(k, 1) ** -0.5, 7.0)  # k = 0 is not on the power law
    fit = theory.fit_power_rate(k, values)
    assert fit.kind == "power" and fit.value == pytest.approx(0.5, rel=1e-12)
    assert fit.k_min == 100 and fit.k_max == 1000
    assert fit.describe().startswith("p = 0.500")


def test_bootstrap_interval_over_seeds_covers_the_true_exponent():
    rng = np.random.default_rng(0)
    k = np.arange(0, 2001, 20)
    seeds = 200
    # Each seed: C k^-1 times mean-one multiplicative noise, so the seed mean follows C k^-1.
    noise = rng.gamma(shape=4.0, scale=0.25, size=(seeds, k.size))
    values = 2.0 * np.maximum(k, 1) ** -1.0 * noise
    fit = theory.fit_power_rate(k, values, seed=1)
    assert fit.num_seeds == seeds and "bootstrap" in fit.interval
    assert fit.lo <= 1.0 <= fit.hi
    assert 0.0 < fit.hi - fit.lo < 0.2
    # The interval comes from the seeds: more noise, wider interval.
    wider = theory.fit_power_rate(k, 2.0 * np.maximum(k, 1) ** -1.0 * rng.gamma(1.0, 1.0, (seeds, k.size)), seed=1)
    assert wider.hi - wider.lo > fit.hi - fit.lo
    # and it is reproducible
    assert theory.fit_power_rate(k, values, seed=1) == fit


def test_floor_ends_the_window_and_too_few_points_raise():
    k = np.arange(0, 40)
    values = np.maximum(0.5**k, 1e-16)  # reaches the float64 floor near k = 53: clip at 1e-16
    values[30:] = 1e-16
    fit = theory.fit_linear_rate(k, values, floor=1e-15)
    assert fit.k_max < 30 and fit.value == pytest.approx(0.5, rel=1e-9)
    with pytest.raises(ValueError, match="at least 3"):
        theory.fit_linear_rate(k, values, start=29, floor=1e-15)


def test_running_min_for_the_non_convex_measure():
    k = np.arange(0, 101)
    oscillating = (1.0 + np.maximum(k, 1)) ** -1.0 * (1.0 + 0.5 * (k % 2))
    fit = theory.fit_power_rate(k, oscillating, running_min=True, start=10)
    assert fit.value == pytest.approx(1.0, abs=0.05)


def test_fit_order_picks_the_better_form():
    k = np.arange(0, 201)
    assert theory.fit_order(k, 0.97**k).kind == "linear"
    assert theory.fit_order(k, np.maximum(k, 1) ** -1.0).kind == "power"


def test_bad_inputs_are_refused():
    k = np.arange(10)
    with pytest.raises(ValueError, match="NaN"):
        theory.fit_linear_rate(k, np.r_[np.ones(9), np.nan])
    with pytest.raises(ValueError, match="shape"):
        theory.fit_linear_rate(k, np.ones(11))
    with pytest.raises(ValueError, match="kind"):
        theory.fit(k, np.ones(10), "cubic")
    with pytest.raises(ValueError, match="level"):
        theory.fit_linear_rate(k, 0.5**k, level=1.5)


def test_the_lecture_table():
    table = {(cell.row, cell.method): cell for cell in theory.LECTURE_TABLE}
    assert table[("PL", "GD")].complexity == "O(log(1/eps))" and table[("PL", "GD")].kind == "linear"
    assert table[("PL", "SGD")].p == 1.0
    assert table[("convex", "GD")].p == 1.0 and table[("convex", "SGD")].p == 0.5
    assert table[("non-convex", "GD")].p == 1.0 and table[("non-convex", "SGD")].p == 0.5
    assert "grad" in table[("non-convex", "GD")].measure and table[("convex", "GD")].measure == "f(x_k) - f*"
    assert theory.theory_rate("strongly_convex", "SGD") is table[("PL", "SGD")]
    assert theory.theory_rate("nonsmooth", "GD").p == 0.5
    with pytest.raises(ValueError, match="problem_class"):
        theory.theory_rate("concave", "GD")


def _fit(kind, value, lo, hi):
    return rates.RateFit(kind, value, lo, hi, 0.0, 1, 100, 50, 0.0, 10, "test")


@pytest.mark.parametrize("fit, cell, ok, words", [
    (_fit("linear", 0.9, 0.89, 0.91), ("pl", "GD"), True, "linear, as"),
    (_fit("power", 1.0, 0.9, 1.1), ("pl", "GD"), False, "not linear"),
    (_fit("power", 1.02, 0.95, 1.1), ("pl", "SGD"), True, "matches p = 1"),
    (_fit("power", 0.31, 0.30, 0.32), ("nonconvex", "SGD"), False, "slower"),
    (_fit("power", 1.3, 1.25, 1.35), ("convex", "SGD"), True, "faster"),
    (_fit("linear", 0.99, 0.98, 0.995), ("convex", "GD"), True, "faster than the worst case: linear"),
])
def test_compare_verdicts(fit, cell, ok, words):
    got_ok, verdict = theory.compare(fit, theory.theory_rate(*cell))
    assert got_ok is ok and words in verdict


def test_loglog_slope_interval_uses_every_point():
    x = np.array([1e4, 1e5, 1e6, 1e7])
    exact = rates.loglog_slope(x, 3e-8 * x)
    assert exact.value == pytest.approx(1.0) and exact.hi - exact.lo < 1e-9
    # Two ends on the line, a bent middle: the two-point slope would say 1; the interval widens
    # and no longer fits inside [0.8, 1.2].
    bent = rates.loglog_slope(x, 3e-8 * x * np.array([1.0, 8.0, 8.0, 1.0]))
    assert bent.value == pytest.approx(1.0) and (bent.lo < 0.8 or bent.hi > 1.2)
    with pytest.raises(ValueError, match="at least 3 points"):
        rates.loglog_slope(x[:2], x[:2])
    with pytest.raises(ValueError, match="positive"):
        rates.loglog_slope(x, -x)
