"""variance_reduction's ``summary.md``: the rates table, the timing table and the reading of the
wall-clock runs."""

from __future__ import annotations

import numpy as np

from sgd_bench_harness import experiment, results

from .methods import VR_METHODS
from .rates import epoch_rate
from .wallclock import WALLCLOCK_EPS, WALLCLOCK_MIN_N, first_below


def text(meta, curves, checks):
    """The text of ``summary.md`` and its table of rates by problem and method."""
    infos, device = meta["problems"], meta["devices"][0]
    timed_names = [p for p in infos if infos[p]["wallclock"]]
    table, timing_rows = [], []
    for pname, info in infos.items():
        for label, cv in curves[pname].items():
            mean, epochs = cv[("mean", "f_gap")], cv["epochs"]
            rate, r2 = epoch_rate(cv)
            reached = np.flatnonzero(mean < info["target"])
            table.append({
                "problem": pname, "method": label,
                "final f - f* (mean)": f"{mean[-1]:.2e}",
                "epochs used": f"{epochs[-1]:.1f}",
                f"epochs to {info['target']:.0e}": f"{epochs[reached[0]]:.1f}" if len(reached) else "-",
                "fitted rate / epoch": f"{rate:.3f}" if np.isfinite(rate) else "-",
                "R^2 of log-linear fit": f"{r2:.3f}" if np.isfinite(r2) else "-",
            })
            if info["wallclock"]:
                row = {"problem": pname, "method": label,
                       "seconds per epoch": f"{cv['seconds_seed0'][-1] / epochs[-1]:.4f}"}
                for eps in (1e-4, 1e-8):
                    hit = np.flatnonzero(mean < eps)
                    row[f"seconds to {eps:.0e}"] = f"{cv['seconds_seed0'][hit[0]]:.3f}" if len(hit) else "-"
                    row[f"epochs to {eps:.0e}"] = f"{epochs[hit[0]]:.1f}" if len(hit) else "-"
                timing_rows.append(row)
    cols, tcols = list(table[0]), list(timing_rows[0])
    overheads = [v for info in infos.values() for v in info["call_overhead_seconds"].values()]
    overhead_us = 1e6 * float(np.median(overheads))
    wall_note = ""
    for pname in timed_names:
        cost = {m: cv["seconds_seed0"][-1] / cv["epochs"][-1] for m, cv in curves[pname].items()}
        batch1 = [cost[m] for m in ("SGD, constant step",) + VR_METHODS]
        reach = first_below(curves[pname], WALLCLOCK_EPS)
        by_time = min(reach, key=lambda m: reach[m][0]) if reach else "-"
        by_epochs = min(reach, key=lambda m: reach[m][1]) if reach else "-"
        checked = ("the claims are checked below" if infos[pname]["n"] >= WALLCLOCK_MIN_N else
                   f"not checked: below n = {WALLCLOCK_MIN_N:,} the fixed cost of a call sets the clock")
        wall_note += (f"Reading of this run on {pname} (seed 0, one timing; {checked}): an epoch of a batch-1 method costs {1e3 * min(batch1):.2f}-"
                      f"{1e3 * max(batch1):.2f} ms against {1e3 * cost['GD, 1/L']:.2f} ms for a "
                      f"full-gradient epoch of GD ({min(batch1) / cost['GD, 1/L']:.0f}-"
                      f"{max(batch1) / cost['GD, 1/L']:.0f}x). First below {WALLCLOCK_EPS:g} in seconds: "
                      f"{by_time}; in epochs: {by_epochs}. Our explanation, not measured here: a "
                      f"batch-1 step is a chain of tiny kernels of about a microsecond whatever d, "
                      f"while a full gradient streams the data through two matrix-vector products. ")
    sag_note = ("SAG and SAGA fill their table at x0 (epoch 1). Our explanation of SAG's curve, "
                "not measured here: SAG then moves along the table's mean, which during the first epoch is mostly the stale full gradient at x0: with "
                "n alpha >> 1/L (large n) it overshoots before it converges, the bump at the start "
                "of its curve on the largest problem.")
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Variance reduction and growing batches: linear convergence on logistic regression

**Claims:** SGD with a constant step stalls at a noise floor; a geometrically growing batch
(the lecture's "Approach 1: control the sample size"; Friedlander & Schmidt 2012) converges
linearly in iterations; SAG, SAGA, SVRG (and SARAH) remove the variance and converge linearly at
O(1) cost per step (variance reduction is not in our copy of the lecture, which stops after
Approach 1: Le Roux, Schmidt & Bach 2012; Defazio, Bach & Lacoste-Julien 2014; Johnson & Zhang
2013; Nguyen et al. 2017).

Default steps: SAG 1/(16 L_max), SAGA 1/(3 L_max), SVRG 1/(10 L_max) with an inner loop of 2n,
SARAH 1/(2 L_max) with loops of 2n; SAG, SAGA and SVRG keep the O(n) gradient table of linear
models. SGD: alpha = 1/(2 L_max), batch 1, with replacement. Growing batch: |B_0| = 1,
|B_k+1| = ceil(1.1 |B_k|) + 1, step 1/L, with replacement. GD: step 1/L; GD + Armijo: first
trial twice the last accepted step, halving, c = 1e-4. L-BFGS: memory 10, optax's zoom line
search (strong Wolfe). x0 = 0; float64; device {device}.
Epochs count per-sample gradient evaluations / n (SAG/SAGA start at 1: their table is filled
at x0); for GD + Armijo and L-BFGS the function evaluations of the line search are added (an
L-BFGS trial evaluates f and its gradient together, so it counts two epochs).

![epochs](variance_reduction.png)

{results.markdown_table(table, cols)}

Fitted rate: exp(slope) of log(mean f - f*) against epochs, over the points between 1e-12 and
a tenth of the initial gap. {sag_note}

![wall-clock](variance_reduction_wallclock.png)

Wall-clock is shown for the largest problem only: on the small ones a whole run takes
milliseconds, and the fixed cost of each compiled call, not the methods, would set the curves.
Seconds of the steps alone for seed 0 (compiled ahead of time, f evaluated outside the clock,
each timed chunk also paying one call of ~{overhead_us:.0f} µs); epochs to eps read off the mean
gap curve. Timings taken on a shared 2-core CPU: expect tens of percent of noise.

{results.markdown_table(timing_rows, tcols)}

{wall_note}

![growing batch](variance_reduction_growing_batch.png)

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    return text, table
