"""Wall-clock harness: methods timed step by step, with compilation and metrics kept out.

``timed_run`` compiles the method's chunk of steps ahead of time (reported as
``compile_seconds``), then alternates: start the clock, run ``log_every`` steps, block until
the result is ready, stop the clock; only then evaluate f at the new iterate, untimed. The
steps are exactly the runner's (both run ``solver.advance_state``, the same compiled program
that ``Solver.advance`` uses). FLOPs are XLA's cost analysis of
one compiled step times the number of steps (``step_flops`` warns where a step branches or loops:
there the product is no count of the run's FLOPs).

With ``defer_loss=True`` the iterate of every log point is kept and f is evaluated at all of
them after the last step, in one vmapped pass over the data: at n = 1e7, d = 100 a GD-vs-SGD
comparison evaluated f about 180 times, each a read of 4 GB, where one read per method does.

``time_to_eps`` turns timed runs into the time-to-accuracy table: seconds, gradient
evaluations and FLOPs needed to reach f - f* <= eps.
"""

from __future__ import annotations

import collections.abc
import time
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import _tree, validation
from sgd_bench import runner
from sgd_bench import solver
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.flops import step_flops
from sgd_bench.methods import Method


class TimedRun(NamedTuple):
    """A timed run: per log point, cumulative step seconds, gradient evaluations, FLOPs, loss;
    and the final iterate ``x``."""

    name: str
    compile_seconds: float
    step: np.ndarray
    seconds: np.ndarray
    grad_evals: np.ndarray
    flops: np.ndarray
    loss: np.ndarray
    flops_per_step: float
    x: Any = None


@jax.jit
def _loss(problem, x):
    return problem.loss(x)


@jax.jit
def _losses(problem, xs):
    # vmapped, the streamed loss multiplies each block of rows by every iterate at once
    return jax.vmap(problem.loss)(xs)


def timed_run(problem: FiniteSum, method: Method, x0, key, *, steps: int, log_every: int,
              clock: Callable[[], float] = time.perf_counter,
              on_event: Callable[[str], Any] | None = None, defer_loss: bool = False) -> TimedRun:
    """Runs ``method`` for ``steps`` steps, timing only the steps.

    **Arguments:**

    - ``problem``, ``method``, ``x0``, ``key``, ``steps``, ``log_every``: as for ``sgd_bench.run``.
    - ``clock``: the timer (seconds); ``time.perf_counter`` by default.
    - ``on_event``: called with ``"start"``, ``"stop"`` and ``"metrics"`` as they happen (for
      checking that no metric is evaluated while the clock runs).
    - ``defer_loss``: keep the iterate of every log point and evaluate f at all of them after
      the last step, in one vmapped pass over the data (one ``"metrics"`` event, at the end);
      memory: one iterate per log point.

    **Returns:** a ``TimedRun``; ``seconds[i]`` is the step time up to ``step[i]``.
    """
    _tree.on_host("timed_run", "it reads a clock between compiled calls", problem, method, x0, key)
    x0, key, steps, log_every, _ = runner.check_args(problem, method, x0, key, steps, log_every, None)
    _check_clock(clock)
    defer_loss = validation.boolean("defer_loss", defer_loss)  # "no" is truthy: the losses were deferred
    if on_event is not None and not callable(on_event):  # was "'int' object is not callable" after init
        raise TypeError(f"on_event must be callable (event name) -> None, or None; got {on_event!r}")
    event = on_event or (lambda name: None)
    bound = solver.Solver(problem, method, chunk=min(log_every, solver.DEFAULT_CHUNK))
    state = jax.block_until_ready(bound.init(x0, key))
    num_chunks, rem = divmod(steps, log_every)
    chunk_sizes = [log_every] * num_chunks + ([rem] if rem else [])

    # One compiled program serves every piece length: the count is a traced argument.
    started = clock()
    advance = bound.compile(state)
    compile_seconds = _elapsed(started, clock())
    flops = step_flops(problem, method, x0)

    iterates = [state.x]
    if not defer_loss:
        event("metrics")
        losses = [float(_loss(problem, state.x))]
    seconds, evals = [0.0], [int(np.asarray(state.method.grad_evals))]
    total = 0.0
    for t in chunk_sizes:
        count = jnp.int32(t)
        event("start")
        began = clock()
        state = jax.block_until_ready(advance(state, count))
        total += _elapsed(began, clock())
        event("stop")
        seconds.append(total)
        evals.append(int(np.asarray(state.method.grad_evals)))
        if defer_loss:
            iterates.append(state.x)
        else:
            event("metrics")
            losses.append(float(_loss(problem, state.x)))
    if defer_loss:
        event("metrics")
        stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *iterates)
        losses = np.asarray(_losses(problem, stacked)).tolist()
    step = runner.log_steps(steps, log_every).astype(np.int64)
    return TimedRun(method.name, compile_seconds, step, np.array(seconds), np.array(evals),
                    flops * step.astype(np.float64), np.array(losses), flops, state.x)


def time_to_eps(runs: Sequence[TimedRun], f_star: float, eps: Sequence[float]) -> list[dict]:
    """For each run and each eps, the first logged point with f - f* <= eps.

    Returns tidy rows with ``method``, ``eps``, ``reached``, ``step``, ``seconds``,
    ``grad_evals`` and ``flops`` (NaN / -1 where eps was not reached within the run).
    ``ValueError`` when a run's loss is below ``f_star`` by more than rounding (``ROUNDING``
    times max(1, |f_star|)): then f_star is not the minimum.
    """
    f_star = validation.finite_float("f_star", f_star)
    validation.unmasked("eps", eps)  # its mask was dropped: a masked eps got its row all the same
    # a negative eps (a gap no run can close) was a row "not reached"
    eps = [validation.nonnegative_float("eps", e) for e in np.atleast_1d(np.asarray(eps, dtype=object))]
    # one TimedRun (a tuple) or a dict of them was refused as "..., got str": its first field or key
    if isinstance(runs, TimedRun):
        raise TypeError("runs must be a sequence of TimedRun (from timed_run), got one TimedRun: pass [run]")
    if isinstance(runs, collections.abc.Mapping):
        raise TypeError("runs must be a sequence of TimedRun (from timed_run), got a "
                        f"{type(runs).__name__}: pass list(runs.values())")
    try:
        runs = list(runs)
    except TypeError:  # an int said "'int' object is not iterable", naming no argument
        raise TypeError(f"runs must be a sequence of TimedRun (from timed_run), got {runs!r}") from None
    for run in runs:
        validation.instance("runs", run, TimedRun, "a sequence of TimedRun (from timed_run)")
    for run in runs:
        _check_below(run, f_star)
    rows = []
    for run in runs:
        gap = run.loss - f_star
        for e in eps:
            hit = np.flatnonzero(gap <= e)
            if hit.size:
                i = int(hit[0])
                rows.append(dict(method=run.name, eps=float(e), reached=True, step=int(run.step[i]),
                                 seconds=float(run.seconds[i]), grad_evals=int(run.grad_evals[i]),
                                 flops=float(run.flops[i])))
            else:
                rows.append(dict(method=run.name, eps=float(e), reached=False, step=-1,
                                 seconds=float("nan"), grad_evals=-1, flops=float("nan")))
    return rows


# A loss below f* by more than this (relative to max(1, |f*|)) is not rounding: the losses are
# float32 at worst, summed over n samples (gd_vs_sgd_large_n's n = 10^6 reached 7e-8 below f*).
ROUNDING = 1e-5


def _check_below(run: TimedRun, f_star: float) -> None:
    """Refuses an f_star that a run's loss went below: f* is not the minimum, and every eps
    would be "reached" at once (at step 0 when f_star is above the start)."""
    loss = np.asarray(run.loss, dtype=np.float64)
    below = f_star - loss  # NaN where a run diverged: not below anything
    tol = ROUNDING * max(1.0, abs(f_star))
    if np.any(below > tol):
        i = int(np.nanargmax(below))
        raise ValueError(f"f_star = {f_star!r} is not the minimum: run {run.name!r} reached f = "
                         f"{float(loss[i])!r} at step {int(run.step[i])}, {below[i]:.3g} below it (more than "
                         f"rounding, {tol:.1g}); pass f(x*) of a minimizer (sgd_bench.reference_solution)")


def best_of(fn: Callable[[], Any], repeats: int = 5, clock: Callable[[], float] = time.perf_counter) -> float:
    """The fastest of ``repeats`` timings of ``fn()`` (blocked until its result is ready)."""
    if not callable(fn):
        raise TypeError(f"fn must be callable with no arguments, got {fn!r}")
    repeats = validation.integer("repeats", repeats, low=1)  # 0 silently timed one run
    _check_clock(clock)
    times = []
    for _ in range(repeats):
        began = clock()
        jax.block_until_ready(fn())
        times.append(_elapsed(began, clock()))
    return min(times)


def _check_clock(clock) -> None:
    if not callable(clock):
        raise TypeError(f"clock must be callable with no arguments (seconds), got {clock!r}")


def _elapsed(began, ended) -> float:
    """ended - began, two clock readings checked after the timed call (nothing is added to it)."""
    for value in (began, ended):
        # text gave Python's "unsupported operand type(s) for -: 'str' and 'str'" from inside
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"clock must return a number of seconds, got {value!r}")
        shown = repr(value)
        try:  # 10**400 was NumPy's "ufunc 'isfinite' not supported for the input types"
            finite = np.isfinite(float(value))
        except OverflowError:
            finite, shown = False, f"an integer of {len(str(abs(value)))} digits"
        if not finite:
            raise ValueError(f"clock must return a finite number of seconds, got {shown}")
    took = float(ended) - float(began)
    if took < 0:  # a clock that goes backwards gave a negative time, silently
        raise ValueError(f"clock went backwards ({took!r} s over one timed call): pass a monotonic "
                         "clock such as time.perf_counter")
    return took
