"""The start-up benchmark (scripts/startup.py): its checks follow the timings both ways, the
report rebuilds from the stored records, and a command that fails stops the run with its
output. The timings here are synthetic: speed is measured by the script, never in tests."""

import json
import subprocess
import sys

import pytest

import helpers
from sgd_bench_harness import cli, records

startup = cli.load("startup")


def _run(tmp_path, monkeypatch, seconds):
    """``startup.run`` on the full config with ``seconds[(label, cache)]`` as every timing."""
    calls = []

    def fake(args, cache, out):
        label = next(l for l, a in startup.FULL["commands"] if tuple(a) == tuple(args))
        state = "warm" if cache in calls else "cold"
        calls.append(cache)
        return seconds[(label, state)]

    monkeypatch.setattr(startup, "_time_command", fake)
    out = tmp_path / "startup"
    out.mkdir()
    startup.run(dict(startup.FULL), out)
    return out, json.loads((out / "checks.json").read_text())


FAST = {("main job", "cold"): 20.0, ("main job", "warm"): 6.0, ("--quick", "cold"): 12.0, ("--quick", "warm"): 3.0}


def test_every_target_is_checked_and_holds_when_met(tmp_path, monkeypatch):
    out, checks = _run(tmp_path, monkeypatch, FAST)
    assert len(checks) == len(startup.TARGETS) and all(c["holds"] for c in checks)
    rows = records.read_records(out)
    # each command cold then warm, every repeat, each cold run with a cache folder of its own
    assert len(rows) == 2 * len(startup.FULL["commands"]) * startup.FULL["repeats"]
    assert {(r["command"], r["cache"]) for r in rows} == set(FAST)
    assert all(r["device"] and r["load_before"] >= 0 for r in rows)
    helpers.assert_report_rebuilds(out, "startup")


@pytest.mark.parametrize("slow", sorted(startup.TARGETS))
def test_a_missed_target_fails_its_check_only(tmp_path, monkeypatch, slow):
    seconds = dict(FAST)
    seconds[slow] = startup.TARGETS[slow] + 0.5
    _, checks = _run(tmp_path, monkeypatch, seconds)
    failed = [c for c in checks if not c["holds"]]
    assert len(failed) == 1
    label, state = slow
    assert state in failed[0]["claim"] and failed[0]["measured"]["median_seconds"] == seconds[slow]


def test_the_median_not_the_best_repeat_is_checked(tmp_path, monkeypatch):
    times = iter([31.0, 6.0, 12.0, 3.0, 29.0, 6.0, 12.0, 3.0, 33.0, 6.0, 12.0, 3.0])
    monkeypatch.setattr(startup, "_time_command", lambda args, cache, out: next(times))
    out = tmp_path / "startup"
    out.mkdir()
    startup.run(dict(startup.FULL), out)
    cold = next(c for c in json.loads((out / "checks.json").read_text()) if "cold" in c["claim"])
    assert cold["measured"]["median_seconds"] == 31.0 and not cold["holds"]


def test_a_failing_command_stops_the_run_with_its_output(tmp_path):
    with pytest.raises(RuntimeError, match="no-such-option"):
        startup._time_command(("run", "--no-such-option"), tmp_path / "cache", tmp_path / "out")


def test_each_command_records_its_cpu_seconds(tmp_path, monkeypatch):
    """The CPU seconds are those of the child processes a command ran (here a child that burns
    a fraction of a second), and the summary shows their medians beside the wall times."""
    def fake(args, cache, out):
        subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3 * 10**6))"], check=True)
        return 1.0

    monkeypatch.setattr(startup, "_time_command", fake)
    out = tmp_path / "startup"
    out.mkdir()
    startup.run(dict(startup.FULL, repeats=1), out)
    rows = records.read_records(out)
    assert rows and all(r["cpu_seconds"] > 0.01 for r in rows)
    assert "warm_cpu_s" in (out / "summary.md").read_text()


def test_records_without_cpu_seconds_rebuild_a_summary_without_them(tmp_path, monkeypatch):
    """Records written before the CPU column (results of 2026-12-06 and earlier) still report:
    the summary keeps the wall-time medians and leaves the CPU columns out."""
    times = iter([31.0, 6.0, 12.0, 3.0, 29.0, 6.0, 12.0, 3.0, 33.0, 6.0, 12.0, 3.0])
    monkeypatch.setattr(startup, "_time_command", lambda args, cache, out: next(times))
    out = tmp_path / "startup"
    out.mkdir()
    startup.run(dict(startup.FULL), out)
    rows = [{k: v for k, v in r.items() if k != "cpu_seconds"} for r in records.read_records(out)]
    path = records.write_records(out / "records", rows)
    meta = json.loads((out / "meta.json").read_text())
    meta["records"] = records.records_digest(path)
    (out / "meta.json").write_text(json.dumps(meta))
    startup.report(out)
    summary = (out / "summary.md").read_text()
    assert "cpu_s" not in summary and "| sgd-bench run | 31.0 | 6.0 |" in summary
