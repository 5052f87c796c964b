"""Problems for every row of the rates table: their losses against NumPy formulas written here,
their declared classes, their closed-form constants against brute force, and their references
(Newton, linear programming) against independent checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import sgd_bench as sb
from problems import convex, nonconvex, nonsmooth
from sgd_bench import theory


# -- the lifted x^2 + 3 sin^2 x family (PL, non-convex) ------------------------------------------------
@pytest.fixture(scope="module")
def sin2():
    return nonconvex.sin2_pl(n=40, d=4, seed=3, spread=0.3)


def _np_sin2(C, x):
    """1/n sum_i sum_j (x_j - c_ij)^2 + 3 sin^2(x_j - c_ij) for x of shape (..., d)."""
    u = np.asarray(x)[..., None, :] - C
    return np.mean(np.sum(u * u + 3 * np.sin(u) ** 2, axis=-1), axis=-1)


def test_sin2_loss_and_class(sin2):
    C = np.asarray(sin2.data)
    assert sin2.problem_class == "pl" and sin2.x_shape == (4,)
    x = np.array([0.3, -1.0, 2.0, 0.0])
    assert float(sin2.loss(jnp.asarray(x))) == pytest.approx(_np_sin2(C, x), rel=1e-13)
    # non-convex: the Hessian diag(2 + 6 mean_i cos 2(x_j - c_ij)) is indefinite near pi/2
    eigs = theory.hessian_eigenvalues(sin2, jnp.full(4, np.pi / 2))
    assert eigs.min() < -1.0


def test_sin2_constants_against_brute_force(sin2):
    C = np.asarray(sin2.data)
    info = sin2.info
    # L: the largest second derivative of the coordinate means, on a fine grid.
    t = np.linspace(-4, 4, 200_001)
    h2 = np.stack([np.mean(2 + 6 * np.cos(2 * (t[:, None] - C[None, :, j])), axis=1) for j in range(4)])
    assert info["L"] == pytest.approx(h2.max(), rel=1e-8)
    assert info["L_max"] == 8.0
    # f*: the problem's own Newton reference lands on the same value (it is PL, so any
    # stationary point is a global minimizer).
    ref = sb.reference_solution(sin2)
    assert ref.f == pytest.approx(info["f_star"], rel=1e-13, abs=1e-13)
    # The PL inequality holds at random points, and mu is tight: attained along one coordinate.
    # Random points, and points that move one coordinate only (where the infimum is attained).
    rng = np.random.default_rng(0)
    X = np.concatenate([s * rng.standard_normal((500, 4)) for s in (0.3, 1.0, 3.0)]) + np.asarray(ref.x)
    j = int(np.argmin(nonconvex.sin2_solution(C)["mu_per_coordinate"]))
    offsets = np.linspace(-6, 6, 2401)
    line = np.repeat(np.asarray(ref.x)[None], len(offsets), axis=0)
    line[:, j] += offsets
    pts = np.concatenate([X, line[np.abs(offsets) > 1e-3]])
    g = np.asarray(jax.jit(jax.vmap(sin2.grad))(jnp.asarray(pts)))
    ratio = np.sum(g**2, axis=1) / (2 * (_np_sin2(C, pts) - info["f_star"]))
    assert ratio.min() >= info["mu"] * (1 - 1e-9)
    assert ratio[len(X):].min() == pytest.approx(info["mu"], rel=1e-3)  # tight


def test_sin2_refuses_centres_that_break_pl():
    # Two centres at -1.2 and 1.2: the mean is t^2 + 1.1 cos 2t + const, whose stationary point
    # t = 0 is a local maximum, so the PL inequality fails there.
    with pytest.raises(ValueError, match="not PL"):
        nonconvex.sin2_finite_sum(np.array([[-1.2], [1.2]]))
    with pytest.raises(ValueError, match="spread"):
        nonconvex.sin2_pl(n=2, d=1, seed=0, spread=-1.0)


# -- the sigmoid loss (smooth, non-convex, not PL) ----------------------------------------------------------
def test_sigmoid_loss_matches_numpy_and_its_upper_bound_on_l():
    p = nonconvex.sigmoid_loss(n=50, d=3, seed=1, lam=1e-2)
    A, y = (np.asarray(a) for a in p.data)
    x = np.array([0.5, -2.0, 1.0])
    z = y * (A @ x)
    want = np.mean(helpers.np_sigmoid(-z)) + 0.5e-2 * x @ x
    assert float(p.loss(jnp.asarray(x))) == pytest.approx(want, rel=1e-13)
    s = helpers.np_sigmoid(-z)
    grad = A.T @ (-y * s * (1 - s)) / len(y) + 1e-2 * x
    np.testing.assert_allclose(np.asarray(p.grad(jnp.asarray(x))), grad, rtol=1e-12)
    assert p.problem_class == "nonconvex"
    assert nonconvex.SIGMOID_CURVATURE == pytest.approx(np.abs(np.gradient(np.gradient(
        helpers.np_sigmoid(np.linspace(-6, 6, 200_001)), 6e-5), 6e-5)).max(), rel=1e-4)
    rng = np.random.default_rng(0)
    norms = [theory.hessian_norm(p, jnp.asarray(3 * rng.standard_normal(3)))[0] for _ in range(5)]
    assert max(norms) <= p.info["L_upper"]
    eigs = [theory.hessian_eigenvalues(p, jnp.asarray(3 * rng.standard_normal(3)))[0] for _ in range(5)]
    assert min(eigs) < 0  # non-convex


# -- the two-layer network -----------------------------------------------------------------------------
def test_two_layer_net_forward_pass_and_start():
    p = nonconvex.two_layer_net(n=20, d=3, hidden=4, seed=2, weight_decay=0.0)
    A, y = (np.asarray(a) for a in p.data)
    theta = np.asarray(nonconvex.two_layer_init(p, seed=1))
    assert theta.shape == (4 * 3 + 4,) == p.x_shape
    W, v = theta[:12].reshape(4, 3), theta[12:]
    h = 1e-6
    steps = h * np.eye(theta.size)[:5]
    points = np.concatenate([theta[None], np.zeros((1, theta.size)), theta + steps, theta - steps])
    loss, grad = jax.jit(jax.vmap(p.value_and_grad))(jnp.asarray(points))
    loss, grad = np.asarray(loss), np.asarray(grad)
    want = 0.5 * np.mean((np.tanh(A @ W.T) @ v / 2.0 - y) ** 2)
    assert loss[0] == pytest.approx(want, rel=1e-13)
    # theta = 0 is a stationary point that is not a minimizer: hence the random start
    assert np.allclose(grad[1], 0.0) and loss[1] != loss[0]
    # central differences of the loss agree with the autodiff gradient
    g = grad[0]
    fd = (loss[2:7] - loss[7:12]) / (2 * h)
    np.testing.assert_allclose(g[:5], fd, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="two_layer_net"):
        nonconvex.two_layer_init(helpers.tiny_logistic())


# -- non-smooth: hinge and absolute loss, exact references by LP ----------------------------------------------
@pytest.mark.parametrize("kind", ["hinge", "absolute"])
def test_nonsmooth_losses_and_lp_reference(kind):
    if kind == "hinge":
        p = nonsmooth.synthetic_hinge(n=60, d=3, seed=4)
        A, y = (np.asarray(a) for a in p.data)
        np_loss = lambda x: np.mean(np.maximum(0.0, 1.0 - y * (A @ x)))  # noqa: E731
    else:
        p = nonsmooth.synthetic_absolute(n=60, d=3, seed=4)
        A, b = (np.asarray(a) for a in p.data)
        np_loss = lambda x: np.mean(np.abs(A @ x - b))  # noqa: E731
    assert p.problem_class == "nonsmooth"
    assert p.info["G_max"] == pytest.approx(np.sqrt((A**2).sum(axis=1).max()), rel=1e-12)
    x = np.array([0.2, -0.4, 0.9])
    assert float(p.loss(jnp.asarray(x))) == pytest.approx(np_loss(x), rel=1e-13)
    ref = nonsmooth.lp_reference(p)
    x_star, f_star = ref
    assert f_star == pytest.approx(np_loss(np.asarray(x_star)), rel=1e-12)
    # The dual objective certifies the optimum: f* is exact up to the (tiny) duality gap.
    assert ref.lower <= f_star + 1e-12 and ref.gap < 1e-9
    rng = np.random.default_rng(0)
    for scale in (1e-4, 1e-2, 1.0):
        for _ in range(20):
            assert np_loss(np.asarray(x_star) + scale * rng.standard_normal(3)) >= f_star - 1e-12


def test_autodiff_gives_subgradients_at_the_kinks():
    a, x = jnp.array([1.0, 2.0]), jnp.array([0.5, 0.25])  # <a, x> = 1: the hinge's kink for y = 1
    g = np.asarray(jax.grad(nonsmooth.hinge_loss)(x, (a, 1.0)))
    t = -g[0] / 1.0
    assert 0.0 <= t <= 1.0 and np.allclose(g, -t * np.asarray(a))  # in {-t y a : t in [0, 1]}
    g = np.asarray(jax.grad(nonsmooth.absolute_loss)(x, (a, 1.0)))  # residual 0: the kink of |r|
    t = g[0] / 1.0
    assert -1.0 <= t <= 1.0 and np.allclose(g, t * np.asarray(a))  # in {t a : t in [-1, 1]}


def test_lp_reference_refuses_what_it_cannot_solve():
    with pytest.raises(ValueError, match="unregularized"):
        nonsmooth.lp_reference(nonsmooth.hinge_svm(np.eye(2), np.array([1.0, -1.0]), mu=0.1))
    with pytest.raises(ValueError, match="hinge and absolute"):
        nonsmooth.lp_reference(helpers.tiny_least_squares(mu=0.0))
    with pytest.raises(ValueError, match="labels"):
        nonsmooth.hinge_svm(np.eye(2), np.array([1.0, 0.0]))


# -- convex, not strongly convex ----------------------------------------------------------------------------
def test_rank_deficient_least_squares():
    p = convex.rank_deficient_least_squares(n=60, d=12, rank=8, seed=1, cond=100.0, noise=0.3)
    A, b = (np.asarray(a) for a in p.data)
    assert p.problem_class == "convex" and np.linalg.matrix_rank(A) == 8
    eigs = np.linalg.eigvalsh(A.T @ A / 60)
    np.testing.assert_allclose(eigs[-8:], np.logspace(-2, 0, 8), rtol=1e-10)
    np.testing.assert_allclose(eigs[:4], 0.0, atol=1e-12)
    c = theory.constants(p)
    assert c.mu is None and c.L == pytest.approx(1.0, rel=1e-10)
    # Newton's least-squares steps from 0 reach the minimum-norm minimizer, pinv(A) b.
    x_star = sb.reference_solution(p).x
    np.testing.assert_allclose(x_star, np.linalg.pinv(A) @ b, rtol=1e-8, atol=1e-10)
    # The noise is orthogonal to the range of A, so the residual at x* is all noise (sigma_*^2 > 0).
    r = A @ x_star - b
    assert np.linalg.norm(A.T @ r) < 1e-10 and np.mean(r**2) > 0.01 and c.sigma2_star > 0
    with pytest.raises(ValueError, match="rank"):
        convex.rank_deficient_least_squares(n=10, d=5, rank=6)


def test_nonseparable_logistic_has_a_finite_minimizer():
    p = convex.nonseparable_logistic(n=80, d=3, seed=0, noise=1.0)
    A, y = (np.asarray(a) for a in p.data)
    assert p.problem_class == "convex" and p.regularizer is None
    assert not convex.is_separable(A, y)
    ref = sb.reference_solution(p)
    assert ref.grad_norm <= 1e-10 and np.all(np.isfinite(ref.x))
    w = np.array([1.0, -1.0, 0.5])
    assert convex.is_separable(A, np.where(A @ w >= 0, 1.0, -1.0))
    with pytest.raises(ValueError, match="separable"):
        convex.nonseparable_logistic(n=5, d=3, seed=0, noise=0.0)
