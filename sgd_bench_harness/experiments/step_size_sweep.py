"""Final E[f(x_K) - f*] against the step size: where SGD's plateau is linear in alpha, where
the runs diverge, and where the theory's thresholds sit.

For the lecture's logistic regression (m = 200, d = 10, mu = 1) and breast-cancer (569 x 30,
bundled with scikit-learn, standardized, mu = 0.1), SGD with B = 1, 10, 100 (with replacement)
and GD run at 25 log-spaced step sizes over 256 seeds from x0 = 0. Each (method, problem) is
one ``sgd_bench.sweep``: every step size x every seed in one compiled program. The final gap of
a run is its mean over the last quarter of the logged steps (the stationary part of a stable
run); means and 95% bands are over seeds.

Drawn with the curves: GD's threshold 2/L, SGD's 1/L_max and 1/(2 (L + L_max/B)) (the safe
constant steps of the lecture's theorems), and the lecture's plateau L sigma^2 alpha / (4 mu)
with sigma^2 = sigma_*^2 / B (the per-sample gradient variance at x* over the batch).

Checks: a safe step never diverges and GD below 2/L converges; the measured divergence
boundary (the smallest step at which any seed diverged) lies above every theory threshold (and
how far above is reported); on the stable, stationary side (alpha below the safe SGD step and
alpha mu K >= 10) the plateau is linear in alpha: the fitted log-log slope has a 95% interval
that contains 1. Finally the whole sweep is timed against the same configurations as a loop of
separate ``run_seeds`` calls (compiled once, since a new step size reuses the program).

Where the time goes (issue 16; full size, compilation cache off, under a load of 13-18 on the
shared 2-core machine, CPU seconds of the process, readings): 166 CPU s in all (1,144 s wall).
61 compiles, 322 s wall under that load (~1/7 of it CPU, ~47 CPU s): the 9 segment programs
(one per sweep, batch size and problem, and the timing's ``run_seeds``) 256 s of it, the
batch-10 ones slowest (~40 s wall each), the 9 begin programs 34 s; the rest small. Nothing
compiles twice for the same shapes. The batch-100 sweeps' steps ~70 CPU s (27 x 256 x 100
per-sample gradients a step, ~15 ns each: arithmetic, not overhead); batch 1 and 10 ~20 CPU s;
the timing comparison 24 CPU s (3 repeats of the sweep and of the 27-call loop, plus a 27-call
warm-up loop: now one compiling call instead, ~3.6 CPU s less); constants 6.5, report 1.3.
Earlier (400 steps, load ~10): every run gathered its own batch rows; the runner now draws and
gathers them once per seed for all step sizes (``sgd_bench.runner.CONFIG_AXES``; breast-cancer
batch 100: 23 -> 4 CPU s), and logging was not the cost (1.95 against 1.74 CPU s logging every
100 steps or once).

    python scripts/step_size_sweep.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import problems
import sgd_bench as sb
from sgd_bench import theory
from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.toolkit import Check

NAME = "step_size_sweep"
DESCRIPTION = "final E[f - f*] against the step size for SGD (B = 1, 10, 100) and GD, with the theory's thresholds"

FULL = dict(problems=("lecture-logreg", "breast-cancer"), seeds=256, steps=4000, log_every=100,
            alphas=27, alpha_range=(1e-3, 100.0), batches=(1, 10, 100), key=0, timing_repeats=3)
QUICK = dict(problems=("lecture-logreg",), seeds=16, steps=400, log_every=40,
             alphas=7, alpha_range=(1e-2, 10.0), batches=(1, 10), key=0, timing_repeats=1)

STATIONARY = 10.0   # alpha mu K at least this: the bias (1 - alpha mu)^K is below e^-10
LINEAR_BAND = 0.1   # "linear to first order": the log-log slope's 95% interval inside 1 +- this
CONVERGED = 1e-8    # GD "converges" when its final f - f* is below this
BREAST_CANCER_MU = 0.1


def _problem(name):
    if name == "breast-cancer":
        return problems.breast_cancer(mu=BREAST_CANCER_MU)
    return problems.lecture_logreg()


def _methods(batches):
    return [("GD", None, sb.gd(1.0))] + [(f"SGD B={b}", b, sb.sgd(1.0, b)) for b in batches]


def thresholds(c, batch) -> dict:
    """The theory's step sizes for a method: GD (batch None) 2/L; SGD 1/L_max and the safe
    constant step 1/(2 (L + L_max/B))."""
    if batch is None:
        return {"2/L": 2.0 / c.L}
    return {"1/L_max": 1.0 / c.L_max, "1/(2(L + L_max/B))": 1.0 / (2.0 * (c.L + c.L_max / batch))}


def safe_step(c, batch) -> float:
    """Below this no run may diverge: 2/L for GD, the largest of SGD's thresholds otherwise."""
    return max(thresholds(c, batch).values())


def final_gap(trace, f_star):
    """Per seed: the mean gap over the last quarter of the logged steps (NaN when diverged)."""
    loss = np.asarray(trace.loss)
    tail = loss[..., -max(1, loss.shape[-1] // 4):]
    gap = np.mean(tail, axis=-1) - f_star
    return np.where(np.asarray(trace.diverged), np.nan, gap)


def gd_stops_converging(alphas, gap, c, steps) -> float:
    """The smallest step (among those with alpha mu K >= STATIONARY, where GD has had time to
    converge) whose final gap is not below CONVERGED or that diverged (NaN); inf if none."""
    bad = (alphas * c.mu * steps >= STATIONARY) & ~(gap < CONVERGED)
    return float(alphas[bad].min()) if bad.any() else float("inf")


def fit_slope(alphas, means, ses):
    """Weighted least squares of log(plateau) on log(alpha): slope, its standard error, intercept."""
    x, y = np.log(alphas), np.log(means)
    w = (means / np.maximum(ses, 1e-300)) ** 2   # 1 / var(log P), by the delta method
    X = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    coef = cov @ (X.T @ (w * y))
    resid = y - X @ coef
    # Scale by the reduced chi^2 when the points scatter more than their errors say.
    dof = max(len(x) - 2, 1)
    scale = max(1.0, float(np.sum(w * resid**2) / dof))
    return float(coef[1]), float(np.sqrt(cov[1, 1] * scale)), float(coef[0])


def run(config: dict, out: Path) -> dict:
    """Runs every sweep, stores records (one row per problem x method x step size), meta and
    checks, then draws the report."""
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    seeds, steps = config["seeds"], config["steps"]
    lo, hi = config["alpha_range"]
    rows, checks, constants, timing = [], [], {}, {}
    batch_one = None   # the first problem's SGD B = 1 sweep: the timing's sweep, already compiled
    for pname in config["problems"]:
        problem = _problem(pname)
        c = theory.constants(problem)
        constants[pname] = c.as_dict()
        x0 = jnp.zeros(problem.x_shape)
        alphas = np.geomspace(lo / c.L, hi / c.L, config["alphas"])
        for label, batch, method in _methods(config["batches"]):
            runs = 1 if batch is None else seeds   # GD is deterministic: one seed
            began = time.perf_counter()
            out_ = sb.sweep(problem, method, x0, config["key"], over={"step_size": alphas},
                            seeds=runs, steps=steps, log_every=config["log_every"])
            jax.block_until_ready(out_.trace)
            if batch == 1 and pname == config["problems"][0]:
                batch_one = out_.trace.x
            print(f"{pname} / {label}: {len(alphas)} step sizes x {runs} seeds in "
                  f"{time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
            gaps = final_gap(out_.trace, c.f_star)          # (alpha, seed)
            diverged = np.asarray(out_.trace.diverged).sum(axis=1)
            for i, alpha in enumerate(alphas):
                ok = gaps[i][~np.isnan(gaps[i])]
                mean = float(ok.mean()) if ok.size else float("nan")
                se = float(ok.std(ddof=1) / np.sqrt(ok.size)) if ok.size > 1 else 0.0
                rows.append(dict(experiment=NAME, problem=pname, method=label,
                                 batch=0 if batch is None else batch, alpha=float(alpha),
                                 seeds=runs, steps=steps, final_gap_mean=mean, final_gap_se=se,
                                 diverged=int(diverged[i]), alpha_mu_K=float(alpha * c.mu * steps)))
        if pname == config["problems"][0]:
            timing = _time_both_ways(problem, x0, alphas, config, batch_one)
    checks = _checks(rows, constants, config)
    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, config, dtype="float64", wall_seconds=round(wall, 2))
    meta["constants"] = constants
    meta["timing"] = timing
    experiment.save(out, rows=rows, meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def _time_both_ways(problem, x0, alphas, config, swept=None) -> dict:
    """SGD B = 1 over every step size: one sweep program against a loop of ``run_seeds`` calls
    (each compiled before the clock starts; interleaved, best of ``timing_repeats``). ``swept``:
    the final iterates of that very sweep when the experiment ran it already (then its program
    is compiled and it is not run again before the clock)."""
    method = sb.sgd(1.0, 1)
    kw = dict(seeds=config["seeds"], steps=config["steps"], log_every=config["log_every"])

    def as_sweep():
        return sb.sweep(problem, method, x0, config["key"], over={"step_size": alphas}, **kw).trace.x

    def as_loop():
        return [sb.run_seeds(problem, method.replace(step_size=float(a)), x0, config["key"], **kw).x
                for a in alphas]

    swept = jax.block_until_ready(as_sweep() if swept is None else swept)
    # One call compiles the loop's program (every step size reuses it); the first timed loop
    # gives the iterates to compare, so no whole loop runs outside the clock.
    jax.block_until_ready(sb.run_seeds(problem, method.replace(step_size=float(alphas[0])), x0,
                                       config["key"], **kw).x)
    best, looped = {"sweep": float("inf"), "loop": float("inf")}, None
    for _ in range(config["timing_repeats"]):
        for name, fn in (("sweep", as_sweep), ("loop", as_loop)):
            t0 = time.perf_counter()
            result = jax.block_until_ready(fn())
            best[name] = min(best[name], time.perf_counter() - t0)
            looped = result if name == "loop" and looped is None else looped
    swept, looped = np.asarray(swept), np.stack([np.asarray(x) for x in looped])
    # Compared where neither run diverged (diverged iterates are huge, or not finite).
    fine = np.all(np.isfinite(swept) & np.isfinite(looped) & (np.abs(looped) < 1e6), axis=-1)
    agree = float(np.max(np.abs(swept - looped)[fine])) if fine.any() else float("nan")
    bitwise = bool(np.array_equal(swept[fine], looped[fine]))
    return {"configs": len(alphas), "seeds": config["seeds"], "steps": config["steps"],
            "sweep_seconds": best["sweep"], "loop_seconds": best["loop"],
            "loop_over_sweep": best["loop"] / best["sweep"], "max_abs_difference": agree,
            "bitwise_equal": bitwise, "runs_compared": int(fine.sum()),
            "device": results.device_label(), "dtype": "float64",
            "load_average_1min": os.getloadavg()[0]}


def _timing_reading(timing) -> str:
    """What the two timings say, in words that follow the measured ratio (a reading)."""
    ratio = timing["loop_over_sweep"]
    if ratio >= 1.25:
        return (f"The sweep is {ratio:.1f}x faster: all its step sizes run the same seed keys, so it "
                "draws and gathers a batch's rows once per seed for every step size, where each "
                "`run_seeds` call of the loop draws and gathers its own (a reading of the two timings).")
    if ratio <= 0.8:
        return f"The loop is faster here, {1 / ratio:.1f}x (a reading of the two timings)."
    return ("On this CPU the loop is about as fast as the sweep: each `run_seeds` call already "
            f"batches its {timing['seeds']} seeds (a reading of the two timings).")


def _checks(rows, constants, config) -> list[Check]:
    checks = []
    for pname, cdict in constants.items():
        c = theory.Constants(**cdict)
        for label, batch, _ in _methods(config["batches"]):
            mine = [r for r in rows if r["problem"] == pname and r["method"] == label]
            alphas = np.array([r["alpha"] for r in mine])
            diverged = np.array([r["diverged"] for r in mine])
            gap = np.array([r["final_gap_mean"] for r in mine])
            safe = safe_step(c, batch)
            below = alphas < safe
            first_bad = alphas[diverged > 0].min() if np.any(diverged > 0) else float("inf")
            checks.append(Check(
                claim=f"{pname}, {label}: no seed diverges at any step below the safe step {safe:.4g}",
                measured={"diverged_seeds_below_safe": int(diverged[below].sum()),
                          "steps_below_safe": int(below.sum())},
                holds=bool(below.any() and diverged[below].sum() == 0)))
            checks.append(Check(
                claim=f"{pname}, {label}: the measured divergence boundary lies above every theory "
                      "threshold",
                measured={"first_diverged_step": first_bad,
                          **{f"boundary_over_{k}": first_bad / v for k, v in thresholds(c, batch).items()}},
                holds=bool(first_bad > safe)))
            stationary = alphas * c.mu * config["steps"] >= STATIONARY
            if batch is None:
                # GD contracts at least like (1 - alpha mu)^k below 2/L (at rate
                # max(|1 - alpha mu|, |1 - alpha L|)): converged once alpha mu K is large.
                mask = below & stationary
                checks.append(Check(
                    claim=f"{pname}, GD: every step below 2/L with alpha mu K >= {STATIONARY:g} "
                          f"converges (final f - f* < {CONVERGED:g})",
                    measured={"largest_gap": float(np.max(gap[mask])) if mask.any() else None,
                              "steps_checked": int(mask.sum())},
                    holds=bool(mask.any() and np.all(gap[mask] < CONVERGED))))
                stop = gd_stops_converging(alphas, gap, c, config["steps"])
                checks.append(Check(
                    claim=f"{pname}, GD: the first step at which GD stops converging lies at or "
                          "above the theory's 2/L",
                    measured={"first_step_not_converging": stop, "over_2_over_L": stop * c.L / 2.0},
                    holds=bool(stop >= 2.0 / c.L)))
                continue
            se = np.array([r["final_gap_se"] for r in mine])
            fit_mask = (alphas <= 1.0 / (2.0 * (c.L + c.L_max / batch))) & stationary & (gap > 0)
            if fit_mask.sum() >= 3:
                slope, slope_se, _ = fit_slope(alphas[fit_mask], gap[fit_mask], se[fit_mask])
                lo, hi = slope - 1.96 * slope_se, slope + 1.96 * slope_se
                checks.append(Check(
                    claim=f"{pname}, {label}: on the stable, stationary side the plateau is linear "
                          f"in alpha to first order (the 95% interval of the log-log slope lies "
                          f"within 1 +- {LINEAR_BAND:g})",
                    measured={"slope": slope, "ci_low": lo, "ci_high": hi,
                              "points": int(fit_mask.sum())},
                    holds=bool(1.0 - LINEAR_BAND <= lo and hi <= 1.0 + LINEAR_BAND)))
    return checks


def report(out: Path, echo: bool = False) -> dict:
    """Draws ``step_size_sweep.png`` and writes ``summary.md`` from the stored files alone."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)

    config = meta["config"]
    pnames = list(meta["constants"])
    fig, axes = plt.subplots(1, len(pnames), figsize=(6.4 * len(pnames), 5.6), squeeze=False)
    table, closeness = [], []
    for ax, pname in zip(axes[0], pnames):
        c = theory.Constants(**meta["constants"][pname])
        for i, (label, batch, _) in enumerate(_methods(config["batches"])):
            mine = [r for r in rows if r["problem"] == pname and r["method"] == label]
            alphas = np.array([r["alpha"] for r in mine])
            mean = np.array([r["final_gap_mean"] for r in mine], dtype=float)
            se = np.array([r["final_gap_se"] for r in mine], dtype=float)
            diverged = np.array([r["diverged"] for r in mine])
            color = plots.COLORS[i % len(plots.COLORS)]
            floor = 1e-16
            shown = np.maximum(mean, floor)
            ax.plot(alphas, shown, "o-", ms=3, color=color, label=label)
            ax.fill_between(alphas, np.maximum(mean - 1.96 * se, floor), np.maximum(mean + 1.96 * se, floor),
                            color=color, alpha=0.2, lw=0)
            bad = diverged > 0
            if bad.any():  # one row of crosses per method, stacked above the curves
                ax.plot(alphas[bad], np.full(bad.sum(), 3.0 * 2.5**i), "x", color=color, ms=6)
            if batch is None:
                ax.axvline(2.0 / c.L, color=color, lw=1.0, ls="--")
            else:
                ax.axvline(1.0 / (2.0 * (c.L + c.L_max / batch)), color=color, lw=1.0, ls="--")
                grid = alphas[alphas <= safe_step(c, batch) * 4]
                ax.plot(grid, c.L * (c.sigma2_star / batch) * grid / (4 * c.mu), ":", color=color, lw=1.2)
            first = float(alphas[bad].min()) if bad.any() else float("nan")
            if batch is None:
                stop = gd_stops_converging(alphas, mean, c, config["steps"])
                before = alphas[alphas < stop].max() if np.any(alphas < stop) else float("nan")
                closeness.append(f"- {pname}: GD converges at alpha = {before:.4g} ({before * c.L / 2:.2f} x 2/L) "
                                 f"and stops converging at the next step of the grid, {stop:.4g} "
                                 f"({stop * c.L / 2:.2f} x 2/L); the first divergence is at "
                                 + (f"{first:.4g}" if bad.any() else f"no step up to {alphas.max():.3g}")
                                 + f" (2/mu = {2 / c.mu:.4g})")
            table.append({"problem": pname, "method": label,
                          "theory thresholds": ", ".join(f"{k} = {v:.4g}" for k, v in thresholds(c, batch).items()),
                          "first diverged step": f"{first:.4g}" if bad.any() else f"none up to {alphas.max():.3g}",
                          "boundary / safe": f"{first / safe_step(c, batch):.1f}" if bad.any() else "-",
                          "best step": ("any converging one" if batch is None else
                                        f"{alphas[np.nanargmin(np.where(bad, np.nan, mean))]:.4g}"),
                          "seeds": mine[0]["seeds"]})
        ax.axvline(1.0 / c.L_max, color="0.4", lw=1.0, ls="-.")
        ax.plot([], [], "k--", lw=1.0, label="2/L (GD), 1/(2(L+L_max/B)) (SGD)")
        ax.plot([], [], "-.", color="0.4", lw=1.0, label="1/L_max")
        ax.plot([], [], "k:", lw=1.2, label=r"lecture plateau $L\sigma_*^2\alpha/(4\mu B)$")
        ax.plot([], [], "kx", ms=6, label="a seed diverged")
        toolkit.log_axes(ax)
        ax.set_ylim(1e-16, 1e3)
        ax.set_xlabel(r"step size $\alpha$")
        ax.set_ylabel(r"final $\mathbb{E}\,f(x_K) - f^*$ (mean of the last quarter)")
        ax.set_title(f"{pname}: L = {c.L:.3g}, L_max = {c.L_max:.3g}, mu = {c.mu:g}", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    fig.suptitle(f"Final gap against the step size: mean of {config['seeds']} seeds with 95% bands, "
                 f"K = {config['steps']} steps; thresholds and plateaus in each method's color", fontsize=10)
    toolkit.save(fig, out / "step_size_sweep.png")
    plt.close(fig)
    timing = meta["timing"]
    columns = list(table[0])
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Final gap against the step size: plateaus, divergence, and the theory's thresholds

SGD (B = {", ".join(map(str, config["batches"]))}, with replacement) and GD from x0 = 0, {len(rows) // max(1, len(pnames) * (1 + len(config["batches"])))} step sizes
log-spaced over [{config["alpha_range"][0]:g}/L, {config["alpha_range"][1]:g}/L], {config["seeds"]} seeds (GD: one, it is
deterministic), K = {config["steps"]} steps; float64 on {meta["devices"][0]}. The final gap of a run is its mean
over the last quarter of the logged steps; a diverged seed (NaN, Inf or a loss 10^6 above its start)
is counted, not averaged. Each (problem, method) is one `sgd_bench.sweep` program.

![sweep](step_size_sweep.png)

{results.markdown_table(table, columns)}

How close the theory comes (a step is "converging" for GD when its final f - f* is below
{CONVERGED:g}, counted only where alpha mu K >= {STATIONARY:g}):
{chr(10).join(closeness)}

Reading of the figure and the table (not checked): 2/L is sharp for GD where the curvature near x*
is close to L and conservative where it is far below it. The iterates blow up only near
alpha = 2/mu, where the ridge term alone is unstable, since logistic losses have bounded data
gradients; SGD's thresholds 1/L_max and 1/(2(L + L_max/B)) are sufficient conditions and sit far
below that. Left of the plateau lines, steps with alpha mu K < {STATIONARY:g} have not reached their
plateau in K steps.

Timing (SGD B = 1 on {pnames[0]}, {timing["configs"]} step sizes x {timing["seeds"]} seeds x {timing["steps"]} steps,
{timing["dtype"]} on {timing["device"]}, 1-minute load {timing["load_average_1min"]:.2f}): the whole sweep as one
program took {timing["sweep_seconds"]:.3f} s, the same configurations as a loop of separate `run_seeds`
calls {timing["loop_seconds"]:.3f} s, {timing["loop_over_sweep"]:.2f}x the sweep (best of {config["timing_repeats"]}, compilation
excluded). Over the {timing.get("runs_compared", "?")} runs that did not diverge the two give the same final
iterates{" bit for bit" if timing.get("bitwise_equal") else f", to {timing['max_abs_difference']:.1e}"}. {_timing_reading(timing)}

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, tables=[(table, columns)],
                     header=f"{NAME}: {', '.join(pnames)}, {config['seeds']} seeds")
    return {"summary": table, "checks": checks}


def main(argv=None) -> int:
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least("seeds", 2, "standard errors need two seeds"),
                                      "steps": experiment.at_least("steps", lambda config: 4 * config["log_every"],
                                                                   "the final gap averages the last quarter of the log points")})


if __name__ == "__main__":
    sys.exit(main())
