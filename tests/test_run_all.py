"""``sgd-bench run --all``: every experiment in turn with a line per experiment, resumable after
an interruption without redoing what the pass finished, and a default output that is not the
committed gallery."""

import json
from pathlib import Path

import pytest

from sgd_bench_harness import cli, experiment

FAKE = '''"""A made-up experiment for the --all tests."""
import os
from pathlib import Path
from sgd_bench_harness import experiment

NAME = "{name}"
DESCRIPTION = "fake {name}"
FULL = dict(x=2)
QUICK = dict(x=1)


def run(config, out):
    log = Path(os.environ["FAKE_LOG"])
    log.write_text(log.read_text() + NAME + "\\n" if log.exists() else NAME + "\\n")
    stop = Path(os.environ["FAKE_LOG"]).with_name("stop-" + NAME)
    if stop.exists():
        stop.unlink()
        raise KeyboardInterrupt
    experiment.save(out, rows=[dict(x=config["x"])], meta=dict(experiment=NAME), checks=[])
    experiment.close(out, "# " + NAME + "\\n", checks=[])


def main(argv=None):
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run)
'''


@pytest.fixture
def fake_scripts(tmp_path, monkeypatch):
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name in ("exp_a", "exp_b", "exp_c", "gpu_bench"):
        (folder / f"{name}.py").write_text(FAKE.format(name=name))
    monkeypatch.setenv("SGD_BENCH_SCRIPTS", str(folder))
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "log"))
    return tmp_path


def _ran(tmp_path):
    log = tmp_path / "log"
    names = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return names


def test_all_runs_every_experiment_and_resumes_where_it_stopped(fake_scripts, capsys):
    out = fake_scripts / "out"
    (fake_scripts / "stop-exp_b").touch()  # exp_b is interrupted (Ctrl-C) the first time
    assert cli.main(["run", "--all", "--quick", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "[1/3] exp_a: running" in err and "[1/3] exp_a: done in" in err and "[2/3] exp_b: running" in err
    assert "--all leaves out gpu_bench: JAX sees no accelerator" in err  # CPU here
    assert _ran(fake_scripts) == ["exp_a", "exp_b"]
    assert json.loads((out / cli.ALL_STATE).read_text())["done"].keys() == {"exp_a"}
    # the same command: exp_a is not run again, exp_b resumes in its own folder, exp_c follows
    assert cli.main(["run", "--all", "--quick", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "[1/3] exp_a: finished earlier in this pass" in captured.err
    assert _ran(fake_scripts) == ["exp_b", "exp_c"]
    assert "all 3 experiments done" in captured.out
    assert not (out / cli.ALL_STATE).exists()
    for name in ("exp_a", "exp_b", "exp_c"):
        assert experiment.read_meta(out / name)["status"] == "complete"
    assert sorted(p.name for p in out.iterdir()) == ["exp_a", "exp_b", "exp_c"]  # nothing beside them
    # a new pass with --overwrite redoes every experiment in place
    assert cli.main(["run", "--all", "--quick", "--out", str(out), "--overwrite"]) == 0
    assert _ran(fake_scripts) == ["exp_a", "exp_b", "exp_c"]
    assert sorted(p.name for p in out.iterdir()) == ["exp_a", "exp_b", "exp_c"]


@pytest.mark.parametrize("argv, message", [
    (["run", "--all", "exp_a"], "give either --all or experiment names"),
    (["run", "--all", "--problem", "lecture-logreg", "--method", "gd"], "--all runs the experiments"),
])
def test_all_refuses_what_it_cannot_mean(fake_scripts, capsys, argv, message):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
    assert _ran(fake_scripts) == []


def test_new_runs_default_to_the_ignored_runs_folder_not_the_gallery(fake_scripts, monkeypatch, capsys):
    root = Path(cli.__file__).resolve().parents[1]
    assert experiment.runs_root() == root / "runs" and "/runs/" in (root / ".gitignore").read_text().split()
    runs = fake_scripts / "runs"
    monkeypatch.setattr(experiment, "runs_root", lambda: runs)
    assert cli.main(["run", "exp_a", "--quick"]) == 0
    assert experiment.read_meta(runs / "_quick" / "exp_a")["status"] == "complete"
    assert cli.main(["run", "exp_a"]) == 0
    assert experiment.read_meta(runs / "exp_a")["status"] == "complete"
    # report's default folder is runs/ too (runs/_quick is scratch, left out of its index)
    assert cli.main(["report"]) == 0
    assert "exp_a" in (runs / "index.md").read_text() and (runs / "exp_a" / "summary.html").exists()
