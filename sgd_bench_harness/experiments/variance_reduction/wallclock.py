"""variance_reduction's wall-clock claims, fixed before the run and checked from the stored
curves alone (``report`` recomputes them)."""

from __future__ import annotations

import numpy as np

from sgd_bench_harness.toolkit import Check, records

from .methods import VR_METHODS

# The wall-clock claims, fixed before the run and checked on the timed problem(s) of at least
# WALLCLOCK_MIN_N samples (on smaller ones the fixed cost of a compiled call sets the clock):
# an epoch of batch-1 steps costs at least BATCH1_EPOCH_FACTOR full-gradient epochs of GD, and
# these methods are the first below WALLCLOCK_EPS in seconds and in epochs.
WALLCLOCK_MIN_N = 10_000
BATCH1_EPOCH_FACTOR = 10.0
WALLCLOCK_EPS = 1e-8
# Fixed before the run that added L-BFGS (the previous runs, without it, had GD with Armijo
# first in seconds): superlinear convergence on a smooth, strongly convex problem of d = 20.
FIRST_IN_SECONDS = "L-BFGS"
FIRST_IN_EPOCHS = "SVRG"


def first_below(curves_of_problem, eps):
    """Per method, the (seconds of seed 0, epochs) at which its mean gap first falls below eps."""
    reach = {}
    for m, cv in curves_of_problem.items():
        hit = np.flatnonzero(cv[("mean", "f_gap")] < eps)
        if len(hit):
            reach[m] = (float(cv["seconds_seed0"][hit[0]]), float(cv["epochs"][hit[0]]))
    return reach


def checks(curves, infos) -> list[dict]:
    """The wall-clock claims on each timed problem with n >= WALLCLOCK_MIN_N, from the stored
    curves alone: ``report`` computes them, so ``sgd-bench report`` refreshes them."""
    checks = []
    for pname, info in infos.items():
        if not info["wallclock"] or info["n"] < WALLCLOCK_MIN_N:
            continue
        cv = curves[pname]
        cost = {m: c["seconds_seed0"][-1] / c["epochs"][-1] for m, c in cv.items()}
        ratios = {m: float(cost[m] / cost["GD, 1/L"]) for m in ("SGD, constant step",) + VR_METHODS}
        low = min(ratios.values())
        claim = (f"{pname}: an epoch of every batch-1 method (SGD, {', '.join(VR_METHODS)}) costs at least "
                 f"{BATCH1_EPOCH_FACTOR:g}x the wall-clock of a full-gradient epoch of GD")
        checks.append(Check(claim=claim, measured=ratios, holds=bool(low >= BATCH1_EPOCH_FACTOR), wallclock=True,
                           summary=f"{claim} (measured: {low:.0f}-{max(ratios.values()):.0f}x)"))
        reach = first_below(cv, WALLCLOCK_EPS)
        for expected, index, unit in ((FIRST_IN_SECONDS, 0, "seconds"), (FIRST_IN_EPOCHS, 1, "epochs")):
            others = {m: r[index] for m, r in reach.items() if m != expected}
            mine = reach.get(expected, (None, None))[index]
            ok = mine is not None and all(mine < v for v in others.values())
            runner_up = min(others, key=others.get) if others else "-"
            claim = f"{pname}: {expected} is the first method below {WALLCLOCK_EPS:g} in {unit}"
            shown = "not reached" if mine is None else f"{mine:.3g}"
            checks.append(Check(claim=claim, measured=dict(reach_in=mine, next_best=runner_up,
                                                          next_best_in=others.get(runner_up)),
                               holds=bool(ok), wallclock=True,
                               summary=f"{claim} (measured: {shown} {unit}; next: {runner_up} at "
                                       f"{others.get(runner_up, float('nan')):.3g})"))
    return records(checks)
