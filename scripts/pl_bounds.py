"""The lecture's two PL bounds for SGD, overlaid on measured runs of its logistic regression.

On the lecture's strongly convex logistic regression (m = 200, d = 10, mu = 1), SGD (batch 1,
with replacement) runs from x_0 = 1.3 * ones over at least 500 seeds
- with several constant steps alpha < 1/(2 mu), each against
  E f(x_k) - f* <= (1 - 2 alpha mu)^k Delta_0 + L sigma^2 alpha / (4 mu), and
- with the decreasing step alpha_k = (2k+1)/(2 mu (k+1)^2), against L sigma^2 / (2 mu^2 k),
where sigma^2 is measured along each run (the largest seed mean of E_i ||grad f_i(x_k)||^2 over
the logged iterates) and L, mu are the closed-form constants. Every bound is checked at every
logged k (the 95% interval of the seed mean must lie under it), and the check is shown to fail
with a deliberately wrong sigma^2 / 100. The plateau of each constant step (the mean gap over the
second half of the run) is plotted against alpha: the bound's plateau is linear in alpha, and so
is the measured one to first order, with slope sigma_*^2 / 4 (the quadratic-model value).

    python scripts/pl_bounds.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench import experiment

NAME = "pl_bounds"
DESCRIPTION = "the lecture's PL bounds for constant and decreasing steps against 500-seed SGD runs"

FULL = dict(seeds=500, alphas=(0.0125, 0.025, 0.05, 0.1, 0.2, 0.4), steps=2000, log_every=10,
            decreasing_steps=20_000, decreasing_log_every=100, data_seed=0, key=0)
QUICK = dict(seeds=32, alphas=(0.2,), steps=400, log_every=10,
             decreasing_steps=2000, decreasing_log_every=100, data_seed=0, key=0)

X0_VALUE = 1.3  # x_0 = 1.3 * ones(d), about 4 from x*, as in the lecture's figure
WRONG_FACTOR = 100.0  # the deliberately wrong sigma^2 is divided by this


def _plateau(gap, steps):
    """Per-seed mean gap over the second half of the run, then mean and stderr over seeds."""
    import numpy as np

    per_seed = gap[:, steps >= steps[-1] / 2].mean(axis=1)
    return float(per_seed.mean()), float(per_seed.std(ddof=1) / np.sqrt(len(per_seed)))


def _fit_plateaus(alphas, means, ses):
    """Weighted least squares P(alpha) = a alpha + b alpha^2: (a, se_a, b, se_b)."""
    import numpy as np

    alphas, means, ses = (np.asarray(v, dtype=np.float64) for v in (alphas, means, ses))
    X = np.stack([alphas, alphas**2], axis=1)
    w = 1.0 / np.maximum(ses, 1e-300) ** 2
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    coef = cov @ (X.T @ (w * means))
    return float(coef[0]), float(np.sqrt(cov[0, 0])), float(coef[1]), float(np.sqrt(cov[1, 1]))


def _markdown(rows, columns=None):
    """``results.markdown_table`` over all columns of ``rows`` by default (it escapes "|")."""
    from sgd_bench import results

    return results.markdown_table(rows, list(rows[0]) if columns is None else list(columns))


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config`` and writes ``out``; returns the summary rows and checks."""
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import matplotlib.pyplot as plt
    import numpy as np

    import problems
    import sgd_bench as sb
    from sgd_bench import plots, results, theory

    start = time.perf_counter()
    problem = problems.lecture_logreg(seed=config["data_seed"])
    c = theory.constants(problem)
    L, mu, f_star = c.L, c.mu, c.f_star
    x0 = jnp.full(problem.x_shape, X0_VALUE)
    delta0 = float(problem.loss(x0)) - f_star
    # f(x_k) - f* cannot be resolved below the rounding of f* in float64.
    floor = 16 * np.finfo(np.float64).eps * max(1.0, abs(f_star))
    key = jax.random.key(config["key"])
    seeds = config["seeds"]

    rows, table, checks = [], [], []
    constant_runs = []
    for alpha in config["alphas"]:
        if not alpha < 1 / (2 * mu):
            raise ValueError(f"alpha = {alpha} is not below 1/(2 mu) = {1 / (2 * mu)}")
        method = sb.sgd(alpha)
        trace = sb.run_seeds(problem, method, x0, key, seeds=seeds, steps=config["steps"],
                             log_every=config["log_every"], log_iterates=True)
        label = f"constant alpha = {alpha:g}"
        s2 = theory.sigma2_along_run(problem, trace, run=f"SGD, {label}, {seeds} seeds")
        steps = np.asarray(trace.step[0])
        gap = np.asarray(trace.loss) - f_star
        bound = theory.sgd_constant_step(steps, c, alpha=alpha, delta0=delta0, sigma2=s2.value)
        chk = theory.check(steps, gap, bound, name=f"SGD {label}: (1 - 2 alpha mu)^k Delta_0 + "
                           f"L sigma^2 alpha/(4 mu)", atol=floor)
        plateau, plateau_se = _plateau(gap, steps)
        constant_runs.append(dict(alpha=alpha, trace=trace, s2=s2, steps=steps, gap=gap, bound=bound,
                                  check=chk, plateau=plateau, plateau_se=plateau_se))
        checks.append(chk.as_dict())
        for row in results.trace_records(trace, f_star=f_star, experiment=NAME, figure="constant",
                                         problem=problem.name, method=f"SGD, {label}", alpha=alpha):
            row["bound"] = float(bound[list(steps).index(row["step"])])
            row["sigma2"] = s2.value
            rows.append(row)
        table.append({
            "step": label, "sigma^2 (run)": f"{s2.value:.3f} (k = {s2.step})",
            "plateau of bound": f"{theory.sgd_plateau(c, alpha=alpha, sigma2=s2.value):.3e}",
            "measured plateau (± se)": f"{plateau:.3e} ± {plateau_se:.1e}",
            "plateau / alpha": f"{plateau / alpha:.3f}",
            "max mean/bound": f"{chk.tightness:.3f}",
            "bound": "holds at every logged k" if chk.holds else "FAILS",
        })

    dec_method = sb.sgd(sb.schedules.lecture_decreasing(mu))
    dec = sb.run_seeds(problem, dec_method, x0, key, seeds=seeds, steps=config["decreasing_steps"],
                       log_every=config["decreasing_log_every"], log_iterates=True)
    dec_label = "decreasing alpha_k = (2k+1)/(2 mu (k+1)^2)"
    dec_s2 = theory.sigma2_along_run(problem, dec, run=f"SGD, {dec_label}, {seeds} seeds")
    dec_steps = np.asarray(dec.step[0])
    dec_gap = np.asarray(dec.loss) - f_star
    dec_bound = theory.sgd_decreasing_step(dec_steps, c, sigma2=dec_s2.value)
    dec_check = theory.check(dec_steps, dec_gap, dec_bound,
                             name="SGD decreasing step: L sigma^2 / (2 mu^2 k)", atol=floor)
    checks.append(dec_check.as_dict())
    for row in results.trace_records(dec, f_star=f_star, experiment=NAME, figure="decreasing",
                                     problem=problem.name, method=f"SGD, {dec_label}", alpha=None):
        row["bound"] = float(dec_bound[list(dec_steps).index(row["step"])])
        row["sigma2"] = dec_s2.value
        rows.append(row)
    table.append({"step": dec_label, "sigma^2 (run)": f"{dec_s2.value:.3f} (k = {dec_s2.step})",
                  "plateau of bound": "0", "measured plateau (± se)": "-", "plateau / alpha": "-",
                  "max mean/bound": f"{dec_check.tightness:.3f}",
                  "bound": "holds at every logged k" if dec_check.holds else "FAILS"})

    # The check can fail: the same runs against bounds built with sigma^2 / 100.
    largest = constant_runs[-1]
    wrong = theory.check(largest["steps"], largest["gap"],
                         theory.sgd_constant_step(largest["steps"], c, alpha=largest["alpha"], delta0=delta0,
                                                  sigma2=largest["s2"].value / WRONG_FACTOR),
                         name=f"constant alpha = {largest['alpha']:g} with sigma^2/{WRONG_FACTOR:g}", atol=floor)
    wrong_dec = theory.check(dec_steps, dec_gap,
                             theory.sgd_decreasing_step(dec_steps, c, sigma2=dec_s2.value / WRONG_FACTOR),
                             name=f"decreasing step with sigma^2/{WRONG_FACTOR:g}", atol=floor)
    checks.append(dict(claim=f"The check can fail: with a deliberately wrong sigma^2/{WRONG_FACTOR:g} both "
                             "bounds are reported violated",
                       measured={"constant": wrong.summary(), "decreasing": wrong_dec.summary()},
                       holds=bool(not wrong.holds and not wrong_dec.holds)))

    alphas = np.array([r["alpha"] for r in constant_runs])
    plateaus = np.array([r["plateau"] for r in constant_runs])
    plateau_ses = np.array([r["plateau_se"] for r in constant_runs])
    first_order = c.sigma2_star / 4.0
    bound_slopes = np.array([theory.sgd_plateau(c, alpha=1.0, sigma2=r["s2"].value) for r in constant_runs])
    a = b = a_se = b_se = None
    if len(alphas) >= 2:
        a, a_se, b, b_se = _fit_plateaus(alphas, plateaus, plateau_ses)
        # A plateau is linear in alpha to first order: SGD on the quadratic model around x* has
        # stationary E f - f* = alpha tr(Cov grad f_i(x*)) / 4 + O(alpha^2) = alpha sigma_*^2/4 + O(alpha^2).
        close = abs(a - first_order) <= max(3 * a_se, 0.1 * first_order)
        checks.append(dict(
            claim="The plateau is linear in alpha to first order, as the bound's is: the fit "
                  "P(alpha) = a alpha + b alpha^2 gives a within 10% (or 3 se) of sigma_*^2/4",
            measured={"a": a, "a_se": a_se, "b": b, "b_se": b_se, "sigma2_star_over_4": first_order,
                      "plateau_over_alpha": dict(zip(map(str, alphas), (plateaus / alphas).tolist()))},
            holds=bool(close)))
    under = bool(np.all(plateaus + 1.96 * plateau_ses <= alphas * bound_slopes))
    checks.append(dict(claim="Every measured plateau lies under the bound's plateau L sigma^2 alpha/(4 mu)",
                       measured={"measured": plateaus.tolist(), "bound": (alphas * bound_slopes).tolist()},
                       holds=under))

    # ---- figures ------------------------------------------------------------------------------
    plots.style()
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2))
    ax = axes[0]
    for i, r in enumerate(constant_runs):
        color = plots.COLORS[i % len(plots.COLORS)]
        s = sb.stats.summarize(r["gap"], None)
        plots.band(ax, r["steps"], s.mean, s.stderr, label=rf"$\alpha$ = {r['alpha']:g}", color=color,
                   floor=floor)
        ax.plot(r["steps"], r["bound"], "--", color=color, lw=1.2)
    ax.plot([], [], "k--", lw=1.2, label="bound (same color)")
    ax.set_yscale("log")
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\mathbb{E}\,f(x_k) - f^*$")
    ax.set_title(r"constant steps: $(1-2\alpha\mu)^k\Delta_0 + L\sigma^2\alpha/(4\mu)$")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax = axes[1]
    s = sb.stats.summarize(dec_gap, None)
    keep = dec_steps >= 1
    color = plots.COLORS[len(constant_runs) % len(plots.COLORS)]
    plots.band(ax, dec_steps[keep], s.mean[keep], s.stderr[keep], label="measured (mean, 95% band)",
               color=color, floor=floor)
    ax.plot(dec_steps[keep], dec_bound[keep], "--", color=color, lw=1.2,
            label=r"bound $L\sigma^2/(2\mu^2 k)$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\mathbb{E}\,f(x_k) - f^*$")
    ax.set_title(r"decreasing step $\alpha_k = (2k+1)/(2\mu(k+1)^2)$")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.suptitle(f"SGD (batch 1) on the lecture's logistic regression, m={problem.n}, d={problem.x_shape[0]}, "
                 f"mu={mu:g}, L={L:.3f}: mean of {seeds} seeds (95% band), bounds dashed")
    fig.tight_layout()
    results.save_figure(fig, out / "pl_bounds.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    grid = np.geomspace(alphas.min() / 1.5, alphas.max() * 1.5, 100)
    ax.errorbar(alphas, plateaus, yerr=1.96 * plateau_ses, fmt="o", color=plots.COLORS[0], ms=5,
                capsize=3, label="measured plateau (95% CI)", zorder=3)
    if a is not None:
        ax.plot(grid, a * grid + b * grid**2, "-", color=plots.COLORS[0], lw=1.2,
                label=rf"fit ${a:.3f}\,\alpha + {b:.3f}\,\alpha^2$")
    ax.plot(grid, first_order * grid, ":", color="k", lw=1.2,
            label=rf"first order $\sigma_*^2\alpha/4$, $\sigma_*^2$ = {c.sigma2_star:.3f}")
    ax.plot(grid, np.median(bound_slopes) * grid, "--", color=plots.COLORS[3], lw=1.2,
            label=rf"bound $L\sigma^2\alpha/(4\mu)$, $\sigma^2$ = {np.median(bound_slopes) * 4 * mu / L:.1f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"step size $\alpha$")
    ax.set_ylabel(r"plateau of $\mathbb{E}\,f(x_k) - f^*$")
    ax.set_title(f"Constant-step plateau against alpha ({seeds} seeds): linear, like the bound")
    ax.legend(fontsize=8)
    fig.tight_layout()
    results.save_figure(fig, out / "pl_bounds_plateau.png")
    plt.close(fig)

    # ---- records, metadata, summary -------------------------------------------------------------
    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "x0": f"{X0_VALUE} * ones(d)",
                                          "sampling": "with_replacement", "batch_size": 1},
                                   dtype="float64", wall_seconds=round(wall, 2))
    meta["constants"] = c.as_dict()
    meta["delta0"] = delta0
    meta["sigma2"] = {r["s2"].run: r["s2"].describe() for r in constant_runs}
    meta["sigma2"][dec_s2.run] = dec_s2.describe()
    meta["problem"] = {"name": problem.name, "n": problem.n, "d": problem.x_shape[0], **problem.info}
    results.write_records(out / "records", rows)
    results.write_json(out / "meta.json", meta)
    results.write_json(out / "checks.json", checks)
    columns = list(table[0])
    check_lines = "\n".join(f"- [{'x' if ch['holds'] else ' '}] {ch.get('summary', ch['claim'])}"
                            + ("" if "summary" in ch else f" (measured: {ch['measured']})") for ch in checks)
    if a is None:
        plateau_text = "(One step size only: no fit of the plateau against alpha.)"
    else:
        plateau_text = (f"The measured plateau is linear to first order: P(alpha) = a alpha + b alpha^2 with "
                        f"a = {a:.4f} ± {a_se:.1g} against sigma_*^2/4 = {first_order:.4f} (SGD on the quadratic "
                        f"model around x*), and b = {b:.3f} ± {b_se:.1g}.")
    all_held = all(r["check"].holds for r in constant_runs) and dec_check.holds
    setup = f"logistic regression, m={problem.n}, d={problem.x_shape[0]}, mu={mu:g}"
    text = f"""# The lecture's PL bounds for SGD, measured ({setup})

SGD with batch 1 (sampling with replacement) from x_0 = {X0_VALUE} * ones(d), Delta_0 = f(x_0) - f* =
{delta0:.4f}; {seeds} seeds; float64; device {meta['devices'][0]}. Constants:

{c.describe()}

sigma^2 is measured along each run: the largest seed mean of E_i ||grad f_i(x_k)||^2 over the
logged iterates (it is reached at k = 0, where the gradients are largest). A bound "holds" at a
logged k when the whole 95% interval of the seed mean lies under it.

![bounds](pl_bounds.png)

{_markdown(table, columns)}

Which bounds held: {"all of them, at every logged k" if all_held else "see the table: not all"}.
With sigma^2/{WRONG_FACTOR:g} in place of the measured sigma^2 the same check reports:
- {wrong.summary()}
- {wrong_dec.summary()}

![plateau](pl_bounds_plateau.png)

The bound's plateau L sigma^2 alpha / (4 mu) is linear in alpha. {plateau_text} The bound's slope
L sigma^2/(4 mu) = {np.median(bound_slopes):.2f} is {np.median(bound_slopes) / first_order:.0f} times the first-order
slope: sigma^2 along the run ({np.median(bound_slopes) * 4 * mu / L:.1f}) is set by the start, far from x*,
where sigma_*^2 = {c.sigma2_star:.3f}, and L/mu = {L / mu:.3f}.

## Checks

{check_lines}

Wall time {wall:.1f} s (compilation included).
"""
    results.write_text(out / "summary.md", text)
    print(f"\n{NAME}: {problem.name}, {seeds} seeds, L = {L:.4f}, mu = {mu:g}, f* = {f_star:.10f}")
    print(results.text_table(table, columns))
    for ch in checks:
        print(f"[{'PASS' if ch['holds'] else 'FAIL'}] {ch.get('summary', ch['claim'])}")
    print(f"wrote {out}/ in {wall:.1f} s")
    return {"summary": table, "checks": checks}


def _seeds(config: dict, seeds: int) -> dict:
    if seeds < 2:
        raise ValueError("--seeds must be >= 2 (standard errors need two seeds)")
    return {**config, "seeds": seeds}


def _steps(config: dict, steps: int) -> dict:
    if steps < config["log_every"]:
        raise ValueError(f"--steps must be >= {config['log_every']} (the bounds are checked every "
                         f"{config['log_every']} steps)")
    return {**config, "steps": steps}


def main(argv=None) -> int:
    # --steps is the length of the constant-step runs; the decreasing-step run keeps its own
    # decreasing_steps (its O(1/k) bound needs them). float64 only (theory checks).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": _seeds, "steps": _steps})


if __name__ == "__main__":
    sys.exit(main())
