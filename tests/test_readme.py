"""The README stays true: its Python examples run, and its two set-up commands match CI."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_examples_run(index):
    exec(compile(_blocks("python")[index], f"README.md[python {index}]", "exec"), {})


def test_two_setup_commands_and_ci_runs_the_readme_test_command():
    bash = _blocks("bash")
    assert len(bash) >= 2
    main_cmd, test_cmd = bash[0].strip(), bash[1].strip()
    assert main_cmd.endswith("sgd-bench run")
    test_part = test_cmd.split("&&")[-1].strip()
    ci = (README.parent / ".ci" / "run").read_text()
    assert test_part in ci, f"CI must run the README's test command: {test_part!r}"
