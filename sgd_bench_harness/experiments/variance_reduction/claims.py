"""variance_reduction's checks on one problem: the VR methods and the growing batch converge
linearly, constant-step SGD stalls, GD with Armijo never increases f."""

from __future__ import annotations

import numpy as np

from sgd_bench_harness import results
from sgd_bench_harness.toolkit import Check, records

from .methods import GROWTH, VR_METHODS
from .rates import GB_R2_MIN, epoch_rate, fit_rate, growing_r2_holds, growing_r2_se, growing_rate


def problem_checks(name: str, spec: dict, rows: list, sizes, growing_seeds, armijo_f) -> list[dict]:
    """The checks on problem ``name`` from its records ``rows``; ``sizes`` are the growing
    batch's sizes, ``growing_seeds`` its (k, gap per seed, diverged) and ``armijo_f`` the f that
    GD with Armijo carries."""
    checks = []
    epochs = spec["epochs"]
    c = results.curves(rows, problem=name)
    target = spec["target"]
    linear = {}
    for m in VR_METHODS:
        rate, r2 = epoch_rate(c[m])
        linear[m] = dict(rate=rate, r2=r2, final=float(c[m][("mean", "f_gap")][-1]))
    checks.append(Check(
        claim=f"{name}: SAG, SAGA, SVRG and SARAH (default steps) converge linearly: "
              f"f - f* < {target:.0e} within {epochs} epochs, log(f - f*) linear in epochs "
              f"(R^2 >= 0.9, rate < 1 per epoch)",
        measured=linear,
        holds=bool(all(v["final"] < target and v["r2"] >= 0.9 and v["rate"] < 1
                       for v in linear.values()))))
    rate_k, r2_k, rate_full = growing_rate(c["growing batch"], sizes)
    r2_se = growing_r2_se(*growing_seeds, sizes)
    r2_z = spec.get("gb_r2_z", 0.0)
    r2_ok, r2_allowed = growing_r2_holds(r2_k, r2_se, r2_z)
    r2_bound = (f"R^2 >= {GB_R2_MIN:g} - {r2_z:g} bootstrap standard errors over "
                f"{len(growing_seeds[1])} seeds" if r2_z else f"R^2 >= {GB_R2_MIN:g}")
    gd = c["GD, 1/L"]
    rate_gd, _ = fit_rate(gd["step"].astype(float), gd[("mean", "f_gap")], top=1e-3)
    like_gd = abs(np.log(rate_full) / np.log(rate_gd) - 1)
    full_at = len(sizes) - 1
    checks.append(Check(
        claim=f"{name}: the growing batch converges linearly in iterations while |B_k| "
              f"grows (log(f - f*) linear in k, {r2_bound}, rate < 1 per step; theory ~ 1/q = "
              f"{1 / GROWTH:.3f}), and from k = {full_at} (|B_k| = n) on it contracts at GD's "
              f"rate per step (log-rates within 25%)",
        measured=dict(rate_per_step=rate_k, r2=r2_k, r2_stderr=r2_se, r2_allowed=r2_allowed,
                      rate_after_full=rate_full,
                      gd_rate=rate_gd, log_rate_mismatch=float(like_gd),
                      final=float(c["growing batch"][("mean", "f_gap")][-1]),
                      full_batch_step=int(full_at)),
        holds=bool(r2_ok and rate_k < 1 and like_gd <= 0.25)))
    sgd = c["SGD, constant step"][("mean", "f_gap")]
    quarter = len(sgd) * 3 // 4
    checks.append(Check(
        claim=f"{name}: constant-step SGD stalls at a plateau: over the last quarter of "
              f"the budget its gap falls by less than 2x, and it ends above 100x every VR "
              f"method's final gap",
        measured=dict(sgd_final=float(sgd[-1]), sgd_quarter_ratio=float(sgd[quarter] / sgd[-1]),
                      vr_final_max=max(v["final"] for v in linear.values())),
        holds=bool(sgd[quarter] / sgd[-1] < 2
                   and sgd[-1] > 100 * max(v["final"] for v in linear.values()))))
    rate, r2 = epoch_rate(c["GD, Armijo"])
    checks.append(Check(
        claim=f"{name}: GD with Armijo line search never increases f and converges "
              f"linearly (R^2 >= 0.9 of the log-linear fit, rate < 1 per epoch)",
        measured=dict(max_increase=float(np.max(np.diff(armijo_f))), rate=rate, r2=r2,
                      final=float(c["GD, Armijo"][("mean", "f_gap")][-1])),
        holds=bool(np.all(np.diff(armijo_f) <= 0) and rate < 1 and r2 >= 0.9)))
    return records(checks)
