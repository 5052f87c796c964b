"""variance_reduction's runs through the public ``sgd_bench.Solver``: seed 0 of a method timed,
the clock around the compiled steps only, and the other seeds through the same compiled program
where that costs less than a program of their own.

Where the time went (issue 16; the full run, compilation cache off, took 1,419 s under a load of
11-15 on the shared 2-core machine): compiling, 632 s (236 programs), most of it twice per
stochastic method and problem, once for this timed ``Solver`` and once for ``run_seeds``'
programs (10-20 s each under that load); the steps, most of the rest (the synthetic problem, n =
10^5: 5 M batch-1 steps per method and seed); the report 27 s. Which seeds loop (``loop_seeds``),
as measured per method and problem there: on the lecture's problem (6,000 steps, 20 seeds)
looping the 19 seeds costs ~1 s against 14-24 s for run_seeds; at n = 10^5 (3 seeds) vmapped
seeds took 1.6-5.6x one seed's time (a vmapped row read is a gather; SGD: 53 s against 9.5 s
for one seed), where the loop takes 2x; on breast_cancer (142,000 steps, 20 seeds) vmapped
seeds cost ~0.25 s a seed against ~1.2 s each in a loop, so run_seeds stays; and the growing
batch stays vmapped everywhere: its full-batch steps then read the data once for all its 32-200
seeds (at n = 10^5, 32 seeds took 41 s vmapped, one seed alone 15 s).
"""

from __future__ import annotations

import time

import jax
import numpy as np

import sgd_bench as sb
from sgd_bench.flags import DIVERGENCE_FACTOR, above_start

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


# A loop over seeds through the timed program when the problem is large (rows beyond the
# cache: a vmapped row read is a gather) or the seeds' steps are few (fewer than compiling
# run_seeds' programs costs); the module docstring gives the measurements.
LOOP_MIN_N = 10_000
LOOP_MAX_SEED_STEPS = 200_000


def loop_seeds(label: str, n: int, steps: int, seeds: int) -> bool:
    """Whether the seeds besides the timed one run one after another through its program."""
    if label == "growing batch":
        return False
    return n >= LOOP_MIN_N or steps * (seeds - 1) <= LOOP_MAX_SEED_STEPS


def diverged(f) -> np.ndarray:
    """Per seed (rows of ``f``): whether f became NaN/Inf or exceeded ``DIVERGENCE_FACTOR``
    max(|f(x_0)|, 1) at a log point (the runner's rule, ``sgd_bench.flags.above_start``)."""
    return np.any(above_start(np.asarray(f), DIVERGENCE_FACTOR), axis=1)
