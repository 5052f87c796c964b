"""The benchopt integration: the solver mixin (one compiled program for every ``run(n_iter)``,
NumPy results, sum-versus-mean scaling against scikit-learn) and the shipped benchmark run for
real with ``benchopt run`` (one CLI call: benchopt's start-up costs seconds).
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import helpers
import sgd_bench as sb
from sgd_bench_harness.benchopt import SgdBenchSolver, logreg_l2, sum_objective

BENCHMARK = pathlib.Path(__file__).resolve().parents[1] / "integrations" / "benchopt" / "logreg_l2"


def numpy_objective(X, y, lmbd, beta):
    """benchopt's L2 logistic regression on the sum scale, written here in NumPy."""
    return float(np.sum(np.log1p(np.exp(-y * (X @ beta)))) + 0.5 * lmbd * beta @ beta)


class _SAGA(SgdBenchSolver):
    def make_method(self, problem):
        return sb.saga()


class _GD(SgdBenchSolver):
    def make_method(self, problem):
        return sb.gd(1.0 / problem.info["L"])


def _solver(cls, X, y, lmbd, **attrs):
    solver = cls()
    for name, value in attrs.items():
        setattr(solver, name, value)
    solver.set_objective(X=X, y=y, lmbd=lmbd)
    return solver


def test_runs_reuse_one_program_and_return_numpy():
    X, y = helpers.logistic_data(40, 4)
    solver = _solver(_SAGA, X, y, 1.0)
    assert solver.steps_per_iter == 40  # an iteration of a batch-1 method is an epoch
    solver.warm_up()
    results = {}
    with helpers.compiles_nothing():
        for n_iter in (0, 1, 3, 7):
            solver.run(n_iter)
            results[n_iter] = solver.get_result()["beta"]
        # Another lambda and new data of the same shapes: still the same program.
        X2, y2 = helpers.logistic_data(40, 4, seed=5)
        other = _solver(_SAGA, X2, y2, 0.3)
        other.run(2)
    for beta in results.values():
        assert type(beta) is np.ndarray and beta.dtype == np.float64 and beta.shape == (4,)
    np.testing.assert_array_equal(results[0], np.zeros(4))
    # run(n_iter) is n_iter epochs from the start, the same run as the public Solver's.
    problem = logreg_l2(X, y, 1.0)
    direct = sb.Solver(problem, sb.saga()).run(np.zeros(4), 0, 3 * 40)
    np.testing.assert_allclose(results[3], np.asarray(direct.x), rtol=1e-12, atol=1e-14)


def test_dtype_is_explicit():
    X, y = helpers.logistic_data(40, 4)
    solver = _solver(_SAGA, X, y, 1.0, dtype="float32")
    solver.run(3)
    beta32 = solver.get_result()["beta"]
    assert beta32.dtype == np.float32
    reference = _solver(_SAGA, X, y, 1.0)
    reference.run(3)
    beta64 = reference.get_result()["beta"]
    np.testing.assert_allclose(beta32, beta64, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="dtype"):
        _solver(_SAGA, X, y, 1.0, dtype="int32")


def test_sum_scale_matches_numpy_and_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    X, y = helpers.logistic_data(60, 5, seed=2)
    lmbd = 2.0
    problem = logreg_l2(X, y, lmbd)
    assert problem.info["mu"] == pytest.approx(lmbd / 60)
    rng = np.random.default_rng(0)
    for _ in range(3):
        beta = rng.standard_normal(5)
        assert sum_objective(problem, beta) == pytest.approx(numpy_objective(X, y, lmbd, beta), rel=1e-12)
    # The minimizer of the mean-scaled problem is scikit-learn's with C = 1 / lambda.
    solver = _solver(_GD, X, y, lmbd)  # GD at 1/L contracts by 1 - mu/L per step: 2000 are plenty
    solver.run(2000)
    ours = solver.get_result()["beta"]
    clf = LogisticRegression(C=1.0 / lmbd, fit_intercept=False, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours, clf.coef_.ravel(), atol=1e-6)
    # The scale matters here: lambda taken as the mean scale's mu (C = 1 / (n lambda)) would give
    # a minimizer far from it.
    wrong = LogisticRegression(C=1.0 / (60 * lmbd), fit_intercept=False, tol=1e-12).fit(X, y)
    assert np.max(np.abs(wrong.coef_.ravel() - clf.coef_.ravel())) > 1e-2


def _dataset(n_samples, n_features):
    spec = importlib.util.spec_from_file_location("_sgd_bench_benchopt_simulated",
                                                  BENCHMARK / "datasets" / "simulated.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Dataset.get_instance(n_samples=n_samples, n_features=n_features,
                                       random_state=0).get_data()


def test_benchopt_run(tmp_path):
    import pandas as pd
    from scipy.optimize import minimize

    n, d, lmbd = 60, 4, 1.0
    out = tmp_path / "result.parquet"
    cmd = [sys.executable, "-m", "benchopt", "run", str(BENCHMARK), "-n", "4", "--timeout", "120",
           "--no-plot", "--no-display", "--no-cache", "--output", str(out),
           "-d", f"simulated[n_samples={n},n_features={d}]"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=helpers.cached_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    df = pd.read_parquet(out)
    names = {name.split("[")[0] for name in df["solver_name"]}
    assert names == {"sgd-bench-SAGA", "sgd-bench-SGD", "sgd-bench-GD", "sgd-bench-L-BFGS", "sklearn"}
    assert {"sklearn[solver=saga]", "sklearn[solver=lbfgs]"} <= set(df["solver_name"])

    X, y = (_dataset(n, d)[k] for k in ("X", "y"))
    f0 = numpy_objective(X, y, lmbd, np.zeros(d))
    fstar = minimize(lambda b: numpy_objective(X, y, lmbd, b), np.zeros(d), method="BFGS",
                     options={"gtol": 1e-10}).fun
    for name, rows in df.groupby("solver_name"):
        rows = rows.sort_values("stop_val")
        values = rows["objective_value"].to_numpy()
        assert rows["stop_val"].iloc[0] == 0 and values[0] == pytest.approx(f0, rel=1e-12), name
        assert len(values) >= 4, name
        # No solver goes below the minimum, and each has closed most of the gap by its last point.
        assert np.all(values >= fstar - 1e-8), name
        assert values[-1] - fstar < 0.2 * (f0 - fstar), name
        if name.split("[")[0] in ("sgd-bench-GD", "sgd-bench-L-BFGS") or name == "sklearn[solver=lbfgs]":
            assert np.all(np.diff(values) <= 1e-12), name  # descent methods: monotone

    # Our SAGA inside benchopt is the run of the public API, on benchopt's sum scale.
    problem = logreg_l2(X, y, lmbd)
    solver = sb.Solver(problem, sb.saga())
    saga = df[df["solver_name"].str.startswith("sgd-bench-SAGA")]
    for stop_val, value in zip(saga["stop_val"], saga["objective_value"]):
        x = solver.run(np.zeros(d), 0, int(stop_val) * n).x
        assert value == pytest.approx(numpy_objective(X, y, lmbd, np.asarray(x)), rel=1e-10)
        assert value == pytest.approx(sum_objective(problem, x), rel=1e-10)


def test_bad_inputs_name_the_argument():
    X, y = helpers.logistic_data(40, 4)
    solver = _solver(_SAGA, X, y, 1.0)
    with pytest.raises(ValueError, match="n_iter"):
        solver.run(-1)
    with pytest.raises(TypeError, match="n_iter"):
        solver.run(2.5)
    with pytest.raises(ValueError, match="n_iter"):
        solver.run(10**8)  # 4 * 10**9 steps: past the int32 step counter
    with pytest.raises(ValueError, match="lmbd"):
        _solver(_SAGA, X, y, -1.0)
    with pytest.raises(ValueError, match="labels"):
        _solver(_SAGA, X, (y + 1) / 2, 1.0)  # {0, 1} labels are refused, never remapped
    with pytest.raises(NotImplementedError, match="make_method"):
        _solver(SgdBenchSolver, X, y, 1.0)
