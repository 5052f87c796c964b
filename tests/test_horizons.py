"""Rates across horizons (sgd_bench.horizons) and the problems with a spread spectrum
(problems.spectral) that scripts/two_phase.py runs on.

- ``final_gaps`` / ``run_horizons`` against a NumPy loop written here (the run's own index
  stream, averaged SGD on least squares and the two-phase method on logistic regression with the
  rank-one Hessian by hand), with exact gradient counts;
- one compilation per method for every horizon and every horizon-dependent parameter (JAX's
  compile events, never a timing);
- the closed-form x* and f* of both problems (the gradient vanishes there, written in NumPy,
  and least squares agrees with ``numpy.linalg.lstsq``);
- the script's slope checks fail on gap series with the wrong slope;
- divergence is the runner's rule on f(x_0) and f(x_K) (a trace logged at 0 and K agrees), and a
  finite final loss above 10^6 x the start is diverged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import sgd_bench as sb
from problems import spectral
from sgd_bench import sampling
from sgd_bench_harness import cli
from sgd_bench import horizons as hz
from sgd_bench.averaging import averaged
from sgd_bench.two_phase import online_newton

KEY = jax.random.key(11)
HORIZONS = [5, 9, 20]  # 20 > CHUNK: a full block and a partial one
CHUNK = 8
SEEDS = 3


@pytest.fixture(scope="module")
def ls():
    return spectral.spectral_least_squares(n=24, d=5, power=2.0, decay=0.5, noise=0.1, seed=3)


@pytest.fixture(scope="module")
def logistic():
    return spectral.geometric_logistic(n=24, d=4, ratio=0.5, seed=2)


def np_averaged_sgd(A, b, x0, idx, gamma):
    """Averaged constant-step SGD on 1/2 (a_i x - b_i)^2: the mean of x_0..x_K."""
    x = x0.copy()
    total = x0.copy()
    for rows in idx:
        a = A[rows[0]]
        x = x - gamma * a * (a @ x - b[rows[0]])
        total += x
    return total / (len(idx) + 1)


def np_two_phase(A, y, x0, idx, gamma, phase1):
    """Averaged SGD for ``phase1`` steps, then averaged SGD on the quadratic model around that
    average (restarted there): l'(z) = -y sigma(-y z), l''(z) = sigma(z) sigma(-z)."""
    x, avg, count = x0.copy(), x0.copy(), 1
    support = None
    for k, rows in enumerate(idx):
        a, t = A[rows[0]], y[rows[0]]
        if k == phase1:
            x, support, count = avg.copy(), avg.copy(), 1
        if k < phase1:
            g = -t * helpers.np_sigmoid(-t * (a @ x)) * a
        else:
            z = a @ support
            g = (-t * helpers.np_sigmoid(-t * z)
                 + helpers.np_sigmoid(z) * helpers.np_sigmoid(-z) * (a @ (x - support))) * a
        x = x - gamma * g
        count += 1
        avg = avg + (x - avg) / count
    return avg


def test_run_horizons_matches_a_numpy_loop(ls, logistic):
    A, b = (np.asarray(a) for a in ls.data)
    w = spectral.spectral_least_squares_solution(5, decay=0.5)
    f_ls = helpers.np_ls_loss(A, b, 0.0, w)
    gamma = 0.25 / ls.info["L_max"]
    x0 = np.zeros(5)
    runs = hz.run_horizons(ls, lambda k: averaged(sb.sgd(gamma)), jnp.asarray(x0), KEY,
                           horizons=HORIZONS, seeds=SEEDS, f_star=f_ls, chunk=CHUNK)

    Al, yl = (np.asarray(a) for a in logistic.data)
    f_lg = spectral.geometric_logistic_f_star()
    gamma_l = 0.25 / logistic.info["L_max"]
    x0_l = np.array([0.0, 2.0, -1.0, 3.0])
    runs_l = hz.run_horizons(logistic, lambda k: online_newton(phase1_steps=k // 2), jnp.asarray(x0_l),
                             KEY, horizons=HORIZONS, seeds=SEEDS, f_star=f_lg, chunk=CHUNK)
    for h, k in enumerate(HORIZONS):
        keys = hz.horizon_keys(KEY, k, SEEDS)
        for s in range(SEEDS):
            # A with-replacement draw at step j does not depend on the run's length (test_methods
            # checks it): one stream of the longest length, cut at k, costs one compile per n.
            idx = sampling.indices("with_replacement", keys[s], ls.n, 1, HORIZONS[-1])[:k]
            want = helpers.np_ls_loss(A, b, 0.0, np_averaged_sgd(A, b, x0, idx, gamma)) - f_ls
            np.testing.assert_allclose(runs.gaps[s, h], want, rtol=1e-9)
            idx = sampling.indices("with_replacement", keys[s], logistic.n, 1, HORIZONS[-1])[:k]
            x = np_two_phase(Al, yl, x0_l, idx, gamma_l, k // 2)
            want = helpers.np_logistic_loss(Al, yl, 0.0, x) - f_lg
            np.testing.assert_allclose(runs_l.gaps[s, h], want, rtol=1e-9)
    assert runs.gaps.shape == (SEEDS, len(HORIZONS)) and not runs.diverged.any()
    # batch 1: one gradient a step, the Newton steps counting theirs at x~
    for r in (runs, runs_l):
        np.testing.assert_array_equal(r.grad_evals, np.tile(HORIZONS, (SEEDS, 1)))
    assert [m.hyperparams["phase1_steps"] for m in runs_l.methods] == [k // 2 for k in HORIZONS]
    # horizons draw independent streams: the same seed index differs between two horizons
    assert not np.array_equal(hz.horizon_keys(KEY, 5, 1), hz.horizon_keys(KEY, 9, 1))


def test_one_compilation_per_method_across_horizons():
    # Shapes of their own (n = 27, d = 3), so no other test has compiled this program.
    problem = spectral.geometric_logistic(n=27, d=3, ratio=0.5, seed=4)
    f_star = spectral.geometric_logistic_f_star()
    x0 = jnp.array([0.0, 1.0, 1.0])
    l_max = problem.info["L_max"]
    # Both with a parameter that changes with the horizon: the phase length, the step.
    makers = {"two-phase": lambda k: online_newton(phase1_steps=max(1, k // 2)),
              "averaged": lambda k: averaged(sb.sgd(0.5 / (l_max * np.log(k))))}
    for label, method_at in makers.items():
        with helpers.count_compiles() as compiled:
            runs = hz.run_horizons(problem, method_at, x0, KEY, horizons=[3, 8, 30], seeds=2,
                                   f_star=f_star, chunk=CHUNK)
        assert np.all(np.isfinite(runs.gaps)), label
        assert [n for n in compiled if "final_losses" in n] == ["jit(_final_losses)"], (label, compiled)


def test_spectral_least_squares_minimizer_is_exact():
    problem = spectral.spectral_least_squares(n=60, d=8, power=2.0, decay=0.5, noise=0.2, seed=1)
    A, b = (np.asarray(a) for a in problem.data)
    w = spectral.spectral_least_squares_solution(8, decay=0.5)
    np.testing.assert_allclose(w, 1.0 / np.sqrt(np.arange(1, 9)))
    np.testing.assert_allclose(np.linalg.lstsq(A, b, rcond=None)[0], w, rtol=1e-12)
    assert np.linalg.norm(helpers.np_ls_grad(A, b, 0.0, w)) < 1e-14
    np.testing.assert_allclose(helpers.np_ls_loss(A, b, 0.0, w), 0.2**2 / 2, rtol=1e-12)
    np.testing.assert_allclose(float(problem.loss(jnp.asarray(w))), 0.2**2 / 2, rtol=1e-12)
    # rows D z with Rademacher z: ||a_i||^2 = sum i^-2 for every row, the covariance's diagonal i^-2
    np.testing.assert_allclose(np.sum(A**2, axis=1), np.sum(np.arange(1, 9.0) ** -2), rtol=1e-12)
    np.testing.assert_allclose(np.mean(A**2, axis=0), np.arange(1, 9.0) ** -2, rtol=1e-12)


def test_geometric_logistic_minimizer_is_exact():
    problem = spectral.geometric_logistic(n=30, d=5, ratio=0.5, seed=0)
    A, y = (np.asarray(a) for a in problem.data)
    x = spectral.geometric_logistic_solution(5)
    f_star = spectral.geometric_logistic_f_star()
    np.testing.assert_allclose(f_star, np.log(3) - 2 / 3 * np.log(2), rtol=1e-15)
    assert np.linalg.norm(helpers.np_logistic_grad(A, y, 0.0, x)) < 1e-14
    np.testing.assert_allclose(helpers.np_logistic_loss(A, y, 0.0, x), f_star, rtol=1e-13)
    np.testing.assert_allclose(float(problem.loss(jnp.asarray(x))), f_star, rtol=1e-13)
    # and nearby points are worse (a minimum, not a saddle: the loss is convex)
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert helpers.np_logistic_loss(A, y, 0.0, x + 1e-3 * rng.standard_normal(5)) > f_star
    # features of scales ratio^j: the Hessian at x*, (2/9) A^T A / n, spreads over decades
    eig = np.linalg.eigvalsh(2 / 9 * A.T @ A / len(y))
    assert eig[-1] / eig[0] > 10
    with pytest.raises(ValueError, match="multiple of 3"):
        spectral.geometric_logistic(n=31, d=5)


def _fits(slopes, seed=0):
    """Fits of synthetic gap series with the given slopes over K = 1e3..1e5 (32 seeds, 5%
    lognormal noise), as the script's ``slope_checks`` receives them."""
    script = cli.load("two_phase")
    rng = np.random.default_rng(seed)
    ks = hz.log_horizons(1_000, 100_000, 2)
    fits = {}
    for label, slope in zip(script.METHODS, slopes):
        gaps = ks[None, :] ** float(slope) * np.exp(0.05 * rng.standard_normal((32, len(ks))))
        fits[label] = hz.fit_horizons(ks, gaps)
    return script, fits


def test_slope_checks_pass_on_the_right_rates_and_fail_on_wrong_ones():
    script, good = _fits([-1.0, -1.0, -0.5, -0.3])
    checks = script.slope_checks("p", good, tol=0.05, least_squares=True)
    assert [c["holds"] for c in checks] == [True, True, True, True]
    np.testing.assert_allclose(checks[0]["measured"]["slope"], -1.0, atol=0.02)
    # a two-phase method at -1/2, and a 1/sqrt(k) SGD at -1: every slope check fails
    _, bad = _fits([-0.5, -0.5, -1.0, -0.3])
    checks = script.slope_checks("p", bad, tol=0.05, least_squares=True)
    assert [c["holds"] for c in checks] == [False, False, False, False]
    # just outside the band on either side
    for slope in (-1.1, -0.9):
        _, off = _fits([slope, slope, -0.5, -0.3])
        assert [c["holds"] for c in script.slope_checks("p", off, tol=0.05, least_squares=False)] == \
            [False, True, True]


def test_log_horizons_and_fit_recover_a_known_power():
    ks = hz.log_horizons(1_000, 1_000_000, 2)
    assert ks.tolist() == [1000, 3162, 10000, 31623, 100000, 316228, 1000000]
    rng = np.random.default_rng(1)
    gaps = 3.0 * ks[None, :] ** -0.75 * (1 + 0.1 * rng.standard_normal((64, len(ks))))
    fit = hz.fit_horizons(ks, gaps)
    assert fit.lo <= 0.75 <= fit.hi and fit.hi - fit.lo < 0.05
    gaps[0, 2] = np.nan  # a diverged seed is left out, not averaged in
    assert hz.fit_horizons(ks, gaps).num_seeds == 63
    with pytest.raises(ValueError, match="shape"):
        hz.fit_horizons(ks, gaps[:, :3])


def test_divergence_is_the_runners_rule_on_the_start_and_the_final_loss(ls):
    """A horizon run is diverged exactly when the runner's trace logged at steps 0 and K says so
    (``flags.above_start``: not finite, or above 10^6 max(|f(x_0)|, 1)); a diverged seed's gap is
    NaN and left out of the fit, while a run that rose (above 10x its start) but stayed below that
    keeps its gap. Before, only a non-finite final loss counted: a loss of 10^9 x the start was a
    gap the fit averaged in."""
    x0 = jnp.zeros(5)
    top = float(np.linalg.eigvalsh(np.asarray(jax.hessian(ls.loss)(x0)))[-1])
    method = sb.gd(4.0 / top)  # |1 - alpha lambda_max| = 3: the loss grows ~9x a step, finite
    f_star = float(ls.loss(jnp.asarray(spectral.spectral_least_squares_solution(5, decay=0.5))))
    keys = hz.horizon_keys(KEY, 1, 2)
    seen = set()
    for k in (1, 2, 3, 5, 8, 12, 20):
        gaps, diverged, _ = hz.final_gaps(ls, method, x0, keys, k, f_star)
        trace = sb.run(ls, method, x0, keys[0], steps=k, log_every=k)
        assert np.asarray(trace.step).tolist() == [0, k]
        assert diverged.tolist() == [bool(trace.diverged)] * 2, k
        final = float(np.asarray(trace.loss)[-1])
        assert np.isfinite(final)  # every case here is finite: only the rule can tell them apart
        if bool(trace.diverged):
            assert np.all(np.isnan(gaps)), k
        else:
            np.testing.assert_allclose(gaps, final - f_star, rtol=1e-9)
        seen.add((bool(trace.rose), bool(trace.diverged)))
    # both cases were met: rose but kept, diverged while finite
    assert {(True, False), (True, True)} <= seen, seen
    runs = hz.run_horizons(ls, lambda k: method, x0, KEY, horizons=[1, 20], seeds=3, f_star=f_star)
    assert runs.diverged[:, 1].all() and not runs.diverged[:, 0].any()
    assert np.isnan(runs.gaps[:, 1]).all()


def test_judge_final_follows_the_start():
    """The limit is 10^6 max(|f(x_0)|, 1): the same final loss is diverged from a small start and
    not from a large one; a non-finite start or end is diverged."""
    final = np.array([5e5, 5e6, 5e6, np.inf, 1.0])
    start = np.array([0.5, 0.5, 100.0, 1.0, np.nan])
    gaps, diverged = hz.judge_final(final, start, f_star=0.25)
    assert diverged.tolist() == [False, True, False, True, True]
    np.testing.assert_array_equal(gaps[~diverged], final[~diverged] - 0.25)
    assert np.isnan(gaps[diverged]).all()
