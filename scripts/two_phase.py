"""O(1/k) without strong convexity: averaged constant-step SGD and the online Newton method.

Bach & Moulines (2013): for least squares, averaged SGD with a constant step gamma = 1/(4 R^2)
reaches E[f(x̄_k) - f*] = O(1/k) with no strong convexity; for logistic regression constant-step
averaging has a bias, and averaged SGD on a local quadratic model around a support point (the
online Newton step) restores O(1/k). Here, on least squares with a rank-deficient design
(normalized rows, ||a_i|| = 1) and on unregularized, non-separable logistic regression
(||a_i|| = 2), batch-1 runs of plain SGD with alpha_k = 1/(L_max sqrt(k+1)), averaged
constant-step SGD, the online Newton method with the running average as support point, and the
two-phase method (phase 1: averaged SGD for a tenth of the run) show k * E[f(x̄_k) - f*]
bounded for the Newton-like methods and growing for plain SGD. Every claim is checked and
recorded in ``checks.json``.

    python scripts/two_phase.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench import experiment

NAME = "two_phase"
DESCRIPTION = ("averaged SGD and online Newton reach O(1/k) without strong convexity; plain SGD "
               "with 1/sqrt(k) does not")

FULL = dict(seeds=100, steps=200_000, log_every=1_000, phase1_fraction=0.1, key=0,
            least_squares=dict(n=5_000, d=20, rank=10, noise=0.3, seed=0),
            logistic=dict(n=5_000, d=10, radius=2.0, w_norm=3.0, seed=1))
QUICK = dict(seeds=32, steps=20_000, log_every=250, phase1_fraction=0.1, key=0,
             least_squares=dict(n=1_000, d=20, rank=10, noise=0.3, seed=0),
             logistic=dict(n=1_000, d=10, radius=2.0, w_norm=3.0, seed=1))

GROWS = 0.25    # log-log slope of k * gap over the last decade above this: it grows
BOUNDED = 0.1   # ... below this: bounded


def rank_deficient_least_squares(n, d, rank, noise, seed):
    """Least squares whose design has rank ``rank`` < d: rows z_i^T W with W (rank x d) having
    orthonormal rows, normalized to ||a_i|| = 1, and targets <a_i, w> + noise * eps."""
    import numpy as np

    import problems

    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, rank)))[0].T
    A = rng.standard_normal((n, rank)) @ basis
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    b = A @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return problems.least_squares(A, b, 0.0, name=f"least squares, rank {rank} of d={d}")


def logistic_unregularized(n, d, radius, w_norm, seed):
    """Unregularized logistic regression with labels drawn from the logistic model: features
    uniform on the sphere of radius ``radius``, P(y = +1 | a) = sigmoid(<a, w>), ||w|| = w_norm.
    The classes overlap, so the data is not separable and a minimizer exists."""
    import numpy as np

    import problems

    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    A *= radius / np.linalg.norm(A, axis=1, keepdims=True)
    w = rng.standard_normal(d)
    w *= w_norm / np.linalg.norm(w)
    y = np.where(rng.random(n) < 1.0 / (1.0 + np.exp(-A @ w)), 1.0, -1.0)
    return problems.logistic_regression(A, y, 0.0, name=f"logistic, unregularized, d={d}")


def bach_moulines_bound(problem, x_star, d):
    """B&M's Theorem 1 at gamma = 1/(4 R^2): k E[f(x̄_k) - f*] <= 2 (sigma sqrt(d) + R ||x_0 - x*||)^2
    with x_0 = 0, R^2 = max ||a_i||^2 and sigma^2 the smallest constant with
    E[r^2 a a^T] <= sigma^2 E[a a^T] (r the residual at x*), on the range of the design."""
    import numpy as np

    A, b = (np.asarray(a, np.float64) for a in problem.data)
    n = len(b)
    res = A @ np.asarray(x_star) - b
    H = A.T @ A / n
    S = (A * (res**2)[:, None]).T @ A / n
    eig, vec = np.linalg.eigh(H)
    keep = eig > 1e-10 * eig[-1]
    half = vec[:, keep] / np.sqrt(eig[keep])
    sigma2 = float(np.linalg.eigvalsh(half.T @ S @ half)[-1])
    r2 = float(np.max(np.sum(A * A, axis=1)))
    bound = 2.0 * (np.sqrt(sigma2 * d) + np.sqrt(r2) * np.linalg.norm(x_star)) ** 2
    return bound, dict(sigma2=sigma2, R2=r2, rank=int(keep.sum()),
                       x_star_norm=float(np.linalg.norm(x_star)))


def _growth_slope(k, kgap):
    """Log-log slope of the seed mean of k * gap over the last decade of k, jackknife stderr."""
    import numpy as np

    keep = k >= k[-1] / 10
    logk = np.log(k[keep])

    def fit(values):
        return float(np.polyfit(logk, np.log(values.mean(axis=0)[keep]), 1)[0])

    s = len(kgap)
    loo = np.array([fit(np.delete(kgap, i, axis=0)) for i in range(s)])
    return fit(kgap), float(np.sqrt((s - 1) / s * np.sum((loo - loo.mean()) ** 2)))


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figure and the summary from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import sgd_bench as sb
    from sgd_bench import results
    from sgd_bench.averaging import averaged
    from sgd_bench.two_phase import online_newton

    start = time.perf_counter()
    key = jax.random.key(config["key"])
    steps, log_every, seeds = config["steps"], config["log_every"], config["seeds"]
    phase1 = int(config["phase1_fraction"] * steps)
    cases = [("least_squares", rank_deficient_least_squares(**config["least_squares"])),
             ("logistic", logistic_unregularized(**config["logistic"]))]
    rows, checks, curves, infos = [], [], {}, {}
    for kind, problem in cases:
        ref = sb.reference_solution(problem)
        l_max = problem.info["L_max"]
        infos[problem.name] = dict(n=problem.n, d=problem.x_shape[0], f_star=ref.f,
                                   ref_grad_norm=ref.grad_norm,
                                   x_star_norm=float(np.linalg.norm(ref.x)),
                                   **problem.info)
        methods = [
            ("SGD, 1/sqrt(k)", sb.sgd(sb.schedules.inverse_sqrt(1.0 / l_max))),
            ("averaged SGD, constant step", averaged(sb.sgd(1.0 / (4.0 * l_max)))),
            ("online Newton, running-average support", online_newton(support="running_average")),
            (f"two-phase Newton (phase 1: {phase1} steps)", online_newton(phase1_steps=phase1)),
        ]
        x0 = jnp.zeros(problem.x_shape)
        for label, method in methods:
            trace = sb.run_seeds(problem, method, x0, key, seeds=seeds, steps=steps,
                                 log_every=log_every)
            k = np.asarray(trace.step[0]).astype(float)
            gap = np.asarray(trace.loss) - ref.f
            curves[problem.name, label] = (k, gap, np.asarray(trace.diverged))
            rows += results.trace_records(trace, f_star=ref.f, experiment=NAME, problem=problem.name,
                                          method=label)
        labels = [m for m, _ in methods]
        sgd_label, avg_label, ra_label, tp_label = labels
        # the slopes' jackknife needs the seeds: stored for the report
        slopes = {}
        for label in labels:
            k, gap, _ = curves[problem.name, label]
            slopes[label] = _growth_slope(k[1:], k[1:] * gap[:, 1:])
        infos[problem.name]["growth_slopes"] = {m: dict(slope=s, se=se) for m, (s, se) in slopes.items()}
        bounded = [ra_label, tp_label] + ([avg_label] if kind == "least_squares" else [])
        checks.append(dict(
            claim=f"{problem.name}: k E[f(x̄_k) - f*] stays bounded for "
                  f"{', '.join(bounded)} (log-log slope over the last decade <= {BOUNDED})",
            measured={m: {"slope": slopes[m][0], "se": slopes[m][1]} for m in bounded},
            holds=bool(all(slopes[m][0] <= BOUNDED for m in bounded))))
        checks.append(dict(
            claim=f"{problem.name}: k E[f(x_k) - f*] grows for plain SGD with 1/sqrt(k) steps "
                  f"(log-log slope over the last decade >= {GROWS})",
            measured={"slope": slopes[sgd_label][0], "se": slopes[sgd_label][1]},
            holds=bool(slopes[sgd_label][0] >= GROWS)))
        if kind == "least_squares":
            bound, parts = bach_moulines_bound(problem, ref.x, problem.x_shape[0])
            infos[problem.name]["bach_moulines"] = dict(bound=bound, **parts)
            k, gap, _ = curves[problem.name, avg_label]
            kgap = (k[1:] + 1) * gap[:, 1:].mean(axis=0)  # x̄_k averages k + 1 iterates
            checks.append(dict(
                claim=f"{problem.name}: averaged SGD with gamma = 1/(4 R^2) stays under Bach & "
                      f"Moulines' bound (k+1) E[f(x̄_k) - f*] <= 2 (sigma sqrt(d) + R ||x0 - x*||)^2 "
                      f"= {bound:.2f} at every logged k",
                measured={"max_k_gap": float(kgap.max()), "bound": bound, **parts},
                holds=bool(kgap.max() <= bound)))
            same = np.max(np.abs(curves[problem.name, ra_label][1]
                                 - curves[problem.name, avg_label][1]))
            checks.append(dict(
                claim=f"{problem.name}: the quadratic model is exact, so online Newton with the "
                      f"running-average support is averaged constant-step SGD (same iterates)",
                measured={"max_abs_gap_difference": float(same)},
                holds=bool(same <= 1e-10 * max(1.0, abs(ref.f)))))
        else:
            checks.append(dict(
                claim=f"{problem.name}: constant-step averaged SGD is not enough beyond least "
                      f"squares: its k E[f(x̄_k) - f*] grows (slope >= {GROWS}), the bias the "
                      f"Newton step removes",
                measured={"slope": slopes[avg_label][0], "se": slopes[avg_label][1]},
                holds=bool(slopes[avg_label][0] >= GROWS)))

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, dict(config), dtype="float64", wall_seconds=round(wall, 2))
    meta["problems"] = infos
    meta["phase1_steps"] = phase1
    experiment.save(out, rows=rows, meta=meta, checks=checks)
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws ``two_phase.png`` and writes ``summary.md`` from the stored curves, the jackknifed
    slopes in ``meta.json`` and the checks; ``sgd-bench report`` calls it without re-running
    anything."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    import matplotlib.pyplot as plt
    import numpy as np

    from sgd_bench import plots, results

    config, infos, phase1 = meta["config"], meta["problems"], meta["phase1_steps"]
    steps, seeds = config["steps"], config["seeds"]
    names = list(infos)
    # f_gap is |f - f*|; the iterates stay above f* by far more than its rounding, so it is the
    # signed gap the checks use. Tables and figures start at the first logged k > 0 (log axes).
    curves = {pname: results.curves(rows, problem=pname) for pname in names}

    table = []
    for pname in names:
        for label, cv in curves[pname].items():
            k, mean, se = cv["step"][1:], cv[("mean", "f_gap")][1:], cv[("stderr", "f_gap")][1:]
            tenth = np.argmin(np.abs(k - k[-1] / 10))
            slope = infos[pname]["growth_slopes"][label]
            table.append({
                "problem": pname, "method": label,
                "f - f* at k = K (mean ± se)": f"{mean[-1]:.3e} ± {se[-1]:.1e}",
                "k (f - f*) at K/10": f"{k[tenth] * mean[tenth]:.3f}",
                "k (f - f*) at K": f"{k[-1] * mean[-1]:.3f}",
                "slope of log k(f - f*), last decade": f"{slope['slope']:+.3f} ± {slope['se']:.3f}",
                "diverged": int(cv["num_diverged"][-1]),
            })

    fig, axes = plt.subplots(2, len(names), figsize=(11.5, 7.6), squeeze=False)
    styles = ["-", "-", "--", "-"]
    for col, pname in enumerate(names):
        labels = list(curves[pname])
        for i, label in enumerate(labels):
            cv = curves[pname][label]
            k, mean, se = cv["step"][1:], cv[("mean", "f_gap")][1:], cv[("stderr", "f_gap")][1:]
            plots.band(axes[0, col], k, mean, se, label=label, color=plots.COLORS[i], ls=styles[i])
            plots.band(axes[1, col], k, k * mean, k * se, label=label, color=plots.COLORS[i],
                       ls=styles[i])
        k0 = curves[pname][labels[0]]["step"][1:]
        final = {m: curves[pname][m][("mean", "f_gap")][-1] for m in labels}
        axes[0, col].plot(k0, final[labels[2]] * k0[-1] / k0, "k:", lw=1, label=r"$\propto 1/k$")
        axes[0, col].plot(k0, final[labels[0]] * np.sqrt(k0[-1] / k0), "k-.", lw=0.8,
                          label=r"$\propto 1/\sqrt{k}$")
        if "bach_moulines" in infos[pname]:
            bound = axes[1, col].axhline(infos[pname]["bach_moulines"]["bound"], color="0.3", lw=0.8,
                                         ls=":")
            axes[1, col].legend([bound], ["Bach & Moulines' bound for averaged SGD"], fontsize=8,
                                loc="center left")
        for row in range(2):
            axes[row, col].axvline(phase1, color="0.6", lw=0.6)
        axes[0, col].annotate("two-phase: switch to Newton steps,\nthe average restarts",
                              (phase1, 0.97),
                              xycoords=("data", "axes fraction"), fontsize=7, va="top", ha="left",
                              xytext=(3, 0), textcoords="offset points", color="0.4")
        for row, ylabel in enumerate([r"$\mathbb{E}\,[f(\bar x_k) - f^*]$",
                                      r"$k\,\mathbb{E}\,[f(\bar x_k) - f^*]$"]):
            ax = axes[row, col]
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("Iteration k (batch 1)")
            ax.set_ylabel(ylabel)
        axes[0, col].set_title(f"{pname} (n={infos[pname]['n']})")
    fig.suptitle(f"O(1/k) without strong convexity (Bach & Moulines 2013): mean of {seeds} seeds, "
                 "95% band, float64; evaluated: the average x̄_k (plain SGD: x_k)")
    plots.legend_below(fig, axes[0], ncol=3)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    results.save_figure(fig, out / "two_phase.png")
    plt.close(fig)

    cols = list(table[0])
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# O(1/k) without strong convexity: the two-phase Newton-like method

**Claim (Bach & Moulines 2013; the lecture's conclusion):** a two-phase Newton-like method
reaches O(1/k) without strong convexity. For least squares it is averaged SGD with a constant
step; for logistic regression it is averaged SGD on the local quadratic model
f_i'(x~) + f_i''(x~)(x - x~) around a support point x~ (from a first phase of averaged SGD, or
the running average). Plain SGD with 1/sqrt(k) steps only reaches O(1/sqrt(k)).

Setup: batch 1 with replacement, x0 = 0, K = {steps} steps, {seeds} seeds, float64, device
{meta['devices'][0]}. Steps: SGD alpha_k = 1/(L_max sqrt(k + 1)); averaged SGD and the Newton
phase gamma = 1/(4 L_max) (= 1/(4 R^2) for least squares, 1/R^2 for logistic regression,
R = max ||a_i||); two-phase: averaged SGD with gamma for the first {phase1} steps, then Newton
steps around its average. Problems: {names[0]} (n = {infos[names[0]]['n']}, rows with
||a_i|| = 1, noise 0.3, rank {config['least_squares']['rank']}) and {names[1]} (n =
{infos[names[1]]['n']}, ||a_i|| = 2, labels from the logistic model with ||w|| =
{config['logistic']['w_norm']}: overlapping classes, ||x*|| = {infos[names[1]]['x_star_norm']:.2f}).

![two phase](two_phase.png)

{results.markdown_table(table, cols)}

A slope near 0 (or negative) of log k(f - f*) against log k means E[f - f*] = O(1/k); plain
SGD's +0.5 is the O(1/sqrt(k)) rate. On least squares online Newton and averaged SGD are the
same run (the quadratic model is exact).

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, header=NAME, tables=[(table, cols)])
    return {"summary": table, "checks": checks}


def main(argv=None) -> int:
    # --steps is every run's length K (phase 1 of the two-phase method is a fraction of it);
    # float64 only.
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least("seeds", 3, "jackknife standard errors"),
                                      "steps": experiment.at_least(
                                          "steps", lambda c: 10 * c["log_every"],
                                          "slopes are fitted over the last decade of the logged k")})


if __name__ == "__main__":
    sys.exit(main())
