"""LIBSVM files: round trip through a file written here with sklearn's dump_svmlight_file, label
mapping, name lookup and the missing-file message, standardization, the memory guard, and the
logistic-regression FiniteSum against a NumPy formula."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

import problems
from problems import libsvm

sklearn_datasets = pytest.importorskip("sklearn.datasets")

N, D = 40, 6


def make_X(seed=0):
    """A 40 x 6 matrix with about half zeros, values k/16 (exact in decimal, so the file round
    trip is exact), a constant column 4 and a nonzero in the last column (so d is read as 6)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-40, 40, size=(N, D)) / 16.0
    X[rng.random((N, D)) < 0.5] = 0.0
    X[:, 4] = 0.0
    X[0, D - 1] = 1.5
    return X


def labels_01(seed=0):
    y = np.random.default_rng(seed + 100).integers(0, 2, size=N).astype(float)
    y[:2] = (0.0, 1.0)
    return y


def write(path, X, y):
    # one_based: the LIBSVM convention (a9a & co. are one-based).
    sklearn_datasets.dump_svmlight_file(X, y, str(path), zero_based=False)
    return path


@pytest.mark.parametrize("raw_low, raw_high", [(0.0, 1.0), (1.0, 2.0), (-1.0, 1.0)])
def test_round_trip_dense_and_sparse_with_label_map(tmp_path, raw_low, raw_high):
    X, y01 = make_X(), labels_01()
    raw = np.where(y01 == 1, raw_high, raw_low)
    path = write(tmp_path / "toy.txt", X, raw)
    want_y = np.where(y01 == 1, 1.0, -1.0)

    dense = problems.load_libsvm(path)
    assert isinstance(dense.X, np.ndarray) and dense.X.dtype == np.float64
    np.testing.assert_array_equal(dense.X, X)
    np.testing.assert_array_equal(dense.y, want_y)
    assert dense.label_map == {raw_low: -1, raw_high: 1}
    assert dense.name == "toy" and dense.path == path

    sparse = problems.load_libsvm(path, dense=False)
    assert sp.issparse(sparse.X) and sparse.X.format == "csr"
    assert sparse.X.nnz == np.count_nonzero(X)
    np.testing.assert_array_equal(sparse.X.toarray(), X)
    np.testing.assert_array_equal(sparse.y, want_y)


def test_dtype_and_n_features(tmp_path):
    X = make_X()
    path = write(tmp_path / "toy", X, np.where(labels_01() == 1, 1.0, -1.0))
    data = problems.load_libsvm(path, dtype="float32", n_features=D + 3)
    assert data.X.dtype == np.float32 and data.y.dtype == np.float32
    assert data.X.shape == (N, D + 3)
    np.testing.assert_array_equal(data.X[:, :D], X.astype(np.float32))
    assert not data.X[:, D:].any()
    with pytest.raises(ValueError, match="dtype must be a floating type"):
        problems.load_libsvm(path, dtype="int32")
    with pytest.raises(ValueError, match="n_features"):
        problems.load_libsvm(path, n_features=0)
    with pytest.raises(TypeError, match="dense must be True or False"):
        problems.load_libsvm(path, dense="no")


def test_bare_name_found_in_data_dir_with_suffix(tmp_path, monkeypatch):
    monkeypatch.setenv("SGD_BENCH_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)  # the bare name must not be found relative to the cwd
    X = make_X()
    write(tmp_path / "mytoy.libsvm", X, labels_01())
    data = problems.load_libsvm("mytoy")
    assert data.path == tmp_path / "mytoy.libsvm" and data.name == "mytoy"
    np.testing.assert_array_equal(data.X, X)


def test_bz2_file_is_read(tmp_path, monkeypatch):
    import bz2

    plain = write(tmp_path / "plain", make_X(), labels_01())
    (tmp_path / "zipped.bz2").write_bytes(bz2.compress(plain.read_bytes()))
    monkeypatch.setenv("SGD_BENCH_DATA", str(tmp_path))
    data = problems.load_libsvm("zipped")
    assert data.name == "zipped"
    np.testing.assert_array_equal(data.X, make_X())


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SGD_BENCH_DATA", str(tmp_path / "data"))
    with pytest.raises(FileNotFoundError) as info:
        problems.load_libsvm("a9a")
    text = str(info.value)
    assert str(tmp_path / "data" / "a9a") in text
    assert str(tmp_path / "data" / "a9a.bz2") in text
    assert "SGD_BENCH_DATA" in text and "put the file in" in text
    assert libsvm.DATASETS_URL in text
    assert "\n" not in text  # the CLI's one-line reason

    monkeypatch.delenv("SGD_BENCH_DATA")
    with pytest.raises(FileNotFoundError, match=r"\.sgd_bench/data"):
        problems.load_libsvm("surely-not-there-a9a")

    # an explicit path is named as given, and so is the registry's path= argument
    missing = tmp_path / "nowhere" / "w8a.txt"
    with pytest.raises(FileNotFoundError, match="SGD_BENCH_DATA") as info:
        problems.get("libsvm", path=str(missing))
    assert str(missing) in str(info.value)


@pytest.mark.parametrize("labels, what", [((1.0, 2.0, 3.0), "3 labels: a multi-class file"),
                                          ((1.0,), "only one label")])
def test_not_two_classes_is_refused(tmp_path, labels, what):
    y = np.resize(np.asarray(labels), N)
    path = write(tmp_path / "bad.txt", make_X(), y)
    with pytest.raises(ValueError, match="needs exactly two classes") as info:
        problems.load_libsvm(path)
    text = str(info.value)
    assert what in text
    assert "{" + ", ".join(f"{v:g}" for v in labels) + "}" in text


def test_standardize_dense(tmp_path):
    path = write(tmp_path / "toy.txt", 3.0 * make_X() + 0.5, labels_01())
    X = problems.load_libsvm(path, standardize=True).X
    varying = [j for j in range(D) if j != 4]
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X[:, varying].std(axis=0), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(X[:, 4], 0.0)  # the constant column: centered, scale 1


def test_standardize_sparse_scales_without_centering(tmp_path):
    X0 = make_X()
    path = write(tmp_path / "toy.txt", X0, labels_01())
    X = problems.load_libsvm(path, dense=False, standardize=True).X
    assert sp.issparse(X) and X.nnz == np.count_nonzero(X0)  # still sparse, same pattern
    std = X0.std(axis=0)
    want = X0 / np.where(std > 0, std, 1.0)
    np.testing.assert_allclose(X.toarray(), want, rtol=1e-13, atol=0)
    varying = [j for j in range(D) if j != 4]
    np.testing.assert_allclose(X.toarray()[:, varying].std(axis=0), 1.0, atol=1e-12)


def test_densifying_checks_memory_first(tmp_path, monkeypatch):
    path = write(tmp_path / "toy.txt", make_X(), labels_01())
    monkeypatch.setattr(libsvm.memory, "available_bytes", lambda device=None: 100)
    with pytest.raises(MemoryError, match=r"dense features of toy.txt \(40 x 6"):
        problems.load_libsvm(path)
    assert problems.load_libsvm(path, dense=False).X.shape == (N, D)  # sparse needs no check


@pytest.mark.parametrize("mu", [0.0, 0.3])
def test_logreg_loss_matches_numpy(tmp_path, mu):
    X, y01 = make_X(), labels_01()
    path = write(tmp_path / "toy.txt", X, 1.0 + y01)  # labels {1, 2}
    problem = problems.libsvm_logreg(path, mu=mu, dtype=jnp.float64)
    assert problem.name == "toy" and problem.n == N and problem.dtype == jnp.float64
    y = np.where(y01 == 1, 1.0, -1.0)
    x = np.random.default_rng(7).standard_normal(D)
    want = np.mean(np.log1p(np.exp(-y * (X @ x)))) + mu / 2 * np.dot(x, x)
    np.testing.assert_allclose(float(problem.loss(jnp.asarray(x))), want, rtol=1e-12)

    # standardized features give the same formula on the standardized matrix
    Xs = X - X.mean(axis=0)
    Xs /= np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    problem = problems.libsvm_logreg(path, mu=mu, standardize=True, dtype=jnp.float64)
    want = np.mean(np.log1p(np.exp(-y * (Xs @ x)))) + mu / 2 * np.dot(x, x)
    np.testing.assert_allclose(float(problem.loss(jnp.asarray(x))), want, rtol=1e-12)


def test_logreg_dense_false_runs_sparse_rows(tmp_path):
    X = make_X()
    X[~X.any(axis=1), 1] = 0.5  # sparse rows refuse empty rows
    y01 = labels_01()
    path = write(tmp_path / "toy.txt", X, y01)
    problem = problems.libsvm_logreg(path, dense=False, dtype=jnp.float64)
    assert problem.name == "toy" and problem.n == N and problem.x_shape == (D,)
    assert problems.sparse.is_sparse(problem)
    assert not problems.sparse.is_sparse(problems.libsvm_logreg(path, dtype=jnp.float64))  # 40% full
    y = np.where(y01 == 1, 1.0, -1.0)
    x = np.random.default_rng(7).standard_normal(D)
    want = np.mean(np.log1p(np.exp(-y * (X @ x))))
    np.testing.assert_allclose(float(problem.loss(jnp.asarray(x))), want, rtol=1e-12)
    assert libsvm._size(32561 * 123 * 8) == "0.03 GiB"  # a9a in float64
    with pytest.raises(ValueError, match="mu"):
        problems.libsvm_logreg(path, mu=-1.0)


def test_registry_builds_it(tmp_path):
    X = make_X()
    path = write(tmp_path / "toy.txt", X, labels_01())
    problem = problems.get("libsvm", path=str(path), mu=0.1, dtype=jnp.float64)
    np.testing.assert_array_equal(np.asarray(problem.data[0]), X)
    assert problem.info["mu"] == 0.1 and problem.problem_class == "strongly_convex"
    assert "libsvm" in problems.describe()


def test_missing_sklearn_says_how_to_install(tmp_path, monkeypatch):
    path = write(tmp_path / "toy.txt", make_X(), labels_01())
    monkeypatch.setitem(__import__("sys").modules, "sklearn.datasets", None)  # import fails
    with pytest.raises(ImportError, match=r'pip install "sgd-bench\[data\]"'):
        problems.load_libsvm(path)
