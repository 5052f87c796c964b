"""sgd_bench.memory: the state-size estimate behind the memory guard traces a method's init once
per program (structure and shapes), not on every call: a new step size, a new key or new data of
the same shapes reuse it, while a new option (another program) is traced, and the guard still
refuses a state that cannot fit."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

import helpers
import sgd_bench as sb
from sgd_bench import memory


def test_the_state_estimate_is_traced_once_per_program(monkeypatch):
    calls = []
    traced = memory._state_bytes_traced
    monkeypatch.setattr(memory, "_state_bytes_traced", lambda *a: calls.append(a) or traced(*a))
    monkeypatch.setattr(memory, "_STATE_BYTES", {})
    problem = helpers.tiny_logistic()
    x0 = jnp.zeros(problem.x_shape)
    sb.Solver(problem, sb.lbfgs(5)).init(x0, 0)
    sb.Solver(problem, sb.lbfgs(5, max_linesearch_steps=7)).init(x0 + 1.0, 3)  # new values
    sb.run(problem.replace(data=tuple(a * 2 for a in problem.data), info=problem.info), sb.lbfgs(5), x0, 1, steps=2)
    assert len(calls) == 1
    sb.Solver(problem, sb.lbfgs(6)).init(x0, 0)  # memory 6: another state shape, another program
    assert len(calls) == 2
    sizes = set(memory._STATE_BYTES.values())
    assert len(sizes) == 2  # the two memories give two state sizes


def test_the_guard_still_refuses_a_state_that_cannot_fit():
    problem = helpers.tiny_logistic()
    with pytest.raises(MemoryError, match="L-BFGS"):
        sb.Solver(problem, sb.lbfgs(10**9)).init(jnp.zeros(problem.x_shape), 0)


def test_a_hessian_sample_counts_like_a_batch_its_own_or_averaged():
    # hostile19: stochastic_lbfgs:hessian_batch=10^10 passed the guard and failed inside the run
    # (JAX's out-of-memory error, a traceback); its per-row vectors count like a gradient batch's
    problem = helpers.tiny_logistic()
    x_bytes = 3 * 8
    small, huge = (sb.stochastic_lbfgs(0.1, hessian_batch=h) for h in (64, 10**10))
    grow = (memory.estimate_run_bytes(problem, huge, 1, 4).state
            - memory.estimate_run_bytes(problem, small, 1, 4).state)
    assert grow == (10**10 - 64) * x_bytes
    averaged = memory.estimate_run_bytes(problem, sb.averaged(huge), 1, 4).state
    assert averaged >= 10**10 * x_bytes
