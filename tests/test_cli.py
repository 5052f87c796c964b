"""The ``sgd-bench`` command line end to end, as a user runs it: list, a quick grid run, report,
bad input, and a run killed by a signal that resumes to the same records. A step runs in a
subprocess where the behaviour needs a fresh process (the command recorded as it was started, a
signal, the interpreter's exit, imports), else through ``cli.main`` in the test process."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sgd_bench_harness import experiment, results
from sgd_bench_harness import records
from sgd_bench_harness import folders

ROOT = Path(__file__).resolve().parents[1]


def _env():
    env = dict(os.environ, JAX_PLATFORMS="cpu", SGD_BENCH_PROGRESS="0")
    env.pop("SGD_BENCH_DEBUG", None)
    return env


def cli(*args, check=True, timeout=240):
    proc = subprocess.run([sys.executable, "-m", "sgd_bench", *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode:
        raise AssertionError(f"sgd-bench {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def in_process(args, capsys, monkeypatch):
    """``sgd-bench ARGS`` through ``cli.main`` in the test process, with the environment ``cli``'s
    subprocesses get (``_env``: no progress bars, no debug tracebacks), for a step that needs no
    fresh process (a subprocess imports JAX and compiles again, ~4 CPU s): the exit status and
    what it printed (``.out``, ``.err``)."""
    from sgd_bench_harness import cli as cli_module

    monkeypatch.setenv("SGD_BENCH_PROGRESS", "0")
    monkeypatch.delenv("SGD_BENCH_DEBUG", raising=False)
    capsys.readouterr()
    code = cli_module.main(args)
    return code, capsys.readouterr()


GRID = ["--problem", "lecture-logreg", "--method", "gd", "--method", "sgd:step=0.05,batch=10",
        "--method", "optax:adam,lr=0.01", "--seeds", "6", "--block", "2", "--steps", "60"]


def test_list_run_report(tmp_path, capsys, monkeypatch):
    """``run`` is a subprocess (meta.json records the command as it was started, ``python -m
    sgd_bench``); ``list`` and ``report`` run in-process."""
    code, listed = in_process(["list"], capsys, monkeypatch)
    assert code == 0, listed.err
    listing = listed.out
    for expected in ("lecture_logreg", "[default]", "lecture-logreg", "libsvm", "optax", "sgd",
                     "with_replacement", "lecture_decreasing"):
        assert expected in listing
    from sgd_bench import specs

    for name in specs.METHODS:  # every spec of the registry, each on its own line with its keys
        assert f"\n  {name:<22} {specs.method_catalog()[name]}\n" in listing
    run = cli("run", "--quick", *GRID, "--out", str(tmp_path))
    made = list(tmp_path.glob("grid-*"))
    assert len(made) == 1
    out = made[0]
    for method in ("gd", "sgd:step=0.05,batch=10", "optax:adam,lr=0.01"):
        assert method in run.stdout  # the table printed at the end
    assert "[9/9]" in run.stderr  # one progress line per cell: 3 methods x 3 seed blocks
    rows = records.read_records(out)
    assert len(rows) == 3 * 6 * 61  # methods x seeds x logged steps 0, 1, ..., 60
    assert {r["seed"] for r in rows} == set(range(6)) and {r["method"] for r in rows} == {
        "gd", "sgd:step=0.05,batch=10", "optax:adam,lr=0.01"}
    meta = folders.read_meta(out)
    assert meta["status"] == "complete" and meta["config_hash"] in out.name
    # a command to paste back, as it was started (was "sgd-bench ...", and before that "__main__.py ...")
    assert meta["command"] == shlex.join([Path(sys.executable).name, "-m", "sgd_bench", "run", "--quick",
                                          *GRID, "--out", str(tmp_path)])
    assert not (out / "cells").exists()  # merged into the records, then removed
    before = (out / "summary.md").read_text()
    (out / "summary.md").unlink()
    (out / "grid.png").unlink()
    code, report = in_process(["report", str(tmp_path)], capsys, monkeypatch)
    assert code == 0 and "rebuilt from records" in report.out, report.err
    assert (out / "summary.md").read_text() == before and (out / "grid.png").exists()
    index = (tmp_path / "index.md").read_text()
    assert out.name in index and (tmp_path / "index.html").exists()


@pytest.mark.parametrize("entry", ["sgd_bench", "sgd_bench_harness"])
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["run", "--help"], ["report", "--help"],
                                  ["list", "--bogus"]], ids=" ".join)
def test_help_version_and_refused_arguments_import_no_jax(entry, args):
    """``python -m sgd_bench --help`` imported JAX (2-3 CPU s): the package imported its whole
    surface, and the command line JAX before parsing. Python's own import log names every module."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", entry, *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == (2 if "--bogus" in args else 0), proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:") and line.count("|") == 2}
    assert "sgd_bench_harness.cli" in imported  # the log is read right
    heavy = {name for name in imported if name.split(".")[0] in ("jax", "jaxlib", "matplotlib", "numpy")}
    assert not heavy, sorted(heavy)[:5]


def test_the_lazy_package_gives_the_names_eager_imports_gave():
    """sgd_bench imports its names on first use (so that --help needs no JAX); a submodule imported
    first (``sgd_bench.sweep``, named like the function) must not hide the function."""
    code = ("import sys, inspect\n"
            "import sgd_bench\n"
            "assert 'jax' not in sys.modules\n"
            "from sgd_bench.sweep import Sweep\n"
            "import sgd_bench.lbfgs, sgd_bench.growing_batch, sgd_bench.lazy_saga, sgd_bench.lazy_sgd\n"
            "for name in ('sweep', 'lbfgs', 'growing_batch', 'lazy_saga', 'lazy_sgd', 'run', 'sgd'):\n"
            "    assert inspect.isfunction(getattr(sgd_bench, name)), name\n"
            "assert sgd_bench.runner.run is sgd_bench.run and sgd_bench.schedules.__name__ == 'sgd_bench.schedules'\n"
            "ns = {}\n"
            "exec('from sgd_bench import *', ns)\n"
            "assert set(sgd_bench.__all__) <= set(ns) <= set(dir(sgd_bench)) | {'__builtins__'}\n"
            "assert ns['FiniteSum'] is sgd_bench.FiniteSum and 'sweep' in dir(sgd_bench)\n"
            "try:\n"
            "    sgd_bench.no_such_name\n"
            "except AttributeError as err:\n"
            "    assert 'no_such_name' in str(err)\n"
            "else:\n"
            "    raise AssertionError('no AttributeError')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd="/", env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("args, message", [
    (["run", "--problem", "nosuch", "--method", "gd"], "unknown problem 'nosuch'"),
    (["run", "--problem", "lecture-logreg", "--method", "sgd:step=-1"], "step_size"),
    (["run", "--problem", "lecture-logreg"], "a grid needs --method"),
    (["run", "nosuch_experiment"], "unknown experiment 'nosuch_experiment'"),
    (["run", "lecture_logreg", "--dtype", "float32"], "does not take --dtype"),
    # batch_cost refuses --seeds: nothing runs, not even lecture_logreg named before it
    (["run", "lecture_logreg", "batch_cost", "--seeds", "5"], "batch_cost does not take --seeds"),
    (["run", "--seeds", "0"], "must be a positive integer"),
    # an experiment's own option goes on to it only when it is the one experiment named
    (["run", "lecture_logreg", "gd_vs_sgd_large_n", "--sizes", "10"], "go after its name, with one experiment named"),
    (["run", "gd_vs_sgd_large_n", "--sizes", "0"], "--sizes: must be a positive integer, got 0"),
    (["run", "lecture_logreg", "--sizes", "10"], "unrecognized arguments: --sizes 10"),
    (["list", "--bogus"], "unrecognized arguments: --bogus"),
    (["report", "/nonexistent/sgd-bench-results"], "no results folder"),
])
def test_bad_input_exits_2_with_one_line(args, message, capsys):
    from sgd_bench_harness import cli as cli_module

    try:  # in-process (a subprocess per case would spend its time importing jax)
        code = cli_module.main(args)
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err.strip().splitlines()[-1]  # the reason, on one line (after any usage)
    assert "Traceback" not in err


def test_bad_input_in_a_subprocess_has_no_traceback():
    proc = cli("run", "--problem", "lecture-logreg", "--method", "optax:adam", check=False)
    assert proc.returncode == 2 and "give the learning rate" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_killed_run_resumes_to_the_same_records(tmp_path, capsys, monkeypatch):
    """Only the run that is killed is a subprocess (it needs SIGSTOP and SIGKILL, and a pid that
    dies); the uninterrupted run, the refused second run and the resumed run run in-process."""
    args = ["run", "--problem", "lecture-logreg", "--method", "sgd:batch=2", "--method", "gd",
            "--seeds", "8", "--block", "2", "--steps", "400", "--log-every", "20"]
    whole = tmp_path / "whole"
    code, whole_run = in_process([*args, "--out", str(whole)], capsys, monkeypatch)
    assert code == 0, whole_run.err
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "sgd_bench", *args, "--out", str(killed)], cwd=ROOT,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        markers = list(killed.glob("grid-*/cells/*.json"))
        if markers or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGSTOP)  # paused mid-run: it still holds the folder's lock
    try:  # a second run into the same folder
        code, refused = in_process([*args, "--out", str(killed)], capsys, monkeypatch)
        assert code == 2 and f"is in use by another sgd-bench run (pid {proc.pid})" in refused.err
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    folder = next(killed.glob("grid-*"))
    stored = len(list(folder.glob("cells/*.json")))
    assert 1 <= stored < 8, "the kill must land after the first cell and before the last"
    assert folders.read_meta(folder)["status"] == "running"
    code, resumed = in_process([*args, "--out", str(killed)], capsys, monkeypatch)
    assert code == 0, resumed.err
    assert "resuming" in resumed.err and resumed.err.count("stored, skipped") == stored
    assert f"taking over the lock of pid {proc.pid}, which is no longer running" in resumed.err
    assert records.read_records(folder) == records.read_records(next(whole.glob("grid-*")))


def test_report_goes_on_past_a_result_it_cannot_rebuild(tmp_path, capsys):
    from sgd_bench_harness import cli as cli_module

    old = tmp_path / "pl_bounds"  # records in a layout this version's report does not read
    folders.mark(old, folders.STATUS_COMPLETE, "h", {"experiment": "pl_bounds", "devices": ["cpu:cpu"]})
    records.write_records(old / "records", [dict(method="SGD", step=0, loss=1.0)], format="csv")
    results.write_json(old / "checks.json", [dict(claim="c", measured=1.0, holds=True)])
    (old / "summary.md").write_text("as the run wrote it\n")
    assert cli_module.main(["report", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "not rebuilt: its stored files lack" in err and "older version of pl_bounds" in err
    assert (old / "summary.md").read_text() == "as the run wrote it\n"  # left as it was
    index = (tmp_path / "index.md").read_text()
    assert "pl_bounds" in index and "1/1 hold" in index and "not rebuilt" in index


# -- report rewrites only sgd-bench's own files, and refuses corrupted results -----------------
def _stored_result(folder, rows=4):
    """A finished result of an experiment this checkout does not have (report leaves its
    summary as written), with its records digest in meta.json."""
    folders.mark(folder, folders.STATUS_RUNNING, "h", {"experiment": "elsewhere"})
    experiment.save(folder, rows=[dict(method="GD", seed=s, loss=0.5 + s) for s in range(rows)],
                    meta={"experiment": "elsewhere", "devices": ["cpu:cpu"]}, checks=[])
    folders.mark(folder, folders.STATUS_COMPLETE, "h")
    (folder / "summary.md").write_text("as the run wrote it\n")


def _report(root, capsys):
    from sgd_bench_harness import cli as cli_module

    try:
        code = cli_module.main(["report", str(root)])
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", ["index.md", "index.html"])
def test_report_never_overwrites_the_users_own_index(tmp_path, capsys, name):
    _stored_result(tmp_path / "a")
    (tmp_path / name).write_text("my own notes\n")
    code, _, err = _report(tmp_path, capsys)
    assert code == 2 and f"{name} was not written by sgd-bench report" in err.strip().splitlines()[-1]
    assert (tmp_path / name).read_text() == "my own notes\n"
    # its own index, from an earlier report, it rewrites
    (tmp_path / name).unlink()
    assert _report(tmp_path, capsys)[0] == 0 and _report(tmp_path, capsys)[0] == 0


def test_a_result_reported_alone_keeps_its_link_to_the_index_above(tmp_path, capsys, monkeypatch):
    """``report results/NAME`` rewrote the page without the "all results" link that ``report
    results`` gave it (a committed page came out changed); as ".", the page lost the folder's name."""
    root = tmp_path / "gallery"
    _stored_result(root / "a")
    _stored_result(root / "deeper" / "b")
    assert _report(root, capsys)[0] == 0
    pages = {p: p.read_bytes() for p in root.rglob("summary.html")}
    assert b'href="../index.html">all results' in pages[root / "a" / "summary.html"]
    assert b'href="../../index.html">all results' in pages[root / "deeper" / "b" / "summary.html"]
    assert b"<em>a</em>" in pages[root / "a" / "summary.html"]
    for folder, given in [(root / "a", root / "a"), (root / "deeper" / "b", root / "deeper" / "b"),
                          (root / "a", "."), (root / "deeper" / "b", "../b")]:
        monkeypatch.chdir(folder)
        assert _report(given, capsys)[0] == 0
        assert {p: p.read_bytes() for p in root.rglob("summary.html")} == pages, given
    # a result with no index above it, or one that does not list it, links to none
    _stored_result(tmp_path / "alone")
    _report(tmp_path / "alone", capsys)
    assert b"all results" not in (tmp_path / "alone" / "summary.html").read_bytes()
    (root / "c").mkdir()
    _stored_result(root / "c" / "_new")  # "_" folders are scratch: not in the index above
    _report(root / "c" / "_new", capsys)
    assert b"all results" not in (root / "c" / "_new" / "summary.html").read_bytes()


def test_report_skips_folders_whose_meta_json_is_not_sgd_benchs(tmp_path, capsys):
    _stored_result(tmp_path / "a")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "meta.json").write_text('{"author": "me"}')
    (theirs / "summary.md").write_text("mine\n")
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "meta.json").write_text("[1, 2, 3]")
    code, out, err = _report(tmp_path, capsys)
    assert code == 0
    assert "theirs: skipped, its meta.json is not an sgd-bench result's" in err and "listed: skipped" in err
    assert (theirs / "summary.md").read_text() == "mine\n" and sorted(p.name for p in theirs.iterdir()) == [
        "meta.json", "summary.md"]
    index = (tmp_path / "index.md").read_text()
    assert "[a](a/summary.md)" in index and "theirs" not in index and "listed" not in index
    # a meta.json that is a JSON list, alone: no result at all (exit 2, one line)
    code, _, err = _report(listed, capsys)
    assert code == 2 and "no results in" in err.strip().splitlines()[-1]


def test_report_refuses_corrupted_results_loudly(tmp_path, capsys):
    _stored_result(tmp_path / "good")
    _stored_result(tmp_path / "cut")
    stored = records.find_records(tmp_path / "cut")
    if stored.suffix == ".csv":  # drop the last rows at a row boundary: still a valid file
        stored.write_text("".join(stored.read_text().splitlines(keepends=True)[:-2]))
    else:
        stored.write_bytes(stored.read_bytes()[:-20])
    _stored_result(tmp_path / "empty_meta")
    (tmp_path / "empty_meta" / "meta.json").write_text("")
    _stored_result(tmp_path / "bad_meta")
    (tmp_path / "bad_meta" / "meta.json").write_text('{"experiment": "elsewh')
    code, out, err = _report(tmp_path, capsys)
    assert code == 1
    assert "good: as written by the run" in out
    for folder, why in (("cut", "cut"), ("empty_meta", "meta.json is empty"),
                        ("bad_meta", "meta.json is not valid JSON")):
        assert f"{folder}: CORRUPTED, not rebuilt" in out
        assert (tmp_path / folder / "summary.md").read_text() == "as the run wrote it\n"
    assert "meta.json is empty" in err and "meta.json is not valid JSON" in err
    if records.find_records(tmp_path / "cut").suffix == ".csv":
        assert "records.csv has 2 rows where the run wrote 4" in err
    assert "3 corrupted result(s)" in err.strip().splitlines()[-1]
    index = (tmp_path / "index.md").read_text()
    assert index.count("| corrupted |") == 3


def test_a_grid_into_a_folder_another_run_holds_is_refused(tmp_path, capsys):
    from sgd_bench_harness import cli as cli_module
    from sgd_bench_harness import grid

    args = ["run", "--problem", "lecture-logreg", "--method", "gd", "--seeds", "2", "--steps", "5",
            "--out", str(tmp_path)]
    config = grid.grid_config(["lecture-logreg"], ["gd"], seeds=2, steps=5, log_every=None,
                              dtype="float64", key=0, block=grid.DEFAULT_BLOCK)
    folder = tmp_path / f"grid-{results.config_hash(grid.KIND, config, dtype='float64')}"
    with folders.lock(folder):
        folders.mark(folder, folders.STATUS_RUNNING, folder.name[5:], {"experiment": "grid"})
        code = cli_module.main(args)
    err = capsys.readouterr().err
    assert code == 2 and f"(pid {os.getpid()})" in err.strip().splitlines()[-1]
    assert not (folder / "records.csv").exists() and not (folder / "records.parquet").exists()


def test_report_leaves_a_result_that_a_run_is_writing(tmp_path, capsys):
    _stored_result(tmp_path / "busy")
    with folders.lock(tmp_path / "busy"):
        code, out, err = _report(tmp_path, capsys)
    assert code == 0 and f"busy: not rebuilt: a run is writing it now (pid {os.getpid()})" in out
    assert (tmp_path / "busy" / "summary.md").read_text() == "as the run wrote it\n"


def test_report_finds_results_under_a_folder_named_like_a_piece_of_one(tmp_path, capsys):
    root = tmp_path / "cells" / "results"  # "cells" above the root is no grid's cells folder
    _stored_result(root / "a")
    code, out, _ = _report(root, capsys)
    assert code == 0 and "a: as written by the run" in out


# -- sparse problems through the command line (issue 14) ----------------------------------------
def _grid_main(args, capsys):
    """``sgd-bench ARGS`` in-process, which must succeed."""
    from sgd_bench_harness import cli as cli_module

    assert cli_module.main(args) == 0, capsys.readouterr().err
    capsys.readouterr()


def _sklearn_objective(X, y, mu):
    """f* of (1/n) sum log(1 + exp(-y <a, x>)) + mu/2 ||x||^2 from scikit-learn's own solver
    (C = 1/(n mu) gives its sum-scale objective n f), to compare with the grid's reference."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    n = X.shape[0]
    fit = LogisticRegression(C=1.0 / (n * mu), fit_intercept=False, tol=1e-12, max_iter=10_000,
                             solver="lbfgs").fit(X, y)
    w = fit.coef_.ravel()
    z = y * (X @ w)
    return float(np.mean(np.logaddexp(0.0, -z)) + 0.5 * mu * w @ w)


def test_sparse_logreg_spec_runs_on_sparse_rows(tmp_path, capsys):
    import numpy as np

    import problems

    spec = "sparse-logreg:n=200,d=150,density=0.05,mu=0.01,seed=3"
    _grid_main(["run", "--problem", spec, "--method", "gd", "--method", "saga",
                "--method", "sgd:batch=8", "--seeds", "2", "--steps", "40", "--log-every", "10",
                "--out", str(tmp_path)], capsys)
    out = next(tmp_path.glob("grid-*"))
    rows = records.read_records(out)
    assert {r["method"] for r in rows} == {"gd", "saga", "sgd:batch=8"}
    assert len(rows) == 3 * 2 * 5  # methods x seeds x logged steps 0, 10, ..., 40
    problem = problems.get("sparse-logreg", n=200, d=150, density=0.05, mu=0.01, seed=3)
    assert problems.sparse.is_sparse(problem) and problem.data[0].cols.shape[1] < 150
    n = problem.n
    evals = {(r["method"], r["step"]): r["grad_evals"] for r in rows if r["seed"] == 0}
    assert evals["gd", 40] == 40 * n and evals["saga", 40] == n + 40 and evals["sgd:batch=8", 40] == 320
    # f* of the grid's float64 reference against scikit-learn's solver on the same CSR matrix
    X = problems.sparse.csr_of(problem)
    y = np.asarray(problem.data[1])
    f_star = folders.read_meta(out)["f_star"][spec][0]
    assert f_star == pytest.approx(_sklearn_objective(X, y, 0.01), rel=1e-9, abs=1e-12)
    final = {r["method"]: r["f_gap"] for r in rows if r["step"] == 40}
    assert all(0 <= gap < rows[0]["loss"] - f_star for gap in final.values())  # each made progress


def test_libsvm_spec_runs_a_file_written_by_scikit_learn(tmp_path, capsys):
    """``--problem libsvm:path=...`` on a sparse svmlight file: the grid's GD iterates equal a
    NumPy GD loop on the densified matrix at the same step (1/L from NumPy's eigenvalues)."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    import problems

    n, d, mu = 120, 150, 0.01  # d = 400: the grid's f* (twice, dense Newton) took 6 s of 10 in 400 x 400 SVDs
    rng = np.random.default_rng(7)
    X = sp.random(n, d, density=0.02, format="lil", random_state=7)
    for i in range(n):  # no empty rows: a sample needs a feature
        X[i, (5 * i) % d] = 1.0 + 0.01 * i
    y = rng.integers(0, 2, n)  # {0, 1}: the reader maps them to {-1, +1}
    path = tmp_path / "toy.svm"
    dump_svmlight_file(X.tocsr(), y, str(path))
    spec = f"libsvm:path={path},mu={mu}"
    _grid_main(["run", "--problem", spec, "--method", "gd", "--method", "sgd:batch=4",
                "--seeds", "1", "--steps", "20", "--log-every", "20", "--out", str(tmp_path / "out")],
               capsys)
    assert problems.sparse.is_sparse(problems.get("libsvm", path=str(path), mu=mu))
    rows = records.read_records(next((tmp_path / "out").glob("grid-*")))
    A = X.toarray()
    A = A[:, : max(np.flatnonzero(A.any(axis=0))) + 1]  # the file's columns end at its last feature
    t = np.where(y == 1, 1.0, -1.0)
    L = np.linalg.eigvalsh(A.T @ A / n)[-1] / 4 + mu
    x = np.zeros(A.shape[1])
    for _ in range(20):
        s = -t / (1 + np.exp(t * (A @ x)))
        x -= (A.T @ s / n + mu * x) / L
    f = np.mean(np.logaddexp(0.0, -t * (A @ x))) + 0.5 * mu * x @ x
    gd = next(r for r in rows if r["method"] == "gd" and r["step"] == 20)
    assert gd["loss"] == pytest.approx(f, rel=1e-11)
    sgd = next(r for r in rows if r["method"] == "sgd:batch=4" and r["step"] == 20)
    assert sgd["grad_evals"] == 80 and sgd["loss"] < np.log(2)
