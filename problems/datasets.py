"""Real data that ships offline with scikit-learn, as logistic-regression problems.

- ``breast_cancer``: 569 samples x 30 features (Wisconsin diagnostic); y = +1 benign,
  -1 malignant.
- ``digits``: 1797 8x8 images x 64 pixels; the binary task "digit >= 5" (y = +1) against
  "digit <= 4" (y = -1).

Features are standardized (zero mean, unit variance per column; constant columns stay 0).
"""

from __future__ import annotations

import numpy as np

from sgd_bench import validation
from problems.linear import logistic_regression


def sklearn_datasets():
    """``sklearn.datasets``, or an ImportError that says how to install scikit-learn."""
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError("the real datasets need scikit-learn: pip install scikit-learn "
                          "(or pip install -e '.[test]')") from None
    return datasets


def _standardize(A: np.ndarray) -> np.ndarray:
    std = A.std(axis=0)
    return (A - A.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _check_args(mu, standardize, dtype):
    """Checked before the data is loaded: (mu, standardize, dtype)."""
    mu = validation.nonnegative_float("mu", mu)
    if not isinstance(standardize, (bool, np.bool_)):
        raise TypeError(f"standardize must be True or False, got {standardize!r}")
    return mu, bool(standardize), validation.requested_dtype("dtype", dtype)


def _finish(A, y, mu, standardize, dtype, name):
    A = np.asarray(A, dtype=np.float64)
    if standardize:
        A = _standardize(A)
    A = A.astype(dtype)
    return logistic_regression(A, y.astype(A.dtype), mu, name=name)


def breast_cancer(mu: float = 0.0, *, standardize: bool = True, dtype=None):
    """Breast-cancer diagnosis (569 x 30), y = +1 benign, -1 malignant."""
    mu, standardize, dtype = _check_args(mu, standardize, dtype)
    data = sklearn_datasets().load_breast_cancer()
    y = np.where(data.target == 1, 1.0, -1.0)
    return _finish(data.data, y, mu, standardize, dtype, "breast-cancer")


def digits(mu: float = 0.0, *, standardize: bool = True, dtype=None):
    """Handwritten digits (1797 x 64) as the binary task digit >= 5 (+1) against <= 4 (-1)."""
    mu, standardize, dtype = _check_args(mu, standardize, dtype)
    data = sklearn_datasets().load_digits()
    y = np.where(data.target >= 5, 1.0, -1.0)
    return _finish(data.data, y, mu, standardize, dtype, "digits")
