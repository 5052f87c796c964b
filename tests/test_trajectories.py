"""The "SGD, batch = 2" experiment: the exact moment recursion against brute force, and the quick
run writes the pictures (PNG and an animated GIF) with every check true, which its report
rebuilds from the stored records alone (tests/quick_runs.py's table)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import quick_runs
from sgd_bench_harness import cli, records


@pytest.fixture(scope="module")
def script():
    return cli.load("sgd_trajectories")


quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_trajectories", in_process=True)


@pytest.fixture(scope="module")
def quick_run(quick_root):
    return quick_root / "sgd_trajectories"


def test_exact_moments_against_brute_force(script):
    """Two steps of batch-2 SGD on 4 points, every one of the 16 x 16 batch sequences written out."""
    rng = np.random.default_rng(0)
    A = np.stack([np.ones(4), rng.uniform(-0.5, 0.5, 4)], axis=1)
    y = rng.standard_normal(4)
    w_hat = np.linalg.lstsq(A, y, rcond=None)[0]
    w0, alpha = np.array([0.5, -1.0]), 0.7
    means, seconds, stationary = script.exact_moments(A, y, w_hat, w0, alpha, 2, 2)
    ends = []
    for b1, b2 in itertools.product(itertools.product(range(4), repeat=2), repeat=2):
        w = w0.copy()
        for batch in (b1, b2):
            Ab, yb = A[list(batch)], y[list(batch)]
            w = w - alpha * Ab.T @ (Ab @ w - yb) / 2
        ends.append(w - w_hat)
    ends = np.array(ends)
    np.testing.assert_allclose(means[2], ends.mean(0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(seconds[2], ends.T @ ends / len(ends), rtol=1e-12, atol=1e-14)
    # The fixed point is one: a step from it (with zero mean) returns it.
    _, again, _ = script.exact_moments(A, y, w_hat, w_hat, alpha, 2, 1)
    assert np.trace(stationary) > np.trace(again[1]) > 0


def test_quick_run_animates_every_step_and_finds_the_minimizer(quick_run, script):
    from PIL import Image

    with Image.open(quick_run / "sgd_trajectories.gif") as gif:
        assert gif.n_frames == script.QUICK["steps"] + 1   # one frame per step, k = 0..K
    meta = json.loads((quick_run / "meta.json").read_text())
    np.testing.assert_allclose(meta["problem"]["w_hat"], [3, 4], atol=0.3)


def test_records(quick_run, script):
    stored = records.read_records(quick_run)
    rows = [r for r in stored if r["figure"] == "runs"]
    methods = {r["method"] for r in rows}
    assert methods == {"SGD batch 2", "GD", "SGD batch 2 (exact recursion)"}
    config = script.QUICK
    steps = config["steps"]
    gd = [r for r in rows if r["method"] == "GD"]
    assert [r["step"] for r in gd] == list(range(steps + 1))
    assert all(r["grad_evals"] == 50 * r["step"] for r in gd)
    # What the animation draws: seed 0's path and its batches, the data, every seed's end point.
    count = {f: sum(r["figure"] == f for r in stored) for f in ("path", "batches", "data", "endpoints")}
    assert count == {"path": steps + 1, "batches": steps * config["batch"], "data": config["n"],
                     "endpoints": config["seeds"]}
