"""momentum_stochastic's stochastic regime on one problem: every method with both steps over the
same seeds, and per method its plateau, slope, end gap and time to a level against SGD's."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import sgd_bench as sb
from sgd_bench_harness import results, toolkit
from sgd_bench_harness.toolkit import Z95

from . import fits
from .methods import QN_METHODS, SQN_LARGE_C

CONSTANT_GAIN = 10.0        # preconditioned SGD's end gap at least this many times below SGD's


def run_methods(problem, ref, spec: dict, config: dict, entries: dict, qn: dict, labels, key,
                alpha: float, tags: dict):
    """Runs every method of ``labels`` with the constant and the decreasing step over
    ``spec["seeds"]`` seeds: ``{(problem name, regime, label): (k, gap per seed, diverged)}``
    and the trace records (tagged with ``tags``)."""
    beta = config["beta"]
    stoch, rows = {}, []
    x0 = jnp.zeros(problem.x_shape)
    for r_i, regime in enumerate(("constant", "decreasing")):
        steps = spec["const_steps" if regime == "constant" else "dec_steps"]
        log_every = max(1, steps // config["log_points"])
        done = {}   # method -> its trace: "stochastic L-BFGS, large c" has the constant step of
        # "stochastic L-BFGS", the same method on the same keys, so the same run (not run twice)
        for label in labels:
            method = entries[label][r_i]
            if method not in done:
                done[method] = sb.run_seeds(problem, method, x0, key, seeds=spec["seeds"],
                                            steps=steps, log_every=log_every)
            trace = done[method]
            gap = np.abs(np.asarray(trace.loss) - ref.f)
            k = np.asarray(trace.step[0]).astype(float)
            stoch[problem.name, regime, label] = (k, gap, np.asarray(trace.diverged))
            rows += results.trace_records(trace, f_star=ref.f, **tags, regime=regime,
                                          problem=problem.name, method=label,
                                          effective_step=qn["alpha_p"] if label in QN_METHODS + (SQN_LARGE_C,)
                                          else alpha, beta=beta if label in
                                          ("heavy ball", "Nesterov") else 0.0)
    return stoch, rows


def measure(stoch: dict, name: str, labels, entries: dict, spec: dict):
    """Plateau, slope and end gap per method, against SGD's on the same seeds (they need the
    seeds, so they are stored for the report): the measurements by label, SGD's slope, the gap
    level for the time to reach it, and the constant gain that preconditioning must show."""
    k0 = entries["SGD"][2]
    k_c, gap_c, _ = stoch[name, "constant", "SGD"]
    sgd_plateau = toolkit.plateau(gap_c, k_c)
    k_d, gap_d, _ = stoch[name, "decreasing", "SGD"]
    sgd_slope, sgd_loo = toolkit.jackknife_slope(k_d, gap_d, k0=k0)
    sgd_end = fits.end_gap(k_d, gap_d)
    level = spec.get("level", 2.0 * sgd_end[0])   # a gap level for the time to reach it
    gain = spec.get("gain", CONSTANT_GAIN)
    measured = {}
    for label in labels:
        k_c, gap_c, div_c = stoch[name, "constant", label]
        k_d, gap_d, div_d = stoch[name, "decreasing", label]
        plateau = toolkit.plateau(gap_c, k_c)
        slope, loo = toolkit.jackknife_slope(k_d, gap_d, k0=entries[label][2])
        diff_se = toolkit.jackknife_se(loo - sgd_loo)     # paired: the same seeds and index streams
        ratio = fits.ratio(*plateau, *sgd_plateau)
        end = fits.end_gap(k_d, gap_d)
        end_ratio = fits.ratio(*sgd_end, *end)
        first, first_lo, first_hi, never = fits.first_below(k_d, gap_d, level)
        measured[label] = dict(
            step=entries[label][3], k0=entries[label][2],
            plateau=plateau[0], plateau_se=plateau[1], plateau_ratio=ratio[0],
            plateau_ratio_se=ratio[1], slope=slope, slope_se=toolkit.jackknife_se(loo),
            slope_diff=slope - sgd_slope, slope_diff_se=diff_se,
            slope_diff_lo=slope - sgd_slope - Z95 * diff_se,
            slope_diff_hi=slope - sgd_slope + Z95 * diff_se,
            end_gap=end[0], end_gap_se=end[1], sgd_end_over_end=end_ratio[0],
            sgd_end_over_end_se=end_ratio[1],
            k_end_gap=float(np.mean((k_d + entries[label][2])[(k_d >= k_d[-1] / 10) & (k_d > 0)]
                                    * gap_d[:, (k_d >= k_d[-1] / 10) & (k_d > 0)])),
            time_to_level=first, time_to_level_lo=first_lo, time_to_level_hi=first_hi,
            time_to_level_never=never,
            diverged=int(div_c.sum() + div_d.sum()))
    return measured, sgd_slope, level, gain
