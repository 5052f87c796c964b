"""peers' timings: interleaved best-of-N timing of compiled calls, one record per timed call, and
the per-step costs (marginal where a call ran at two lengths) derived from the records."""

from __future__ import annotations

import math
import time

import jax

import sgd_bench as sb


def interleaved_best(fns: dict, repeats: int) -> dict:
    """Times each callable ``repeats`` times, alternating between them; returns the best times."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            began = time.perf_counter()
            jax.block_until_ready(fn())
            best[name] = min(best[name], time.perf_counter() - began)
    return best


def timing(comparison: str, side: str, label: str, seconds: float, steps: int, seeds: int = 1,
           **extra) -> dict:
    """One record: the best ``seconds`` of a call that ran ``steps`` steps (or reads) of ``seeds``
    seeds, as one ``side`` ("ours", "baseline" or "reference") of a ``comparison``."""
    return dict(comparison=comparison, side=side, timing=label, steps=int(steps), seeds=int(seeds),
                seconds=float(seconds), **extra)


def timing_costs(rows) -> dict[tuple[str, str, str], float]:
    """``{(comparison, side, timing): seconds per step and seed}`` from the timing records.

    A timing recorded at two run lengths costs the difference of the two over the difference of
    their steps (what is fixed per call cancels; NaN when the machine was too noisy for the
    difference to be positive), one recorded once its seconds over its steps.
    """
    calls: dict[tuple, list] = {}
    for r in rows:
        if r["comparison"] == "race":
            continue  # one record per solver and size, read by ``race_table``
        calls.setdefault((r["comparison"], r["side"], r["timing"]), []).append(r)
    out = {}
    for key, rs in calls.items():
        lo, hi = min(rs, key=lambda r: r["steps"]), max(rs, key=lambda r: r["steps"])
        if hi["steps"] > lo["steps"]:
            cost = (hi["seconds"] - lo["seconds"]) / (hi["steps"] - lo["steps"])
            cost = cost if cost > 0 else math.nan
        else:
            cost = lo["seconds"] / lo["steps"]
        out[key] = cost / lo["seeds"]
    return out


def costs(rows) -> dict[tuple[str, str], tuple[float, str]]:
    """``{(comparison, side): (seconds per step and seed, timing)}``: per side, the fastest of
    its timings (``timing_costs``; several where a side has candidates: the reads, eager and
    lazy SAGA); a NaN (not measurable) counts only where no timing of the side is a number."""
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for (comparison, side, label), cost in timing_costs(rows).items():
        held = out.get((comparison, side), (math.nan, ""))[0]
        if (comparison, side) not in out or cost < held or (math.isnan(held) and not math.isnan(cost)):
            out[comparison, side] = (cost, label)
    return out


def compiled_steps(problem, method, x0, key, steps, chunk=None):
    """A zero-argument callable running ``steps`` steps of ``method`` (compiled ahead of time)
    through ``Solver.compile``. ``chunk`` (default ``steps``) should divide ``steps``: the steps
    then run as whole sampled blocks (``lax.scan``), not as the per-step loop of a last, partial
    block."""
    solver = sb.Solver(problem, method, chunk=min(chunk or steps, 2**20))
    state = solver.init(x0, key)
    fn = solver.compile(state)
    return lambda: fn(state, steps)



def compiled_epochs(problem, method, x0, key, epochs=(1, 3)) -> dict:
    """``{e: zero-argument callable running e epochs (e n steps, in blocks of n) of method}``
    for each e in ``epochs``, from one program compiled ahead of time (the step count is an
    argument of it, so the run lengths share the compile)."""
    solver = sb.Solver(problem, method, chunk=min(problem.n, 2**20))
    state = solver.init(x0, key)
    fn = solver.compile(state)
    return {e: (lambda e=e: fn(state, e * problem.n)) for e in epochs}
