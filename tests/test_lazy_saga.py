"""sgd_bench.lazy_saga: the lazy ("just-in-time") SAGA update on sparse rows gives the eager
SAGA iterates (``saga(linear=True)``) to 1e-12 in float64, logged losses and counts included,
with and without the ridge, for batch 1 and batch 3, under vmap over seeds; and it refuses what
it cannot run."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import sgd_bench as sb

N, D = 40, 30


def _problem(mu):
    return helpers.small_sparse_logistic(mu, N, D)


@pytest.mark.parametrize("mu, batch, sampling, seeds", [(0.05, 1, "with_replacement", 2), (0.0, 1, "cyclic", None),
                                                       (0.05, 3, "reshuffle", None)])
def test_lazy_equals_eager(mu, batch, sampling, seeds):
    problem = _problem(mu)
    x0 = jnp.zeros(D)
    steps = 6 * N  # six passes: every coordinate deferred over many steps
    # the default step 1/(3 L_max) in the first case, a longer one in the others
    step = None if seeds else 1 / (2 * problem.info["L_max"])
    eager, lazy = sb.saga(step, batch, sampling, linear=True), sb.lazy_saga(step, batch, sampling)
    if seeds:  # under vmap over seeds: the iterate is brought up to date per seed
        eager, lazy = (sb.run_seeds(problem, m, x0, 0, seeds=seeds, steps=steps, log_every=N // 2)
                       for m in (eager, lazy))
    else:
        eager, lazy = (sb.run(problem, m, x0, 0, steps=steps, log_every=N // 2) for m in (eager, lazy))
    np.testing.assert_allclose(np.asarray(lazy.x), np.asarray(eager.x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(lazy.loss), np.asarray(eager.loss), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(np.asarray(lazy.grad_evals), np.asarray(eager.grad_evals))
    assert float(np.max(np.abs(np.asarray(eager.x)))) > 0.1  # the run went somewhere


def test_refusals():
    with pytest.raises(ValueError, match="lazy_saga needs a constant step_size"):
        sb.lazy_saga(sb.schedules.inverse_time(1.0, 10.0))
    dense = problems.lecture_logreg()
    with pytest.raises(TypeError, match="lazy_saga needs a linear model on sparse rows"):
        sb.run(dense, sb.lazy_saga(0.1), jnp.zeros(dense.x_shape), 0, steps=2)


@pytest.mark.parametrize("lazy, eager", [("lazy-saga:step=0.05,batch=2", "saga:step=0.05,batch=2"),
                                         ("lazy-sgd:batch=2", "sgd:batch=2")])
def test_the_command_line_runs_a_lazy_method_as_its_eager_one(lazy, eager, tmp_path, capsys):
    """``--method lazy-saga:...`` (issue 18) and ``--method lazy-sgd:...``: the grid's lazy records
    equal the eager method's (``saga`` on a split loss runs the O(n) table, as lazy SAGA does;
    ``lazy-sgd`` takes ``sgd``'s default step) at every logged step of every seed, with the same
    gradient counts; on dense rows they are refused (tests/test_bad_inputs)."""
    from sgd_bench_harness import cli, results

    spec = "sparse-logreg:n=200,d=150,density=0.05,mu=0.01,seed=3"  # test_cli's problem: same programs
    assert cli.main(["run", "--problem", spec, "--method", lazy, "--method", eager, "--seeds", "2",
                     "--steps", "30", "--log-every", "10", "--out", str(tmp_path)]) == 0, capsys.readouterr().err
    rows = results.read_records(next(tmp_path.glob("grid-*")))
    by = {(r["method"].split(":")[0], r["seed"], r["step"]): r for r in rows}
    assert len(by) == len(rows) == 2 * 2 * 4
    lazy_name, eager_name = lazy.split(":")[0], eager.split(":")[0]
    for (method, seed, step), got in by.items():
        if method != lazy_name:
            continue
        want = by[eager_name, seed, step]
        assert got["grad_evals"] == want["grad_evals"]
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-12, abs=0)
    assert by[lazy_name, 0, 30]["loss"] < by[lazy_name, 0, 0]["loss"]
