"""The scheduled version-range job (.github/workflows/versions.yml) and .ci/versions agree: the
workflow parses, runs on a schedule, calls only scripts that exist, asks .ci/versions for runs it
accepts, and tests the lower bounds on the oldest Python of requires-python. Also .ci/versions's
own refusals (a wrong interpreter for the lower bounds, an unknown run), which happen before it
builds anything."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "versions.yml"
VERSIONS = ROOT / ".ci" / "versions"


def _requires_python() -> SpecifierSet:
    return SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])


def _oldest_python() -> Version:
    lows = [Version(s.version) for s in _requires_python() if s.operator == ">="]
    assert len(lows) == 1, "requires-python should have one '>=' bound"
    return lows[0]


def _accepted_runs() -> set[str]:
    """The runs .ci/versions's usage case accepts (its 'a|b)' line)."""
    match = re.search(r"^\s*([a-z|]+)\)\s*;;", VERSIONS.read_text(), re.M)
    assert match, ".ci/versions has no 'lower|newest) ;;' case"
    return set(match.group(1).split("|"))


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_is_scheduled_and_can_be_started_by_hand():
    wf = _workflow()
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the bare key `on` as True
    assert "workflow_dispatch" in on
    crons = [entry["cron"] for entry in on["schedule"]]
    assert crons and all(len(c.split()) == 5 for c in crons), crons


def test_the_matrix_covers_both_ends_on_the_declared_pythons():
    (job,) = _workflow()["jobs"].values()
    matrix = job["strategy"]["matrix"]["include"]
    runs = [(row["which"], Version(str(row["python"]))) for row in matrix]
    assert {which for which, _ in runs} == _accepted_runs() == {"lower", "newest"}
    oldest = _oldest_python()
    # the lower bounds on the oldest Python we declare, and on it only
    assert [py for which, py in runs if which == "lower"] == [oldest]
    newest = sorted(py for which, py in runs if which == "newest")
    assert len(newest) >= 2 and newest[0] > oldest, newest
    assert all(str(py) in _requires_python() for _, py in runs), runs
    assert not job["strategy"].get("fail-fast", True)  # one Python failing hides no other


def test_every_step_calls_an_existing_script_with_a_run_it_accepts():
    (job,) = _workflow()["jobs"].values()
    commands = [step["run"] for step in job["steps"] if "run" in step]
    assert commands
    called = []
    for command in commands:
        for word in shlex.split(command):
            if word.startswith(".ci/"):
                path = ROOT / word
                assert path.is_file() and os.access(path, os.X_OK), word
                called.append(word)
    assert ".ci/versions" in called
    # the matrix variable it passes is the run name the matrix sets
    assert any(".ci/versions ${{ matrix.which }}" in c for c in commands), commands


def _fake_python(tmp_path: Path, version: str) -> Path:
    """An executable that answers .ci/versions's version question with ``version``."""
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho {version}\n")
    fake.chmod(0o755)
    return fake


def _versions(tmp_path, *args, python):
    env = {**os.environ, "PYTHON": str(python), "VENV": str(tmp_path / "venv")}
    return subprocess.run([str(VERSIONS), *args], env=env, capture_output=True, text=True, timeout=60)


def test_versions_refuses_a_lower_run_on_another_python_before_building(tmp_path):
    newer = f"{_oldest_python().major}.{_oldest_python().minor + 1}"
    done = _versions(tmp_path, "lower", python=_fake_python(tmp_path, newer))
    assert done.returncode == 2, done
    assert f"Python {newer}" in done.stderr and f"tested on {_oldest_python()}" in done.stderr
    assert not (tmp_path / "venv").exists()


@pytest.mark.parametrize("args", [[], ["oldest"]])
def test_versions_refuses_an_unknown_run(tmp_path, args):
    done = _versions(tmp_path, *args, python=_fake_python(tmp_path, str(_oldest_python())))
    assert done.returncode == 2 and "usage:" in done.stderr, done
    assert not (tmp_path / "venv").exists()
