"""L-BFGS (``sgd_bench.lbfgs``): iterates equal to optax's own loop, convergence to the float64
reference, and one program for any line-search cap (its counts against the evaluations that
really ran: tests/test_method_contract.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import helpers
import sgd_bench as sb

STEPS = 8


def _optax_loop(problem, x0, steps, memory_size=10, max_linesearch_steps=20):
    """optax's documented L-BFGS loop, step by step in Python, with its own value_fn."""
    tx = optax.lbfgs(memory_size=memory_size,
                     linesearch=optax.scale_by_zoom_linesearch(max_linesearch_steps=max_linesearch_steps))
    value_and_grad = optax.value_and_grad_from_state(problem.loss)
    x, state, xs = x0, tx.init(x0), []
    for _ in range(steps):
        value, grad = value_and_grad(x, state=state)
        updates, state = tx.update(grad, state, x, value=value, grad=grad, value_fn=problem.loss)
        x = optax.apply_updates(x, updates)
        xs.append(np.asarray(x))
    return np.stack(xs)


def test_iterates_equal_optax_own_loop():
    problem = helpers.tiny_logistic()
    x0 = jnp.full(problem.x_shape, 0.3)
    solver = sb.Solver(problem, sb.lbfgs(5, max_linesearch_steps=12), chunk=4)
    state, xs = solver.init(x0, 0), []
    for _ in range(STEPS):
        state = solver.advance(state, 1)
        xs.append(np.asarray(state.x))
    np.testing.assert_allclose(np.stack(xs), _optax_loop(problem, x0, STEPS, 5, 12),
                               rtol=1e-10, atol=1e-12)


def test_reaches_the_reference_solution():
    problem = helpers.tiny_logistic()
    ref = sb.reference_solution(problem)
    state = sb.Solver(problem, sb.lbfgs()).run(problem.zeros(), 0, 40)
    np.testing.assert_allclose(np.asarray(state.x), np.asarray(ref.x), atol=1e-9)
    assert float(problem.loss(state.x)) - ref.f <= 1e-14


def test_line_search_cap_is_a_value_and_memory_a_structure():
    problem = helpers.tiny_logistic()
    x0 = jnp.full(problem.x_shape, 0.3)
    jax.block_until_ready(sb.Solver(problem, sb.lbfgs(max_linesearch_steps=20), chunk=4).run(x0, 0, 3))
    with helpers.compiles_nothing():
        for cap in (3, 7):
            jax.block_until_ready(sb.Solver(problem, sb.lbfgs(max_linesearch_steps=cap), chunk=4).run(x0, 0, 3))
    assert sb.lbfgs(4).structure() != sb.lbfgs(5).structure()


@pytest.mark.parametrize("bad, match", [
    (dict(memory_size=0), "memory_size must be an integer in \\[1, inf\\]"),
    (dict(memory_size=2.5), "memory_size must be an integer"),
    (dict(max_linesearch_steps=0), "max_linesearch_steps must be an integer in \\[1, 2147483647\\]"),
])
def test_bad_arguments_name_themselves(bad, match):
    with pytest.raises((TypeError, ValueError), match=match):
        sb.lbfgs(**bad)
