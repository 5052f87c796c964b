"""The momentum experiment (``sgd_bench_harness.experiments.momentum_stochastic``): its quick run
(its row in tests/quick_runs.py) records float64 runs to exact references and counts gradient
evaluations exactly, one per step with batch 1 and n per step with full batches.

In a file of its own, apart from the other method-zoo experiments (test_zoo_scripts.py), because
its quick run is the longest of theirs: under ``--dist loadfile`` one worker runs it while
another runs theirs.
"""

import json

import quick_runs
from sgd_bench_harness import results

quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_experiment_momentum_stochastic")


def test_records_are_float64_to_exact_references_with_exact_counts(quick_root):
    folder = quick_root / "momentum_stochastic"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["dtype"] == "float64" and "## Checks" in (folder / "summary.md").read_text()
    n = {name: p["n"] for name, p in meta["problems"].items() if p["ref_grad_norm"] <= 1e-10}
    assert n.keys() == meta["problems"].keys()
    rows = results.read_records(folder)
    assert rows and {r["experiment"] for r in rows} == {"momentum_stochastic"}
    for r in rows:
        per_step = n[r["problem"]] if r["regime"] == "full batch" else 1
        assert isinstance(r["step"], int) and r["grad_evals"] == per_step * r["step"], r
