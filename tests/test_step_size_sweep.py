"""scripts/step_size_sweep.py: its slope fit and gap statistic, and a small in-process run whose
checks are computed from the runs (not read back) and whose report rebuilds from the records."""

from __future__ import annotations

import json

import numpy as np
import pytest

import helpers
from sgd_bench import runner, theory
from sgd_bench_harness import experiment



@pytest.fixture(scope="module")
def script():
    from sgd_bench_harness.experiments import step_size_sweep

    return step_size_sweep


def test_fit_slope_recovers_a_power_law_and_its_interval_can_exclude_one(script):
    rng = np.random.default_rng(0)
    alphas = np.geomspace(1e-3, 1e-1, 8)
    for power in (1.0, 2.0):
        mean = 0.3 * alphas**power * (1 + 0.01 * rng.standard_normal(8))
        slope, se, _ = script.fit_slope(alphas, mean, 0.01 * mean)
        assert abs(slope - power) < 4 * se and se < 0.05
    # a plateau quadratic in alpha is not linear: its interval excludes 1
    assert abs(slope - 1.0) > 1.96 * se


def test_final_gap_leaves_diverged_seeds_out(script):
    loss = np.array([[[5.0, 3.0, 2.0, 1.0], [5.0, 4.0, np.inf, np.nan]]])
    trace = runner.Trace(None, None, loss, None, None, None, np.array([[False, True]]), None)
    gap = script.final_gap(trace, f_star=0.5)
    assert gap[0, 0] == pytest.approx(0.5) and np.isnan(gap[0, 1])


def test_thresholds_are_the_theorys(script):
    c = theory.Constants(name="t", problem_class="strongly_convex", n=10, L=2.0, L_max=8.0, mu=0.5,
                         sigma2_star=1.0, f_star=0.0)
    assert script.thresholds(c, None) == {"2/L": 1.0}
    assert script.thresholds(c, 8) == pytest.approx({"1/L_max": 0.125, "1/(2(L + L_max/B))": 1 / 6})
    assert script.safe_step(c, 8) == pytest.approx(1 / 6)
    assert script.safe_step(c, 1) == pytest.approx(0.125)   # 1/L_max > 1/(2 (2 + 8))


def test_small_run_checks_hold_and_the_report_rebuilds(script, tmp_path):
    config = dict(script.QUICK, seeds=8, steps=300, log_every=30, alphas=6, alpha_range=(3e-2, 8.0),
                  batches=(1,))
    out = tmp_path / "step_size_sweep"
    out.mkdir()
    script.run(config, out)
    checks = json.loads((out / "checks.json").read_text())
    claims = {c["claim"]: c for c in checks}
    assert all(c["holds"] for c in checks), [c["claim"] for c in checks if not c["holds"]]
    gd_boundary = next(c for k, c in claims.items() if "GD: the measured divergence" in k)
    # The ridge term alone is unstable past 2/mu = 2: the grid's steps above it diverge.
    assert 2.0 / 1.39 < gd_boundary["measured"]["first_diverged_step"] < 8.0 / 1.38
    rows = experiment.load(out).rows
    sgd = sorted((r for r in rows if r["method"] == "SGD B=1"), key=lambda r: r["alpha"])
    # SGD's final gap grows with the step on the stable side (the plateau)
    stable = [r["final_gap_mean"] for r in sgd if r["diverged"] == 0][:3]
    assert stable == sorted(stable) and stable[0] > 1e-4
    helpers.assert_report_rebuilds(out, "step_size_sweep")
