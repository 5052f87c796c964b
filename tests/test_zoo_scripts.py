"""The method-zoo experiments (momentum_stochastic, variance_reduction, two_phase): each quick run
goes through the CLI into a temporary folder, writes the results layout with exact counts, and
the small version of every claim holds (computed by the run, not re-read from committed files;
the checks every quick run passes: tests/quick_runs.py).

The quick runs are seconds of computing and many compilations (one per method and problem), so
they run in the test process (one ``cli.main``) with XLA's backend optimization level 0
(conftest's ``XLA_FLAGS``), which halves
the compile time; their numbers agree with optimized code to ~1e-12, far below what the
statistical checks resolve.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import quick_runs
from sgd_bench_harness import cli, records
from sgd_bench_harness.experiments.variance_reduction import methods, rates, wallclock
from sgd_bench.growing_batch import batch_sizes

NAMES = ("momentum_stochastic", "two_phase", "variance_reduction")

quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_zoo_scripts")


@pytest.fixture(params=NAMES)
def quick_run(request, quick_root):
    return request.param, quick_root / request.param


def _counts_are_exact(name, rows, meta):
    """Gradient-evaluation counts in the records follow each method's rule."""
    for r in rows:
        step, evals = r["step"], r["grad_evals"]
        assert isinstance(step, int) and isinstance(evals, int), r
        method = r["method"]
        if name == "two_phase" or (name == "momentum_stochastic" and r["regime"] != "full batch"):
            assert evals == step, r  # batch 1
        elif name == "momentum_stochastic":
            assert evals == meta["problems"][r["problem"]]["n"] * step, r  # full gradients
        elif method in ("SAG", "SAGA"):
            n = meta["problems"][r["problem"]]["n"]
            assert evals == n + step, r  # the table at x0, then one per step
        elif method == "growing batch":
            n = meta["problems"][r["problem"]]["n"]
            sizes = np.append(batch_sizes(n, 1.1), [n] * step)
            assert evals == int(np.sum(sizes[:step])), r


def test_records_count_exactly_and_the_summary_ticks_every_check(quick_run):
    name, folder = quick_run
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["dtype"] == "float64"
    assert all(p["ref_grad_norm"] <= 1e-10 for p in meta["problems"].values())
    rows = records.read_records(folder)
    assert rows and {r["experiment"] for r in rows} == {name}
    _counts_are_exact(name, rows, meta)
    summary = (folder / "summary.md").read_text()
    assert "## Checks" in summary and "[ ]" not in summary


def _timed_curves(seconds_per_epoch, epochs_to_eps):
    """Stored curves of one timed problem as variance_reduction's report reads them: 10 epochs,
    the gap falling from 1 to 1e-12 and first below 1e-8 at ``epochs_to_eps[m]``."""
    epochs = np.linspace(0.0, 10.0, 41)
    curves = {}
    for m, per_epoch in seconds_per_epoch.items():
        reach = epochs_to_eps.get(m, np.inf)
        gap = np.where(epochs < reach, 1.0, 1e-9)
        curves[m] = {("mean", "f_gap"): gap, "epochs": epochs, "seconds_seed0": per_epoch * epochs}
    return curves


def test_variance_reduction_wallclock_checks_can_fail():
    """The wall-clock claims are fixed before the run (who comes first, by how much an epoch of
    batch-1 steps costs more), so records that contradict them fail them."""
    batch1 = ("SGD, constant step",) + methods.VR_METHODS
    infos = {"big": dict(wallclock=True, n=100_000), "small": dict(wallclock=True, n=200)}
    # Batch-1 epochs 20x GD's; L-BFGS first in seconds, SVRG first in epochs.
    cost = {**{m: 0.02 for m in batch1}, "GD, 1/L": 0.001, "GD, Armijo": 0.001, "L-BFGS": 0.001}
    reach = {"SVRG": 3.0, "SAGA": 4.0, "GD, Armijo": 6.0, "L-BFGS": 5.0}
    curves = {"big": _timed_curves(cost, reach), "small": _timed_curves(cost, reach)}
    good = wallclock.checks(curves, infos)
    assert len(good) == 3 and all(c["holds"] for c in good), good  # none for the small problem
    # Batch-1 epochs only 5x GD's; SAGA first in epochs; L-BFGS slower than SVRG in seconds.
    cost = {**cost, **{m: 0.005 for m in batch1}, "L-BFGS": 0.01}
    reach = {"SVRG": 3.0, "SAGA": 2.0, "GD, Armijo": 6.0, "L-BFGS": 6.0}
    bad = wallclock.checks({"big": _timed_curves(cost, reach)}, {"big": infos["big"]})
    assert [c["holds"] for c in bad] == [False, False, False], bad


def _growing_claim(script, gap, sizes):
    """variance_reduction's growing-batch R^2 verdict under the quick run's tolerance, from
    per-seed gaps (seeds, steps) logged at every step."""
    k = np.arange(gap.shape[1], dtype=float)
    diverged = np.zeros(len(gap), bool)
    mean = gap.mean(axis=0)
    _, r2, _ = rates.growing_rate({"step": k, ("mean", "f_gap"): mean}, sizes)
    se = rates.growing_r2_se(k, gap, diverged, sizes)
    z = script.QUICK["problems"][0]["gb_r2_z"]
    return r2, se, rates.growing_r2_holds(r2, se, z)[0]


def test_growing_batch_quick_claim_holds_for_linear_decay_and_fails_a_plateau():
    """The quick run allows gb_r2_z bootstrap standard errors of R^2, so that its verdict does not
    flip with the random stream; it still fails a curve that stops falling while |B_k| grows, at
    the quick run's seed count. The full run keeps the plain bound (no gb_r2_z)."""
    script = cli.load("variance_reduction")
    assert all("gb_r2_z" not in spec for spec in script.FULL["problems"])
    assert rates.growing_r2_holds(0.79, 0.05, 0.0) == (False, 0.8)
    assert not rates.growing_r2_holds(float("nan"), 0.05, 1.96)[0]
    seeds = script.QUICK["problems"][0]["gb_seeds"]
    sizes = batch_sizes(200, methods.GROWTH)  # 29 growing steps, as on the lecture problem (n = 200)
    k = np.arange(len(sizes) + 10)
    rng = np.random.default_rng(0)
    # per-seed noise of a few tenths in log, heavier in the early single-sample steps
    noise = np.exp(rng.normal(size=(seeds, len(k))) * np.where(k < 10, 1.0, 0.3))
    linear = 0.9 ** k * noise
    r2, se, holds = _growing_claim(script, linear, sizes)
    assert holds and r2 > 0.8 and 0 < se < 0.1, (r2, se)
    # a fast fall that stops at k = 12 while the batch still grows: not linear in k
    plateau = 0.7 ** np.minimum(k, 12) * noise
    r2, se, holds = _growing_claim(script, plateau, sizes)
    assert not holds, (r2, se)
