"""The theory experiments (rates_table, pl_bounds, minibatch_error): their quick runs go through
the CLI, write the results layout, and every claim they record holds. (The committed full runs'
checks.json are not re-read here: a flag stored on disk cannot fail by any change of code.)

The quick runs are mostly compilation, so they run in one subprocess with XLA's backend
optimization level 0 (``XLA_FLAGS``), which cuts their compile time by a third; their numbers
agree with optimized code to ~1e-12, far below what the statistical checks resolve.
"""

from __future__ import annotations

import json

import pytest

import helpers

from sgd_bench_harness import records

SCRIPTS = {
    "rates_table": ["rates_table.png"],
    "pl_bounds": ["pl_bounds.png", "pl_bounds_plateau.png"],
    "minibatch_error": ["minibatch_error.png", "minibatch_convergence.png"],
}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """One ``sgd-bench run ... --quick`` of the three experiments, in one subprocess."""
    out = tmp_path_factory.mktemp("results")
    helpers.run_quick([*SCRIPTS], out)
    return out


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_quick_run_writes_the_layout_and_its_claims_hold(quick_runs, name):
    folder = quick_runs / name
    for file in ["meta.json", "checks.json", "summary.md", *SCRIPTS[name]]:
        assert (folder / file).stat().st_size > 0, file
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["dtype"] == "float64" and meta["experiment"] == name and meta["versions"]["jax"]
    assert meta["status"] == "complete"
    checks = json.loads((folder / "checks.json").read_text())
    assert len(checks) >= 3
    failed = [c.get("summary", c["claim"]) for c in checks if not c["holds"]]
    assert not failed, failed
    rows = records.read_records(folder)
    assert rows and {"statistic", "step"} <= set(rows[0])
    assert all(isinstance(r["step"], int) for r in rows if r["step"] is not None)


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_report_rebuilds_figures_and_summary_from_the_records(quick_runs, name):
    helpers.assert_report_rebuilds(quick_runs / name, name)


def test_quick_summaries_say_which_bounds_held(quick_runs):
    pl = (quick_runs / "pl_bounds" / "summary.md").read_text()
    assert "holds at every logged k" in pl and "sigma^2/100" in pl and "significantly fails first" in pl
    table = (quick_runs / "rates_table" / "summary.md").read_text()
    for cell in ["O(log(1/eps))", "O(1/eps)", "O(1/eps^2)", "GD: measured", "SGD: measured"]:
        assert cell in table
    mb = (quick_runs / "minibatch_error" / "summary.md").read_text()
    assert "B* measured" in mb and "(n-B)/(n-1) v/B" in mb
