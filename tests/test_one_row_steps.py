"""The batch-1 paths of SGD and of the O(n) SAG/SAGA table on dense linear models
(``sgd_bench.gradient_table.row_grad``, the folded inner product): the same numbers as the
general paths and as NumPy at d = 100, where the fold is taken (the tiny problems of the other
tests have d = 3, where it is not), under ``vmap`` and autodiff too; and the scan body of each
step stays within the 8 kernels that XLA:CPU runs one after the other. Small batches fetch the
rows the gather fetches (row slices up to 8 rows)."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import sgd_bench as sb
from sgd_bench import gradient_table
from sgd_bench.solver import advance_state

N, D = 20, 100  # 32 < D <= 32^2: the folded inner product


def _logistic():
    A, y = helpers.logistic_data(N, D, seed=3)
    return problems.logistic_regression(A, y, mu=0.05)


def _least_squares():
    A, b = helpers.regression_data(N, D, seed=4)
    return problems.least_squares(A, b, mu=0.05)


PROBLEMS = {"logistic": (_logistic, helpers.np_logistic_grad),
            "least_squares": (_least_squares, helpers.np_ls_grad)}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_row_grad_is_the_batch_gradient(name):
    make, np_grad = PROBLEMS[name]
    problem = make()
    A, t = (np.asarray(a) for a in problem.data)
    x = np.random.default_rng(5).standard_normal(D)
    idx = jnp.array([7], jnp.int32)
    assert gradient_table.one_dense_row(problem, jnp.asarray(x), idx)
    got = gradient_table.row_grad(problem, jnp.asarray(x), idx)
    np.testing.assert_allclose(got, np_grad(A, t, 0.05, x, [7]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, problem.batch_grad(jnp.asarray(x), idx), rtol=1e-12, atol=1e-14)
    # under vmap (seeds) and through autodiff (the fold's own derivative)
    xs = jnp.asarray(np.random.default_rng(6).standard_normal((3, D)))
    many = jax.vmap(lambda z: gradient_table.row_grad(problem, z, idx))(xs)
    for z, g in zip(np.asarray(xs), np.asarray(many)):
        np.testing.assert_allclose(g, np_grad(A, t, 0.05, z, [7]), rtol=1e-12, atol=1e-14)
    hess = jax.jacfwd(lambda z: gradient_table.row_grad(problem, z, idx))(jnp.asarray(x))
    want = jax.jacfwd(lambda z: problem.batch_grad(z, idx))(jnp.asarray(x))
    np.testing.assert_allclose(hess, want, rtol=1e-10, atol=1e-14)


def test_batches_and_sparse_rows_keep_the_general_path():
    problem = _logistic()
    x = jnp.zeros(D)
    assert not gradient_table.one_dense_row(problem, x, jnp.array([1, 2], jnp.int32))
    assert not gradient_table.one_dense_row(helpers.custom_problem(), jnp.zeros(helpers.D),
                                            jnp.array([1], jnp.int32))


@pytest.mark.parametrize("saga", [True, False])
def test_linear_table_at_d_100_gives_the_general_tables_iterates(saga):
    problem = _logistic()
    make = sb.saga if saga else sb.sag
    x0, key = jnp.zeros(D), jax.random.key(2)
    runs = [sb.Solver(problem, make(0.01, 1, linear=linear), chunk=8).run(x0, key, 3 * N).x
            for linear in (True, False)]
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-11, atol=1e-14)


def _scan_body_kernels(problem, method, chunk=64) -> int:
    """Kernels (fusions and copies) of the scan body that runs the steps of a Solver block."""
    solver = sb.Solver(problem, method, chunk=chunk)
    state = solver.init(jnp.zeros(D), jax.random.key(0))
    program = jax.jit(lambda s: advance_state(problem, method, s, chunk, chunk=chunk))
    text = program.lower(state).compile().as_text()
    kernels = []
    for body in re.findall(r"body=(%[\w.\-]+)", text):
        block = re.search(r"\n" + re.escape(body) + r" .*?\{\n(.*?)\n\}\n", text, re.S).group(1)
        if f"f64[{D}]" in block and "while(" not in block:  # the step loop, not the sampler's
            kernels.append(len(re.findall(r"= \S+ (?:fusion|copy|dynamic-update-slice|scatter|"
                                          r"gather|custom-call|conditional)\(", block)))
    assert kernels, "no step loop found in the compiled program"
    return max(kernels)


@pytest.mark.parametrize("method", ["sgd", "saga", "sag"])
def test_batch_1_steps_fit_xla_cpus_sequential_limit(method):
    # XLA:CPU runs a loop body's kernels one after the other only while there are at most 8;
    # with more it dispatches them as a graph, several times slower per step (gradient_table).
    if jax.default_backend() != "cpu":
        pytest.skip("XLA:CPU's executor")
    make = {"sgd": lambda: sb.sgd(0.01, 1, "cyclic"), "saga": lambda: sb.saga(0.01, 1, linear=True),
            "sag": lambda: sb.sag(0.01, 1, linear=True)}[method]
    assert _scan_body_kernels(_logistic(), make()) <= 8


@pytest.mark.parametrize("b", [2, 8])
def test_small_batches_fetch_the_rows_the_gather_fetches(b):
    problem = _logistic()
    idx = jnp.asarray(np.random.default_rng(b).integers(0, N, b), jnp.int32)
    for got, data in zip(jax.jit(problem.batch)(idx), problem.data):
        np.testing.assert_array_equal(got, jnp.take(data, idx, axis=0))

