"""sgd_bench.progress: the SGD_BENCH_PROGRESS switch is read strictly, in the library and on the
command line."""

import pytest

from sgd_bench import progress
from sgd_bench_harness import cli


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), (" 1 ", True), ("", None)])
def test_the_switch_reads_0_1_or_nothing(monkeypatch, value, expected):
    monkeypatch.setenv("SGD_BENCH_PROGRESS", value)
    assert progress.forced() is expected
    if expected is not None:
        assert progress.enabled() is expected


@pytest.mark.parametrize("value", ["bogus", "yes", "2", "true"])
def test_any_other_value_is_refused_not_read_as_auto(monkeypatch, value):
    monkeypatch.setenv("SGD_BENCH_PROGRESS", value)
    with pytest.raises(ValueError, match="SGD_BENCH_PROGRESS must be 0 or 1"):
        progress.enabled()


def test_the_command_line_refuses_it_before_running_anything(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SGD_BENCH_PROGRESS", "bogus")
    assert cli.main(["run", "lecture_logreg", "--quick", "--out", str(tmp_path / "out")]) == 2
    assert "SGD_BENCH_PROGRESS must be 0 or 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
