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


@pytest.mark.parametrize("fit, cell, outcome, ok, words", [
    (_fit("linear", 0.9, 0.89, 0.91), ("pl", "GD"), "match", True, "linear, as"),
    (_fit("power", 1.0, 0.9, 1.1), ("pl", "GD"), "slower", False, "not linear"),
    (_fit("power", 1.02, 0.95, 1.1), ("pl", "SGD"), "match", True, "matches p = 1"),
    (_fit("power", 0.31, 0.30, 0.32), ("nonconvex", "SGD"), "slower", False, "slower"),
    # The interval only has to meet the band [0.45, 0.55]: one end inside is enough ...
    (_fit("power", 0.43, 0.40, 0.46), ("convex", "SGD"), "match", True, "matches p = 0.5"),
    (_fit("power", 0.57, 0.54, 0.60), ("convex", "SGD"), "match", True, "matches p = 0.5"),
    # ... and a band's width away on either side it is not the table's order.
    (_fit("power", 0.42, 0.40, 0.44), ("convex", "SGD"), "slower", False, "p < 0.5 - 0.05"),
    # The two non-convex SGD cells of the issue were printed as "matches p = 0.5".
    (_fit("power", 0.650, 0.616, 0.707), ("nonconvex", "SGD"), "faster", False, "no reason given"),
    (_fit("power", 0.578, 0.567, 0.594), ("nonconvex", "SGD"), "faster", False, "no reason given"),
    (_fit("linear", 0.99, 0.98, 0.995), ("convex", "GD"), "faster", False, "(linear), and no reason"),
    (_fit("linear", 1.0, 0.99, 1.01), ("convex", "GD"), "slower", False, "no convergence"),
])
def test_compare_verdicts_are_two_sided(fit, cell, outcome, ok, words):
    verdict = theory.compare(fit, theory.theory_rate(*cell))
    assert (verdict.outcome, verdict.ok) == (outcome, ok) and words in verdict.text, verdict
    got_ok, text = verdict  # unpacks as (ok, text)
    assert got_ok is ok and text == verdict.text


def test_faster_than_the_worst_case_passes_only_with_its_reason():
    fit = _fit("linear", 0.69, 0.68, 0.70)
    why = "locally strongly convex where GD ends"
    verdict = theory.compare(fit, theory.theory_rate("convex", "GD"), why=why)
    assert verdict.ok and verdict.outcome == "faster" and verdict.text.endswith(why)
    # A reason never turns a slower order or a match into something else.
    slow = theory.compare(_fit("power", 0.3, 0.28, 0.32), theory.theory_rate("convex", "SGD"), why=why)
    assert (slow.outcome, slow.ok) == ("slower", False)
    same = theory.compare(_fit("power", 0.5, 0.48, 0.52), theory.theory_rate("convex", "SGD"), why=why)
    assert same.outcome == "match" and why not in same.text
    # A wider band makes the same interval a match.
    wide = theory.compare(_fit("power", 0.578, 0.567, 0.594), theory.theory_rate("nonconvex", "SGD"), tol=0.15)
    assert wide.outcome == "match"


def test_schedule_power():
    from sgd_bench import schedules

    assert rates.schedule_power(schedules.inverse_sqrt(0.3), 2000, 20000) == pytest.approx(0.5, abs=1e-4)
    assert rates.schedule_power(schedules.lecture_decreasing(1.0), 2000, 20000) == pytest.approx(1.0, abs=1e-3)
    # a / (1 + k/100): not yet 1/k at k = 2000, exactly log(201/21) / log(10)
    assert rates.schedule_power(schedules.inverse_time(0.1, 100.0), 2000, 20000) == pytest.approx(np.log(201 / 21) / np.log(10))
    assert rates.schedule_power(schedules.constant(0.1), 2000, 20000) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="k_lo < k_hi"):
        rates.schedule_power(schedules.constant(0.1), 10, 10)


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
