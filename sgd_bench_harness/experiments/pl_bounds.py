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

The records hold each run's seed statistics at every logged k with its bound and sigma^2
(``figure`` "constant" or "decreasing"), and one row per run (``figure`` "runs": sigma^2 and the k
where it was reached, the plateau and its standard error, the largest mean/bound, whether the
bound held); ``meta.json`` holds the constants, Delta_0 and the wrong-sigma^2 verdicts.

    python scripts/pl_bounds.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
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
from sgd_bench import theory
from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.toolkit import Check

NAME = "pl_bounds"
DESCRIPTION = "the lecture's PL bounds for constant and decreasing steps against 500-seed SGD runs"

FULL = dict(seeds=500, alphas=(0.0125, 0.025, 0.05, 0.1, 0.2, 0.4), steps=2000, log_every=10,
            decreasing_steps=20_000, decreasing_log_every=100, data_seed=0, key=0)
QUICK = dict(seeds=32, alphas=(0.2,), steps=400, log_every=10,
             decreasing_steps=2000, decreasing_log_every=100, data_seed=0, key=0)

X0_VALUE = 1.3  # x_0 = 1.3 * ones(d), about 4 from x*, as in the lecture's figure
WRONG_FACTOR = 100.0  # the deliberately wrong sigma^2 is divided by this
A_TELL = 0.2  # the first-order fit's 3 se may be at most this fraction of sigma_*^2/4 (twice its 10% band)
DECREASING = "decreasing alpha_k = (2k+1)/(2 mu (k+1)^2)"


def _plateaus(run_rows, c):
    """The constant steps' plateaus against alpha, from the stored per-run rows: alpha,
    plateau, se, the bound's slope L sigma^2/(4 mu) and the weighted least-squares fit
    P(alpha) = a alpha + b alpha^2 as (a, se_a, b, se_b), or None with one step size only."""
    constant = [r for r in run_rows if r["alpha"] is not None]
    alphas, means, ses = (np.array([r[k] for r in constant], dtype=np.float64)
                          for k in ("alpha", "plateau", "plateau_se"))
    slopes = np.array([theory.sgd_plateau(c, alpha=1.0, sigma2=r["sigma2"]) for r in constant])
    fit = None
    if len(alphas) >= 2:
        X = np.stack([alphas, alphas**2], axis=1)
        w = 1.0 / np.maximum(ses, 1e-300) ** 2
        cov = np.linalg.inv(X.T @ (X * w[:, None]))
        coef = cov @ (X.T @ (w * means))
        fit = float(coef[0]), float(np.sqrt(cov[0, 0])), float(coef[1]), float(np.sqrt(cov[1, 1]))
    return {"alpha": alphas, "plateau": means, "se": ses, "bound_slope": slopes, "fit": fit}


def first_order_check(plateaus: dict, first_order: float) -> Check:
    """"The fit P(alpha) = a alpha + b alpha^2 gives a within 10% (or 3 se) of sigma_*^2/4"
    (``first_order``), from ``plateaus`` (``_plateaus``: its fit and the plateaus)."""
    a, a_se, b, b_se = plateaus["fit"]
    close = abs(a - first_order) <= max(3 * a_se, 0.1 * first_order)
    # Decided (issue 18, leftovers32c): "or 3 se" loosens as seeds drop, so 3 se must also be at
    # most A_TELL of sigma_*^2/4 (full: 0.0054), else the fit is too wide to tell.
    wide = 3 * a_se > A_TELL * first_order
    claim = ("The plateau is linear in alpha to first order, as the bound's is: the fit "
             "P(alpha) = a alpha + b alpha^2 gives a within 10% (or 3 se) of sigma_*^2/4")
    measured = {"a": a, "a_se": a_se, "b": b, "b_se": b_se, "sigma2_star_over_4": first_order,
                "plateau_over_alpha": dict(zip(map(str, plateaus["alpha"]),
                                               (plateaus["plateau"] / plateaus["alpha"]).tolist()))}
    return Check(claim=claim, measured=measured, holds=bool(close and not wide), summary=None if not wide else (
        f"{claim} (measured: {experiment.readable(measured)}; 3 se is {3 * a_se / first_order:.3g} of "
        f"sigma_*^2/4, over {A_TELL:g}: too wide to tell; more --seeds)"))


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    problem = problems.lecture_logreg(seed=config["data_seed"])
    c = theory.constants(problem)
    mu, f_star = c.mu, c.f_star
    x0 = jnp.full(problem.x_shape, X0_VALUE)
    delta0 = float(problem.loss(x0)) - f_star
    floor = toolkit.rounding_floor(f_star)
    key = jax.random.key(config["key"])
    seeds = config["seeds"]

    def measure(trace, figure, label, alpha, bound_of):
        """Stores the run's curves with its bound; returns (steps, per-seed gap, sigma^2, bound)."""
        s2 = theory.sigma2_along_run(problem, trace, run=f"SGD, {label}, {seeds} seeds")
        steps = np.asarray(trace.step[0])
        bound = bound_of(steps, s2.value)
        at = {int(k): float(b) for k, b in zip(steps, bound)}
        for row in results.trace_records(trace, f_star=f_star, experiment=NAME, figure=figure,
                                         problem=problem.name, method=f"SGD, {label}", alpha=alpha):
            rows.append({**row, "bound": at[row["step"]], "sigma2": s2.value})
        return steps, np.asarray(trace.loss) - f_star, s2, bound

    def run_row(label, alpha, s2, chk, plateau=None, plateau_se=None):
        return {"experiment": NAME, "figure": "runs", "method": f"SGD, {label}", "alpha": alpha,
                "sigma2": s2.value, "sigma2_step": int(s2.step), "plateau": plateau, "plateau_se": plateau_se,
                "largest_mean_over_bound": chk.tightness, "bound_holds": chk.holds}

    rows, checks, run_rows, sigma2 = [], [], [], {}
    largest = None
    for alpha in config["alphas"]:
        if not alpha < 1 / (2 * mu):
            raise ValueError(f"alpha = {alpha} is not below 1/(2 mu) = {1 / (2 * mu)}")
        trace = sb.run_seeds(problem, sb.sgd(alpha), x0, key, seeds=seeds, steps=config["steps"],
                             log_every=config["log_every"], log_iterates=True)
        label = f"constant alpha = {alpha:g}"
        steps, gap, s2, bound = measure(trace, "constant", label, alpha, lambda k, s: theory.sgd_constant_step(
            k, c, alpha=alpha, delta0=delta0, sigma2=s))
        chk = theory.check(steps, gap, bound, name=f"SGD {label}: (1 - 2 alpha mu)^k Delta_0 + "
                           f"L sigma^2 alpha/(4 mu)", atol=floor)
        checks.append(chk.as_dict())
        run_rows.append(run_row(label, alpha, s2, chk, *toolkit.plateau(gap, steps)))
        sigma2[s2.run] = s2.describe()
        largest = (alpha, steps, gap, s2)

    dec = sb.run_seeds(problem, sb.sgd(sb.schedules.lecture_decreasing(mu)), x0, key, seeds=seeds,
                       steps=config["decreasing_steps"], log_every=config["decreasing_log_every"],
                       log_iterates=True)
    dec_steps, dec_gap, dec_s2, dec_bound = measure(dec, "decreasing", DECREASING, None,
                                                    lambda k, s: theory.sgd_decreasing_step(k, c, sigma2=s))
    dec_check = theory.check(dec_steps, dec_gap, dec_bound,
                             name="SGD decreasing step: L sigma^2 / (2 mu^2 k)", atol=floor)
    checks.append(dec_check.as_dict())
    run_rows.append(run_row(DECREASING, None, dec_s2, dec_check))
    sigma2[dec_s2.run] = dec_s2.describe()

    # The check can fail: the same runs against bounds built with sigma^2 / 100.
    alpha, steps, gap, s2 = largest
    wrong = theory.check(steps, gap, theory.sgd_constant_step(steps, c, alpha=alpha, delta0=delta0,
                                                              sigma2=s2.value / WRONG_FACTOR),
                         name=f"constant alpha = {alpha:g} with sigma^2/{WRONG_FACTOR:g}", atol=floor)
    wrong_dec = theory.check(dec_steps, dec_gap,
                             theory.sgd_decreasing_step(dec_steps, c, sigma2=dec_s2.value / WRONG_FACTOR),
                             name=f"decreasing step with sigma^2/{WRONG_FACTOR:g}", atol=floor)
    wrong_sigma2 = {"constant": wrong.summary(), "decreasing": wrong_dec.summary()}
    checks.append(Check(claim=f"The check can fail: with a deliberately wrong sigma^2/{WRONG_FACTOR:g} both "
                              "bounds are reported violated",
                        measured=wrong_sigma2, holds=bool(not wrong.holds and not wrong_dec.holds)))

    plateaus = _plateaus(run_rows, c)
    first_order = c.sigma2_star / 4.0
    if plateaus["fit"] is not None:
        # A plateau is linear in alpha to first order: SGD on the quadratic model around x* has
        # stationary E f - f* = alpha tr(Cov grad f_i(x*)) / 4 + O(alpha^2) = alpha sigma_*^2/4 + O(alpha^2).
        checks.append(first_order_check(plateaus, first_order))
    bound_plateaus = plateaus["alpha"] * plateaus["bound_slope"]
    checks.append(Check(claim="Every measured plateau lies under the bound's plateau L sigma^2 alpha/(4 mu)",
                        measured={"measured": plateaus["plateau"].tolist(), "bound": bound_plateaus.tolist()},
                        holds=bool(np.all(plateaus["plateau"] + toolkit.Z95 * plateaus["se"] <= bound_plateaus))))

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "x0": f"{X0_VALUE} * ones(d)",
                                          "sampling": "with_replacement", "batch_size": 1},
                                   dtype="float64", wall_seconds=round(wall, 2))
    meta["constants"] = c.as_dict()
    meta["delta0"] = delta0
    meta["sigma2"] = sigma2
    meta["wrong_sigma2"] = wrong_sigma2
    meta["problem"] = {"name": problem.name, "n": problem.n, "d": problem.x_shape[0], **problem.info}
    experiment.save(out, rows=rows + run_rows, meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws ``pl_bounds.png`` (runs against their bounds) and ``pl_bounds_plateau.png`` (plateau
    against alpha, refitted from the stored plateaus) and writes ``summary.md``, from the stored
    files alone; ``sgd-bench report`` calls it without re-running anything."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)

    c, info, seeds = theory.Constants(**meta["constants"]), meta["problem"], meta["config"]["seeds"]
    wrong = meta["wrong_sigma2"]
    L, mu, f_star, delta0 = c.L, c.mu, c.f_star, meta["delta0"]
    floor = toolkit.rounding_floor(f_star)
    constant, decreasing = (results.curves(rows, figure=f) for f in ("constant", "decreasing"))
    run_rows = [r for r in rows if r["figure"] == "runs"]
    plateaus = _plateaus(run_rows, c)
    alphas, first_order, median_slope = plateaus["alpha"], c.sigma2_star / 4.0, np.median(plateaus["bound_slope"])

    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2))
    ax = axes[0]
    for i, curve in enumerate(constant.values()):
        color = plots.COLORS[i % len(plots.COLORS)]
        plots.band(ax, curve["step"], curve[("mean", "loss")] - f_star, curve[("stderr", "loss")],
                   label=rf"$\alpha$ = {curve['alpha'][0]:g}", color=color, floor=floor)
        ax.plot(curve["step"], curve["bound"], "--", color=color, lw=1.2)
    ax.plot([], [], "k--", lw=1.2, label="bound (same color)")
    ax.set_yscale("log")
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\mathbb{E}\,f(x_k) - f^*$")
    ax.set_title(r"constant steps: $(1-2\alpha\mu)^k\Delta_0 + L\sigma^2\alpha/(4\mu)$")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax = axes[1]
    (dec,) = decreasing.values()
    keep = dec["step"] >= 1
    color = plots.COLORS[len(constant) % len(plots.COLORS)]
    plots.band(ax, dec["step"][keep], dec[("mean", "loss")][keep] - f_star, dec[("stderr", "loss")][keep],
               label="measured (mean, 95% band)", color=color, floor=floor)
    ax.plot(dec["step"][keep], dec["bound"][keep], "--", color=color, lw=1.2, label=r"bound $L\sigma^2/(2\mu^2 k)$")
    toolkit.log_axes(ax)
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\mathbb{E}\,f(x_k) - f^*$")
    ax.set_title(r"decreasing step $\alpha_k = (2k+1)/(2\mu(k+1)^2)$")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.suptitle(f"SGD (batch 1) on the lecture's logistic regression, m={info['n']}, d={info['d']}, "
                 f"mu={mu:g}, L={L:.3f}: mean of {seeds} seeds (95% band), bounds dashed")
    toolkit.save(fig, out / "pl_bounds.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    grid = np.geomspace(alphas.min() / 1.5, alphas.max() * 1.5, 100)
    ax.errorbar(alphas, plateaus["plateau"], yerr=toolkit.Z95 * plateaus["se"], fmt="o", color=plots.COLORS[0], ms=5,
                capsize=3, label="measured plateau (95% CI)", zorder=3)
    if plateaus["fit"] is not None:
        a, _, b, _ = plateaus["fit"]
        ax.plot(grid, a * grid + b * grid**2, "-", color=plots.COLORS[0], lw=1.2,
                label=rf"fit ${a:.3f}\,\alpha + {b:.3f}\,\alpha^2$")
    ax.plot(grid, first_order * grid, ":", color="k", lw=1.2,
            label=rf"first order $\sigma_*^2\alpha/4$, $\sigma_*^2$ = {c.sigma2_star:.3f}")
    ax.plot(grid, median_slope * grid, "--", color=plots.COLORS[3], lw=1.2,
            label=rf"bound $L\sigma^2\alpha/(4\mu)$, $\sigma^2$ = {median_slope * 4 * mu / L:.1f}")
    toolkit.log_axes(ax)
    ax.set_xlabel(r"step size $\alpha$")
    ax.set_ylabel(r"plateau of $\mathbb{E}\,f(x_k) - f^*$")
    ax.set_title(f"Constant-step plateau against alpha ({seeds} seeds): linear, like the bound")
    ax.legend(fontsize=8)
    toolkit.save(fig, out / "pl_bounds_plateau.png")
    plt.close(fig)

    table = []
    for r in run_rows:
        constant_step = r["alpha"] is not None
        table.append({
            "step": r["method"].removeprefix("SGD, "), "sigma^2 (run)": f"{r['sigma2']:.3f} (k = {r['sigma2_step']})",
            "plateau of bound": f"{theory.sgd_plateau(c, alpha=r['alpha'], sigma2=r['sigma2']):.3e}"
                                if constant_step else "0",
            "measured plateau (± se)": f"{r['plateau']:.3e} ± {r['plateau_se']:.1e}" if constant_step else "-",
            "plateau / alpha": f"{r['plateau'] / r['alpha']:.3f}" if constant_step else "-",
            "max mean/bound": f"{r['largest_mean_over_bound']:.3f}",
            "bound": "holds at every logged k" if r["bound_holds"] else "FAILS",
        })
    columns = list(table[0])
    if plateaus["fit"] is None:
        plateau_text = "(One step size only: no fit of the plateau against alpha.)"
    else:
        a, a_se, b, b_se = plateaus["fit"]
        plateau_text = (f"The measured plateau is linear to first order: P(alpha) = a alpha + b alpha^2 with "
                        f"a = {a:.4f} ± {a_se:.1g} against sigma_*^2/4 = {first_order:.4f} (SGD on the quadratic "
                        f"model around x*), and b = {b:.3f} ± {b_se:.1g}.")
    all_held = all(r["bound_holds"] for r in run_rows)
    wall = meta.get("wall_seconds") or 0.0
    setup = f"logistic regression, m={info['n']}, d={info['d']}, mu={mu:g}"
    text = f"""# The lecture's PL bounds for SGD, measured ({setup})

SGD with batch 1 (sampling with replacement) from x_0 = {X0_VALUE} * ones(d), Delta_0 = f(x_0) - f* =
{delta0:.4f}; {seeds} seeds; float64; device {meta['devices'][0]}. Constants:

{c.describe()}

sigma^2 is measured along each run: the largest seed mean of E_i ||grad f_i(x_k)||^2 over the
logged iterates (it is reached at k = 0, where the gradients are largest). A bound "holds" at a
logged k when the whole 95% interval of the seed mean lies under it.

The constant-step bound is checked with the exponent k for x_k. The lecture writes
E f(x_(k+1)) - f* <= (1 - 2 alpha mu)^k Delta_0 + ..., but its own unrolled recursion gives the
exponent k + 1 there (an off-by-one on the safe side). So the bound tested here is the tighter
one: below the lecture's by the factor 1 / (1 - 2 alpha mu) on its first term.

![bounds](pl_bounds.png)

{results.markdown_table(table, columns)}

Which bounds held: {"all of them, at every logged k" if all_held else "see the table: not all"}.
With sigma^2/{WRONG_FACTOR:g} in place of the measured sigma^2 the same check reports:
- {wrong['constant']}
- {wrong['decreasing']}

![plateau](pl_bounds_plateau.png)

The bound's plateau L sigma^2 alpha / (4 mu) is linear in alpha. {plateau_text} The bound's slope
L sigma^2/(4 mu) = {median_slope:.2f} is {median_slope / first_order:.0f} times the first-order
slope: sigma^2 along the run ({median_slope * 4 * mu / L:.1f}) is set by the start, far from x*,
where sigma_*^2 = {c.sigma2_star:.3f}, and L/mu = {L / mu:.3f}.

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, tables=[(table, columns)],
                     header=f"{NAME}: {info['name']}, {seeds} seeds, L = {L:.4f}, mu = {mu:g}, f* = {f_star:.10f}")
    return {"summary": table, "checks": checks}


def main(argv=None) -> int:
    # --steps is the length of the constant-step runs; the decreasing-step run keeps its own
    # decreasing_steps (its O(1/k) bound needs them). float64 only (theory checks).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least("seeds", 2, "standard errors need two seeds"),
                                      "steps": experiment.at_least("steps", lambda config: config["log_every"],
                                                                   "the bounds are checked every log_every steps")})


if __name__ == "__main__":
    sys.exit(main())
