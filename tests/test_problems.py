"""The problem catalog: registry, constants (L, mu) against NumPy, datasets, loss functions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems


def test_registry_names_and_lookup():
    names = problems.names()
    assert names == sorted(names)
    assert {"lecture-logreg", "logreg", "least-squares", "breast-cancer", "digits"} <= set(names)
    assert set(problems.describe()) == set(names)
    assert all(problems.describe()[n] for n in names)
    # underscores, case and spaces are forgiven
    p = problems.get(" Lecture_LogReg ")
    q = helpers.problem("lecture-logreg")
    np.testing.assert_array_equal(np.asarray(p.data[0]), np.asarray(q.data[0]))


def test_register_a_new_problem():
    problems.register("tiny_test_problem", helpers.tiny_least_squares, "for the tests")
    try:
        assert "tiny-test-problem" in problems.names()
        assert problems.get("tiny-test-problem").name == "tiny-least-squares"
        with pytest.raises(TypeError, match="factory"):
            problems.register("bad", "not callable")
    finally:
        from problems import registry

        registry._REGISTRY.pop("tiny-test-problem", None)


def test_logistic_constants_against_numpy(tiny_logistic):
    A, y = (np.asarray(a) for a in tiny_logistic.data)
    n, mu = len(y), helpers.LOGISTIC_MU
    info = tiny_logistic.info
    assert info["mu"] == mu and tiny_logistic.problem_class == "strongly_convex"
    lam_max = np.linalg.eigvalsh(A.T @ A / n).max()
    np.testing.assert_allclose(info["L"], lam_max / 4 + mu, rtol=1e-12)
    # L_max is computed in float32 by the library: compare at float32 precision
    np.testing.assert_allclose(info["L_max"], (A**2).sum(axis=1).max() / 4 + mu, rtol=1e-6)
    # L and mu bound the spectrum of the Hessian A^T diag(s(1-s)) A / n + mu I everywhere
    rng = np.random.default_rng(0)
    for scale in (0.0, 1.0, 10.0):
        x = scale * rng.standard_normal(3)
        s = helpers.np_sigmoid(y * (A @ x))
        eigs = np.linalg.eigvalsh(A.T @ (A * (s * (1 - s))[:, None]) / n + mu * np.eye(3))
        assert mu - 1e-12 <= eigs.min() and eigs.max() <= info["L"] + 1e-12


def test_least_squares_constants_against_numpy(tiny_least_squares):
    A = np.asarray(tiny_least_squares.data[0])
    eigs = np.linalg.eigvalsh(A.T @ A / A.shape[0])
    info = tiny_least_squares.info
    np.testing.assert_allclose(info["L"], eigs.max() + helpers.LS_MU, rtol=1e-12)
    np.testing.assert_allclose(info["mu"], eigs.min() + helpers.LS_MU, rtol=1e-12)
    np.testing.assert_allclose(info["L_max"], (A**2).sum(axis=1).max() + helpers.LS_MU, rtol=1e-6)


def test_least_squares_class_follows_the_spectrum():
    A, b = helpers.regression_data(n=5, d=8)  # rank 5 < d: not strongly convex without mu
    assert problems.least_squares(A, b).problem_class == "convex"
    assert problems.least_squares(A, b, 0.1).problem_class == "strongly_convex"
    assert problems.least_squares(A, b, 0.1).info["mu"] == pytest.approx(0.1, rel=1e-8)
    assert helpers.problem("least-squares").problem_class == "strongly_convex"  # n > d, mu = 0
    A, y = helpers.logistic_data()
    assert problems.logistic_regression(A, y).problem_class == "convex"


def test_lecture_logreg():
    p = helpers.problem("lecture-logreg")
    assert p.name == "lecture-logreg"
    assert p.n == 200 and p.x_shape == (10,)
    assert p.info["mu"] == 1.0 and p.problem_class == "strongly_convex"
    A, y = (np.asarray(a) for a in p.data)
    assert set(np.unique(y)) == {-1.0, 1.0}
    np.testing.assert_allclose(p.info["L"], np.linalg.eigvalsh(A.T @ A / 200).max() / 4 + 1.0,
                               rtol=1e-12)
    # deterministic in the seed
    q = problems.lecture_logreg(seed=0)
    np.testing.assert_array_equal(np.asarray(q.data[0]), A)


def test_synthetic_dtype_and_seed():
    p32 = problems.synthetic_least_squares(20, 3, seed=1, dtype=jnp.float32)
    assert p32.dtype == jnp.float32 and p32.data[0].dtype == jnp.float32
    a = problems.synthetic_logreg(200, 10, seed=1)  # the lecture's shape: no new compiles
    b = problems.synthetic_logreg(200, 10, seed=2)
    assert a.dtype == jnp.float64
    assert not np.array_equal(np.asarray(a.data[0]), np.asarray(b.data[0]))
    assert set(np.unique(np.asarray(a.data[1]))) <= {-1.0, 1.0}


@pytest.mark.parametrize("name, shape, positive", [
    ("breast-cancer", (569, 30), lambda t: t == 1),   # +1 benign
    ("digits", (1797, 64), lambda t: t >= 5),
])
def test_datasets(name, shape, positive):
    datasets = pytest.importorskip("sklearn.datasets")
    p = problems.get(name)
    A, y = (np.asarray(a) for a in p.data)
    assert A.shape == shape and y.shape == shape[:1]
    raw = datasets.load_breast_cancer() if name == "breast-cancer" else datasets.load_digits()
    np.testing.assert_array_equal(y, np.where(positive(raw.target), 1.0, -1.0))
    np.testing.assert_allclose(A.mean(axis=0), 0.0, atol=1e-12)
    std = A.std(axis=0)
    constant = raw.data.std(axis=0) == 0
    np.testing.assert_allclose(std[~constant], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(A[:, constant], 0.0)
    assert p.problem_class == "convex"  # mu = 0 by default


def test_softplus_is_stable_with_sigmoid_derivative():
    t = np.array([-800.0, -40.0, -3.0, -1e-3, 0.0, 2.5, 40.0, 800.0])
    np.testing.assert_allclose(np.asarray(problems.softplus(jnp.asarray(t))), np.logaddexp(0.0, t),
                               rtol=1e-15)
    d = jax.jit(jax.vmap(jax.grad(problems.softplus)))(jnp.asarray(t))
    np.testing.assert_allclose(np.asarray(d), helpers.np_sigmoid(t), rtol=1e-15, atol=1e-300)
    assert np.all(np.isfinite(np.asarray(d)))


def test_per_sample_losses():
    a, x = jnp.array([1.0, -2.0]), jnp.array([0.5, 0.25])
    assert float(problems.logistic_loss(x, (a, -1.0))) == pytest.approx(np.log1p(np.exp(0.0)))
    assert float(problems.logistic_loss(x, (a, 1.0))) == pytest.approx(np.log(2.0))
    a, x = jnp.array([1.0, 2.0]), jnp.array([0.5, 0.25])
    assert float(problems.logistic_loss(x, (a, 1.0))) == pytest.approx(np.log1p(np.exp(-1.0)))
    assert float(problems.squared_loss(x, (a, 3.0))) == pytest.approx(0.5 * (1.0 - 3.0) ** 2)
