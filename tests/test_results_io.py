"""Result storage: tidy records in CSV or Parquet that read back alike, the config hash, the
no-silent-overwrite folder policy, and progress bars."""

from __future__ import annotations

import io
import json
import os
import re
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import problems
import sgd_bench as sb
from sgd_bench import progress
from sgd_bench_harness import experiment, results
from sgd_bench_harness import records
from sgd_bench_harness import folders

ROWS = [dict(method="SGD batch 1", step=0, loss=0.6931471805599453, note="a|b", diverged=False),
        dict(method="GD", step=10, loss=1e-300, extra=3, diverged=True)]


def test_csv_round_trip_keeps_types_and_exact_floats(tmp_path):
    path = records.write_records(tmp_path / "records", ROWS, format="csv")
    assert path.name == "records.csv"
    back = records.read_records(tmp_path)
    assert back[0] == {**ROWS[0], "extra": None}
    assert back[1] == {**ROWS[1], "note": None}


def test_parquet_round_trip_matches_csv(tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (installed by the test extra)")
    path = records.write_records(tmp_path / "records.csv", ROWS, format="parquet")
    assert path.name == "records.parquet"
    records.write_records(tmp_path / "other", ROWS, format="csv")
    assert records.read_records(path) == records.read_records(tmp_path / "other.csv")


def test_records_format_follows_pyarrow_and_the_override(monkeypatch):
    monkeypatch.setenv("SGD_BENCH_RECORDS", "csv")
    assert records.records_format() == "csv"
    monkeypatch.delenv("SGD_BENCH_RECORDS")
    try:
        import pyarrow  # noqa: F401
        expected = "parquet"
    except ImportError:
        expected = "csv"
    assert records.records_format() == expected
    with pytest.raises(ValueError, match="format must be one of parquet, csv"):
        records.write_records("x", ROWS, format="xlsx")


def test_config_hash_is_stable_and_sensitive():
    config = dict(seeds=10, batches=(1, 10), step=0.1)
    h = results.config_hash("exp", config, dtype="float64")
    assert len(h) == 12 and int(h, 16) >= 0
    # The same config after a JSON round trip (tuples become lists, key order changes).
    assert results.config_hash("exp", json.loads(json.dumps(dict(reversed(config.items())))),
                               dtype="float64") == h
    assert results.config_hash("exp", {**config, "seeds": 11}, dtype="float64") != h
    assert results.config_hash("exp", config, dtype="float32") != h
    assert results.config_hash("other", config, dtype="float64") != h
    assert results.config_hash("exp", config, dtype="float64", backend="gpu") != h


# -- output folders ----------------------------------------------------------------------------
def _finished(folder, digest):
    folder.mkdir(parents=True)
    (folder / "summary.md").write_text("earlier result\n")
    folders.mark(folder, folders.STATUS_COMPLETE, digest, {"created": "2026-01-01T00:00:00"})


def test_new_or_empty_folder_is_used(tmp_path):
    assert folders.output_folder(tmp_path / "new", "abc") == (tmp_path / "new", False)
    (tmp_path / "empty").mkdir()
    assert folders.output_folder(tmp_path / "empty", "abc") == (tmp_path / "empty", False)


def test_finished_result_is_never_overwritten_silently(tmp_path):
    _finished(tmp_path / "exp", "abc")
    said = []
    out, resume = folders.output_folder(tmp_path / "exp", "abc", log=said.append)
    assert out != tmp_path / "exp" and out.name.startswith("exp-") and not resume
    assert (tmp_path / "exp" / "summary.md").read_text() == "earlier result\n"
    assert "--overwrite" in said[0] and str(out) in said[0]
    # A different config goes to a new folder too.
    out2, _ = folders.output_folder(tmp_path / "exp", "other", log=said.append)
    assert out2 != tmp_path / "exp"


def test_overwrite_replaces_and_interrupted_resumes(tmp_path):
    _finished(tmp_path / "exp", "abc")
    out, resume = folders.output_folder(tmp_path / "exp", "abc", overwrite=True, log=lambda t: None)
    assert out == tmp_path / "exp" and not resume and not out.exists()
    (tmp_path / "run").mkdir()
    folders.mark(tmp_path / "run", folders.STATUS_RUNNING, "abc")
    assert folders.output_folder(tmp_path / "run", "abc", log=lambda t: None) == (tmp_path / "run", True)
    # An interrupted run of another config is not resumed.
    out, resume = folders.output_folder(tmp_path / "run", "xyz", log=lambda t: None)
    assert out != tmp_path / "run" and not resume


def test_foreign_folder_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match="not an sgd-bench result folder"):
        folders.output_folder(tmp_path / "mine", "abc", overwrite=True)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_experiment_options_are_applied_or_refused():
    import argparse

    args = argparse.Namespace(seeds=7, steps=None, dtype="float32")
    with pytest.raises(ValueError, match="does not take --dtype"):
        experiment.apply_overrides({"seeds": 2}, args, {"seeds": "seeds"}, "exp")
    config = experiment.apply_overrides({"seeds": 2, "dtype": "float64"}, args,
                                        {"seeds": "seeds", "dtype": "dtype"}, "exp")
    assert config == {"seeds": 7, "dtype": "float32"}


def test_at_least_names_the_option_and_the_reason():
    seeds = experiment.at_least("seeds", 3, "jackknife standard errors")
    assert seeds({"seeds": 8, "other": 1}, 3) == {"seeds": 3, "other": 1}
    with pytest.raises(ValueError, match=r"^--seeds must be >= 3 \(jackknife standard errors\)$"):
        seeds({"seeds": 8}, 2)
    steps = experiment.at_least("steps", lambda config: config["log_every"], "logged every", key="n_steps")
    assert steps({"log_every": 5}, 5) == {"log_every": 5, "n_steps": 5}
    with pytest.raises(ValueError, match=r"--steps must be >= 5"):
        steps({"log_every": 5}, 4)


def test_save_load_close_round_trip(tmp_path, capsys):
    folders.mark(tmp_path, folders.STATUS_RUNNING, "hash1", {"experiment": "exp"})
    checks = [dict(claim="a holds", measured={"x": 1.5, "y": [0.123456789, 2]}, holds=True),
              dict(claim="b holds", measured=None, holds=False, summary="b fails at k = 3")]
    experiment.save(tmp_path, rows=ROWS, meta={"config": {"seeds": 2}}, checks=checks)
    rows, meta, back = experiment.load(tmp_path)
    # what main marked survives, what the run stored is there
    assert meta["status"] == "running" and meta["config_hash"] == "hash1" and meta["config"] == {"seeds": 2}
    assert back == checks and [r["method"] for r in rows] == ["SGD batch 1", "GD"]
    assert experiment.check_lines(back) == "- [x] a holds (measured: {x: 1.5, y: [0.1235, 2]})\n- [ ] b fails at k = 3"
    experiment.close(tmp_path, "# text\n", checks=back, echo=True, header="exp: header",
                     tables=[(rows, ["method", "step"])], wall=2.0)
    assert (tmp_path / "summary.md").read_text() == "# text\n"
    printed = capsys.readouterr().out
    assert "exp: header" in printed and "SGD batch 1" in printed
    assert "[PASS] a holds" in printed and "[FAIL] b fails at k = 3" in printed and "in 2.0 s" in printed


def test_a_script_run_draws_progress_on_a_terminal_and_leaves_the_default(tmp_path):
    seen = []
    with progress.mode("off"):  # the library's default, whatever other tests set
        code = experiment.main(["--out", str(tmp_path / "r")], name="probe", doc=None, full={"k": 1},
                               quick={"k": 1}, run=lambda config, out: seen.append(progress.get_mode()))
        assert code == 0 and seen == ["auto"] and progress.get_mode() == "off"
    assert folders.read_meta(tmp_path / "r")["status"] == folders.STATUS_COMPLETE


def test_an_interrupted_script_resumes_from_its_stored_parts(tmp_path, capsys):
    calls, seen = [], []

    def compute(i):
        calls.append(i)
        return {"i": i, "x": 0.1 * i, "nan": float("nan"), "pair": (i, i + 1)}

    def interrupted(config, out):
        experiment.part(out, "n=1", lambda: compute(1))
        raise KeyboardInterrupt  # killed while computing the second part

    def whole(config, out):
        seen.append([experiment.part(out, f"n={i}", lambda i=i: compute(i)) for i in (1, 2)])

    args = dict(name="probe", doc=None, full={"k": 1}, quick={"k": 1})
    with pytest.raises(KeyboardInterrupt):
        experiment.main(["--out", str(tmp_path / "r")], run=interrupted, **args)
    assert folders.read_meta(tmp_path / "r")["status"] == folders.STATUS_RUNNING
    assert experiment.main(["--out", str(tmp_path / "r")], run=whole, **args) == 0
    assert calls == [1, 2]  # part 1 was not computed again
    (first, second), = seen
    assert first["x"] == 0.1 and np.isnan(first["nan"]) and first["pair"] == [1, 2] and second["i"] == 2
    assert "n=1: stored by the interrupted run, skipped" in capsys.readouterr().err
    assert folders.read_meta(tmp_path / "r")["status"] == folders.STATUS_COMPLETE
    assert not (tmp_path / "r" / experiment.PARTS).exists()  # removed once complete


def test_load_names_what_is_missing(tmp_path):
    folders.mark(tmp_path, folders.STATUS_COMPLETE, "h")
    with pytest.raises(FileNotFoundError, match=r"lacks checks.json, records: it holds no stored run"):
        experiment.load(tmp_path)


def test_curves_rebuild_arrays_from_tidy_rows():
    rows = []
    for method, scale in (("GD", 1.0), ("SGD", 2.0)):
        for statistic, shift in (("mean", 0.0), ("stderr", 0.5)):
            for step in (10, 0, 5):  # unordered on purpose
                rows.append(dict(figure="a", method=method, statistic=statistic, step=step,
                                 grad_evals=3 * step, f_gap=scale * step + shift))
    rows.append(dict(figure="b", method="GD", statistic="mean", step=0, grad_evals=0, f_gap=99.0))
    c = results.curves(rows, figure="a")
    assert list(c) == ["GD", "SGD"]
    np.testing.assert_array_equal(c["SGD"]["step"], [0, 5, 10])
    np.testing.assert_array_equal(c["SGD"]["grad_evals"], [0, 15, 30])  # same for every statistic
    np.testing.assert_array_equal(c["SGD"][("mean", "f_gap")], [0.0, 10.0, 20.0])
    np.testing.assert_array_equal(c["GD"][("stderr", "f_gap")], [0.5, 5.5, 10.5])
    assert "f_gap" not in c["GD"]  # it depends on the statistic, so only the pairs are kept
    b = results.curves(rows, by="figure", x="grad_evals", method="GD")
    np.testing.assert_array_equal(b["b"]["grad_evals"], [0])
    assert b["b"][("mean", "f_gap")].tolist() == [99.0]


# -- progress ----------------------------------------------------------------------------------
class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_modes(monkeypatch):
    monkeypatch.delenv("SGD_BENCH_PROGRESS", raising=False)
    with progress.mode("auto"):
        assert progress.enabled(_Tty()) and not progress.enabled(io.StringIO())
    with progress.mode("off"):
        assert not progress.enabled(_Tty())
        monkeypatch.setenv("SGD_BENCH_PROGRESS", "1")
        assert progress.enabled(io.StringIO())
    with pytest.raises(ValueError, match="mode must be one of"):
        with progress.mode("loud"):
            pass
    assert progress.get_mode() == "off"  # a refused mode leaves the default


def test_the_command_line_leaves_the_default_mode(capsys):
    from sgd_bench_harness import cli

    assert cli.main(["list"]) == 0  # it draws bars on a terminal inside, for its own command only
    assert "lecture_logreg" in capsys.readouterr().out
    assert progress.get_mode() == "off"


def test_bar_shows_rate_and_eta():
    bar = progress.Bar(1000, "SGD", stream=io.StringIO())
    assert bar.line(250, 2.0) == "SGD [######..................]  25%  250/1,000 steps  125 steps/s  ETA 0:06"
    assert bar.line(1000, 8.0).endswith("in 0:08")


def test_run_with_progress_draws_and_keeps_the_trace(capsys):
    p = problems.lecture_logreg()
    for method in (sb.gd(0.5), sb.sgd(0.1, 3)):
        plain = sb.run_seeds(p, method, p.zeros(), 0, seeds=3, steps=45, log_every=4, progress=False)
        shown = sb.run_seeds(p, method, p.zeros(), 0, seeds=3, steps=45, log_every=4, progress=True)
        # Same steps; XLA may fuse a one-chunk program differently, hence last-bit differences.
        np.testing.assert_allclose(np.asarray(plain.x), np.asarray(shown.x), rtol=1e-13, atol=1e-18)
        np.testing.assert_allclose(np.asarray(plain.loss), np.asarray(shown.loss), rtol=1e-13)
        np.testing.assert_array_equal(np.asarray(plain.grad_evals), np.asarray(shown.grad_evals))
        np.testing.assert_array_equal(np.asarray(plain.step), np.asarray(shown.step))
    err = capsys.readouterr().err
    assert "45/45 steps" in err and "SGD batch 3 x 3 seeds" in err
    single = sb.run(p, sb.sgd(0.1, 3), jnp.zeros(p.x_shape), 0, steps=45, log_every=4, progress=True)
    assert single.loss.shape == (13,)


# -- unwritable outputs, the folder lock, orphan folders, file modes, record checksums ----------
def test_an_output_path_that_cannot_be_written_is_refused_by_name(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"^--out .*file is a file, not a folder"):
        folders.output_folder(tmp_path / "file", "abc")
    with pytest.raises(ValueError, match=r"^--out .*file/sub/dir is inside .*file, which is a file"):
        folders.output_folder(tmp_path / "file" / "sub" / "dir", "abc")
    # A read-only mount (or someone else's folder): tests run as root here, so the check is
    # made to see what os.access would say there.
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == ro else real(p, mode))
    with pytest.raises(ValueError, match=r"^--out .*ro/new: cannot write in .*ro \(read-only or no permission\)"):
        folders.output_folder(ro / "new", "abc")
    assert list(ro.iterdir()) == []


def test_the_out_checks_reach_the_command_line_as_exit_2(tmp_path, capsys):
    from sgd_bench_harness import cli

    (tmp_path / "file").write_text("x")
    for argv in (["run", "--problem", "lecture-logreg", "--method", "gd", "--out", str(tmp_path / "file")],
                 ["run", "lecture_logreg", "--quick", "--out", str(tmp_path / "file")]):
        try:
            code = cli.main(argv)
        except SystemExit as exit:
            code = exit.code
        err = capsys.readouterr().err
        assert code == 2 and "is a file, not a folder" in err.strip().splitlines()[-1]
        assert "Traceback" not in err


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    out = tmp_path / "r"
    with folders.lock(out):
        assert (out / folders.LOCK_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(ValueError, match=rf"^--out .*r is in use by another sgd-bench run \(pid {os.getpid()}\)"):
            with folders.lock(out):
                pass
        # output_folder refuses too, before it reads the folder as interrupted or removes it
        folders.mark(out, folders.STATUS_RUNNING, "abc", {"experiment": "exp"})
        for overwrite in (False, True):
            with pytest.raises(ValueError, match="is in use by another sgd-bench run"):
                folders.output_folder(out, "abc", overwrite=overwrite)
        assert folders.read_meta(out)["status"] == "running"
    assert not (out / folders.LOCK_FILE).exists()  # released and removed
    assert folders.output_folder(out, "abc", log=lambda t: None) == (out, True)


def test_a_script_refuses_a_folder_another_run_holds(tmp_path, capsys):
    out = tmp_path / "r"
    ran = []
    with folders.lock(out):
        with pytest.raises(SystemExit) as exit:
            experiment.main(["--out", str(out)], name="probe", doc=None, full={}, quick={},
                            run=lambda config, o: ran.append(o))
    assert exit.value.code == 2 and not ran
    assert "is in use by another sgd-bench run" in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "r"
    out.mkdir()
    (out / folders.LOCK_FILE).write_text(f"{dead.pid}\n")  # as a killed run leaves it
    said = []
    with folders.lock(out, log=said.append):
        assert (out / folders.LOCK_FILE).read_text().strip() == str(os.getpid())
    assert said and f"taking over the lock of pid {dead.pid}, which is no longer running" in said[0]
    assert folders.output_folder(out, "abc") == (out, False)  # only the lock was there


def test_a_refused_script_run_leaves_no_orphan_folder(tmp_path):
    def refuses(config, out):
        raise ValueError("batch_size must be in [1, n]")

    with pytest.raises(ValueError, match="batch_size"):
        experiment.main(["--out", str(tmp_path / "r")], name="probe", doc=None, full={}, quick={}, run=refuses)
    assert not (tmp_path / "r").exists()

    def stores_then_refuses(config, out):
        experiment.part(out, "n=1", lambda: 1, log=lambda t: None)
        raise MemoryError("n = 10**10 does not fit")

    with pytest.raises(MemoryError):
        experiment.main(["--out", str(tmp_path / "s")], name="probe", doc=None, full={}, quick={},
                        run=stores_then_refuses)
    assert folders.read_meta(tmp_path / "s")["status"] == "running"  # its part is kept to resume


def test_new_files_follow_the_umask_and_rewrites_keep_the_mode(tmp_path):
    old = os.umask(0o027)
    try:
        results.write_text(tmp_path / "a.md", "a")
        results.write_json(tmp_path / "m.json", {"a": 1})
        records.write_records(tmp_path / "records", [dict(a=1)], format="csv")
        for name in ("a.md", "m.json", "records.csv"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name
        os.umask(0o022)
        results.write_text(tmp_path / "b.md", "b")
        assert (tmp_path / "b.md").stat().st_mode & 0o777 == 0o644
        # a committed file rewritten by report keeps its mode, never mkstemp's 0600
        (tmp_path / "a.md").chmod(0o664)
        results.write_text(tmp_path / "a.md", "rewritten")
        assert (tmp_path / "a.md").stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


def test_meta_json_carries_the_marker_and_the_records_digest(tmp_path):
    folders.mark(tmp_path, folders.STATUS_RUNNING, "h", {"experiment": "exp"})
    experiment.save(tmp_path, rows=ROWS, meta={"config": {}}, checks=[])
    meta = folders.read_meta(tmp_path)
    assert meta["written_by"] == "sgd-bench" and folders.is_result(meta)
    stored = meta["records"]
    assert stored["rows"] == len(ROWS) and stored == records.records_digest(tmp_path)
    assert records.verify_records(tmp_path, stored) is None
    path = tmp_path / stored["file"]
    if path.suffix == ".csv":  # cut at a row boundary: fewer rows, still a valid file
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
        assert f"has {len(ROWS) - 1} rows where the run wrote {len(ROWS)}" in records.verify_records(tmp_path, stored)
    else:
        path.write_bytes(path.read_bytes()[:-10])
        assert "checksum differs" in records.verify_records(tmp_path, stored)
    assert not folders.is_result({"foo": 1}) and not folders.is_result([1, 2])
    assert not folders.is_result({"experiment": "x", "status": "running"})  # no config hash


def test_a_meta_json_that_is_not_an_object_is_no_result(tmp_path):
    (tmp_path / "meta.json").write_text("[1, 2]")
    assert folders.read_meta(tmp_path) is None
    (tmp_path / "x.txt").write_text("theirs")
    with pytest.raises(ValueError, match="its meta.json is not sgd-bench's"):
        folders.output_folder(tmp_path, "abc", overwrite=True)
    assert (tmp_path / "x.txt").exists()


def test_meta_json_records_the_load_beside_the_wall_time(monkeypatch):
    monkeypatch.setattr(results.os, "getloadavg", lambda: (3.14159, 2.0, 1.0))
    meta = results.metadata_record("x", {}, dtype="float64", wall_seconds=1.5)
    assert meta["load_average"] == [3.14, 2.0, 1.0]
    assert meta["load_average_start"] == results.LOAD_AT_START
    assert meta["wall_seconds"] == 1.5 and len(results.LOAD_AT_START) == 3

    def unavailable():
        raise OSError("no load average here")
    monkeypatch.setattr(results.os, "getloadavg", unavailable)
    assert results.metadata_record("x", {}, dtype="float64")["load_average"] is None


# -- what meta.json and summary.md say ---------------------------------------------------------
def test_meta_records_the_command_main_was_given_not_the_hosts_argv(tmp_path, monkeypatch, capsys):
    """``cli.main([...])`` from Python recorded the host's sys.argv ("pytest ..."); the command is
    the argv main ran, quoted as a shell needs it (a path with a space)."""
    import shlex

    from sgd_bench_harness import cli

    monkeypatch.setattr("sys.argv", ["host.py", "--host-option"])
    out = tmp_path / "my runs"
    argv = ["run", "--problem", "lecture-logreg", "--method", "gd", "--seeds", "2", "--steps", "4",
            "--log-every", "2", "--out", str(out)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    meta = json.loads(next(out.glob("grid-*/meta.json")).read_text())
    assert meta["command"] == shlex.join(["sgd-bench", *argv])
    assert shlex.split(meta["command"])[1:] == argv  # it runs as it was run
    # the same for every run's metadata, inside the command line and outside it
    with results.recording_command(["sgd-bench", "run", "x y"]):
        assert results.metadata_record("e", {}, dtype="float64")["command"] == "sgd-bench run 'x y'"
    python = Path(sys.orig_argv[0]).name if hasattr(sys, "orig_argv") else "python"
    assert results.metadata_record("e", {}, dtype="float64")["command"] == f"{python} host.py --host-option"


def test_an_experiments_main_called_from_python_records_the_argv_it_was_given(tmp_path, monkeypatch):
    """``experiment.main(argv)`` recorded the host's sys.argv ("pytest ..."); it records the argv
    given, as the experiment's script takes it. Under ``sgd-bench run`` that command stays."""
    import shlex

    monkeypatch.setattr("sys.argv", ["host.py", "--host-option"])
    seen = []
    argv = ["--quick", "--out", str(tmp_path / "a b")]
    args = dict(name="probe", doc=None, full={}, quick={},
                run=lambda config, out: seen.append(results.metadata_record("probe", config, dtype="")["command"]))
    assert experiment.main(argv, **args) == 0
    assert shlex.split(seen[-1]) == ["python", "scripts/probe.py", *argv]
    with results.recording_command(["sgd-bench", "run", "probe"]):
        assert experiment.main(argv + ["--overwrite"], **args) == 0
    assert seen[-1] == "sgd-bench run probe"


def test_a_line_break_in_a_cell_keeps_the_markdown_table_whole():
    from markdown_it import MarkdownIt

    rows = [dict(a="first\nsecond", b="p|q\r\nr"), dict(a="plain", b="\n")]
    text = results.markdown_table(rows, ["a", "b"])
    assert len(text.splitlines()) == 4  # header, rule, two rows: no row broken in two
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<tr>") == 3 and html.count("<td>") == 4
    assert "<td>first second</td>" in html and "<td>p|q r</td>" in html


ODD_CELLS = ["a|b", "a\\|b", "a\\\\", "a\\", "\\", "|", "x\ny", "t\tb", "漢字", "e\u0301", "\\*x*"]


@pytest.mark.parametrize("text", ODD_CELLS)
def test_a_markdown_cell_renders_its_text_as_given(text):
    """A backslash before a | was lost (``a\\|b`` showed ``a|b``) and one at a cell's end escaped
    the cell's closing |; the rendered cell is the text (a line break read as a space)."""
    import html as html_module

    from markdown_it import MarkdownIt

    table = results.markdown_table([dict(a=text, b="next")], ["a", "b"])
    assert len(table.splitlines()) == 3
    rendered = MarkdownIt("commonmark").enable("table").render(table)
    cells = re.findall(r"<td>(.*?)</td>", rendered, re.S)
    shown = text.replace("\n", " ") if text != "\\*x*" else "\\<em>x</em>"  # * is Markdown's own
    assert [html_module.unescape(c) for c in cells] == [shown, "next"]


@pytest.mark.parametrize("text", ODD_CELLS)
def test_a_terminal_table_keeps_one_line_per_row_and_its_columns(text):
    """A line break in a cell broke the row in two and the alignment; a wide character counted
    one column. Every row is one line, and the next column starts at the same screen column."""
    import unicodedata

    def width(s):
        return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
                   for c in s)

    table = results.text_table([dict(a=text, b="|"), dict(a="x", b="|")], ["a", "b"])
    lines = table.splitlines()
    assert len(lines) == 4
    assert len({width(line[:line.rindex("|")]) for line in lines[2:]}) == 1
    assert text.replace("\n", "\\n").replace("\t", "\\t") in lines[2]
