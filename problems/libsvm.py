"""LIBSVM / svmlight files (a9a, w8a, covtype.binary, rcv1, real-sim, mushrooms, ...) read from a
local path, as arrays and as logistic-regression problems.

- ``load_libsvm(path_or_name, ...)`` returns a ``LibsvmData`` (X, y, name, path, label_map):
  X dense (NumPy) or sparse (SciPy CSR), y in {-1, +1}.
- ``libsvm_logreg(path, ...)`` returns the logistic-regression FiniteSum of the file: on sparse
  rows (``problems.sparse``) when the file is sparse, else ``problems.logistic_regression``.

Decisions:

- Nothing is downloaded. A bare name such as ``"a9a"`` is looked up in ``$SGD_BENCH_DATA`` or,
  when that variable is unset, in ``~/.sgd_bench/data``, also with the suffixes .txt, .bz2,
  .svm, .libsvm (sklearn reads .bz2 and .gz files directly). A missing file raises
  FileNotFoundError with the paths looked at and where to put the file.
- Labels: exactly two distinct values; the smaller maps to -1 and the larger to +1
  ({-1, 1} kept, {0, 1} and {1, 2} remapped), recorded in ``label_map``. One label or more
  than two (a multi-class file) is refused, naming the labels found.
- Sparse files load as SciPy matrices (``load_libsvm(..., dense=False)``).
  ``libsvm_logreg`` runs a file on padded sparse rows (``problems.sparse``) when fewer than
  ``SPARSE_BELOW`` = 10% of its entries are nonzero (rcv1, real-sim, news20 are below 0.2%),
  and densifies it otherwise (a9a-like files, where dense reads are faster); ``dense=True`` or
  ``False`` forces either. Densifying is checked against the free memory first.
- scikit-learn (``sklearn.datasets.load_svmlight_file``) is an optional dependency (extra
  ``data``), imported only when a file is read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from problems.linear import logistic_regression
from sgd_bench import memory, validation

DATA_ENV = "SGD_BENCH_DATA"
DEFAULT_DATA_DIR = Path("~") / ".sgd_bench" / "data"
SUFFIXES = (".txt", ".bz2", ".svm", ".libsvm")
SPARSE_BELOW = 0.1
DATASETS_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary.html"


class LibsvmData(NamedTuple):
    """A binary LIBSVM data set.

    - ``X``: features, a NumPy array (n, d) or a ``scipy.sparse.csr_matrix``.
    - ``y``: labels in {-1.0, +1.0}, shape (n,), in X's dtype.
    - ``name``: the file name without its suffixes, e.g. ``"a9a"``.
    - ``path``: the file that was read.
    - ``label_map``: {label in the file: -1 or +1}.
    """

    X: Any
    y: np.ndarray
    name: str
    path: Path
    label_map: dict[float, int]


def _sklearn_load_svmlight_file():
    try:
        from sklearn.datasets import load_svmlight_file
    except ImportError:
        raise ImportError('reading LIBSVM files needs scikit-learn: pip install "sgd-bench[data]" '
                          "(or pip install scikit-learn)") from None
    return load_svmlight_file


def data_dir() -> Path:
    """Where bare names are looked up: ``$SGD_BENCH_DATA``, else ``~/.sgd_bench/data``."""
    env = os.environ.get(DATA_ENV, "").strip()
    first = env.split("/")[0]
    if os.path.expanduser(env).startswith("~") and first != "~":  # pathlib: "RuntimeError: Could not determine
        raise ValueError(f"{DATA_ENV}={env!r} starts with {first}, but this machine has no user "  # home directory."
                         f"{first[1:]!r} to take the home folder of")
    return Path(os.path.expanduser(env)) if env else DEFAULT_DATA_DIR.expanduser()


def resolve_path(path_or_name) -> Path:
    """The file that ``path_or_name`` names; raises FileNotFoundError saying where to put it.

    An existing file path is used as given. A bare name (no directory part) is then looked up
    in ``data_dir()``; both are also tried with the suffixes in ``SUFFIXES``.
    """
    if isinstance(path_or_name, bool) or not isinstance(path_or_name, (str, os.PathLike)):
        raise TypeError("path_or_name must be a file path or a data set name such as 'a9a' "
                        f"(str or os.PathLike), got {path_or_name!r}")
    text = os.fspath(path_or_name)
    if not text.strip():
        raise ValueError("path_or_name must be a file path or a data set name such as 'a9a', got ''")
    if text.endswith(("/", os.sep)) and text.rstrip("/" + os.sep):
        # Path() drops the slash: 'd.svm/' read the file d.svm, where cat says "Not a directory"
        bare = os.path.expanduser(text.rstrip("/" + os.sep))
        if os.path.isdir(bare):
            raise ValueError(f"{text!r} is a folder; a LIBSVM data set is one file: give the file's path")
        there = f" ({bare} is a file)" if os.path.isfile(bare) else ""
        raise ValueError(f"{text!r} ends with '/', which names a folder{there}; a LIBSVM data set is one file: "
                         "give its path without the trailing '/'")
    given = Path(text).expanduser()
    bare = given.name == text and not given.is_absolute()
    bases = [given] + ([data_dir() / text] if bare else [])
    candidates = [c for base in bases for c in [base] + [Path(str(base) + s) for s in SUFFIXES]]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(os.path.abspath(c) for c in candidates)
    where = (f"put the file in {data_dir()} (set {DATA_ENV} to use another folder)" if bare
             else f"give an existing file, or a bare name such as 'a9a' to look in {data_dir()} "
                  f"(set {DATA_ENV} to use another folder)")
    raise FileNotFoundError(
        f"no LIBSVM file for {text!r} (looked at {looked}); {where}. Binary data sets "
        f"(a9a, w8a, covtype.binary, rcv1, real-sim, mushrooms, ...) can be downloaded from "
        f"{DATASETS_URL}")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".bz2", ".gz", ".xz") + SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def _float_dtype(dtype, default) -> np.dtype:
    if dtype is None:
        return np.dtype(default)
    import jax.numpy as jnp  # knows bfloat16 and friends, which plain NumPy may not

    try:
        dt = jnp.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or not jnp.issubdtype(dt, jnp.floating):
        raise ValueError(f"dtype must be a floating type such as 'float32' or 'float64', got {dtype!r}")
    return dt


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _map_labels(y: np.ndarray, path: Path) -> tuple[np.ndarray, dict[float, int]]:
    labels = np.unique(y)
    if len(labels) != 2:
        shown = ", ".join(f"{v:g}" for v in labels[:10]) + (", ..." if len(labels) > 10 else "")
        what = ("only one label" if len(labels) == 1
                else f"{len(labels)} labels: a multi-class file" if len(labels) > 2 else "no samples")
        raise ValueError(f"{path} has {what} ({{{shown}}}); binary logistic regression needs "
                         "exactly two classes (pick two, or one against the rest, before saving)")
    low, high = float(labels[0]), float(labels[1])
    return np.where(y == high, 1.0, -1.0), {low: -1, high: 1}


def _sparse_column_std(X) -> np.ndarray:
    """Per-column standard deviation of a canonical CSR matrix over all n rows (zeros included),
    in float64, two-pass (centered) without densifying."""
    n, d = X.shape
    mean = np.bincount(X.indices, weights=X.data, minlength=d) / n
    centered = X.data - mean[X.indices]
    stored = np.bincount(X.indices, minlength=d)
    sumsq = np.bincount(X.indices, weights=centered * centered, minlength=d)
    return np.sqrt((sumsq + (n - stored) * mean**2) / n)


def _size(nbytes: float) -> str:
    """Bytes in GiB (from 0.01 GiB up), else MiB or KiB, so that small files do not read 0.00."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale / 100:
            return f"{nbytes / scale:.2f} {unit}"
    return f"{nbytes / 2**10:.2f} KiB"


def load_libsvm(path_or_name, *, dense: bool = True, standardize: bool = False,
                n_features: int | None = None, dtype=None) -> LibsvmData:
    """Reads a binary LIBSVM/svmlight file; labels mapped to {-1, +1}.

    **Arguments:**

    - ``path_or_name``: a file path, or a bare name (``"a9a"``) looked up in
      ``$SGD_BENCH_DATA`` or ``~/.sgd_bench/data``, also with .txt, .bz2, .svm, .libsvm.
    - ``dense``: True for a NumPy array (its size is checked against the free memory first),
      False for a ``scipy.sparse.csr_matrix``.
    - ``standardize``: dense: every column gets zero mean and unit variance (constant columns
      become 0). Sparse: every column is divided by its standard deviation but *not centered*,
      because centering would fill in the zeros; columns get unit variance, not zero mean.
    - ``n_features``: the number of columns d; give it when a file (e.g. a test split such as
      a9a.t) does not use the last feature, so that train and test agree.
    - ``dtype``: floating type of X and y (default float64).

    Column indices are read as sklearn's ``zero_based="auto"`` does: one-based (the LIBSVM
    convention) unless the file contains index 0.
    """
    dense = _check_bool("dense", dense)
    standardize = _check_bool("standardize", standardize)
    if n_features is not None:
        n_features = validation.integer("n_features", n_features, low=1)
    dt = _float_dtype(dtype, np.float64)
    path = resolve_path(path_or_name)
    load = _sklearn_load_svmlight_file()
    try:
        X, y = load(str(path), n_features=n_features, dtype=np.float64)
    except (ValueError, OverflowError) as error:  # OverflowError: a column index beyond int32 (a traceback)
        raise ValueError(f"cannot read {path} as a LIBSVM file: {error}") from error
    y, label_map = _map_labels(np.asarray(y, dtype=np.float64), path)
    X = X.tocsr()
    X.sum_duplicates()  # canonical CSR: one entry per (row, column)
    n, d = X.shape
    if dense:
        # The working copy is float64 when standardizing (for accuracy), else already in dtype.
        work = np.dtype(np.float64) if standardize else dt
        # the default hint (smaller n or d, float32, shard) missed the fitting change: keep the file sparse
        memory.check_fits(n * d * work.itemsize,
                          f"the dense features of {path.name} ({n} x {d}, {work.name})",
                          hint="keep it sparse with dense=False (dense=false in a libsvm: spec)")
        X = X.astype(work).toarray()
        if standardize:  # in place: no second n x d array
            X -= X.mean(axis=0)
            std = np.sqrt(np.einsum("ij,ij->j", X, X) / max(n, 1))
            X /= np.where(std > 0, std, 1.0)
        X = X.astype(dt, copy=False)
    elif standardize:
        std = _sparse_column_std(X)
        X.data /= np.where(std > 0, std, 1.0)[X.indices]  # CSR: indices are the column numbers
        X = X.astype(dt)
    else:
        X = X.astype(dt)
    return LibsvmData(X, y.astype(dt), _stem(path), path, label_map)


def libsvm_logreg(path, *, mu: float = 0.0, standardize: bool = False, dense: bool | None = None,
                  n_features: int | None = None, dtype=None):
    """Logistic regression f_i(x) = log(1 + exp(-y_i <a_i, x>)) + mu/2 ||x||^2 on a LIBSVM file.

    **Arguments:**

    - ``path``: a file path or a bare name, as in ``load_libsvm``.
    - ``mu``: ridge strength >= 0.
    - ``standardize``: unit variance per column, and zero mean on dense features only (see
      ``load_libsvm``: centering would fill in the zeros of sparse ones).
    - ``dense``: ``None`` (default) runs the file on sparse rows when fewer than
      ``SPARSE_BELOW`` of its entries are nonzero and densifies it otherwise; ``True`` always
      densifies (checked against the free memory); ``False`` always keeps it sparse.
    - ``n_features``: the number of columns, as in ``load_libsvm``.
    - ``dtype``: floating type of the data (default: JAX's default float).

    The problem's name is the file name without suffixes (``"a9a"``).
    """
    mu = validation.nonnegative_float("mu", mu)
    if dense is not None:
        dense = _check_bool("dense", dense)
    standardize = _check_bool("standardize", standardize)
    if dtype is None:
        import jax.numpy as jnp

        dtype = jnp.result_type(float)
    dt = _float_dtype(dtype, None)
    if dense is None:
        # Reading the sparse matrix is cheap; it decides, and is used as is when sparse wins.
        data = load_libsvm(path, dense=False, standardize=standardize, n_features=n_features,
                           dtype=dt)
        n, d = data.X.shape
        if data.X.nnz < SPARSE_BELOW * n * d:
            return _sparse_problem(data, mu)
        dense = True
    if not dense:
        return _sparse_problem(load_libsvm(path, dense=False, standardize=standardize,
                                           n_features=n_features, dtype=dt), mu)
    data = load_libsvm(path, dense=True, standardize=standardize, n_features=n_features, dtype=dt)
    return logistic_regression(data.X, data.y, mu, name=data.name)


def _sparse_problem(data: LibsvmData, mu: float):
    from problems.sparse import sparse_logistic_regression

    return sparse_logistic_regression(data.X, data.y, mu, name=data.name)
