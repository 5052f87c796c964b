"""variance_reduction's timed runs: seed 0 of a method through the public ``sgd_bench.Solver``,
the clock around the compiled steps only."""

from __future__ import annotations

import time

import jax
import numpy as np

import sgd_bench as sb

# One program per problem shape for every method's f (a lambda made inside ``timed`` was a new
# function, so a compilation, for each method).
_loss = jax.jit(lambda p, x: p.loss(x))


def timed(problem, method, x0, key, *, steps, log_every, repeats=1):
    """Runs ``method`` through the public ``sgd_bench.Solver`` (the runner's samplers, keys and
    compiled steps, seed ``key``), timing only the steps: the solver's program is compiled and
    warmed up first, then the clock runs around one ``advance`` of ``log_every`` steps and
    ``block_until_ready``; f is evaluated
    afterwards, untimed. Returns cumulative seconds (median over ``repeats``), f, gradient and
    loss evaluations at each log point, the final iterate, and the fixed cost of one compiled
    call (dispatch plus ``block_until_ready``: the median of 30 calls of a compiled identity on
    the same state), which every timed chunk includes once."""
    solver = sb.Solver(problem, method, chunk=log_every)
    state0 = jax.block_until_ready(solver.init(x0, key))
    jax.block_until_ready(solver.advance(state0, log_every))  # compile and warm up, untimed
    times = []
    for _ in range(repeats):
        state = state0
        elapsed, clock, logs = 0.0, [0.0], [state0.method]
        for _ in range(steps // log_every):
            t0 = time.perf_counter()
            state = jax.block_until_ready(solver.advance(state, log_every))
            elapsed += time.perf_counter() - t0
            clock.append(elapsed)
            logs.append(state.method)
        times.append(clock)
    seconds = np.median(np.array(times), axis=0)
    state = state.method
    identity = jax.jit(lambda s: jax.tree_util.tree_map(lambda a: a, s)).lower(state).compile()
    calls = []
    for _ in range(30):
        t0 = time.perf_counter()
        jax.block_until_ready(identity(state))
        calls.append(time.perf_counter() - t0)
    # A method that carries its own f (the line search) reports that one: the value its
    # monotonicity is defined on; f computed by another program may differ by rounding.
    f = np.array([float(s.f) if "f" in s._fields else float(_loss(problem, s.x)) for s in logs])
    grads = np.array([int(s.grad_evals) for s in logs])
    losses = np.array([int(getattr(s, "loss_evals", 0)) for s in logs])
    return seconds, f, grads, losses, logs[-1].x, float(np.median(calls))
