"""The lecture's experiment: strongly convex binary logistic regression, m = 200, d = 10, mu = 1.

Figure 1 reproduces the slide "Strongly convex binary logistic regression. m=200, n=10, mu=1":
|f(x_k) - f*| and ||x_k - x*|| against the iteration, and |f(x_k) - f*| against FLOPs, for GD
and SGD with batch 1, 10, 50 and 100 at one constant step, each a mean over seeds with a 95%
band. That step is the theory-safe 1/(2L), so its speeds differ from the slide's. L-BFGS (memory
10, zoom line search) runs beside them: a comparison of SGD with GD at a fixed step alone would
flatter SGD; against FLOPs it is placed by its full-gradient passes (GD's FLOPs per pass, the
line search's trials included, its two-loop recursion of O(memory x d) left out). Figure 2 puts
constant-step SGD next to the lecture's decreasing step alpha_k = (2k+1)/(2 mu (k+1)^2).

Figure 3 uses the lecture's settings, which reproduce the slide's speeds: the step estimated from
the slide's GD slope (GD's gap contracts asymptotically like (1 - alpha lambda_min)^2, with
lambda_min the smallest Hessian eigenvalue at x*, so alpha = (1 - sqrt(rho_slide)) / lambda_min),
the same data (f(x_0) - f* = 9.29 against the slide's ~8), and SGD batches drawn without
replacement within each batch, independently from step to step (as numpy's
``choice(m, B, replace=False)`` draws them). The runner's samplers offer with replacement,
reshuffling and cyclic order; reshuffling draws without replacement across a whole epoch (with
B = 100 = m/2 an epoch's two batches are complementary, so their errors cancel, which the
slide's independent draws do not), so this figure's SGD runs in a small scan of its own. It shows
single runs, as the slide does, with the mean and a 5-95% band beside them, and its FLOPs twice:
the slide's count 2 B d per step (2 m d = 4,000 for GD) and XLA's cost analysis of the step.
Every claim the figures make is checked and recorded in ``checks.json``.

    python scripts/lecture_logreg.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import problems
import sgd_bench as sb
from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.experiments.lecture_logreg import slide
from sgd_bench_harness.toolkit import Check

NAME = "lecture_logreg"
DESCRIPTION = "the lecture's logistic regression (m=200, d=10, mu=1): GD vs SGD batches, constant vs decreasing step"

FULL = dict(seeds=200, steps=100, log_every=1, batches=(1, 10, 50, 100), lbfgs_steps=30,
            schedule_steps=20_000, schedule_log_every=20, lecture_steps=100, data_seed=0, key=0)
# The lecture-settings figure keeps the slide's 100 steps in the quick run too: its plateau
# checks need the second half of a run that has reached the plateau (cheap: m = 200). 32 seeds
# (not 8) make the plateau checks' verdicts hold across random streams: over 40 streams of 32
# seeds the spread of plateau * B stayed at 1.30 or below (true value 1.16), where 8 seeds
# reached 1.48 here and 1.61 under jax 0.4.30; the seeds cost almost nothing next to compiling.
QUICK = dict(seeds=32, steps=20, log_every=2, batches=(1, 10, 50, 100), lbfgs_steps=10,
             schedule_steps=400, schedule_log_every=20, lecture_steps=100, data_seed=0, key=0)

# plateau * B may differ by this factor across batch sizes, beyond SPREAD_Z standard errors.
SPREAD, SPREAD_Z = 1.5, 1.96
# Decided (issue 18, leftovers32c): those standard errors may widen the factor by SPREAD_TELL at
# most, else the claim is too wide to tell (at --seeds 2 any spread was allowed). Full (200 seeds)
# widens it by 1.018, quick (32) by 1.105; below about 10 seeds a run fails.
SPREAD_TELL = 1.2

# L-BFGS and GD are compared at GD's final gap, but not below this (GD reaches rounding noise).
LBFGS_TARGET_FLOOR = 1e-12


def spread_check(scaled: dict, spread: float, log_se: float) -> Check:
    """"plateau * B agrees within a factor SPREAD across batch sizes" (``spread``: max/min of
    ``scaled``, ``log_se``: the standard error of its log), allowing SPREAD_Z standard errors that
    may widen the factor by SPREAD_TELL at most."""
    allowed = SPREAD * float(np.exp(SPREAD_Z * log_se))
    claim = (f"The plateau scales like 1/B (the variance of a with-replacement batch): "
             f"plateau * B agrees within a factor {SPREAD:g} across batch sizes "
             f"(max/min, allowing {SPREAD_Z:g} standard errors of its log)")
    measured = {"plateau_times_B": scaled, "max_over_min": spread, "stderr_of_log": log_se,
                "allowed_max_over_min": allowed}
    wide = allowed > SPREAD * SPREAD_TELL
    return Check(claim=claim, measured=measured, holds=bool(spread <= allowed and not wide),
                 summary=None if not wide else (
                     f"{claim} (measured: {experiment.readable(measured)}; the standard errors widen the "
                     f"factor by {allowed / SPREAD:.3g}, over {SPREAD_TELL:g}: too wide to tell; more --seeds)"))


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    problem = problems.lecture_logreg(seed=config["data_seed"])
    mu, L = problem.info["mu"], problem.info["L"]
    x_star, f_star = ref = sb.reference_solution(problem)
    # Start at distance ~4 from x*, where the lecture's curves start.
    x0 = jnp.full(problem.x_shape, 1.3)
    # One alpha for every method, as in the slide: 1/(2L) is a safe GD step and, since
    # mu <= L, it also satisfies the lecture's constant-step condition alpha < 1/(2 mu)
    # whenever mu < L.
    alpha = 1.0 / (2.0 * L)
    key = jax.random.key(config["key"])

    methods = [sb.gd(alpha)] + [sb.sgd(alpha, b) for b in config["batches"]]
    rows, traces = [], {}
    for method in methods:
        trace = sb.run_seeds(problem, method, x0, key, seeds=config["seeds"],
                             steps=config["steps"], log_every=config["log_every"], x_star=x_star)
        flops = slide.step_flops(problem, method, x0)
        traces[method.name] = (trace, flops)
        rows += results.trace_records(trace, f_star=f_star, flops_per_step=flops,
                                      experiment=NAME, figure="batches", problem=problem.name,
                                      method=method.name, alpha=alpha)
    # L-BFGS needs no step; it is deterministic, so its seeds agree (standard error 0). Its FLOPs
    # are GD's per full-gradient pass times its passes (init's f(x_0) and every line-search trial).
    lbfgs_trace = sb.run_seeds(problem, sb.lbfgs(), x0, key, seeds=config["seeds"],
                               steps=config["lbfgs_steps"], log_every=1, x_star=x_star)
    lbfgs_rows = results.trace_records(lbfgs_trace, f_star=f_star, experiment=NAME, figure="batches",
                                       problem=problem.name, method="L-BFGS", alpha=float("nan"))
    for r in lbfgs_rows:
        r["flops"] = traces["GD"][1] * r["grad_evals"] / problem.n
    rows += lbfgs_rows

    schedule_methods = [
        ("constant alpha", sb.sgd(alpha)),
        ("constant alpha/10", sb.sgd(alpha / 10)),
        ("decreasing (2k+1)/(2mu(k+1)^2)", sb.sgd(sb.schedules.lecture_decreasing(mu))),
    ]
    schedule_traces = {}
    for label, method in schedule_methods:
        trace = sb.run_seeds(problem, method, x0, key, seeds=config["seeds"],
                             steps=config["schedule_steps"], log_every=config["schedule_log_every"],
                             x_star=x_star)
        schedule_traces[label] = trace
        rows += results.trace_records(trace, f_star=f_star, experiment=NAME, figure="schedules",
                                      problem=problem.name, method=f"SGD, {label}")

    # ---- checks and summary ---------------------------------------------------------------
    checks = []
    gd_trace = traces["GD"][0]
    gd_gap = np.abs(np.asarray(gd_trace.loss) - f_star)
    gd_steps = np.asarray(gd_trace.step[0])
    # GD with alpha <= 1/L on a mu-PL function: f(x_k) - f* <= (1 - 2 alpha mu (1 - alpha L / 2))^k
    # (f(x_0) - f*); at alpha = 1/(2L) the factor is 1 - 3 mu / (4 L). Allow the float64 floor.
    gd_rate = 1.0 - 2.0 * alpha * mu * (1.0 - alpha * L / 2.0)
    gd_bound = gd_rate ** gd_steps * gd_gap[:, :1]
    gd_excess = float(np.max(gd_gap - np.maximum(gd_bound, 1e-14)))
    checks.append(Check(claim=f"GD converges linearly, under its bound (1 - 3 mu/(4L))^k (f(x_0) - f*) "
                              f"= {gd_rate:.3f}^k (f(x_0) - f*) at every logged k",
                        measured={"final_gap": float(gd_gap[:, -1].max()), "max_excess_over_bound": gd_excess},
                        holds=bool(gd_excess <= 0)))

    # The deterministic full-gradient baseline: full-gradient passes of L-BFGS and of GD to the
    # gap GD ends with, floored above float64 rounding of f* (GD reaches the floor in the full run).
    target = max(float(gd_gap.mean(0)[-1]), LBFGS_TARGET_FLOOR)

    def passes_to(trace):
        gap = np.abs(np.asarray(trace.loss) - f_star).mean(0)
        hit = np.flatnonzero(gap <= target)
        return float(np.asarray(trace.grad_evals)[0, hit[0]]) / problem.n if hit.size else None

    lbfgs_needs, gd_needs = passes_to(lbfgs_trace), passes_to(gd_trace)
    checks.append(Check(claim=f"L-BFGS reaches GD's final mean gap (at least {LBFGS_TARGET_FLOOR:g}) in fewer "
                              f"full-gradient passes than GD",
                        measured={"target": target, "lbfgs_passes": lbfgs_needs, "gd_passes": gd_needs},
                        holds=bool(lbfgs_needs is not None and gd_needs is not None and lbfgs_needs < gd_needs)))

    plateaus = []
    for name, (trace, flops) in traces.items():
        mean, se = toolkit.plateau(np.abs(np.asarray(trace.loss) - f_star), np.asarray(trace.step[0]))
        plateaus.append((name, mean, se))
    sgd_plateaus = plateaus[1:]
    ordered = all(a[1] - b[1] > toolkit.Z95 * np.hypot(a[2], b[2]) for a, b in zip(sgd_plateaus, sgd_plateaus[1:]))
    checks.append(Check(
        claim="Constant-step SGD stalls at a plateau that falls as the batch grows "
              "(each step of the batch sizes lowers it beyond its 95% interval)",
        measured={name: float(m) for name, m, _ in sgd_plateaus}, holds=bool(ordered)))

    # With replacement the batch gradient's variance is v/B, and the plateau of constant-step
    # SGD is proportional to it, so plateau * B should be about the same for every B. The
    # largest and smallest plateau * B are seed means: log(max/min) has the standard error
    # hypot(se/m of each), and the claim holds unless the ratio exceeds 1.5 by more than
    # SPREAD_Z of them (so that its verdict does not flip with the random stream).
    scaled = {name: float(m * b) for (name, m, _), b in zip(sgd_plateaus, config["batches"])}
    rel_se = {name: float(se / m) for name, m, se in sgd_plateaus}
    hi, lo = max(scaled, key=scaled.get), min(scaled, key=scaled.get)
    spread = scaled[hi] / scaled[lo]
    log_se = float(np.hypot(rel_se[hi], rel_se[lo]))
    checks.append(spread_check(scaled, spread, log_se))

    dec = schedule_traces[schedule_methods[2][0]]
    k = np.asarray(dec.step[0])[1:].astype(float)
    dec_mean = np.abs(np.asarray(dec.loss) - f_star).mean(0)[1:]
    dec_slope = toolkit.decade_slope(k, dec_mean)
    const = schedule_traces[schedule_methods[0][0]]
    const_final = float(np.abs(np.asarray(const.loss) - f_star)[:, -1].mean())
    checks.append(Check(claim="The decreasing step converges like O(1/k): the log-log slope of the "
                              "mean gap over the last decade of k lies in [-1.3, -0.7]",
                        measured=dec_slope, holds=bool(-1.3 <= dec_slope <= -0.7)))
    checks.append(Check(claim="The decreasing step ends below the constant step's plateau",
                        measured={"decreasing": float(dec_mean[-1]), "constant": const_final},
                        holds=bool(dec_mean[-1] < const_final)))

    lecture_rows, lecture = slide.settings(problem, x0, x_star, f_star, config, NAME)
    rows += lecture_rows
    checks += slide.checks(lecture_rows, lecture)

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "alpha": alpha, "x0": "1.3 * ones(d)",
                                          "sampling": "with_replacement"},
                                   dtype="float64", wall_seconds=round(wall, 2))
    meta["reference_solution"] = {"f_star": f_star, "grad_norm": ref.grad_norm,
                                  "solver": ref.solver, "iterations": ref.iterations}
    meta["problem"] = {"name": problem.name, "n": problem.n, "d": problem.x_shape[0], **problem.info}
    meta["lecture_settings"] = lecture
    experiment.save(out, rows=rows, meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the figures and writes ``summary.md`` from the stored records, meta and checks
    alone (``sgd-bench report`` calls it without re-running anything)."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)

    config, info = meta["config"], meta["problem"]
    mu, L, alpha, seeds = info["mu"], info["L"], config["alpha"], config["seeds"]
    ref = meta["reference_solution"]
    batches, schedules = (results.curves(rows, figure=f) for f in ("batches", "schedules"))

    xla_gd = batches["GD"]["flops"][-1] / batches["GD"]["step"][-1]
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.8))
    for i, (name, c) in enumerate(batches.items()):
        color = plots.COLORS[(i - 1) % len(plots.COLORS)] if i else plots.COLORS[4]
        steps = c["step"]
        if name == "L-BFGS":
            color = "black"
        plots.band(axes[0], steps, c[("mean", "f_gap")], c[("stderr", "f_gap")], label=name, color=color,
                   floor=toolkit.GAP_FLOOR)
        plots.band(axes[1], steps, c[("mean", "dist")], c[("stderr", "dist")], label=name, color=color,
                   floor=toolkit.GAP_FLOOR)
        plots.band(axes[2], c["flops"], c[("mean", "f_gap")], c[("stderr", "f_gap")], label=name,
                   color=color, floor=toolkit.GAP_FLOOR)
    for ax, ylabel, xlabel in zip(axes, [r"$|f(x_k) - f^*|$", r"$\|x_k - x^*\|$", r"$|f(x_k) - f^*|$"],
                                  ["Iteration", "Iteration",
                                   f"FLOPs (XLA's count: {xla_gd:,.0f} per GD step;\n"
                                   f"the slide's 2 m d is {2 * info['n'] * info['d']:,})"]):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    fig.suptitle(f"Strongly convex binary logistic regression. m={info['n']}, d={info['d']}, "
                 f"mu={mu:g}; alpha = 1/(2L) = {alpha:.3f}, mean of {seeds} seeds, 95% band")
    toolkit.save(fig, out / "lecture_logreg.png", legend_axes=axes)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (label, c) in enumerate(schedules.items()):
        plots.band(ax, c["step"][1:], c[("mean", "f_gap")][1:], c[("stderr", "f_gap")][1:], label=label,
                   color=plots.COLORS[i], floor=toolkit.GAP_FLOOR)
    dec = schedules[list(schedules)[-1]]
    k = dec["step"][1:].astype(float)
    dec_mean = dec[("mean", "f_gap")][1:]
    ax.plot(k, dec_mean[-1] * k[-1] / k, "k--", lw=1, label=r"reference $\propto 1/k$")
    toolkit.log_axes(ax)
    ax.set_xlabel("Iteration k")
    ax.set_ylabel(r"$\mathbb{E}\,|f(x_k) - f^*|$")
    ax.set_title(f"SGD (batch 1) on the lecture's logistic regression, {seeds} seeds")
    ax.legend()
    toolkit.save(fig, out / "lecture_logreg_schedules.png")
    plt.close(fig)

    lecture = meta["lecture_settings"]
    settings = results.curves(rows, figure="lecture_settings")
    single = results.curves(rows, figure="lecture_runs")
    slide.figure(settings, single, info, lecture, seeds, out)
    ours_gd = settings["GD"][("mean", "f_gap")]
    slide_rows = [{"quantity": "GD |f - f*| at k = 100", "slide (read off)": f"~{slide.SLIDE['gd_gap_100']:.1e}",
                   "ours": f"{ours_gd[-1]:.2e}"},
                  {"quantity": "GD contraction per iteration", "slide (read off)": f"~{slide.SLIDE_RATE:.3f}",
                   "ours": f"{next(c['measured']['rate'] for c in checks if 'slope per iteration' in c['claim']):.3f}"}]
    for b, level in slide.SLIDE["plateau"].items():
        cv = settings["SGD" if b == 1 else f"SGD batch {b}"]
        tail = cv["step"] >= cv["step"][-1] / 2
        slide_rows.append({"quantity": f"SGD B = {b} plateau (2nd half; mean / median over seeds)"
                                       + ("" if b in slide.SLIDE["checked"] else ", not checked"),
                           "slide (read off)": f"~{level:.0e}",
                           "ours": f"{cv[('mean', 'f_gap')][tail].mean():.1e} / {cv[('q50', 'f_gap')][tail].mean():.1e}"})
    slide_cols = list(slide_rows[0])

    summary = []
    for name, c in batches.items():
        steps = c["step"]
        tail = steps >= steps[-1] / 2
        summary.append({
            "method": name, "alpha": "line search" if name == "L-BFGS" else f"{alpha:.4f}",
            "steps": int(steps[-1]),
            "grad evals": int(c["grad_evals"][-1]), "FLOPs/step": f"{c['flops'][-1] / steps[-1]:.0f}",
            "final f-f* (mean ± se)": f"{c[('mean', 'f_gap')][-1]:.2e} ± {c[('stderr', 'f_gap')][-1]:.1e}",
            "plateau (2nd half)": "-" if name in ("GD", "L-BFGS") else f"{c[('mean', 'f_gap')][tail].mean():.2e}",
            "final ||x-x*||": f"{c[('mean', 'dist')][-1]:.2e}",
        })
    sched_rows = []
    for label, c in schedules.items():
        slope = toolkit.decade_slope(c["step"][1:].astype(float), c[("mean", "f_gap")][1:])
        sched_rows.append({"method": label, "steps": int(c["step"][-1]),
                           "final f-f* (mean ± se)": f"{c[('mean', 'f_gap')][-1]:.2e} ± "
                                                      f"{c[('stderr', 'f_gap')][-1]:.1e}",
                           "log-log slope, last decade": f"{slope:.2f}"})
    columns, sched_cols = list(summary[0]), list(sched_rows[0])
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Lecture experiment: strongly convex logistic regression (m={info['n']}, d={info['d']}, mu={mu:g})

L = {L:.4f} (closed form), f* = {ref['f_star']:.12f} (Newton, ||grad f(x*)|| = {ref['grad_norm']:.1e}).
Step alpha = 1/(2L) = {alpha:.4f} for GD and SGD (L-BFGS: memory 10, zoom line search; its FLOPs
are GD's per full-gradient pass times its passes); SGD samples with replacement; x0 = 1.3 * ones(d);
{seeds} seeds; dtype float64; device {meta['devices'][0]}.

![batches](lecture_logreg.png)

{results.markdown_table(summary, columns)}

![schedules](lecture_logreg_schedules.png)

{results.markdown_table(sched_rows, sched_cols)}

## The lecture's settings

The slide's speeds come back with alpha = (1 - sqrt({slide.SLIDE_RATE:.3f})) / lambda_min = {lecture['alpha']:.4f}
(lambda_min(grad^2 f(x*)) = {lecture['lambda_min']:.4f}; {slide.SLIDE_RATE:.3f} is the slide's GD contraction per
iteration, ~8 to ~1.5e-9 in 100 steps) and SGD batches drawn without replacement within each batch.
Thin lines: single runs, as on the slide; thick dashed: the mean over {seeds} seeds with its 5-95% band.
The FLOPs are shown with both counts: the slide's 2 B d per step (2 m d = {2 * info['n'] * info['d']:,} for GD)
and XLA's cost analysis of the compiled step ({settings['GD']['flops'][-1] / settings['GD']['step'][-1]:,.0f} for GD).

![lecture settings](lecture_logreg_lecture_settings.png)

{results.markdown_table(slide_rows, slide_cols)}

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall,
                     header=f"{NAME}: {info['name']}, {seeds} seeds, alpha = {alpha:.4f}, f* = {ref['f_star']:.10f}",
                     tables=[(summary, columns), (sched_rows, sched_cols)])
    return {"summary": summary, "checks": checks}


def main(argv=None) -> int:
    # --steps sets the length of the batch comparison (figure 1); the schedule comparison's
    # 20,000 steps are what its O(1/k) check needs. The lecture's data are float64 only.
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least("seeds", 2, "standard errors need two seeds"),
                                      "steps": "steps"})


if __name__ == "__main__":
    sys.exit(main())
