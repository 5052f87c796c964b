"""The lecture's bounds: formulas against hand computation, refusals by problem class, sigma^2
measured along a run against the logged iterates, and statistical checks on small problems
(fixed keys, intervals from standard errors) that the bounds hold, that a deliberately wrong
constant makes the check fail, that E||e||^2 matches both sampling formulas, and that the fitted
rates match the table."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import sgd_bench as sb
from problems import nonconvex, nonsmooth
from sgd_bench import sampling, theory

MU = 1.0  # the lecture's ridge: 1/(2 mu) = 0.5 is a safe constant step on these data
SEEDS = 400


@functools.lru_cache(maxsize=None)
def logistic():
    return helpers.tiny_logistic(mu=MU)


@functools.lru_cache(maxsize=None)
def consts():
    return theory.constants(logistic())


X0 = jnp.full(helpers.D, 2.0)


@functools.lru_cache(maxsize=None)
def constant_run():
    """SGD, alpha = 0.3 < 1/(2 mu), 400 seeds, iterates logged for sigma^2."""
    return sb.run_seeds(logistic(), sb.sgd(0.3), X0, jax.random.key(11), seeds=SEEDS, steps=300,
                        log_every=5, log_iterates=True)


@functools.lru_cache(maxsize=None)
def decreasing_run():
    """SGD with the lecture's alpha_k = (2k+1)/(2 mu (k+1)^2), 400 seeds."""
    method = sb.sgd(sb.schedules.lecture_decreasing(MU))
    return sb.run_seeds(logistic(), method, X0, jax.random.key(12), seeds=SEEDS, steps=4000, log_every=40,
                        log_iterates=True)


def _delta0():
    return float(logistic().loss(X0)) - consts().f_star


# -- sigma^2 along a run -----------------------------------------------------------------------------
def _np_second_moments(problem, xs):
    """E_i ||grad f_i(x)||^2 at every x in xs (..., d), from the logistic gradient written by hand."""
    A, y = (np.asarray(a) for a in problem.data)
    z = y * np.einsum("ij,...j->...i", A, xs)
    coef = -y * helpers.np_sigmoid(-z)  # (..., n): grad f_i = coef_i a_i + mu x
    grads = coef[..., None] * A + MU * xs[..., None, :]
    return np.mean(np.sum(grads**2, axis=-1), axis=-1)


def test_sigma2_along_a_run_is_the_largest_seed_mean():
    trace = constant_run()
    est = theory.sigma2_along_run(logistic(), trace, run="SGD alpha=0.3")
    per = _np_second_moments(logistic(), np.asarray(trace.xs))  # (seeds, log points)
    mean = per.mean(axis=0)
    t = int(np.argmax(mean))
    assert est.value == pytest.approx(mean[t], rel=1e-12)
    assert est.step == int(np.asarray(trace.step[0])[t]) and est.num_seeds == SEEDS
    assert est.sup == pytest.approx(per.max(), rel=1e-12) and est.sup >= est.value
    assert est.stderr == pytest.approx(per[:, t].std(ddof=1) / np.sqrt(SEEDS), rel=1e-10)
    np.testing.assert_allclose(est.mean, mean, rtol=1e-12)
    assert "400 seeds" in est.describe() and est.run in est.describe()
    later = theory.sigma2_along_run(logistic(), trace, start=100)
    assert later.step >= 100 and later.value <= est.value
    with pytest.raises(ValueError, match="log_iterates=True"):
        theory.sigma2_along_run(logistic(), trace._replace(xs=None))
    with pytest.raises(ValueError, match="start"):
        theory.sigma2_along_run(logistic(), trace, start=10**6)


# -- formulas ------------------------------------------------------------------------------------
def _record(cls="pl", **values):
    base = dict(name="t", problem_class=cls, n=10, L=4.0, L_max=8.0, mu=0.5, sigma2_star=1.0, f_star=0.0)
    base.update(values)
    return theory.Constants(**base)


def test_bound_formulas_by_hand():
    c = _record()
    k = np.array([0, 1, 5])
    np.testing.assert_allclose(theory.gd_pl(k, c, delta0=2.0), 2.0 * (1 - 0.5 / 4.0) ** k)
    got = theory.sgd_constant_step(k, c, alpha=0.5, delta0=2.0, sigma2=3.0)
    np.testing.assert_allclose(got, 2.0 * (1 - 2 * 0.5 * 0.5) ** k + 4.0 * 3.0 * 0.5 / (4 * 0.5))
    assert theory.sgd_plateau(c, alpha=0.5, sigma2=3.0) == pytest.approx(3.0)
    dec = theory.sgd_decreasing_step(k, c, sigma2=3.0)
    assert dec[0] == np.inf
    np.testing.assert_allclose(dec[1:], 4.0 * 3.0 / (2 * 0.25 * k[1:]))
    np.testing.assert_allclose(theory.gd_with_error_step(c, f_k=1.0, grad_sq_k=2.0, err_sq_k=0.5),
                               1.0 - 2.0 / 8.0 + 0.5 / 8.0)
    np.testing.assert_allclose(theory.gd_convex(k, _record("convex"), dist0_sq=3.0)[1:], 4.0 * 3.0 / (2 * k[1:]))
    np.testing.assert_allclose(theory.gd_nonconvex(k, _record("nonconvex"), delta0=3.0)[1:], 2 * 4.0 * 3.0 / k[1:])


def test_minibatch_error_formulas():
    assert theory.minibatch_error(6.0, 3, 10) == pytest.approx(2.0)
    assert theory.minibatch_error(6.0, 3, 10, "without_replacement") == pytest.approx(2.0 * 7 / 9)
    assert theory.minibatch_error(6.0, 3, 10, "reshuffle") == pytest.approx(2.0 * 7 / 9)
    assert theory.minibatch_error(6.0, 10, 10, "without_replacement") == 0.0
    np.testing.assert_allclose(theory.minibatch_error(6.0, np.array([1, 2]), 10), [6.0, 3.0])
    with pytest.raises(ValueError, match="batch_size"):
        theory.minibatch_error(1.0, 11, 10)
    with pytest.raises(ValueError, match="sampling"):
        theory.minibatch_error(1.0, 2, 10, "cyclic")


def test_argument_checks():
    c = _record()
    with pytest.raises(ValueError, match=r"alpha must be < 1/\(2 mu\) = 1"):
        theory.sgd_constant_step(3, c, alpha=1.0, delta0=1.0, sigma2=1.0)
    with pytest.raises(ValueError, match="delta0"):
        theory.gd_pl(3, c, delta0=-1.0)
    with pytest.raises(ValueError, match="k must be >= 0"):
        theory.gd_pl(-1, c, delta0=1.0)
    with pytest.raises(ValueError, match="needs mu"):
        theory.gd_pl(1, c.replace(mu=None), delta0=1.0)
    with pytest.raises(TypeError, match="Constants"):
        theory.gd_pl(1, {"L": 1.0}, delta0=1.0)


# -- refusals by class ---------------------------------------------------------------------------------
def test_pl_bound_on_a_non_convex_non_pl_problem_is_refused():
    problem = nonconvex.sigmoid_loss(n=40, d=3)
    c = theory.constants(problem)
    assert c.problem_class == "nonconvex" and c.mu is None
    with pytest.raises(theory.AssumptionError, match=r"assumes the PL inequality .* declared 'nonconvex'"):
        theory.sgd_constant_step(10, c, alpha=0.1, delta0=1.0, sigma2=1.0)
    with pytest.raises(theory.AssumptionError, match="PL"):
        theory.sgd_decreasing_step(10, c, sigma2=1.0)
    with pytest.raises(theory.AssumptionError, match="PL"):
        theory.gd_pl(10, c, delta0=1.0)
    with pytest.raises(theory.AssumptionError, match="convexity"):
        theory.gd_convex(10, c, dist0_sq=1.0)
    assert theory.gd_nonconvex(10, c, delta0=1.0) > 0  # smoothness alone is enough for this one


def test_smooth_bounds_on_a_non_smooth_problem_are_refused():
    problem = nonsmooth.synthetic_hinge(n=40, d=3)
    c = theory.constants(problem, reference=nonsmooth.lp_reference(problem))
    assert c.L is None and c.problem_class == "nonsmooth"
    for call in (lambda: theory.gd_with_error_step(c, f_k=1.0, grad_sq_k=1.0, err_sq_k=1.0),
                 lambda: theory.gd_nonconvex(3, c, delta0=1.0)):
        with pytest.raises(theory.AssumptionError, match="L-smooth"):
            call()
    assert isinstance(theory.AssumptionError("x"), ValueError)


# -- the check ---------------------------------------------------------------------------------------
def test_check_reports_holds_and_the_first_failure():
    k = np.arange(5)
    values = np.array([[1.0, 0.5, 0.4, 0.3, 0.2], [1.0, 0.7, 0.6, 0.5, 0.4]])
    ok = theory.check(k, values, np.ones(5), name="b")
    assert ok.holds and ok.first_failure is None
    assert ok.summary().startswith("b: holds at every logged k")
    bad = theory.check(k, values, np.array([2.0, 2.0, 0.1, 2.0, 2.0]), name="b")
    assert not bad.holds and bad.first_failure == 2
    assert list(bad.holds_at) == [True, True, False, True, True]
    assert "fails first at k = 2" in bad.summary() and "by 4.000e-01" in bad.summary()
    assert bad.as_dict()["holds"] is False and bad.as_dict()["measured"]["first_failure_k"] == 2
    # An interval that straddles the bound does not count as holding, nor as a significant violation.
    close = theory.check(k, values, np.full(5, values.mean(0)[1]), name="b")
    assert not close.holds_at[1] and not close.violated_at[1]
    assert theory.check(k, values, np.full(5, 1.0 - 1e-12), atol=1e-9).holds
    diverged = values.copy()
    diverged[1, 3] = np.inf
    assert "not finite" in theory.check(k, diverged, np.full(5, 10.0)).summary()
    assert theory.check(k, values, lambda kk: 2.0 + 0 * kk).holds
    with pytest.raises(ValueError, match="shape"):
        theory.check(k, values, np.ones(4))


# -- the bounds hold on runs, and a wrong constant makes them fail ------------------------------------------
def test_constant_step_bound_holds_and_fails_with_a_wrong_sigma2():
    c, trace = consts(), constant_run()
    s2 = theory.sigma2_along_run(logistic(), trace, run="SGD 0.3")
    k = np.asarray(trace.step[0])
    gap = np.asarray(trace.loss) - c.f_star
    bound = theory.sgd_constant_step(k, c, alpha=0.3, delta0=_delta0(), sigma2=s2.value)
    result = theory.check(k, gap, bound, name="constant", atol=1e-13)
    assert result.holds, result.summary()
    # The plateau is far above the noise: the 95% interval is narrow enough to decide.
    assert np.all(result.stderr[k > 100] < 0.1 * result.mean[k > 100])
    wrong = theory.check(k, gap, theory.sgd_constant_step(k, c, alpha=0.3, delta0=_delta0(),
                                                          sigma2=s2.value / 100), name="wrong", atol=1e-13)
    assert not wrong.holds and np.any(wrong.violated_at), wrong.summary()
    assert "significantly fails first" in wrong.summary()


def test_decreasing_step_bound_holds_and_fails_with_a_wrong_sigma2():
    c, trace = consts(), decreasing_run()
    s2 = theory.sigma2_along_run(logistic(), trace)
    k = np.asarray(trace.step[0])
    gap = np.asarray(trace.loss) - c.f_star
    assert theory.check(k, gap, theory.sgd_decreasing_step(k, c, sigma2=s2.value), atol=1e-13).holds
    wrong = theory.check(k, gap, theory.sgd_decreasing_step(k, c, sigma2=s2.value / 100), atol=1e-13)
    assert not wrong.holds and np.any(wrong.violated_at)


def test_decreasing_step_fits_p_near_one():
    trace = decreasing_run()
    k = np.asarray(trace.step[0])
    fit = theory.fit_power_rate(k, np.asarray(trace.loss) - consts().f_star)
    assert fit.num_seeds == SEEDS
    assert 0.8 <= fit.value <= 1.2, fit.describe()
    assert fit.lo < fit.value < fit.hi


def test_gd_bound_and_linear_rate_on_a_pl_problem():
    c = consts()
    trace = sb.run(logistic(), sb.gd(1.0 / c.L), X0, 0, steps=40, log_every=1)
    k = np.asarray(trace.step)
    gap = np.asarray(trace.loss) - c.f_star
    assert theory.check(k, gap, theory.gd_pl(k, c, delta0=_delta0()), atol=1e-13).holds
    fit = theory.fit_linear_rate(k, np.maximum(gap, 0.0), floor=1e-13)
    assert fit.kind == "linear" and fit.value <= 1 - c.mu / c.L + 1e-3, fit.describe()
    # Below the theoretical factor, but not absurdly: GD on this problem really converges linearly.
    assert 0.0 < fit.value < 1.0 and fit.rmse < 0.5


def test_gd_bounds_for_the_convex_and_non_convex_rows():
    from problems import convex

    ls = convex.rank_deficient_least_squares(n=30, d=8, rank=5, seed=2, cond=1e3, noise=0.2)
    ref = sb.reference_solution(ls)  # from x_0 = 0 Newton's least-squares steps reach the nearest x*
    c = theory.constants(ls, reference=ref)
    trace = sb.run(ls, sb.gd(1.0 / c.L), ls.zeros(), 0, steps=200, log_every=1)
    k = np.asarray(trace.step)
    gap = np.asarray(trace.loss) - c.f_star
    bound = theory.gd_convex(k, c, dist0_sq=float(np.sum(np.asarray(ref.x) ** 2)))
    assert theory.check(k, gap, bound, atol=1e-13).holds
    sigmoid = nonconvex.sigmoid_loss(n=40, d=3, seed=1)
    c = theory.constants(sigmoid)
    trace = sb.run(sigmoid, sb.gd(1.0 / c.L), sigmoid.zeros(), 0, steps=200, log_every=1)
    k = np.asarray(trace.step)
    best = np.minimum.accumulate(np.asarray(trace.grad_norm_sq))
    delta0 = float(trace.loss[0])  # the sigmoid loss is >= 0, so f(x_0) - 0 bounds f(x_0) - f*
    assert theory.check(k, best, theory.gd_nonconvex(k, c, delta0=delta0)).holds


# -- mini-batch error ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["with_replacement", "reshuffle"])
def test_measured_minibatch_error_matches_the_formula(mode):
    """E||g_B - grad f||^2 over 4000 batches from the engine's sampler, at every B, within a 99.9% interval.

    Each draw is a batch of n indices; its first B are a batch of size B (iid with replacement,
    a uniform subset of a permutation without), so one draw serves every B; the 2 x 13
    comparisons use 99.9% intervals so that none fails by chance."""
    problem = logistic()
    n = problem.n
    # Step t of a run with batch n: n iid indices with replacement, one fresh permutation with
    # reshuffling (each step is a whole epoch), so the 4000 rows are independent draws.
    idx = sampling.indices(mode, jax.random.key(7), n, n, 4000)
    x = np.linspace(-1.0, 1.0, helpers.D)
    A, y = (np.asarray(a) for a in problem.data)
    per_sample = np.stack([helpers.np_logistic_grad(A, y, MU, x, idx=[i]) for i in range(n)])  # (n, d)
    centred = per_sample - per_sample.mean(axis=0)
    v = float(np.mean(np.sum(centred**2, axis=1)))
    assert theory.gradient_variance(problem, jnp.asarray(x)) == pytest.approx(v, rel=1e-12)
    means = np.cumsum(centred[idx], axis=1) / np.arange(1, n + 1)[None, :, None]
    sq = np.sum(means**2, axis=2)  # (draws, B)
    batches = np.arange(1, n + 1)
    mean, se = sq.mean(axis=0), sq.std(axis=0, ddof=1) / np.sqrt(len(sq))
    formula = theory.minibatch_error(v, batches, n, mode)
    assert np.all(np.abs(mean - formula) <= 3.29 * se + 1e-14), (mean / np.where(formula > 0, formula, 1))
    if mode == "reshuffle":
        assert mean[-1] < 1e-28  # B = n without replacement: the full gradient, no error
    else:
        # With replacement at B = n the error does not vanish, and the two formulas differ by
        # more than the interval there: the test can tell the sampling modes apart.
        without = theory.minibatch_error(v, n, n, "without_replacement")
        assert abs(mean[-1] - without) > 3.29 * se[-1]


def test_one_step_bound_of_gd_with_error_holds_at_every_step():
    problem, c = logistic(), consts()
    batch, steps = 2, 80
    key = jax.random.key(100)
    trace = sb.run(problem, sb.sgd(1.0 / c.L, batch), X0, key, steps=steps, log_every=1, log_iterates=True)
    xs, f = np.asarray(trace.xs), np.asarray(trace.loss)
    idx = sampling.indices("with_replacement", key, problem.n, batch, steps)  # the run's own batches
    A, y = (np.asarray(a) for a in problem.data)
    slack = []
    for k in range(steps):
        g = helpers.np_logistic_grad(A, y, MU, xs[k])
        e = helpers.np_logistic_grad(A, y, MU, xs[k], idx=idx[k]) - g
        np.testing.assert_allclose(xs[k + 1], xs[k] - (g + e) / c.L, rtol=1e-12, atol=1e-13)
        rhs = theory.gd_with_error_step(c, f_k=f[k], grad_sq_k=g @ g, err_sq_k=e @ e)
        slack.append(rhs - f[k + 1])
    assert min(slack) >= -1e-13
    # A single run counts as one seed for sigma^2.
    single = theory.sigma2_along_run(problem, trace)
    assert single.num_seeds == 1 and single.value == pytest.approx(_np_second_moments(problem, xs).max())


def test_constant_step_bound_uses_the_unrolled_recursions_index():
    """The lecture's one-step recursion e_{j+1} <= (1 - 2 alpha mu) e_j + L sigma^2 alpha^2 / 2,
    unrolled from e_0 = Delta_0, stays under our bound at every k, and our bound is tighter than
    the lecture's printed one (exponent k - 1 for x_k) by exactly 1 / (1 - 2 alpha mu) on Delta_0."""
    c = _record()  # L = 4, mu = 0.5
    alpha, delta0, sigma2 = 0.3, 2.0, 3.0
    q = 1 - 2 * alpha * c.mu
    k = np.arange(0, 40)
    ours = theory.sgd_constant_step(k, c, alpha=alpha, delta0=delta0, sigma2=sigma2)
    e = [delta0]
    for _ in k[1:]:
        e.append(q * e[-1] + c.L * sigma2 * alpha**2 / 2)
    assert np.all(np.asarray(e) <= ours * (1 + 1e-12))
    # The first term is attained by the recursion with no noise: exponent k, not k - 1.
    np.testing.assert_allclose(ours - theory.sgd_plateau(c, alpha=alpha, sigma2=sigma2), delta0 * q**k)
    lecture = q ** (k[1:] - 1) * delta0 + theory.sgd_plateau(c, alpha=alpha, sigma2=sigma2)
    assert np.all(ours[1:] < lecture)
