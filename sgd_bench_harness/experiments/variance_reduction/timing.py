"""variance_reduction's runs through the public ``sgd_bench.Solver``: seed 0 of a method timed,
the clock around the compiled steps only, and the other seeds through the same compiled program.

Why every seed goes through the timed seed's program, one seed after another, and not through
``run_seeds`` (issue 16; measured on the full run under a load of 11-12 on the shared 2-core
machine): ``run_seeds`` compiled programs of its own (begin, segment, finish: 10-20 s of the
13-25 s of each of the 18 stochastic method-problem pairs), and on the synthetic problem
(n = 10^5, batch 1) its three vmapped seeds took 1.6-5.6x one seed's time (SGD: 53 s against
9.5 s; a vmapped row read is a gather), where the two seeds besides the timed one take 2x here.
The seeds are 3 to 20: a loop over them through the compiled program costs less than compiling
a second one. The growing batch keeps ``run_seeds`` (``runs``): its full-batch steps, vmapped,
read the data once for all its 32-200 seeds.
"""

from __future__ import annotations

import time

import jax
import numpy as np

import sgd_bench as sb
from sgd_bench.runner import DIVERGENCE_FACTOR

# One program per problem shape for every method's f (a lambda made inside ``timed`` was a new
# function, so a compilation, for each method).
_loss = jax.jit(lambda p, x: p.loss(x))


def timed(problem, method, x0, keys, *, steps, log_every, repeats=1):
    """Runs ``method`` through the public ``sgd_bench.Solver`` (the runner's samplers, keys and
    compiled steps) for each key of ``keys`` (``sb.seed_keys``), timing only the steps of the
    first: the solver's program is compiled and warmed up first, then the clock runs around one
    ``advance`` of ``log_every`` steps and ``block_until_ready``; f is evaluated afterwards,
    untimed. Returns cumulative seconds (median over ``repeats``) of the first seed, f at each log
    point for every seed (seeds x log points), gradient and loss evaluations at each log point and
    the final iterate of the first seed, and the fixed cost of one compiled call (dispatch plus
    ``block_until_ready``: the median of 30 calls of a compiled identity on the same state), which
    every timed chunk includes once."""
    solver = sb.Solver(problem, method, chunk=log_every)
    state0 = jax.block_until_ready(solver.init(x0, keys[0]))
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
    f = [[float(s.f) if "f" in s._fields else float(_loss(problem, s.x)) for s in logs]]
    advance = solver.compile(state0)   # the same program, without checks or a wait per call
    for key in keys[1:]:
        seed = solver.init(x0, key)
        values = [_loss(problem, seed.x)]
        for _ in range(steps // log_every):
            seed = advance(seed, log_every)
            values.append(_loss(problem, seed.x))
        f.append(np.asarray(jax.device_get(values), np.float64))
    grads = np.array([int(s.grad_evals) for s in logs])
    losses = np.array([int(getattr(s, "loss_evals", 0)) for s in logs])
    return seconds, np.array(f), grads, losses, logs[-1].x, float(np.median(calls))


def diverged(f) -> np.ndarray:
    """Per seed (rows of ``f``): whether f became NaN/Inf or exceeded ``DIVERGENCE_FACTOR``
    max(|f(x_0)|, 1) at a log point (the runner's rule)."""
    limit = DIVERGENCE_FACTOR * np.maximum(np.abs(f[:, :1]), 1.0)
    return np.any(~np.isfinite(f) | (f > limit), axis=1)
