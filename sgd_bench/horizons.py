"""Rates across horizons: separate runs of K steps for several K, and the slope of E[f(x_K) - f*].

A rate measured inside one run (the slope of a trace over its last decade) mixes the rate with
whatever the method does at fixed points of that run (a phase switch, a restart of an average).
Methods whose parameters depend on the horizon K (a two-phase method whose first phase is a
fraction of K, a step c/sqrt(K)) promise a rate *across* horizons: run them for K steps with
the parameters prescribed for K, evaluate the final iterate, and fit log E[f(x_K) - f*] against
log K over the horizons.

- ``final_gaps``: f(x_K) - f* of the final evaluated iterate for each of S seed keys, one
  vmapped program. The step count is traced, and a method's numbers are pytree leaves, so every
  horizon and every horizon-dependent parameter runs in the same compiled program (a test counts
  the compilations).
- ``run_horizons``: ``final_gaps`` at each K of ``horizons`` with the method ``method_at(K)``
  and seed keys of their own per horizon (``horizon_keys``): separate runs, independent across
  horizons, while the same seed index is resampled jointly by the bootstrap.
- ``fit_horizons``: the power p in E[gap_K] ~ C K^-p over all the horizons, with a bootstrap
  interval over the seeds (``sgd_bench.rates.fit``); the slope is -p.
- ``judge_final``: the gaps and the divergence flags from the final losses, by the runner's rule.

Divergence: a run at horizon K has two points to judge, its start f(x_0) and its final
f(x_K), and is judged by the runner's rule on them (``sgd_bench.flags.above_start`` with
``DIVERGENCE_FACTOR``): diverged when f(x_K) is NaN/Inf or above 10^6 max(|f(x_0)|, 1) (or f(x_0)
itself is not finite). A user of ``two_phase`` expects what a trace promises: a diverged seed is
left out of the fit (its gap is NaN), and a seed whose final loss is finite but high (say above
the rise factor, 10x the start) stays in, a real outcome of the method, as the runner's
statistics keep a seed that rose. Only x_K is evaluated: a run that climbed past 10^6 x its
start and came back down by step K is not seen here (a trace, which logs every few steps, would
flag it).
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import memory, validation
from sgd_bench.flags import DIVERGENCE_FACTOR, above_start
from sgd_bench import rates
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.methods import Method
from sgd_bench.runner import check_keys, seed_keys
from sgd_bench.timing import ROUNDING
from sgd_bench.solver import (DEFAULT_CHUNK, MAX_STEPS, advance_state, as_key, cast_x, check_problem_method,
                              check_x, init_state)


class HorizonRuns(NamedTuple):
    """``gaps[s, h]`` = f(x_K) - f* of seed s at horizon ``horizons[h]`` (NaN where diverged);
    ``diverged[s, h]`` marks a run diverged by the runner's rule (``judge_final``);
    ``grad_evals[s, h]`` counts the per-sample gradients the run evaluated (exact); ``methods[h]``
    is the method that ran at ``horizons[h]``."""

    horizons: np.ndarray
    gaps: np.ndarray
    diverged: np.ndarray
    grad_evals: np.ndarray
    methods: tuple


def log_horizons(k_min: int, k_max: int, per_decade: int = 2) -> np.ndarray:
    """Log-spaced integer horizons from ``k_min`` to ``k_max`` (both included), ``per_decade``
    points a decade."""
    k_min = validation.integer("k_min", k_min, low=1)
    k_max = validation.integer("k_max", k_max, low=k_min + 1, high=MAX_STEPS)
    per_decade = validation.integer("per_decade", per_decade, low=1)
    num = int(round(np.log10(k_max / k_min) * per_decade)) + 1
    # per_decade=10**9 made NumPy allocate ~10**9 points (its MemoryError from inside, or swapping)
    memory.check_host_memory(3 * 8 * num, f"log_horizons with {num} points", hint="use a smaller per_decade")
    return np.unique(np.round(np.logspace(np.log10(k_min), np.log10(k_max), max(num, 2))).astype(np.int64))


@functools.partial(jax.jit, static_argnames=("chunk",))
def _final_losses(problem, method, x0, keys, steps, *, chunk):
    def one(key):
        state = init_state(problem, method, x0, key, chunk=chunk)
        state = advance_state(problem, method, state, steps, chunk=chunk)
        return state.x, state.method.grad_evals

    xs, evals = jax.vmap(one)(keys)
    # The full loss per seed, one seed at a time: memory stays at one pass over the data.
    return jax.lax.map(problem.loss, xs), evals


def judge_final(final_losses, start_loss, f_star: float) -> tuple[np.ndarray, np.ndarray]:
    """(f(x_K) - f*, diverged) per seed from the final losses f(x_K) and the start's f(x_0):
    diverged is the runner's rule (``flags.above_start`` with ``DIVERGENCE_FACTOR``) on the two
    points (f(x_0), f(x_K)), and a diverged seed's gap is NaN (see the module docstring)."""
    # text was float()'s "could not convert string to float", naming no argument
    final = validation.real_array("final_losses", final_losses, nan=True)
    # f_star NaN / inf made every gap NaN / -inf, silently; None or an array was float()'s error
    f_star = validation.finite_float("f_star", f_star)
    if np.shape(start_loss) not in ((), final.shape):  # was NumPy's "operands could not be broadcast"
        raise ValueError(f"start_loss must be one number or one per seed {final.shape}, got shape {np.shape(start_loss)}")
    points = np.stack([np.broadcast_to(np.asarray(start_loss, np.float64), final.shape), final], axis=-1)
    diverged = np.asarray(above_start(points, DIVERGENCE_FACTOR)).any(axis=-1)
    gaps = np.where(diverged, np.nan, final - float(f_star))
    # f_star above the losses gave negative gaps, silently (time_to_eps refuses it, same margin)
    tol = ROUNDING * max(1.0, abs(f_star))
    if np.any(gaps < -tol):
        raise ValueError(f"f_star = {f_star!r} is not the minimum: a final loss is {float(-np.nanmin(gaps)):.3g} "
                         f"below it (more than rounding, {tol:.1g}); pass f(x*) of a minimizer "
                         "(sgd_bench.reference_solution)")
    return gaps, diverged


def final_gaps(problem: FiniteSum, method: Method, x0, keys, steps: int, f_star: float, *,
               chunk: int = DEFAULT_CHUNK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f(x_K) - f*, diverged, gradient evaluations) for each key of ``keys`` after ``steps`` = K steps of ``method``
    from ``x0``; x_K is the method's evaluated iterate (the average for averaged methods).
    Diverged: the runner's rule on f(x_0) and f(x_K) (``judge_final``); a diverged seed's gap is NaN.

    Seed s equals ``Solver(problem, method).run(x0, keys[s], K)`` evaluated by ``problem.loss``.
    """
    check_problem_method(problem, method)
    check_x("x0", x0, problem)
    check_keys(keys)  # one key, an int or a 2-D array was vmap's or fold_in's error from inside JAX
    validation.finite_float("f_star", f_star)  # before the run: judge_final checks it after
    steps = validation.integer("steps", steps, low=0, high=MAX_STEPS)
    chunk = validation.integer("chunk", chunk, low=1, high=2**20)
    x0 = cast_x(x0, problem)
    losses, evals = _final_losses(problem, method, x0, keys, jnp.int32(steps), chunk=chunk)
    gaps, diverged = judge_final(losses, problem.loss(x0), f_star)
    return gaps, diverged, evals.to_numpy()


def horizon_keys(key, horizon: int, seeds: int) -> jax.Array:
    """The S seed keys of the run at ``horizon``: ``seed_keys(fold_in(key, horizon), seeds)``,
    so runs at different horizons draw independent index streams."""
    # fold_in takes a uint32: -1 was an OverflowError from inside JAX
    horizon = validation.integer("horizon", horizon, low=0, high=2**32 - 1)
    return seed_keys(jax.random.fold_in(as_key(key), horizon), seeds)


def _horizon(k) -> int:
    if isinstance(k, (float, np.floating)) and float(k).is_integer():
        k = int(k)  # 100.0 (np.logspace) is 100; 10.7 is refused, not truncated to 10
    return validation.integer("horizons", k, low=1, high=MAX_STEPS)


def run_horizons(problem: FiniteSum, method_at: Callable[[int], Method], x0, key, *,
                 horizons: Sequence[int], seeds: int, f_star: float,
                 chunk: int = DEFAULT_CHUNK) -> HorizonRuns:
    """Runs ``method_at(K)`` for K steps from ``x0`` over ``seeds`` seeds, for each K of
    ``horizons``, and returns the final gaps (see ``HorizonRuns``)."""
    if not callable(method_at) or isinstance(method_at, Method):  # was "'Method' object is not callable"
        raise TypeError(f"method_at must be a function K -> Method (the method for horizon K), got {method_at!r}")
    if np.ndim(horizons) != 1:  # horizons=5 was "'int' object is not iterable"
        raise TypeError(f"horizons must be a 1-D sequence of step counts K, got {horizons!r}")
    horizons = np.asarray([_horizon(k) for k in horizons], np.int64)
    if len(horizons) < 1 or np.any(np.diff(horizons) <= 0):
        # [] was "horizons must be increasing, got []"
        raise ValueError("horizons must not be empty" if len(horizons) < 1 else
                         f"horizons must be increasing, got {horizons.tolist()}")
    seeds = validation.integer("seeds", seeds, low=1)
    gaps, diverged, evals, methods = [], [], [], []
    for k in horizons:
        method = method_at(int(k))
        g, dv, ev = final_gaps(problem, method, x0, horizon_keys(key, int(k), seeds), int(k), f_star,
                               chunk=chunk)
        gaps.append(g)
        diverged.append(dv)
        evals.append(ev)
        methods.append(method)
    return HorizonRuns(horizons, np.stack(gaps, axis=1), np.stack(diverged, axis=1),
                       np.stack(evals, axis=1), tuple(methods))


def fit_horizons(horizons, gaps, *, level: float = 0.95, n_boot: int = 2000,
                 seed: int = 0) -> rates.RateFit:
    """The power p of E[gap_K] ~ C K^-p fitted over every horizon (``rates.fit``, kind
    ``"power"``), with its bootstrap interval over the seeds (rows of ``gaps``, resampled
    jointly across horizons). A seed that diverged at any horizon is left out."""
    # text horizons ("10", "100") were read as numbers; text gaps were float()'s error
    horizons = validation.real_array("horizons", horizons)
    gaps = validation.real_array("gaps", gaps, nan=True)
    if gaps.ndim != 2 or gaps.shape[1] != len(horizons):
        raise ValueError(f"gaps must have shape (seeds, {len(horizons)}), got {gaps.shape}")
    kept = gaps[np.all(np.isfinite(gaps), axis=1)]
    if len(kept) < 2:
        raise ValueError("fewer than 2 seeds without divergence: no interval over seeds")
    return rates.fit(horizons, kept, "power", start=float(horizons[0]), stop=float(horizons[-1]),
                     level=level, n_boot=n_boot, seed=seed)
