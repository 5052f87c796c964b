"""The lecture's experiment: strongly convex binary logistic regression, m = 200, d = 10, mu = 1.

Figure 1 reproduces the slide "Strongly convex binary logistic regression. m=200, n=10, mu=1":
|f(x_k) - f*| and ||x_k - x*|| against the iteration, and |f(x_k) - f*| against FLOPs, for GD
and SGD with batch 1, 10, 50 and 100 at one constant step, each a mean over seeds with a 95%
band. Figure 2 puts constant-step SGD next to the lecture's decreasing step
alpha_k = (2k+1)/(2 mu (k+1)^2). Every claim the figures make is checked and recorded in
``checks.json``.

    python scripts/lecture_logreg.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench import experiment

NAME = "lecture_logreg"
DESCRIPTION = "the lecture's logistic regression (m=200, d=10, mu=1): GD vs SGD batches, constant vs decreasing step"

FULL = dict(seeds=200, steps=100, log_every=1, batches=(1, 10, 50, 100),
            schedule_steps=20_000, schedule_log_every=20, data_seed=0, key=0)
QUICK = dict(seeds=8, steps=20, log_every=2, batches=(1, 10, 50, 100),
             schedule_steps=400, schedule_log_every=20, data_seed=0, key=0)

# |f - f*| is plotted on log axes; values below float64 rounding of f* (~1e-16) are noise.
GAP_FLOOR = 1e-16


def _plateau(gap, steps):
    """Per-seed mean of the gap over the second half of the run, then mean and stderr over seeds."""
    import numpy as np

    tail = gap[:, steps >= steps[-1] / 2]
    per_seed = tail.mean(axis=1)
    return per_seed.mean(), per_seed.std(ddof=1) / np.sqrt(len(per_seed))


def _loglog_slope(k, mean_gap, lo_frac=0.1):
    import numpy as np

    keep = k >= lo_frac * k[-1]
    return float(np.polyfit(np.log(k[keep]), np.log(mean_gap[keep]), 1)[0])


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import problems
    import sgd_bench as sb
    from sgd_bench import results

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
        flops = sb.step_flops(problem, method, x0)
        traces[method.name] = (trace, flops)
        rows += results.trace_records(trace, f_star=f_star, flops_per_step=flops,
                                      experiment=NAME, figure="batches", problem=problem.name,
                                      method=method.name, alpha=alpha)

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
    checks.append(dict(claim=f"GD converges linearly, under its bound (1 - 3 mu/(4L))^k (f(x_0) - f*) "
                             f"= {gd_rate:.3f}^k (f(x_0) - f*) at every logged k",
                       measured={"final_gap": float(gd_gap[:, -1].max()), "max_excess_over_bound": gd_excess},
                       holds=bool(gd_excess <= 0)))

    plateaus = []
    for name, (trace, flops) in traces.items():
        mean, se = _plateau(np.abs(np.asarray(trace.loss) - f_star), np.asarray(trace.step[0]))
        plateaus.append((name, mean, se))
    sgd_plateaus = plateaus[1:]
    ordered = all(a[1] - b[1] > 1.96 * np.hypot(a[2], b[2]) for a, b in zip(sgd_plateaus, sgd_plateaus[1:]))
    checks.append(dict(
        claim="Constant-step SGD stalls at a plateau that falls as the batch grows "
              "(each step of the batch sizes lowers it beyond its 95% interval)",
        measured={name: float(m) for name, m, _ in sgd_plateaus}, holds=bool(ordered)))

    # With replacement the batch gradient's variance is v/B, and the plateau of constant-step
    # SGD is proportional to it, so plateau * B should be about the same for every B.
    scaled = {name: float(m * b) for (name, m, _), b in zip(sgd_plateaus, config["batches"])}
    spread = max(scaled.values()) / min(scaled.values())
    checks.append(dict(claim="The plateau scales like 1/B (the variance of a with-replacement batch): "
                             "plateau * B agrees within a factor 1.5 across batch sizes",
                       measured={"plateau_times_B": scaled, "max_over_min": spread},
                       holds=bool(spread <= 1.5)))

    dec = schedule_traces[schedule_methods[2][0]]
    k = np.asarray(dec.step[0])[1:].astype(float)
    dec_mean = np.abs(np.asarray(dec.loss) - f_star).mean(0)[1:]
    dec_slope = _loglog_slope(k, dec_mean)
    const = schedule_traces[schedule_methods[0][0]]
    const_final = float(np.abs(np.asarray(const.loss) - f_star)[:, -1].mean())
    checks.append(dict(claim="The decreasing step converges like O(1/k): the log-log slope of the "
                             "mean gap over the last decade of k lies in [-1.3, -0.7]",
                       measured=dec_slope, holds=bool(-1.3 <= dec_slope <= -0.7)))
    checks.append(dict(claim="The decreasing step ends below the constant step's plateau",
                       measured={"decreasing": float(dec_mean[-1]), "constant": const_final},
                       holds=bool(dec_mean[-1] < const_final)))

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "alpha": alpha, "x0": "1.3 * ones(d)",
                                          "sampling": "with_replacement"},
                                   dtype="float64", wall_seconds=round(wall, 2))
    meta["reference_solution"] = {"f_star": f_star, "grad_norm": ref.grad_norm,
                                  "solver": ref.solver, "iterations": ref.iterations}
    meta["problem"] = {"name": problem.name, "n": problem.n, "d": problem.x_shape[0], **problem.info}
    experiment.save(out, rows=rows, meta=meta, checks=checks)
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the figures and writes ``summary.md`` from the stored records, meta and checks
    alone (``sgd-bench report`` calls it without re-running anything)."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    import matplotlib.pyplot as plt

    from sgd_bench import plots, results

    config, info = meta["config"], meta["problem"]
    mu, L, alpha, seeds = info["mu"], info["L"], config["alpha"], config["seeds"]
    ref = meta["reference_solution"]
    batches, schedules = (results.curves(rows, figure=f) for f in ("batches", "schedules"))

    fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.8))
    for i, (name, c) in enumerate(batches.items()):
        color = plots.COLORS[(i - 1) % len(plots.COLORS)] if i else plots.COLORS[4]
        steps = c["step"]
        flops_per_step = c["flops"][-1] / steps[-1]
        plots.band(axes[0], steps, c[("mean", "f_gap")], c[("stderr", "f_gap")], label=name, color=color,
                   floor=GAP_FLOOR)
        plots.band(axes[1], steps, c[("mean", "dist")], c[("stderr", "dist")], label=name, color=color,
                   floor=GAP_FLOOR)
        plots.band(axes[2], steps * flops_per_step, c[("mean", "f_gap")], c[("stderr", "f_gap")], label=name,
                   color=color, floor=GAP_FLOOR)
    for ax, ylabel, xlabel in zip(axes, [r"$|f(x_k) - f^*|$", r"$\|x_k - x^*\|$", r"$|f(x_k) - f^*|$"],
                                  ["Iteration", "Iteration", "FLOPs (XLA cost analysis)"]):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    fig.suptitle(f"Strongly convex binary logistic regression. m={info['n']}, d={info['d']}, "
                 f"mu={mu:g}; alpha = 1/(2L) = {alpha:.3f}, mean of {seeds} seeds, 95% band")
    plots.legend_below(fig, axes)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    results.save_figure(fig, out / "lecture_logreg.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (label, c) in enumerate(schedules.items()):
        plots.band(ax, c["step"][1:], c[("mean", "f_gap")][1:], c[("stderr", "f_gap")][1:], label=label,
                   color=plots.COLORS[i], floor=GAP_FLOOR)
    dec = schedules[list(schedules)[-1]]
    k = dec["step"][1:].astype(float)
    dec_mean = dec[("mean", "f_gap")][1:]
    ax.plot(k, dec_mean[-1] * k[-1] / k, "k--", lw=1, label=r"reference $\propto 1/k$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Iteration k")
    ax.set_ylabel(r"$\mathbb{E}\,|f(x_k) - f^*|$")
    ax.set_title(f"SGD (batch 1) on the lecture's logistic regression, {seeds} seeds")
    ax.legend()
    fig.tight_layout()
    results.save_figure(fig, out / "lecture_logreg_schedules.png")
    plt.close(fig)

    summary = []
    for name, c in batches.items():
        steps = c["step"]
        tail = steps >= steps[-1] / 2
        summary.append({
            "method": name, "alpha": f"{alpha:.4f}", "steps": int(steps[-1]),
            "grad evals": int(c["grad_evals"][-1]), "FLOPs/step": f"{c['flops'][-1] / steps[-1]:.0f}",
            "final f-f* (mean ± se)": f"{c[('mean', 'f_gap')][-1]:.2e} ± {c[('stderr', 'f_gap')][-1]:.1e}",
            "plateau (2nd half)": "-" if name == "GD" else f"{c[('mean', 'f_gap')][tail].mean():.2e}",
            "final ||x-x*||": f"{c[('mean', 'dist')][-1]:.2e}",
        })
    sched_rows = []
    for label, c in schedules.items():
        sched_rows.append({"method": label, "steps": int(c["step"][-1]),
                           "final f-f* (mean ± se)": f"{c[('mean', 'f_gap')][-1]:.2e} ± "
                                                      f"{c[('stderr', 'f_gap')][-1]:.1e}",
                           "log-log slope, last decade": f"{_loglog_slope(c['step'][1:].astype(float), c[('mean', 'f_gap')][1:]):.2f}"})
    columns, sched_cols = list(summary[0]), list(sched_rows[0])
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Lecture experiment: strongly convex logistic regression (m={info['n']}, d={info['d']}, mu={mu:g})

L = {L:.4f} (closed form), f* = {ref['f_star']:.12f} (Newton, ||grad f(x*)|| = {ref['grad_norm']:.1e}).
Step alpha = 1/(2L) = {alpha:.4f} for every method; SGD samples with replacement; x0 = 1.3 * ones(d);
{seeds} seeds; dtype float64; device {meta['devices'][0]}.

![batches](lecture_logreg.png)

{results.markdown_table(summary, columns)}

![schedules](lecture_logreg_schedules.png)

{results.markdown_table(sched_rows, sched_cols)}

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
