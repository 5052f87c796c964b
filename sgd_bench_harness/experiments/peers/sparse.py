"""peers' rows 10-13 on sparse rows: the rcv1- and news20-like stand-ins against a read of the
nonzeros, scikit-learn's SGDClassifier and scikit-learn's saga."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import sgd_bench as sb
from problems.sparse import sparse_logistic_regression
from problems.sparse_data import preset_data

from .dense import measure_gd_vs_read, measure_sgd_vs_sklearn
from .saga import measure_saga_vs_sklearn

SPARSE_SETS = ("rcv1", "news20")


def sparse_problem(preset: str, scale: float, lam: float, seed: int):
    """(problem, X, y): L2 logistic regression on the synthetic stand-in of ``preset`` at
    ``scale`` (``problems.sparse_data``), on benchopt's sum scale with lambda = ``lam`` (ours:
    mu = lam / n), float64 sparse rows; X is the CSR matrix scikit-learn gets."""
    X, y = preset_data(preset, seed=seed, scale=scale, dtype=jnp.float64)
    # No L: no row here needs it, and Lanczos on d ~ 10^4-10^5 costs seconds.
    problem = sparse_logistic_regression(X, y, lam / X.shape[0], name=f"{preset}-like", constants=False)
    return problem, X, np.asarray(y, np.float64)


def measure_sparse(config, repeats) -> tuple[list[dict], dict]:
    """Rows 10-13 on sparse rows: a GD step against the fastest read of the nonzeros and a
    cyclic SGD epoch against ``SGDClassifier`` on rcv1-like data, and a SAGA epoch (eager and
    lazy) against scikit-learn's saga on rcv1- and news20-like data."""
    lam, alpha = config["race_lambda"], config["sparse_alpha"]
    # Our SAGA on sparse rows: the eager step (O(d) per step) and the lazy one (O(row) per
    # step); both are timed, and the faster is the one a user should pick there (the row names it).
    saga = {"eager": lambda step: sb.saga(step, 1, "with_replacement", linear=True),
            "lazy": lambda step: sb.lazy_saga(step, 1, "with_replacement")}
    rows, info = [], {}
    for preset in SPARSE_SETS:
        problem, X, y = sparse_problem(preset, config[f"sparse_{preset}_scale"], lam, config["data_seed"])
        n, d = X.shape
        tag = dict(data=f"{preset}-like", n=n, d=d, nnz=X.nnz, width=problem.data[0].cols.shape[1])
        info[f"sparse_{preset}"] = dict(n=n, d=d, nnz=X.nnz, width=tag["width"])
        if preset == "rcv1":
            rows += measure_gd_vs_read(problem, alpha, repeats, "sparse_read", **tag)
            sgd_rows, info["sparse_sgd_max_abs_diff"] = measure_sgd_vs_sklearn(
                "sparse_sgd", problem, X, y, alpha, problem.regularizer.mu, max(2, repeats // 2),
                lazy=True, **tag)
            rows += sgd_rows
        saga_rows, info[f"saga_{preset}"] = measure_saga_vs_sklearn(
            f"saga_{preset}", problem, X, y, lam, saga, max(2, repeats // 2), **tag)
        rows += saga_rows
    return rows, info
