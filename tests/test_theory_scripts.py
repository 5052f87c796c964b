"""The theory experiments (rates_table, pl_bounds, minibatch_error): their quick runs go through
the CLI and write the results layout, every claim they record holds, and their summaries say
which bounds held (the checks every quick run passes: tests/quick_runs.py). (The committed full
runs' checks.json are not re-read here: a flag stored on disk cannot fail by any change of code.)

The quick runs are mostly compilation, so they run in one ``cli.main`` in the test process with
XLA's backend optimization level 0 (conftest's ``XLA_FLAGS``), which cuts their compile time by a third; their numbers
agree with optimized code to ~1e-12, far below what the statistical checks resolve.
"""

from __future__ import annotations

import json

import pytest

import quick_runs

from sgd_bench_harness import records

quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_theory_scripts")


@pytest.mark.parametrize("name", ["rates_table", "pl_bounds", "minibatch_error"])
def test_records_are_float64_statistics_by_step(quick_root, name):
    folder = quick_root / name
    assert json.loads((folder / "meta.json").read_text())["dtype"] == "float64"
    rows = records.read_records(folder)
    assert rows and {"statistic", "step"} <= set(rows[0])
    assert all(isinstance(r["step"], int) for r in rows if r["step"] is not None)


def test_quick_summaries_say_which_bounds_held(quick_root):
    pl = (quick_root / "pl_bounds" / "summary.md").read_text()
    assert "holds at every logged k" in pl and "sigma^2/100" in pl and "significantly fails first" in pl
    table = (quick_root / "rates_table" / "summary.md").read_text()
    for cell in ["O(log(1/eps))", "O(1/eps)", "O(1/eps^2)", "GD: measured", "SGD: measured"]:
        assert cell in table
    mb = (quick_root / "minibatch_error" / "summary.md").read_text()
    assert "B* measured" in mb and "(n-B)/(n-1) v/B" in mb
