"""Running the README's main command in a fresh clone leaves ``git status`` clean: new runs go to
the git-ignored ``runs/``, and ``sgd-bench report`` writes its index there, not into the
committed gallery. The clone runs this checkout's code from its own tree (``python -m`` with the
clone first on the path), so nothing is installed again."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_readme_command_leaves_a_fresh_clone_clean(tmp_path):
    if shutil.which("git") is None or _git("rev-parse", "--git-dir", cwd=ROOT).returncode != 0:
        pytest.skip("not a git checkout (the test clones it)")
    clone = tmp_path / "clone"
    done = _git("clone", "--quiet", str(ROOT), str(clone), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _git("status", "--porcelain", cwd=clone).stdout == ""
    env = dict(os.environ, PYTHONPATH=str(clone), JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
    # The README's `sgd-bench run` in its quick size (the same code path), then `sgd-bench report`:
    # both through the clone's command line in one process (a second would import JAX, the
    # harness and matplotlib again, ~4 CPU s; `python -m sgd_bench` itself is test_cli's).
    both = ("import sys; from sgd_bench_harness.cli import main; "
            "sys.exit(main(['run', '--quick']) or main(['report', 'runs/_quick']))")
    run = subprocess.run([sys.executable, "-c", both], cwd=clone, env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    quick = clone / "runs" / "_quick"
    assert (quick / "lecture_logreg" / "summary.md").exists()
    assert (quick / "index.html").exists() and (quick / "lecture_logreg" / "summary.html").exists()
    assert _git("status", "--porcelain", "--untracked-files=all", cwd=clone).stdout == ""
