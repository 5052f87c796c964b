"""The lecture experiment's quick mode: runs through the CLI, writes the results layout, and
the small version of every claim its figures make holds (the checks every quick run passes:
tests/quick_runs.py; here the lecture's own records and settings).

The quick run is mostly compilation (one program per method), so it runs in the test process
(``cli.main``) with XLA's backend optimization level 0 (conftest's ``XLA_FLAGS``), which cuts its compile time by a third; its
numbers agree with optimized code to ~1e-12, far below what the statistical checks resolve.
"""

import json

import numpy as np
import pytest

import quick_runs
from sgd_bench_harness import cli, results
from sgd_bench_harness import records
from sgd_bench_harness.experiments.lecture_logreg import slide


quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_lecture_script")


@pytest.fixture(scope="module")
def quick_run(quick_root):
    return quick_root / "lecture_logreg"


def test_meta_records_float64_and_the_reference_solution(quick_run):
    meta = json.loads((quick_run / "meta.json").read_text())
    assert meta["dtype"] == "float64"
    assert meta["reference_solution"]["grad_norm"] <= 1e-10


def test_records_are_tidy(quick_run):
    rows = records.read_records(quick_run)
    lbfgs = sorted((r for r in rows if r["figure"] == "batches" and r["method"] == "L-BFGS"
                    and r["statistic"] == "mean"), key=lambda r: r["step"])
    batch_rows = [r for r in rows if r["figure"] == "batches" and r["method"] != "L-BFGS"]
    methods = {r["method"] for r in batch_rows}
    assert methods == {"GD", "SGD", "SGD batch 10", "SGD batch 50", "SGD batch 100"}
    # L-BFGS: one full pass for f(x_0) and its gradient, then at least one per step (the line
    # search's trials); its FLOPs are GD's per pass times its passes.
    assert [r["step"] for r in lbfgs] == list(range(len(lbfgs))) and lbfgs[0]["grad_evals"] == 200
    passes = np.array([r["grad_evals"] for r in lbfgs]) / 200
    assert np.all(passes == np.round(passes)) and np.all(np.diff(passes) >= 1)
    gd_last = max((r for r in batch_rows if r["method"] == "GD"), key=lambda r: r["step"])
    gd_per_pass = gd_last["flops"] / gd_last["step"]
    np.testing.assert_allclose([r["flops"] for r in lbfgs], passes * gd_per_pass, rtol=1e-12)
    assert lbfgs[-1]["f_gap"] < 1e-12 < gd_last["f_gap"]  # quick run: GD is still far from f*
    # Single runs (the lecture-settings figure, as on the slide) are rows without a statistic.
    assert {r["statistic"] for r in rows if r["figure"] != "lecture_runs"} == set(results.STATISTICS)
    single = [r for r in rows if r["figure"] == "lecture_runs"]
    assert {r["method"] for r in single} == {f"{m}, run 0" for m in methods}
    # One row per method x statistic x logged step, with exact gradient counts.
    steps = sorted({r["step"] for r in batch_rows})
    assert len(batch_rows) == len(methods) * len(results.STATISTICS) * len(steps)
    for r in batch_rows:
        per_step = {"GD": 200, "SGD": 1}.get(r["method"]) or int(r["method"].split()[-1])
        assert r["grad_evals"] == per_step * r["step"]


def test_mean_rows_match_quantile_order(quick_run):
    rows = records.read_records(quick_run)
    by = {}
    for r in rows:
        by[(r["figure"], r["method"], r["step"], r["statistic"])] = r["f_gap"]
    for (fig, method, step, stat), value in by.items():
        if stat == "q05":
            assert value <= by[(fig, method, step, "q50")] <= by[(fig, method, step, "q95")]


def test_unknown_experiment_is_a_clear_error(capsys):
    assert cli.main(["run", "no_such_experiment"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'no_such_experiment'" in err
    assert "known experiments:" in err and "lecture_logreg" in err


def test_lecture_settings_reproduce_the_slide(quick_run):
    """The lecture-settings runs against the slide's read-off numbers, recomputed from the quick
    run's records (GD slope within 10%, B = 50 and 100 plateaus within 2x), and both FLOPs counts
    stored: the slide's 2 B d per step and XLA's."""
    rows = records.read_records(quick_run)
    meta = json.loads((quick_run / "meta.json").read_text())
    lecture = meta["lecture_settings"]
    assert lecture["sampling"] == "without replacement within a batch"
    checks = slide.checks([r for r in rows if r["figure"] == "lecture_settings"], lecture)
    assert [c["holds"] for c in checks] == [True, True, True], checks
    gd = [r for r in rows if r["figure"] == "lecture_settings" and r["method"] == "GD" and r["statistic"] == "mean"]
    last = max(gd, key=lambda r: r["step"])
    assert last["slide_flops"] == 2 * 200 * 10 * last["step"]  # the slide's 2 m d = 4,000 per step
    assert last["flops"] > last["slide_flops"]  # XLA counts more than the matrix-vector products
    # Drawn without replacement: a batch of B = m rows is the full gradient, so with B = n SGD
    # is GD exactly (the draw order does not change the mean).
    import jax
    import jax.numpy as jnp
    import numpy as np

    import problems
    import sgd_bench as sb

    jax.config.update("jax_enable_x64", True)
    problem = problems.lecture_logreg()
    x_star, _ = sb.reference_solution(problem)
    x0 = jnp.full(problem.x_shape, 1.3)
    loss, _ = slide.sgd_without_replacement(problem, x0, x_star, jax.random.split(jax.random.key(0), 2),
                                            0.09, problem.n, 10)
    gd_trace = sb.run(problem, sb.gd(0.09), x0, 0, steps=10, log_every=1)
    np.testing.assert_allclose(np.asarray(loss), np.broadcast_to(np.asarray(gd_trace.loss), (2, 11)), rtol=1e-12)
