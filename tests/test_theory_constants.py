"""Constants of a problem: L, L_i, L_max, mu against NumPy eigendecompositions written here, power
iteration against the dense path, sigma_*^2 and gradient variances against per-sample NumPy
gradients, local constants for a problem without closed forms, and which constants each class has.
(sigma^2 along a run is tested with the runs in test_theory_bounds.py.)"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import sgd_bench as sb
from problems import nonconvex, nonsmooth
from sgd_bench import theory


def _np_per_sample_logistic(problem, x):
    A, y = (np.asarray(a) for a in problem.data)
    mu = problem.regularizer.mu
    return np.stack([helpers.np_logistic_grad(A, y, mu, x, idx=[i]) for i in range(len(y))])


def test_logistic_constants_are_the_tight_closed_forms(tiny_logistic):
    c = theory.constants(tiny_logistic)
    A, y = (np.asarray(a) for a in tiny_logistic.data)
    n, mu = len(y), helpers.LOGISTIC_MU
    assert c.problem_class == "strongly_convex" and c.n == n
    # The logistic Hessian A^T diag(s(1-s)) A / n + mu I is largest at x = 0, where s(1-s) = 1/4.
    np.testing.assert_allclose(c.L, np.linalg.eigvalsh(A.T @ A / n).max() / 4 + mu, rtol=1e-12)
    np.testing.assert_allclose(c.L_max, (A**2).sum(axis=1).max() / 4 + mu, rtol=1e-6)
    assert c.mu == mu and c.kappa == pytest.approx(c.L / mu)
    assert c.sources["L"] == "closed form (problem.info)"
    # The record's L is attained: the Hessian norm at 0 equals it (dense and by power iteration).
    dense, how = theory.hessian_norm(tiny_logistic, jnp.zeros(3))
    assert how.startswith("eigendecomposition") and dense == pytest.approx(c.L, rel=1e-12)
    power, how = theory.hessian_norm(tiny_logistic, jnp.zeros(3), dense_max_dim=0)
    assert how.startswith("power iteration") and power == pytest.approx(c.L, rel=1e-6)
    L_i = theory.per_sample_smoothness(tiny_logistic)
    np.testing.assert_allclose(L_i, (A**2).sum(axis=1) / 4 + mu, rtol=1e-12)
    assert L_i.max() == pytest.approx(c.L_max, rel=1e-6)


def test_least_squares_mu_is_the_smallest_eigenvalue(tiny_least_squares):
    c = theory.constants(tiny_least_squares)
    A = np.asarray(tiny_least_squares.data[0])
    eigs = np.linalg.eigvalsh(A.T @ A / A.shape[0]) + helpers.LS_MU
    assert c.mu == pytest.approx(eigs[0], rel=1e-12) and c.L == pytest.approx(eigs[-1], rel=1e-12)
    # A quadratic: the Hessian is the same everywhere.
    np.testing.assert_allclose(theory.hessian_eigenvalues(tiny_least_squares, jnp.ones(3)), eigs, rtol=1e-10)


def test_sigma2_star_and_gradient_moments_against_numpy(tiny_logistic):
    c = theory.constants(tiny_logistic)
    x_star = sb.reference_solution(tiny_logistic).x
    G = _np_per_sample_logistic(tiny_logistic, np.asarray(x_star))
    assert c.sigma2_star == pytest.approx(np.mean(np.sum(G**2, axis=1)), rel=1e-10)
    x = np.array([0.7, -1.2, 2.0])
    G = _np_per_sample_logistic(tiny_logistic, x)
    g = G.mean(axis=0)
    second = np.mean(np.sum(G**2, axis=1))
    assert theory.second_moment(tiny_logistic, jnp.asarray(x)) == pytest.approx(second, rel=1e-12)
    assert theory.gradient_variance(tiny_logistic, jnp.asarray(x)) == pytest.approx(
        np.mean(np.sum((G - g) ** 2, axis=1)), rel=1e-12)
    # Many points at once (two batch axes), and streaming over row blocks gives the same numbers.
    xs = jnp.asarray(np.stack([[x, -x], [2 * x, 0 * x]]))
    got = theory.second_moments(tiny_logistic, xs, leading=2)
    assert got.shape == (2, 2) and got[0, 0] == pytest.approx(second, rel=1e-12)
    blocked = tiny_logistic.replace(block_rows=4)  # 13 rows: three blocks and a tail
    np.testing.assert_allclose(theory.gradient_variances(blocked, xs, leading=2),
                               theory.gradient_variances(tiny_logistic, xs, leading=2), rtol=1e-12)


def test_local_constants_for_a_problem_without_closed_forms(custom_problem):
    x0 = {"w": jnp.zeros(helpers.D), "c": jnp.zeros(())}
    ref = sb.reference_solution(custom_problem, x0)
    c = theory.constants(custom_problem, reference=ref, points=[x0, ref.x])
    assert c.sources["L"].startswith("local: max over 2 point(s)")
    assert c.sources["mu"].startswith("L2 regularizer")  # strongly convex by its ridge
    assert c.mu == helpers.HUBER_MU
    # The pseudo-Huber curvature 1/(1 + r^2)^(3/2) is largest where residuals vanish, so L is
    # at least the local value at every point and at most the bound ||[A 1]||^2 / n + mu.
    A = np.asarray(custom_problem.data["a"])
    A1 = np.hstack([A, np.ones((len(A), 1))])
    assert c.L <= np.linalg.eigvalsh(A1.T @ A1 / len(A)).max() + helpers.HUBER_MU + 1e-12
    for x in (x0, ref.x):
        assert c.L >= theory.hessian_norm(custom_problem, x)[0] - 1e-12
    assert c.L_max >= c.L - 1e-12  # max_i L_i >= L for any finite sum
    assert c.sigma2_star > 0 and c.f_star == ref.f


def test_constants_follow_the_problem_class():
    sigmoid = nonconvex.sigmoid_loss(n=30, d=3)
    c = theory.constants(sigmoid)
    assert c.mu is None and "declares no PL" in c.sources["mu"]
    assert c.f_star is None and c.sigma2_star is None and "reference=" in c.sources["f_star"]
    assert "upper bound" in c.sources["L"]
    hinge = nonsmooth.synthetic_hinge(n=30, d=3)
    c = theory.constants(hinge, reference=nonsmooth.lp_reference(hinge))
    assert c.L is None and c.L_max is None and "not smooth" in c.sources["L"]
    assert c.f_star is not None and c.sigma2_star > 0
    assert set(c.as_dict()) >= {"L", "L_max", "mu", "sigma2_star", "f_star", "sources"}
    with pytest.raises(TypeError, match="FiniteSum"):
        theory.constants("logreg")


def test_power_iteration_warns_when_it_runs_out():
    problem = helpers.tiny_logistic()
    with pytest.warns(RuntimeWarning, match="power iteration"):
        theory.hessian_norm(problem, jnp.zeros(3), dense_max_dim=0, max_iter=2, tol=1e-14)
