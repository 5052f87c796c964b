"""The narrow/wide landscapes: minima, sharpness, saddle, test shift and basins against
computations written here in NumPy, and SGD with B = n without replacement against GD."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems.landscapes as landscapes
import sgd_bench as sb
from sgd_bench import FiniteSum

LANDSCAPES = {"1d": landscapes.landscape_1d, "2d": landscapes.landscape_2d}


@pytest.fixture(scope="module", params=sorted(LANDSCAPES))
def land(request):
    return LANDSCAPES[request.param]()


# -- NumPy references, from the wells and the shifts ----------------------------------------------
def np_loss_grad(land, x, test=False):
    """f and grad f at the points x (S, d): mean_i G(x - s_i) with G's wells written out."""
    problem = land.test if test else land.problem
    wells = problem.loss_i
    shifts = np.asarray(problem.data, np.float64)
    z = np.atleast_2d(np.asarray(x, np.float64))[:, None, :] - shifts[None]   # (S, n, d)
    f = np.full(z.shape[:2], wells.base)
    g = np.zeros(z.shape)
    for c, w, a in zip(wells.centers, wells.widths, wells.depths):
        u = (z - np.asarray(c)) / np.asarray(w)
        e = a * np.exp(-0.5 * np.sum(u * u, axis=-1))
        f -= e
        g += e[..., None] * u / np.asarray(w)
    return f.mean(1), g.mean(1)


def np_hessian(land, x, h=1e-4):
    """The Hessian of f at x by central differences of the NumPy gradient."""
    d = len(x)
    cols = []
    for j in range(d):
        step = np.zeros(d)
        step[j] = h
        cols.append((np_loss_grad(land, x + step)[1][0] - np_loss_grad(land, x - step)[1][0]) / (2 * h))
    hess = np.array(cols)
    return 0.5 * (hess + hess.T)


# -- minima, sharpness, saddle ----------------------------------------------------------------------
def test_minima_are_located_correctly(land):
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    assert [m.name for m in land.minima] == ["narrow", "wide"]
    centers = land.intended.centers
    for m, c in zip(land.minima, centers):
        # The gradient vanishes there, by JAX and by the NumPy reference.
        np.testing.assert_allclose(np.asarray(land.problem.grad(jnp.asarray(m.x))), 0.0, atol=1e-12)
        np.testing.assert_allclose(np_loss_grad(land, m.x)[1][0], 0.0, atol=1e-12)
        # It is the lowest point of a dense grid around the well's centre, and close to it.
        radius = 2.0 if m.name == "narrow" else 6.0
        axes = [np.linspace(cj - radius, cj + radius, 401 if land.dim == 1 else 121) for cj in c]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, land.dim)
        values = landscapes.numpy_losses(land, grid)
        spacing = 2 * radius / (len(axes[0]) - 1)
        assert np.all(np.abs(grid[np.argmin(values)] - m.x) <= spacing)
        assert values.min() >= m.value - 1e-12
        assert np.linalg.norm(m.x - np.asarray(c)) < 0.2
        np.testing.assert_allclose(m.value, np_loss_grad(land, m.x)[0][0], rtol=1e-13)
    assert narrow.value < wide.value  # on train data the narrow minimum is the deeper one


def test_sharpness_is_the_largest_hessian_eigenvalue(land):
    for m in land.minima:
        eig = np.linalg.eigvalsh(np_hessian(land, m.x))
        np.testing.assert_allclose(m.hessian_eigenvalues, eig, rtol=1e-6)
        assert np.all(eig > 0)
        assert m.sharpness == pytest.approx(eig.max(), rel=1e-6)
        np.testing.assert_allclose(land.sharpness(m.x[None])[0], m.sharpness, rtol=1e-10)
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    assert narrow.sharpness > 9 * wide.sharpness
    info = land.problem.info
    assert info["narrow_sharpness"] == narrow.sharpness and info["wide_sharpness"] == wide.sharpness
    assert info["narrow_f"] == narrow.value and info["wide_test_f"] == wide.test_value


def test_lecture_1d_numbers():
    land = landscapes.landscape_1d()
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    # A narrow well at 0 of width 0.9 and depth 0.45 has curvature ~0.45 / 0.9^2; a wide one
    # at 13 of width 5 and depth 0.4 has ~0.4 / 25.
    assert abs(narrow.x[0]) < 0.05 and abs(wide.x[0] - 13) < 0.01
    assert narrow.sharpness == pytest.approx(0.45 / 0.81, rel=0.05)
    assert wide.sharpness == pytest.approx(0.4 / 25, rel=0.01)
    assert narrow.value == pytest.approx(0.05, abs=0.02) and wide.value == pytest.approx(0.1, abs=0.01)


def test_saddle_separates_the_minima(land):
    saddle = land.saddle
    np.testing.assert_allclose(np_loss_grad(land, saddle)[1][0], 0.0, atol=1e-12)
    eig = np.linalg.eigvalsh(np_hessian(land, saddle))
    assert eig[0] < 0 and np.all(eig[1:] > 0)
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    assert land.saddle_value > max(narrow.value, wide.value)
    # It lies between the minima, and unstable points from the narrow side to the wide one.
    t = (saddle - narrow.x) @ (wide.x - narrow.x) / np.sum((wide.x - narrow.x) ** 2)
    assert 0 < t < 1
    assert land.unstable @ (wide.x - narrow.x) > 0
    if land.dim == 1:  # in 1-D it is the highest point between the two minima
        w = np.linspace(narrow.x[0], wide.x[0], 20001)[:, None]
        values = landscapes.numpy_losses(land, w)
        assert abs(w[np.argmax(values), 0] - saddle[0]) < 2e-3


# -- the finite sum, its intended mean, the test shift, its noise --------------------------------
def test_numpy_and_jax_losses_agree(land):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 15, (50, land.dim))
    train, test = land.losses(x)
    np.testing.assert_allclose(train, np_loss_grad(land, x)[0], rtol=1e-13)
    np.testing.assert_allclose(test, np_loss_grad(land, x, test=True)[0], rtol=1e-13)
    np.testing.assert_allclose(landscapes.numpy_losses(land, x), train, rtol=1e-13)
    grads = np.asarray(jax.jit(jax.vmap(land.problem.grad))(jnp.asarray(x)))
    np.testing.assert_allclose(grads, np_loss_grad(land, x)[1], rtol=1e-10, atol=1e-14)


def test_mean_is_the_intended_landscape(land):
    """f = 1/n sum G(x - s_i) matches F = base - sum of the stated wells up to the measured
    finite-sample error, which is small against the wells' depths."""
    rng = np.random.default_rng(1)
    lo = np.min(np.asarray(land.intended.centers) - 3 * np.asarray(land.intended.widths), axis=0)
    hi = np.max(np.asarray(land.intended.centers) + 3 * np.asarray(land.intended.widths), axis=0)
    x = rng.uniform(lo, hi, (2000, land.dim))
    dev = np.abs(landscapes.numpy_losses(land, x) - landscapes.intended_loss(land, x)).max()
    assert dev <= land.problem.info["max_dev_from_F"] + 1e-12
    assert land.problem.info["max_dev_from_F"] < (0.005 if land.dim == 1 else 0.02)
    shifts = np.asarray(land.problem.data)
    np.testing.assert_allclose(shifts.mean(0), 0.0, atol=1e-14)
    np.testing.assert_allclose(np.cov(shifts.T, bias=True), land.shift_std**2 * np.eye(land.dim), atol=1e-13)


def test_test_loss_is_the_train_loss_shifted(land):
    rng = np.random.default_rng(2)
    x = rng.uniform(-3, 15, (40, land.dim))
    _, test = land.losses(x)
    train_shifted, _ = land.losses(x - land.test_shift[None])
    np.testing.assert_allclose(test, train_shifted, rtol=1e-12)
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    # The lecture's picture: far apart at the narrow minimum, nearly equal at the wide one.
    assert narrow.gap > 10 * wide.gap > 0
    assert narrow.test_value > wide.test_value


def test_sampling_noise_is_real_and_largest_where_sharp(land):
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    for m in (narrow, wide):
        g = np.asarray(land.problem.per_sample_grads(jnp.asarray(m.x)))
        np.testing.assert_allclose(g.mean(0), 0.0, atol=1e-12)  # unbiased: the mean is grad f = 0
    spread = {m.name: np.asarray(land.problem.per_sample_grads(jnp.asarray(m.x))).std(0).max()
              for m in (narrow, wide)}
    assert spread["narrow"] > 10 * spread["wide"] > 0


# -- basins ---------------------------------------------------------------------------------------
def test_basins_follow_the_gradient_flow(land):
    rng = np.random.default_rng(3)
    # 256 points: the shape the experiments classify, so the compiled classifier is shared.
    if land.dim == 1:
        points = np.linspace(-6, 32, 256)[:, None]
    else:
        points = rng.uniform([-5, -9], [16, 9], (256, 2))
    basin = land.basin(points)
    values = landscapes.numpy_losses(land, points)
    np.testing.assert_array_equal(basin == -1, values > land.plateau_level)
    # Gradient flow in NumPy (monotone steps, 0.9 / largest curvature, long) from the points
    # below the plateau.
    below = basin >= 0
    x = points[below].copy()
    step = 0.9 / land.minimum("narrow").sharpness
    for _ in range(1000):
        x -= step * np_loss_grad(land, x)[1]
    centers = np.stack([m.x for m in land.minima])
    nearest = np.argmin(np.linalg.norm(x[:, None] - centers[None], axis=-1), axis=1)
    settled = np.min(np.linalg.norm(x[:, None] - centers[None], axis=-1), axis=1) < 0.5
    assert settled.mean() > 0.9
    np.testing.assert_array_equal(basin[below][settled], nearest[settled])
    if land.dim == 1:  # exactly the side of the saddle
        np.testing.assert_array_equal(basin[below], (points[below, 0] > land.saddle[0]).astype(int))
    assert {0, 1} <= set(basin.tolist())


# -- SGD with B = n drawn without replacement is GD -----------------------------------------------
def test_sgd_full_batch_without_replacement_equals_gd_step_for_step(land):
    problem, alpha = land.problem, 3.0
    x0 = jnp.asarray(land.minimum("narrow").x + 0.7)
    kwargs = dict(steps=60, log_every=1, log_iterates=True)
    gd = sb.run(problem, sb.gd(alpha), x0, 0, **kwargs)
    sgd = sb.run(problem, sb.sgd(alpha, problem.n, "reshuffle"), x0, 5, **kwargs)
    np.testing.assert_allclose(np.asarray(sgd.xs), np.asarray(gd.xs), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sgd.loss), np.asarray(gd.loss), rtol=0, atol=1e-12)
    assert int(np.asarray(sgd.grad_evals)[-1]) == int(np.asarray(gd.grad_evals)[-1]) == 60 * problem.n


def test_sgd_full_batch_step_equals_gd_step_where_gd_bounces():
    """Above 2/h GD does not converge, so rounding differences between the two summation orders
    grow along a run; each single step still agrees to 1e-12."""
    land = landscapes.landscape_1d()
    problem, alpha = land.problem, 8.0
    x0 = jnp.asarray([0.7])
    sgd = sb.run(problem, sb.sgd(alpha, problem.n, "reshuffle"), x0, 1, steps=40, log_every=1,
                 log_iterates=True)
    xs = np.asarray(sgd.xs)
    gd_step = xs[:-1] - alpha * np.asarray(jax.jit(jax.vmap(problem.grad))(jnp.asarray(xs[:-1])))
    np.testing.assert_allclose(xs[1:], gd_step, rtol=0, atol=1e-12)
    assert np.ptp(xs[20:]) > 0.1  # it really bounces


# -- construction ---------------------------------------------------------------------------------
def test_factories_and_errors():
    p1, p2 = landscapes.narrow_wide_1d(), landscapes.narrow_wide_2d()
    assert isinstance(p1, FiniteSum) and p1.x_shape == (1,) and p1.n == 64
    assert isinstance(p2, FiniteSum) and p2.x_shape == (2,) and p2.problem_class == "nonconvex"
    assert p1.info["narrow_x"] == landscapes.landscape_1d().minimum("narrow").x[0]
    assert landscapes.landscape_1d() is landscapes.landscape_1d()  # built once
    with pytest.raises(ValueError, match="shift_std"):
        landscapes.landscape_1d(shift_std=0.95)
    with pytest.raises(ValueError, match="perfect square"):
        landscapes.landscape_2d(n=50)
    with pytest.raises(ValueError, match="test_shift"):
        landscapes.landscape_1d(test_shift=float("nan"))
    with pytest.raises(ValueError, match="known: narrow, wide"):
        landscapes.landscape_1d().minimum("flat")
    small = landscapes.landscape_1d(n=16, shift_std=0.3)
    assert small.problem.n == 16 and small.minimum("narrow").sharpness > 0.4
