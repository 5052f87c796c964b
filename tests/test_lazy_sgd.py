"""sgd_bench.lazy_sgd: SGD on sparse rows with the iterate kept as a scale times a vector gives
``sgd``'s iterates to 1e-12 in float64 (logged losses and counts included), with and without the
ridge, across the rescaling of the stored vector, for batch 1 and 3, under vmap over seeds; and it
refuses what it cannot run (no compile for a new step size: tests/test_method_contract.py); the
batch-1 steps of lazy_sgd and lazy_saga neither branch (lazy_sgd) nor copy a whole vector or
table every step (both)."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import sgd_bench as sb
from sgd_bench.solver import advance_state

N, D = 40, 30


def _problem(mu):
    return helpers.small_sparse_logistic(mu, N, D)


# (mu, alpha): no ridge; a ridge whose shrink rescales the stored vector every 296 steps
# (alpha mu = 0.45: R = floor(log(1/tiny) / 4 / -log(0.55))), crossed twice in 600 steps; a mild one.
@pytest.mark.parametrize("mu, alpha, batch, sampling, seeds", [
    (0.0, 0.5, 1, "with_replacement", 2), (0.5, 0.9, 1, "cyclic", None),
    (0.05, 0.3, 3, "reshuffle", 3)])
def test_lazy_equals_sgd(mu, alpha, batch, sampling, seeds):
    problem = _problem(mu)
    x0 = jnp.asarray(np.random.default_rng(1).standard_normal(D) * 0.1)
    steps = 600
    eager, lazy = sb.sgd(alpha, batch, sampling), sb.lazy_sgd(alpha, batch, sampling)
    if seeds:
        eager, lazy = (sb.run_seeds(problem, m, x0, 7, seeds=seeds, steps=steps, log_every=50)
                       for m in (eager, lazy))
    else:
        eager, lazy = (sb.run(problem, m, x0, 7, steps=steps, log_every=50) for m in (eager, lazy))
    np.testing.assert_allclose(np.asarray(lazy.x), np.asarray(eager.x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(lazy.loss), np.asarray(eager.loss), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(np.asarray(lazy.grad_evals), np.asarray(eager.grad_evals))
    assert float(np.max(np.abs(np.asarray(eager.x) - np.asarray(x0)))) > 0.1  # the run went somewhere


def test_the_stored_vector_is_rescaled_within_its_period():
    """With alpha mu = 0.45 the scale would reach 0.55^600 ~ 1e-156 by step 600 without the
    rescaling; with it, the scale is 0.55^(600 mod R) and the stored vector stays that far from
    underflow (a wrong period would show as w of size 1e156 or as an underflowed scale). Batch 3
    rescales the whole vector every R steps; batch 1 starts a new era instead (the scale back
    to 1, the era's last scale kept, each coordinate converted when its row is next drawn)."""
    problem = _problem(0.5)
    expected = int(np.floor(-np.log(np.finfo(np.float64).tiny) / 4 / -np.log1p(-0.45)))
    solver = sb.Solver(problem, sb.lazy_sgd(0.9, 3, "cyclic"))
    state = solver.advance(solver.init(jnp.ones(D) * 0.1, 0), 600).method
    assert int(state.period[0]) == expected
    scale = 0.55 ** (600 % expected)
    np.testing.assert_allclose(np.asarray(state.x), scale * np.asarray(state.w), rtol=1e-15)
    assert 1e-80 < scale and float(np.max(np.abs(np.asarray(state.w)))) < 1e80

    solver = sb.Solver(problem, sb.lazy_sgd(0.9, 1, "cyclic"))
    state = solver.advance(solver.init(jnp.ones(D) * 0.1, 0), 600).method
    table = np.asarray(state.table)
    s, era, previous = table[D, 0], table[D, 1], table[D + 1, 0]
    # A new era where 0.55^j would pass below tiny^(1/4): after R + 1 steps.
    assert era == 600 // (expected + 1) == 2
    np.testing.assert_allclose([s, previous], [0.55 ** (600 % (expected + 1)), 0.55**(expected + 1)],
                               rtol=1e-12)
    gap = era - table[:D, 1]
    assert set(gap) <= {0.0, 1.0, 2.0} and float(np.max(np.abs(table[:D, 0]))) < 1e80
    factor = np.where(gap == 0, 1.0, np.where(gap == 1, previous, 0.0))
    np.testing.assert_allclose(np.asarray(state.x), s * factor * table[:D, 0], rtol=1e-15)


def test_refusals():
    with pytest.raises(ValueError, match="lazy_sgd needs a constant step_size"):
        sb.lazy_sgd(sb.schedules.inverse_time(1.0, 10.0))
    dense = problems.lecture_logreg()
    with pytest.raises(TypeError, match="lazy_sgd needs a linear model on sparse rows"):
        sb.run(dense, sb.lazy_sgd(0.1), jnp.zeros(dense.x_shape), 0, steps=2)
    with pytest.raises(ValueError, match=r"step_size \* mu < 1.*2 \* 0.5 = 1"):
        sb.run(_problem(0.5), sb.lazy_sgd(2.0), jnp.zeros(D), 0, steps=2)
    with pytest.raises(ValueError, match="batch_size"):
        sb.lazy_sgd(0.1, batch_size=0)



def _loop_bodies(problem, method, x0) -> str:
    """The text of every while-loop body of the compiled program that runs 64 steps."""
    solver = sb.Solver(problem, method, chunk=64)
    state = solver.init(x0, 0)
    text = jax.jit(lambda s: advance_state(problem, method, s, 64, chunk=64)).lower(state).compile().as_text()
    names = set(re.findall(r"body=(%[\w.\-]+)", text))
    return "\n".join(re.search(r"\n" + re.escape(b) + r" .*?\n\}\n", text, re.S).group(0) for b in names)


@pytest.mark.parametrize("make", [sb.lazy_sgd, sb.lazy_saga])
def test_batch_1_steps_neither_branch_nor_copy_whole_vectors(make):
    """A batch-1 lazy_sgd step has no conditional (its rescale is an era change written by the
    step's one scatter), and neither method copies an O(d) or O(n) array every step (the
    table rows and the coordinates are written in place)."""
    if jax.default_backend() != "cpu":
        pytest.skip("XLA:CPU's program")
    problem = _problem(0.05)
    bodies = _loop_bodies(problem, make(0.1, 1, "with_replacement"), jnp.zeros(D))
    big = "|".join(str(size) for size in (N, D, D + 2))
    assert not re.findall(rf"= \w+\[(?:{big})(?:,2)?\]\S* copy\(", bodies)
    if make is sb.lazy_sgd:
        assert "conditional(" not in bodies
