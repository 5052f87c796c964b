"""The narrow/wide-minima experiment: the fraction of runs ending in the wide basin grows with
the step size (a statistical test with a fixed key and a standard-error tolerance), the sweep
equals the engine's own runs, and the quick run writes the results layout with every check true,
which its report rebuilds from the stored records alone (tests/quick_runs.py's table)."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

import problems.landscapes as landscapes
import quick_runs
import sgd_bench as sb
from sgd_bench_harness import cli, records
from sgd_bench_harness.experiments.local_minima import claims

# The quick config's shapes (4 step sizes, 256 seeds, 200 steps), so that the sweep compiled for
# the quick run below is reused here.
ALPHAS = (2.0, 3.0, 4.0, 5.0)
SEEDS, STEPS = 256, 200
KEY = 20240611  # fixed: the test is deterministic; the tolerance comes from the standard error
Z = 3.0


@pytest.fixture(scope="module")
def script():
    return cli.load("local_minima")


# In this process, so that the sweep compiled for the quick run is reused by the tests below.
quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_local_minima", in_process=True)


@pytest.fixture(scope="module")
def quick_run(quick_root):
    return quick_root / "local_minima"


@pytest.fixture(scope="module")
def starts():
    land = landscapes.landscape_1d()
    rng = np.random.default_rng(KEY)
    x0s = jnp.asarray(rng.uniform(-2.0, 2.0, (SEEDS, 1)))
    return land, x0s, sb.seed_keys(KEY, SEEDS)


def p_wide(land, xs):
    basin = land.basin(xs)
    p = np.mean(basin == 1)
    return p, np.sqrt(max(p * (1 - p), 0.25 / len(xs)) / len(xs))


def test_fraction_in_the_wide_basin_increases_with_the_step(script, starts):
    land, x0s, keys = starts
    zeros = jnp.zeros(len(ALPHAS))
    ends = np.asarray(script.sweep(land.problem, jnp.asarray(ALPHAS), zeros, x0s, keys, batch_size=1,
                                   steps=STEPS))
    stats = [p_wide(land, xs) for xs in ends]
    p = [s[0] for s in stats]
    assert p[0] < 0.05 and p[-1] > 0.9, p
    for (p_lo, se_lo), (p_hi, se_hi) in zip(stats, stats[1:]):
        if p_lo < 0.9:  # rising part: each larger step ends in the wide basin significantly more
            assert p_hi - p_lo > Z * np.hypot(se_lo, se_hi), p
        else:           # saturated: it stays there
            assert p_hi > p_lo - Z * np.hypot(se_lo, se_hi), p


def test_gd_small_steps_converge_medium_steps_bounce_large_steps_leave(script, starts):
    land, x0s, keys = starts
    alphas = jnp.asarray([3.0, 6.0, 12.0])
    ends = np.asarray(script.sweep(land.problem, alphas, jnp.zeros(3), x0s, keys, batch_size=None,
                                   steps=STEPS))
    narrow = land.minimum("narrow").x
    assert np.max(np.abs(ends[0] - narrow)) < 1e-8        # alpha < 2/h: converged into the narrow one
    assert p_wide(land, ends[0])[0] == 0.0
    # 2/h < alpha = 6: every run stays in the narrow basin without converging: it is away from
    # the minimum and one more GD step (NumPy's derivative of the mean loss) still moves it.
    assert np.all(land.basin(ends[1]) == 0)
    assert np.min(np.abs(ends[1] - narrow)) > 1e-3
    w = ends[1][:, 0]
    h = 1e-6
    f = lambda v: landscapes.numpy_losses(land, v[:, None])
    slope = (f(w + h) - f(w - h)) / (2 * h)
    assert np.min(np.abs(6.0 * slope)) > 1e-3
    assert p_wide(land, ends[2])[0] == 1.0                 # only a larger step leaves the basin


def test_sweep_equals_the_engines_runs(script, starts):
    """At a step where SGD contracts (at larger steps the iterates are chaotic, and the last bit
    of rounding, which depends on how XLA fuses a traced against a constant alpha, grows)."""
    land, x0s, keys = starts
    alphas = (0.5, 1.0, 1.5, 2.0)
    ends = np.asarray(script.sweep(land.problem, jnp.asarray(alphas), jnp.zeros(len(alphas)), x0s,
                                   keys, batch_size=1, steps=STEPS))
    single = sb.run(land.problem, sb.sgd(1.0, 1), x0s[5], keys[5], steps=STEPS, log_every=STEPS)
    np.testing.assert_allclose(ends[1, 5], single.x, rtol=1e-12)
    assert not np.allclose(ends[1, :10], ends[1, 5])  # the seeds differ


def test_transition_step_interpolates(script):
    assert claims.transition([1.0, 2.0, 4.0], [0.0, 0.25, 0.75]) == pytest.approx(3.0)
    assert claims.transition([1.0, 2.0], [0.6, 0.9]) == 1.0
    assert claims.transition([1.0, 2.0], [0.0, 0.4]) == float("inf")


def test_quick_meta_has_the_config_and_the_landscape(quick_run):
    meta = json.loads((quick_run / "meta.json").read_text())
    assert meta["dtype"] == "float64" and meta["config"]["seeds"] == 256
    assert meta["problem"]["1d"]["narrow_sharpness"] > 0.5


def test_records_have_one_row_per_cell(quick_run, script):
    stored = records.read_records(quick_run)
    rows = [r for r in stored if r["figure"] == "sweep"]
    config = script.QUICK
    one_d = [r for r in rows if r["landscape"] == "1d"]
    n_rows = len(config["alphas"]) * (1 + len(config["noise_batches"]) + len(config["batches"]))
    assert len(one_d) == n_rows
    assert {r["method"] for r in one_d} == {"GD", "SGD", "GD + Gaussian noise"}
    for r in rows:
        total = r["p_narrow"] + r["p_wide"] + r["p_plateau"]
        assert total == pytest.approx(1.0, abs=1e-12)
        assert r["seeds"] == config["seeds"]
    # The end points the figures draw: three 1-D cells and two 2-D cells, one row per seed.
    ends = [r for r in stored if r["figure"] == "endpoints"]
    assert len(ends) == 5 * config["seeds"]


def test_the_claims_that_held_by_construction_are_gone(quick_run):
    checks = json.loads((quick_run / "checks.json").read_text())
    # (a test loss that is the train loss shifted)
    assert not any("generalize" in c["claim"] for c in checks)
