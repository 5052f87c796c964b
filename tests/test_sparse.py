"""Sparse rows (problems.sparse, problems.sparse_data): the sparse problems against the dense
ones built from the same matrix (loss, gradients, per-sample gradients, constants, SGD and SAGA
iterates), a file written by scikit-learn read back sparse, the synthetic generator's
statistics, and clear errors for bad input. Small data, float64 (the conftest turns on x64)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

import problems
import sgd_bench as sb
from problems import sparse, sparse_data
from sgd_bench import variance_reduction as vr

N, D = 23, 9


def sparse_X(n=N, d=D, density=0.3, seed=0):
    """A random CSR matrix without empty rows (one entry added where a row came out empty)."""
    X = sp.random(n, d, density=density, format="lil", random_state=seed,
                  data_rvs=np.random.default_rng(seed).standard_normal)
    for i in range(n):
        if not X.rows[i]:
            X[i, (3 * i) % d] = 0.5 + 0.1 * i
    return X.tocsr()


def labels(n=N, seed=0):
    y = np.where(np.random.default_rng(seed + 1).random(n) < 0.5, -1.0, 1.0)
    y[:2] = (1.0, -1.0)
    return y


DENSE = {"logistic": problems.logistic_regression, "least_squares": problems.least_squares,
         "hinge": problems.hinge_svm}


@pytest.fixture(scope="module")
def pairs():
    X = sparse_X()
    t = labels()
    t_ls = np.random.default_rng(5).standard_normal(N)
    out = {}
    for loss, dense in DENSE.items():
        target = t_ls if loss == "least_squares" else t
        out[loss] = (sparse.sparse_linear(X, target, 0.1, loss=loss), dense(X.toarray(), target, 0.1))
    return out


@jax.jit
def _quantities(problem, x, idx):
    return (problem.loss(x), problem.grad(x), problem.per_sample_losses(x),
            problem.per_sample_grads(x), problem.batch_grad(x, idx), problem.hvp(x, x))


@pytest.mark.parametrize("loss", sorted(DENSE))
def test_sparse_equals_dense(pairs, loss):
    sparse_p, dense_p = pairs[loss]
    assert sparse.is_sparse(sparse_p) and not sparse.is_sparse(dense_p)
    assert sparse_p.problem_class == dense_p.problem_class and sparse_p.x_shape == (D,)
    x = jnp.asarray(np.random.default_rng(3).standard_normal(D))
    idx = jnp.array([4, 0, 4, 17, 22], jnp.int32)
    for got, want in zip(_quantities(sparse_p, x, idx), _quantities(dense_p, x, idx)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-14)
    for key, value in dense_p.info.items():  # L, L_max, mu; G_max for the hinge
        np.testing.assert_allclose(sparse_p.info[key], value, rtol=1e-12)
    np.testing.assert_array_equal(sparse.csr_of(sparse_p).toarray(), sparse_X().toarray())


def test_lanczos_constant_beyond_the_dense_eigen_limit():
    """d = 300 > 256: L from sparse matvecs (Lanczos) against NumPy's dense eigenvalues."""
    X = sparse_X(40, 300, density=0.05, seed=2)
    p = sparse.sparse_logistic_regression(X, labels(40), 0.0)
    A = X.toarray()
    np.testing.assert_allclose(p.info["L"], np.linalg.eigvalsh(A.T @ A / 40)[-1] / 4, rtol=1e-10)
    np.testing.assert_allclose(p.info["L_max"], np.max(np.sum(A * A, axis=1)) / 4, rtol=1e-14)


def _runs(problem, method, steps):
    return sb.run(problem, method, jnp.zeros(D), jax.random.key(3), steps=steps, log_every=steps)


@pytest.mark.parametrize("method", [
    sb.sgd(0.3, batch_size=1), sb.sgd(0.3, batch_size=4, sampling="reshuffle"),
    vr.saga(0.2, batch_size=3, linear=True)],
    ids=["sgd-1", "sgd-4-reshuffle", "saga-linear-3"])
def test_methods_on_sparse_rows_equal_the_dense_run(pairs, method):
    sparse_p, dense_p = pairs["logistic"]
    got, want = _runs(sparse_p, method, 60), _runs(dense_p, method, 60)
    assert float(jnp.linalg.norm(want.x)) > 0.1  # the run moved
    np.testing.assert_allclose(np.asarray(got.x), np.asarray(want.x), rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(np.asarray(got.grad_evals), np.asarray(want.grad_evals))


def test_svmlight_file_round_trip(tmp_path):
    datasets = pytest.importorskip("sklearn.datasets")
    X = sparse_X(60, 400, density=0.02, seed=4)  # 2% full: read as sparse rows by default
    X.data = np.round(X.data * 16) / 16 + 1 / 32  # exact in decimal, never 0: exact round trip
    y = labels(60)
    path = tmp_path / "tiny.svm"
    datasets.dump_svmlight_file(X, np.where(y > 0, 1, 0), str(path), zero_based=False)
    p = problems.libsvm_logreg(path, mu=0.01, n_features=400, dtype=jnp.float64)
    assert sparse.is_sparse(p) and p.name == "tiny" and p.n == 60 and p.x_shape == (400,)
    want = sparse.sparse_logistic_regression(X, y, 0.01)
    # Same rows, same slots, same values.
    for got_leaf, want_leaf in zip(jax.tree_util.tree_leaves(p.data),
                                   jax.tree_util.tree_leaves(want.data)):
        np.testing.assert_array_equal(np.asarray(got_leaf), np.asarray(want_leaf))
    assert p.info == want.info
    x = jnp.asarray(np.random.default_rng(8).standard_normal(400) * 0.1)
    A = X.toarray()
    f = np.mean(np.log1p(np.exp(-y * (A @ np.asarray(x))))) + 0.005 * float(x @ x)
    np.testing.assert_allclose(float(p.loss(x)), f, rtol=1e-12)


def test_generator_statistics_and_determinism():
    X, y = sparse_data.sparse_classification(3000, 2000, 12.0, seed=1)
    X2, y2 = sparse_data.sparse_classification(3000, 2000, 12.0, seed=1)
    assert (X != X2).nnz == 0 and np.array_equal(y, y2)
    assert X.shape == (3000, 2000) and set(np.unique(y)) == {-1.0, 1.0}
    lengths = X.getnnz(axis=1)
    assert lengths.min() >= 1 and lengths.max() <= 48  # no empty row; capped at 4 x mean
    # Row lengths: mean 12 less what the cap trims (< 1%); standard error ~0.15 (sd ~8.5).
    assert abs(lengths.mean() - 12.0) < 0.6, lengths.mean()
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)).A.ravel(), 1.0, rtol=1e-12)
    assert abs(np.mean(y)) < 0.1  # balanced classes (median-centered margins)
    # Power law: sorted column counts fall as rank^-alpha; fitted on ranks 10..300 (well
    # sampled, below the saturation of the top few columns).
    counts = np.sort(X.getnnz(axis=0))[::-1]
    ranks = np.arange(10, 300)
    slope = np.polyfit(np.log(ranks + 1), np.log(counts[ranks]), 1)[0]
    assert -1.4 < slope < -0.8, slope
    assert sparse_data.sparse_classification(3000, 2000, 12.0, seed=2)[0].nnz != X.nnz


def test_registry_and_presets():
    p = problems.get("sparse-logreg", n=300, d=500, density=0.02, mu=0.1)
    assert sparse.is_sparse(p) and p.n == 300 and p.x_shape == (500,)
    assert p.info["L_max"] == pytest.approx(0.25 + 0.1, rel=1e-12)  # unit-norm rows
    stats = sparse_data.PRESETS["rcv1"]
    assert (stats.n, stats.d) == (20_242, 47_236)
    q = problems.get("sparse-preset", preset="news20", scale=0.002, constants=False)
    assert q.n == 40 and q.x_shape == (2710,)
    with pytest.raises(ValueError, match="unknown sparse preset 'mnist'; known presets: rcv1"):
        sparse_data.preset_data("mnist")
    with pytest.raises(ValueError, match="density or row_nnz, not both"):
        sparse_data.sparse_logreg(n=10, d=10, density=0.1, row_nnz=2)


def _bad_index_matrix():
    # scipy does not check indices against the shape when given the CSR arrays.
    return sp.csr_matrix((np.ones(3), np.array([0, 1, 9]), np.array([0, 1, 3])), shape=(2, 4))


@pytest.mark.parametrize("X, y, kwargs, message", [
    (sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])), np.array([1.0, -1.0, 1.0]), {},
     r"X has 1 empty row\(s\) \(rows 1\).*drop them first"),
    (sp.csr_matrix(np.array([[1.0, np.nan], [1.0, 2.0]])), np.array([1.0, -1.0]), {},
     r"X contains 1 NaN or Inf value\(s\)"),
    (sp.csr_matrix(np.eye(3)), np.array([0.0, 1.0, 2.0]), {},
     r"labels y must be in \{-1, \+1\}, got values \{0, 1, 2\}"),
    (sp.csr_matrix(np.eye(3)), np.array([0.0, 1.0, 1.0]), {}, r"for 0/1 labels use y = 2\*y - 1"),
    (_bad_index_matrix(), np.array([1.0, -1.0]), {},
     r"X has a column index 9 outside \[0, d\) with d = 4"),
    (sp.csr_matrix(np.eye(3)), np.array([1.0, -1.0]), {}, r"y must be a 1-D array of length n = 3"),
    (sp.csr_matrix(np.eye(3)), np.array([1.0, -1.0, 1.0]), {"loss": "huber"},
     r"loss must be one of"),
])
def test_bad_input_is_refused_clearly(X, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sparse.sparse_linear(X, y, **kwargs)


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match=r"row_nnz must be in \[1, d\] = \[1, 5\], got 6"):
        sparse_data.sparse_classification(10, 5, 6)
    with pytest.raises(ValueError, match=r"flip must be in \[0, 0.5\)"):
        sparse_data.sparse_classification(10, 5, 2, flip=0.5)
