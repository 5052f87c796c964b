"""Two JAX processes on localhost form one job (``python -m sgd_bench_harness.launch``): sharded GD and
SGD give each process the same result, equal to a one-process run and (GD) to a NumPy loop; a
process that dies stops the job with a clear message within a bounded time; bad arguments and a
too-old jax are refused in one line."""

import json
import os
import subprocess
import sys
import textwrap
import time

import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import sgd_bench as sb
from sgd_bench_harness import launch

N, D, STEPS, STEP, BATCH = 800, 6, 30, 0.5, 16

# Runs in every process of the job. Each process reads the same data file and writes what it got.
_TARGET = textwrap.dedent("""
    import json, os, signal, sys, time
    from pathlib import Path
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import problems
    import sgd_bench as sb

    out, mode = Path(sys.argv[1]), sys.argv[2]
    me = jax.process_index()
    if mode == "die":
        if me == 1:
            (out / "died_at").write_text(repr(time.time()))
            os.kill(os.getpid(), signal.SIGKILL)
        # Process 0 waits on its dead peer in a collective: only the launcher can end this.
        jax.block_until_ready(jax.jit(jnp.sum)(sb.shard(problems.logistic_regression(
            np.ones((8, 2)), np.ones(8))).data[0]))
        time.sleep(3600)
    data = np.load(out / "data.npz")
    problem = sb.shard(problems.logistic_regression(data["A"], data["y"], 0.1).replace(block_rows=50))
    record = {"processes": jax.process_count(), "devices": len(jax.devices()),
              "local_devices": len(jax.local_devices()), "shards": problem.shards,
              "local_rows": sorted(int(s.data.shape[0]) for s in problem.data[0].addressable_shards)}
    for kind, method in [("gd", sb.gd(%(STEP)r)), ("sgd", sb.sgd(%(STEP)r, %(BATCH)r))]:
        trace = sb.run(problem, method, jnp.full(%(D)r, 0.3), 0, steps=%(STEPS)r, log_every=10)
        record[kind] = {"x": np.asarray(trace.x).tolist(), "loss": np.asarray(trace.loss).tolist()}
    (out / f"process_{me}.json").write_text(json.dumps(record))
    print("finished process", me)
""") % dict(STEP=STEP, BATCH=BATCH, D=D, STEPS=STEPS)


def _start(tmp, mode, *extra):
    """Starts a two-process job; its output goes to files, read once it has ended. JAX's
    persistent compilation cache is on in its environment, in a folder of its own: under jax
    0.12.1 a job that used it hung (the launcher turns it off in every process)."""
    tmp.mkdir(exist_ok=True)
    script = tmp / "target.py"
    script.write_text(_TARGET)
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_COMPILATION_CACHE_DIR=str(tmp / "jax-cache"),
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    with open(tmp / "stdout", "wb") as out, open(tmp / "stderr", "wb") as err:
        return subprocess.Popen([sys.executable, "-m", "sgd_bench_harness.launch", "-n", "2", *extra, "--",
                                 str(script), str(tmp), mode], env=env, stdout=out, stderr=err)


def _ended(proc, tmp, timeout):
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, (tmp / "stdout").read_text(), (tmp / "stderr").read_text()


def _data():
    return helpers.logistic_data(N, D, seed=0)


def _jax_too_old() -> str:
    """Why two processes cannot run here ('' when they can): the launcher refuses jax < 0.4.35,
    as documented (test_older_jax_is_refused checks the refusal on every version)."""
    try:
        launch.check_jax()
    except RuntimeError as err:
        return str(err)
    return ""


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """Both jobs run at once (the dying one idles while the other computes): the file's time is
    about that of one job."""
    if _jax_too_old():
        pytest.skip(f"the launcher refuses this jax: {_jax_too_old()}")
    run, die = tmp_path_factory.mktemp("run"), tmp_path_factory.mktemp("die")
    A, y = _data()
    np.savez(run / "data.npz", A=A, y=y)
    # --timeout: a job that hangs fails with the launcher's line, not the fixture's TimeoutExpired
    procs = {"run": _start(run, "run", "--timeout", "200"), "die": _start(die, "die", "--grace", "2")}
    try:
        died = _ended(procs["die"], die, 120)
        stopped_at = time.time()
        ran = _ended(procs["run"], run, 240)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
    return {"run": (ran, run), "die": (died, die, stopped_at)}


@pytest.fixture(scope="module")
def job(jobs):
    (code, out, err), tmp = jobs["run"]
    assert code == 0, out[-2000:] + err[-4000:]
    records = [json.loads((tmp / f"process_{i}.json").read_text()) for i in range(2)]
    return out, records


def test_two_processes_form_one_job(job, jobs):
    out, records = job
    for r in records:
        assert r["processes"] == 2 and r["devices"] == 4 and r["local_devices"] == 2
        assert r["shards"] == 4
        assert r["local_rows"] == [N // 4, N // 4]  # each process holds only its half of the rows
    assert "[0] finished process 0" in out.splitlines()
    assert "[1] finished process 1" in out.splitlines()
    # The cache folder is set in the job's environment, and process 0 would write there every
    # program it compiles: nothing is written, so no process loaded a program from it either.
    folder = jobs["run"][1] / "jax-cache"
    assert not folder.exists() or not any(folder.iterdir()), sorted(p.name for p in folder.iterdir())


def test_both_processes_get_the_same_result(job):
    _, (a, b) = job
    assert a["gd"] == b["gd"] and a["sgd"] == b["sgd"]  # bit for bit


@pytest.mark.parametrize("kind", ["gd", "sgd"])
def test_two_processes_match_one_process(job, kind):
    _, records = job
    A, y = _data()
    problem = problems.logistic_regression(A, y, 0.1).replace(block_rows=50)
    method = sb.gd(STEP) if kind == "gd" else sb.sgd(STEP, BATCH)
    x0 = jnp.full(D, 0.3)
    one = sb.run(problem, method, x0, 0, steps=STEPS, log_every=10)
    x_one, loss_one = np.asarray(one.x), np.asarray(one.loss)
    assert np.max(np.abs(x_one - 0.3)) > 0.1  # the runs moved
    for r in records:
        np.testing.assert_allclose(r[kind]["x"], x_one, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r[kind]["loss"], loss_one, rtol=0, atol=1e-12)
    if kind == "gd":  # and GD against a NumPy loop, independent of the code under test
        x = np.full(D, 0.3)
        for _ in range(STEPS):
            x = x - STEP * helpers.np_logistic_grad(A, y, 0.1, x)
        for r in records:
            np.testing.assert_allclose(r["gd"]["x"], x, rtol=0, atol=1e-12)


def test_a_dead_process_stops_the_job(jobs):
    (code, _, err), tmp, stopped_at = jobs["die"]
    assert code == 1, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last == "sgd-bench launch: process 1 of 2 was killed by SIGKILL; stopped the 1 still running"
    # Bounded: the launcher polls every 0.05 s and waits at most --grace (2 s) before SIGKILL.
    assert stopped_at - float((tmp / "died_at").read_text()) < 10.0


def test_older_jax_is_refused(monkeypatch, capsys):
    with pytest.raises(RuntimeError, match=r"need jax >= 0\.4\.35.*this is jax 0\.4\.30"):
        launch.check_jax("0.4.30")
    launch.check_jax("0.4.35")
    launch.check_jax("0.10.2")
    launch.check_jax("0.5.0rc1")

    class Old:
        PackageNotFoundError = Exception

        @staticmethod
        def version(name):
            return "0.4.34"

    monkeypatch.setattr(launch, "metadata", Old)
    assert launch.main(["-n", "2", "--", "-c", "pass"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "jax >= 0.4.35" in err[0] and "0.4.34" in err[0], err
    # a bad argument is named first, on an old jax too
    assert launch.main(["-n", "0", "--", "-c", "pass"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "-n must be an integer >= 1, got 0" in err[0], err


@pytest.mark.parametrize("argv, says", [
    (["-n", "0", "--", "-c", "pass"], "-n must be an integer >= 1, got 0"),
    (["-n", "2", "-d", "0", "--", "-c", "pass"], "-d must be an integer >= 1, got 0"),
    (["-n", "2", "--"], "target is empty"),
    (["-n", "2", "--", "no_such_script.py"], "target script 'no_such_script.py' is not a file"),
    (["-n", "2", "--", "-m"], "target -m needs an argument"),
    (["-n", "2", "--", "--grace"], "target must be a script, -m MODULE or -c CODE"),
    (["-n", "2", "--grace", "-1", "--", "-c", "pass"], "--grace must be >= 0"),
])
def test_bad_arguments_get_one_line(argv, says, capsys):
    assert launch.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_the_child_entry_refuses_to_run_by_hand(monkeypatch):
    from sgd_bench_harness import _launch_child

    monkeypatch.delenv(launch.ENV, raising=False)
    with pytest.raises(SystemExit, match="started by python -m sgd_bench_harness.launch"):
        _launch_child.main()
