"""The lecture experiment's quick mode: runs through the CLI, writes the results layout, and
the small version of every claim its figures make holds.

The quick run is mostly compilation (one program per method), so it runs in a subprocess with
XLA's backend optimization level 0 (``XLA_FLAGS``), which cuts its compile time by a third; its
numbers agree with optimized code to ~1e-12, far below what the statistical checks resolve.
"""

import json

import pytest

import helpers

from sgd_bench import cli, results


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """``sgd-bench run lecture_logreg --quick``, in a subprocess."""
    out = tmp_path_factory.mktemp("results")
    helpers.run_quick(["lecture_logreg"], out)
    return out / "lecture_logreg"


def test_writes_the_results_layout(quick_run):
    assert results.find_records(quick_run).stat().st_size > 0
    for name in ["meta.json", "checks.json", "summary.md",
                 "lecture_logreg.png", "lecture_logreg_schedules.png"]:
        assert (quick_run / name).stat().st_size > 0, name
    meta = json.loads((quick_run / "meta.json").read_text())
    assert meta["dtype"] == "float64" and meta["status"] == "complete"
    assert meta["versions"]["jax"]
    assert meta["reference_solution"]["grad_norm"] <= 1e-10
    assert "git_commit" in meta and meta["devices"]


def test_report_rebuilds_figures_and_summary_from_the_records(quick_run):
    helpers.assert_report_rebuilds(quick_run, "lecture_logreg")


def test_records_are_tidy(quick_run):
    rows = results.read_records(quick_run)
    batch_rows = [r for r in rows if r["figure"] == "batches"]
    methods = {r["method"] for r in batch_rows}
    assert methods == {"GD", "SGD", "SGD batch 10", "SGD batch 50", "SGD batch 100"}
    assert {r["statistic"] for r in rows} == set(results.STATISTICS)
    # One row per method x statistic x logged step, with exact gradient counts.
    steps = sorted({r["step"] for r in batch_rows})
    assert len(batch_rows) == len(methods) * len(results.STATISTICS) * len(steps)
    for r in batch_rows:
        per_step = {"GD": 200, "SGD": 1}.get(r["method"]) or int(r["method"].split()[-1])
        assert r["grad_evals"] == per_step * r["step"]


def test_mean_rows_match_quantile_order(quick_run):
    rows = results.read_records(quick_run)
    by = {}
    for r in rows:
        by[(r["figure"], r["method"], r["step"], r["statistic"])] = r["f_gap"]
    for (fig, method, step, stat), value in by.items():
        if stat == "q05":
            assert value <= by[(fig, method, step, "q50")] <= by[(fig, method, step, "q95")]


def test_every_claim_holds_in_the_small_version(quick_run):
    checks = json.loads((quick_run / "checks.json").read_text())
    assert len(checks) >= 4
    failed = [c["claim"] for c in checks if not c["holds"]]
    assert not failed, failed


def test_unknown_experiment_is_a_clear_error(capsys):
    assert cli.main(["run", "no_such_experiment"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'no_such_experiment'" in err
    assert "known experiments:" in err and "lecture_logreg" in err
