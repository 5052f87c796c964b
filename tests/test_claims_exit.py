"""What a failed claim does to the exit status: the run writes its result (the claim as FAIL in
``checks.json`` and the summary), is marked complete, then exits with status 4;
``--allow-failed-claims`` exits 0. With several experiments, or ``--all``, every one runs and the
status is 4 at the end. Made-up experiments (``SGD_BENCH_SCRIPTS``) keep this fast."""

import json

import pytest

from sgd_bench_harness import cli, experiment

FAKE = '''"""A made-up experiment with one claim that holds and one that {verdict}."""
from sgd_bench_harness import experiment

NAME = "{name}"
DESCRIPTION = "fake {name}"
FULL = dict(x=2)
QUICK = dict(x=1)


def run(config, out):
    checks = [dict(claim="one and one make two", measured=2, holds=True),
              dict(claim="the plateau is flat", measured=1.6, holds={holds})]
    experiment.save(out, rows=[dict(x=config["x"])], meta=dict(experiment=NAME), checks=checks)
    experiment.close(out, "# " + NAME + "\\n", checks=checks, echo=True)


def main(argv=None):
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run)
'''


@pytest.fixture
def scripts(tmp_path, monkeypatch):
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name, holds in (("exp_fails", False), ("exp_holds", True)):
        verdict = "holds" if holds else "fails"
        (folder / f"{name}.py").write_text(FAKE.format(name=name, holds=holds, verdict=verdict))
    monkeypatch.setenv("SGD_BENCH_SCRIPTS", str(folder))
    return tmp_path


def test_a_failed_claim_exits_4_after_writing_the_result(scripts, capsys):
    out = scripts / "out"
    assert experiment.FAILED_CLAIMS == 4
    assert cli.main(["run", "exp_fails", "--quick", "--out", str(out)]) == 4
    captured = capsys.readouterr()
    assert "[FAIL] the plateau is flat" in captured.out
    assert captured.err.strip().splitlines()[-1].startswith(
        "sgd-bench: 1 of 2 claims of exp_fails failed (FAIL above; written to ")
    assert "exit status 4 (--allow-failed-claims exits 0)" in captured.err
    meta = json.loads((out / "exp_fails" / "meta.json").read_text())
    assert meta["status"] == "complete"  # a result, not a crash: report lists it, a rerun does not resume it
    assert [c["holds"] for c in json.loads((out / "exp_fails" / "checks.json").read_text())] == [True, False]


def test_allow_failed_claims_exits_0(scripts, capsys):
    out = scripts / "out"
    assert cli.main(["run", "exp_fails", "--quick", "--out", str(out), "--allow-failed-claims"]) == 0
    assert "exit status" not in capsys.readouterr().err
    # the script's own command line takes the flag too (python scripts/NAME.py ...)
    module = cli.load("exp_fails")
    assert module.main(["--quick", "--out", str(out / "direct"), "--allow-failed-claims"]) == 0
    assert module.main(["--quick", "--out", str(out / "direct"), "--overwrite"]) == 4


def test_claims_that_hold_exit_0(scripts, capsys):
    assert cli.main(["run", "exp_holds", "--quick", "--out", str(scripts / "out")]) == 0
    assert "failed" not in capsys.readouterr().err


@pytest.mark.parametrize("how", [["exp_fails", "exp_holds"], ["--all"]], ids=["names", "all"])
def test_every_experiment_runs_then_the_status_is_4(scripts, capsys, how):
    out = scripts / "out"
    assert cli.main(["run", *how, "--quick", "--out", str(out)]) == 4
    for name in ("exp_fails", "exp_holds"):  # the one after the failed claim ran too
        assert json.loads((out / name / "meta.json").read_text())["status"] == "complete"
    assert "claims failed in 1 of 2 experiments: exp_fails" in capsys.readouterr().err
    assert cli.main(["run", *how, "--quick", "--out", str(out / "again"), "--allow-failed-claims"]) == 0
