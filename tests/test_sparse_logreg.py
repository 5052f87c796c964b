"""scripts/sparse_logreg.py: its quick run goes through the CLI into a temporary folder, writes
the results layout with exact evaluation counts, every claim of the small version holds, f*
agrees with scikit-learn's solver on the same regenerated data, and ``report`` rebuilds the
same summary from the stored files (tests/quick_runs.py's table). The quick run goes through
``cli.main`` in the test process (XLA optimization level 0, from the conftest's XLA_FLAGS)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import quick_runs
from sgd_bench_harness import cli, records

NAME = "sparse_logreg"


quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_sparse_logreg")


@pytest.fixture(scope="module")
def quick(quick_root):
    folder = quick_root / NAME
    meta = json.loads((folder / "meta.json").read_text())
    return folder, meta, records.read_records(folder)


def test_layout_counts_and_claims(quick):
    folder, meta, rows = quick
    assert meta["dtype"] == "float64"
    config = meta["config"]
    assert list(meta["data"]) == [f"{p}-like" for p in config["presets"]]
    methods = ("GD, 1/L", "SGD, constant step", "SAGA", "L-BFGS", "SAGA, lazy")
    for name, info in meta["data"].items():
        n = info["n"]
        mine = [r for r in rows if r["data"] == name]
        assert {r["method"] for r in mine} == set(methods)
        for r in mine:  # exact counts: the method's own rule, and passes = evaluations / n
            step, evals = r["step"], r["grad_evals"]
            expected = {"GD, 1/L": n * step, "SGD, constant step": step, "SAGA": n + step,
                        "SAGA, lazy": n + step}.get(r["method"])
            if expected is None:  # L-BFGS: n for f(x0), then n per line-search trial, >= 1 a step
                assert evals % n == 0 and evals >= n * (step + 1), r
            else:
                assert evals == expected, r
            assert r["passes"] == pytest.approx(evals / n, rel=1e-15) and r["passes"] <= config["passes"] + 1e-9
            assert r["f_gap"] == pytest.approx(r["f"] - info["f_star"], abs=1e-15)
        assert info["nnz"] == pytest.approx(n * info["mean_row"], rel=1e-12)
    checks = json.loads((folder / "checks.json").read_text())
    assert len(checks) == 5 * len(meta["data"])  # no wall-clock checks below n = wallclock_min_n
    summary = (folder / "summary.md").read_text()
    assert "## Checks" in summary and "[ ]" not in summary and "under load" in summary


def test_f_star_matches_scikit_learn_on_the_same_data(quick):
    """The reference f* against scikit-learn's L-BFGS on the regenerated (deterministic) data."""
    from sklearn.linear_model import LogisticRegression

    from problems.sparse_data import preset_data

    _, meta, _ = quick
    config = meta["config"]
    preset = config["presets"][0]
    X, y = preset_data(preset, seed=config["seed"], scale=config["scale"])
    info = meta["data"][f"{preset}-like"]
    n = X.shape[0]
    assert (n, X.shape[1], X.nnz) == (info["n"], info["d"], info["nnz"])
    mu = 1.0 / n
    w = LogisticRegression(C=1.0 / (n * mu), fit_intercept=False, tol=1e-12, max_iter=10_000).fit(X, y).coef_.ravel()
    f = np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * mu * w @ w
    assert info["f_star"] == pytest.approx(f, rel=1e-10) and info["f_star"] <= f + 1e-15


def test_checks_can_fail(quick):
    """The claims follow the records: GD given SAGA's curve passes SAGA's claim only if
    it really goes below, and L-BFGS without its curve below 1e-8 fails its claim."""
    _, meta, rows = quick
    script = cli.load(NAME)
    name = next(iter(meta["data"]))
    worse = [dict(r, f_gap=r["f_gap"] * 1e6 + 1.0) if r["method"] in ("SAGA", "L-BFGS") and r["data"] == name
             else r for r in rows]
    failed = {c["claim"] for c in script._checks(worse, meta) if not c["holds"]}
    assert any(c.startswith(f"{name}: within") for c in failed), failed
    assert any(c.startswith(f"{name}: L-BFGS reaches") for c in failed), failed
    assert any(c.startswith(f"{name}: constant-step SGD stalls") for c in failed), failed
    bad_ref = dict(meta, data={**meta["data"], name: dict(meta["data"][name], ref_grad_norm=1e-6)})
    assert any(c["claim"].startswith(f"{name}: f* is") and not c["holds"] for c in script._checks(rows, bad_ref))
