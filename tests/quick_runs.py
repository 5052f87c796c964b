"""The experiment scripts' quick runs as one table: which test file runs which scripts, what each
quick run must write, and the checks every one of them passes (the results layout, a complete
meta.json, its claims listed in checks.json, and a ``report`` that rebuilds summary.md and the
figures from the stored files). Each test file keeps the checks of its own scripts' claims.

Each test file runs its scripts in one quick run of its own (``quick_run_tests``), so that
pytest-xdist's ``--dist loadfile`` runs the files' quick runs side by side; one file for all of
them would run them one after the other.
"""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

import helpers
from sgd_bench_harness import cli, records


@dataclasses.dataclass(frozen=True)
class QuickRun:
    """What one script's quick run must give: the test file that runs it, its figures, at least
    ``checks`` claims in checks.json, and whether every claim must hold (not where a claim is a
    timing, or the quick run is too small to decide it)."""

    file: str
    figures: tuple[str, ...]
    checks: int = 1
    all_hold: bool = True


SCRIPTS = {
    "rates_table": QuickRun("test_theory_scripts", ("rates_table.png",), 3),
    "pl_bounds": QuickRun("test_theory_scripts", ("pl_bounds.png", "pl_bounds_plateau.png"), 3),
    "minibatch_error": QuickRun("test_theory_scripts", ("minibatch_error.png", "minibatch_convergence.png"), 3),
    "momentum_stochastic": QuickRun("test_zoo_scripts", ("momentum_stochastic.png", "momentum_full_batch.png"), 4),
    "variance_reduction": QuickRun("test_zoo_scripts", ("variance_reduction.png", "variance_reduction_wallclock.png",
                                                        "variance_reduction_growing_batch.png"), 4),
    "two_phase": QuickRun("test_zoo_scripts", ("two_phase.png",), 4),
    "peers": QuickRun("test_harness_scripts", (), all_hold=False),
    "gd_vs_sgd_large_n": QuickRun("test_harness_scripts", ("gd_vs_sgd_large_n.png",), all_hold=False),
    "batch_cost": QuickRun("test_harness_scripts", (), all_hold=False),
    "gpu_bench": QuickRun("test_harness_scripts", (), 3, all_hold=False),
    "lecture_logreg": QuickRun("test_lecture_script", ("lecture_logreg.png", "lecture_logreg_schedules.png",
                                                       "lecture_logreg_lecture_settings.png"), 4),
    "local_minima": QuickRun("test_local_minima", ("local_minima.png", "local_minima_pwide.png",
                                                   "local_minima_heatmap.png", "local_minima_2d.png"), 9),
    # the quick run's few seeds cannot decide the sharpness claims either way
    "sharp_minima": QuickRun("test_sharp_minima", ("sharp_minima.png", "sharp_minima_scatter.png"), 3,
                             all_hold=False),
    "sparse_logreg": QuickRun("test_sparse_logreg", ("sparse_logreg.png", "sparse_logreg_seconds.png"), 5),
    "sgd_trajectories": QuickRun("test_trajectories", ("sgd_trajectories.png", "sgd_batch_gradients.png",
                                                       "sgd_trajectories_spread.png", "sgd_trajectories.gif"), 4),
}

# Scripts with no quick run in the tests, and why.
NO_QUICK_RUN = {
    "startup": "it times fresh interpreters; test_startup.py runs it on synthetic timings",
    "step_size_sweep": "test_step_size_sweep.py runs a smaller config than --quick through its run()",
}


def check_quick_run(folder, name: str) -> None:
    """Everything a quick run of ``name`` must have written into ``folder``."""
    spec = SCRIPTS[name]
    assert records.find_records(folder).stat().st_size > 0
    for file in ("meta.json", "checks.json", "summary.md", *spec.figures):
        assert (folder / file).stat().st_size > 0, file
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["experiment"] == name and meta["config_hash"]
    assert meta["versions"]["jax"] and meta["devices"] and "git_commit" in meta
    checks = json.loads((folder / "checks.json").read_text())
    assert len(checks) >= spec.checks and all(isinstance(c["holds"], bool) or (c["holds"] is None and c["skipped"])
                                              for c in checks), checks
    if spec.all_hold:
        failed = [c.get("summary", c["claim"]) for c in checks if c["holds"] is False]  # None: not evaluated
        assert not failed, failed
    helpers.assert_report_rebuilds(folder, name)


def quick_run_tests(file: str, *, in_process: bool = True):
    """The fixture ``quick_root`` (one quick run of the scripts of test file ``file``, into a
    temporary folder) and the test that checks each of them with ``check_quick_run``; a test
    file takes both as module names. The run goes through ``cli.main`` in the test's own process
    (which has conftest's XLA flags, x64 and compilation cache already): a subprocess
    (``in_process=False``) would import JAX, the harness, matplotlib and scikit-learn again, ~4
    CPU s a file, and is for a script that needs a fresh process."""
    names = [name for name, spec in SCRIPTS.items() if spec.file == file]
    assert names, f"no script of the table is run by {file}"

    @pytest.fixture(scope="module")
    def quick_root(tmp_path_factory):
        out = tmp_path_factory.mktemp("quick")
        if in_process:
            # a child process a script starts (peers' row 1 on every core) loads its programs
            # from the same persistent cache (JAX reads these variables when it starts)
            with pytest.MonkeyPatch.context() as env:
                for variable, value in helpers.cached_env().items():
                    if os.environ.get(variable) != value:
                        env.setenv(variable, value)
                assert cli.main(["run", *names, "--quick", "--out", str(out), "--allow-failed-claims"]) == 0
        else:
            helpers.run_quick(names, out)
        return out

    @pytest.mark.parametrize("name", names)
    def test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds(quick_root, name):
        check_quick_run(quick_root / name, name)

    return quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds
