"""Momentum does not improve the stochastic rate: SGD, heavy ball, Nesterov and Adam.

The lecture's conclusion "Nesterov/Polyak accelerations do not improve convergence rate" is about
the stochastic regime, where the bottleneck is the gradient noise, not the conditioning. On the
lecture's logistic regression and on breast_cancer, batch-1 SGD, heavy ball and Nesterov (optax,
beta = 0.9) run at the same *effective* step alpha/(1 - beta), with a constant step (figure:
the plateau) and with a decreasing step alpha_k = c/(k + k0), c = 1/mu (figure: the O(1/k)
slope); Adam runs at the step whose size matches SGD's at the noise scale (lr = alpha times
the RMS of the per-sample gradients at x*). The full-batch figure shows where momentum does
help: deterministic gradients on an ill-conditioned problem, where heavy ball and Nesterov
converge at 1 - O(sqrt(mu/L)) per step against GD's 1 - O(mu/L). Every claim is checked and
recorded in ``checks.json``.

    python scripts/momentum_stochastic.py [--quick] [--seeds S] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench import experiment

NAME = "momentum_stochastic"
DESCRIPTION = ("SGD, heavy ball, Nesterov, Adam: same plateau and slope with noise; momentum wins "
               "only full-batch")

FULL = dict(
    beta=0.9, key=0, log_points=200,
    stochastic=(
        dict(problem="lecture", seeds=100, const_steps=20_000, dec_steps=50_000),
        dict(problem="breast_cancer", mu=1e-2, seeds=64, const_steps=200_000, dec_steps=1_000_000),
    ),
    full_batch=(dict(problem="lecture", steps=40), dict(problem="breast_cancer", mu=1e-2, steps=1_500)),
)
QUICK = dict(
    beta=0.9, key=0, log_points=100,
    stochastic=(dict(problem="lecture", seeds=32, const_steps=2_000, dec_steps=4_000),),
    full_batch=(dict(problem="breast_cancer", mu=1e-2, steps=600),),
)

GAP_FLOOR = 1e-16  # below float64 rounding of f*
SLOPE_BAND = (-1.3, -0.7)  # an O(1/k) log-log slope
SLOPE_TOL = 0.15            # momentum's slope may differ from SGD's by this much at most
PLATEAU_BAND = (2 / 3, 3 / 2)  # plateau ratio to SGD's: the same up to a constant near 1
METHODS = ("SGD", "heavy ball", "Nesterov", "Adam")  # the stochastic regime's


def _problem(spec):
    import problems

    if spec["problem"] == "lecture":
        return problems.lecture_logreg()
    return problems.breast_cancer(spec["mu"])


def _plateau(gap, steps):
    """Per-seed mean of the gap over the second half of the run; mean and stderr over seeds."""
    import numpy as np

    per_seed = gap[:, steps >= steps[-1] / 2].mean(axis=1)
    return float(per_seed.mean()), float(per_seed.std(ddof=1) / np.sqrt(len(per_seed)))


def _slope(k, gap):
    """Log-log slope of the seed-mean gap over the last decade of k, with a jackknife stderr."""
    import numpy as np

    keep = k >= k[-1] / 10
    logk = np.log(k[keep])

    def fit(g):
        return float(np.polyfit(logk, np.log(np.maximum(g.mean(axis=0)[keep], GAP_FLOOR)), 1)[0])

    s = len(gap)
    loo = np.array([fit(np.delete(gap, i, axis=0)) for i in range(s)])
    return fit(gap), float(np.sqrt((s - 1) / s * np.sum((loo - loo.mean()) ** 2)))


def _linear_rate(k, gap, lo=1e-12):
    """Per-iteration contraction of the gap: exp of the slope of log(gap) against k, fitted
    where the gap is below gap[0]/10 and above ``lo`` (the transient and the floor left out)."""
    import numpy as np

    keep = (gap < gap[0] / 10) & (gap > lo)
    if keep.sum() < 3:
        keep = gap > lo
    return float(np.exp(np.polyfit(k[keep], np.log(gap[keep]), 1)[0]))


def _ratio(a, sa, b, sb):
    import numpy as np

    r = a / b
    return r, r * float(np.hypot(sa / a, sb / b))


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import optax

    import sgd_bench as sb
    from sgd_bench import results

    start = time.perf_counter()
    beta = config["beta"]
    key = jax.random.key(config["key"])
    rows, checks = [], []
    refs, stochastic, full_batch = {}, {}, {}

    def reference(spec):
        name = (spec["problem"], spec.get("mu"))
        if name not in refs:
            problem = _problem(spec)
            ref = sb.reference_solution(problem)
            hess = jax.jit(jax.hessian(problem.loss))(jnp.asarray(ref.x))
            grads = jax.jit(problem.per_sample_grads)(jnp.asarray(ref.x))
            refs[name] = (problem, ref, np.linalg.eigvalsh(np.asarray(hess)),
                          float(jnp.sqrt(jnp.mean(grads**2))))
        return refs[name]

    # ---- stochastic regime ----------------------------------------------------------------
    stoch = {}
    for spec in config["stochastic"]:
        problem, ref, eigs, g_rms = reference(spec)
        mu, l_max = problem.info["mu"], problem.info["L_max"]
        alpha = 1.0 / (2.0 * l_max)      # SGD's step; alpha L_max = 1/2
        c = 1.0 / mu                     # alpha_k = c/(k + k0): c mu = 1 > 1/2 gives O(1/k)
        k0 = c / alpha                   # so that alpha_0 = alpha
        lr_adam = alpha * g_rms
        dec = sb.schedules.inverse_time(alpha, k0)          # = c / (k + k0)
        scaled = lambda s, f: (lambda k: f * s(k))
        methods = {
            "constant": [
                ("SGD", sb.sgd(alpha)),
                ("heavy ball", sb.from_optax(optax.sgd((1 - beta) * alpha, momentum=beta), 1,
                                             name="heavy ball")),
                ("Nesterov", sb.from_optax(optax.sgd((1 - beta) * alpha, momentum=beta, nesterov=True),
                                           1, name="Nesterov")),
                ("Adam", sb.from_optax(optax.adam(lr_adam), 1, name="Adam")),
            ],
            "decreasing": [
                ("SGD", sb.sgd(dec)),
                ("heavy ball", sb.from_optax(optax.sgd(scaled(dec, 1 - beta), momentum=beta), 1,
                                             name="heavy ball")),
                ("Nesterov", sb.from_optax(optax.sgd(scaled(dec, 1 - beta), momentum=beta,
                                                     nesterov=True), 1, name="Nesterov")),
                ("Adam", sb.from_optax(optax.adam(scaled(dec, lr_adam / alpha)), 1, name="Adam")),
            ],
        }
        x0 = jnp.zeros(problem.x_shape)
        for regime, entries in methods.items():
            steps = spec["const_steps" if regime == "constant" else "dec_steps"]
            log_every = max(1, steps // config["log_points"])
            for label, method in entries:
                trace = sb.run_seeds(problem, method, x0, key, seeds=spec["seeds"], steps=steps,
                                     log_every=log_every)
                gap = np.abs(np.asarray(trace.loss) - ref.f)
                k = np.asarray(trace.step[0]).astype(float)
                stoch[problem.name, regime, label] = (k, gap, np.asarray(trace.diverged))
                rows += results.trace_records(trace, f_star=ref.f, experiment=NAME, regime=regime,
                                              problem=problem.name, method=label,
                                              effective_step=alpha, beta=beta if label in
                                              ("heavy ball", "Nesterov") else 0.0)
        # plateau and slope per method, as ratios to SGD; they need the seeds, so they are
        # stored for the report
        k_c, gap_c, _ = stoch[problem.name, "constant", "SGD"]
        sgd_plateau = _plateau(gap_c, k_c)
        k_d, gap_d, _ = stoch[problem.name, "decreasing", "SGD"]
        sgd_slope = _slope(k_d[1:], gap_d[:, 1:])
        measured = {}
        for label in METHODS:
            k_c, gap_c, div_c = stoch[problem.name, "constant", label]
            k_d, gap_d, div_d = stoch[problem.name, "decreasing", label]
            plateau = _plateau(gap_c, k_c)
            slope = _slope(k_d[1:], gap_d[:, 1:])
            ratio = _ratio(*plateau, *sgd_plateau)
            measured[label] = dict(plateau=plateau[0], plateau_se=plateau[1], plateau_ratio=ratio[0],
                                   plateau_ratio_se=ratio[1], slope=slope[0], slope_se=slope[1],
                                   diverged=int(div_c.sum() + div_d.sum()))
        stochastic[problem.name] = dict(alpha=alpha, lr_adam=lr_adam, methods=measured)
        momentum = {m: measured[m] for m in ("heavy ball", "Nesterov")}
        checks.append(dict(
            claim=f"{problem.name}: at equal effective step alpha/(1-beta), heavy ball and Nesterov "
                  f"stall at SGD's plateau (ratio to SGD's in [{PLATEAU_BAND[0]:.2f}, "
                  f"{PLATEAU_BAND[1]:.2f}]): momentum does not lower the noise floor",
            measured={m: {"ratio": v["plateau_ratio"], "se": v["plateau_ratio_se"]}
                      for m, v in momentum.items()},
            holds=bool(all(PLATEAU_BAND[0] <= v["plateau_ratio"] <= PLATEAU_BAND[1]
                           for v in momentum.values()))))
        checks.append(dict(
            claim=f"{problem.name}: with the decreasing step c/(k + k0), SGD, heavy ball and "
                  f"Nesterov all converge like O(1/k): log-log slopes over the last decade in "
                  f"[{SLOPE_BAND[0]}, {SLOPE_BAND[1]}], momentum's within {SLOPE_TOL} of SGD's",
            measured={m: {"slope": measured[m]["slope"], "se": measured[m]["slope_se"],
                          "ratio_to_SGD": measured[m]["slope"] / sgd_slope[0]}
                      for m in ("SGD", "heavy ball", "Nesterov")},
            holds=bool(all(SLOPE_BAND[0] <= measured[m]["slope"] <= SLOPE_BAND[1]
                           for m in ("SGD", "heavy ball", "Nesterov"))
                       and all(abs(v["slope"] - sgd_slope[0]) <= SLOPE_TOL
                               for v in momentum.values()))))
        checks.append(dict(
            claim=f"{problem.name}: Adam does not beat the O(1/k) rate either: its slope with the "
                  f"decreasing step is >= {SLOPE_BAND[0]} (no steeper than 1/k beyond noise)",
            measured={"slope": measured["Adam"]["slope"], "se": measured["Adam"]["slope_se"],
                      "plateau_ratio_to_SGD": measured["Adam"]["plateau_ratio"]},
            holds=bool(measured["Adam"]["slope"] >= SLOPE_BAND[0])))
        checks.append(dict(claim=f"{problem.name}: no seed of any stochastic run diverged",
                           measured={m: v["diverged"] for m, v in measured.items()},
                           holds=bool(all(v["diverged"] == 0 for v in measured.values()))))

    # ---- full-batch regime ----------------------------------------------------------------
    for spec in config["full_batch"]:
        problem, ref, eigs, _ = reference(spec)
        lip, mu = problem.info["L"], float(eigs[0])
        kappa = lip / mu
        root = np.sqrt(kappa)
        hb_alpha, hb_beta = 4.0 / (np.sqrt(lip) + np.sqrt(mu)) ** 2, ((root - 1) / (root + 1)) ** 2
        nes_beta = (root - 1) / (root + 1)
        methods = [
            ("GD", sb.gd(1.0 / lip), (1 - mu / lip) ** 2),
            ("heavy ball", sb.from_optax(optax.sgd(hb_alpha, momentum=hb_beta), None,
                                         name="heavy ball"), hb_beta),
            ("Nesterov", sb.from_optax(optax.sgd(1.0 / lip, momentum=nes_beta, nesterov=True), None,
                                       name="Nesterov"), (1 - 1 / root) ** 2),
        ]
        x0 = jnp.zeros(problem.x_shape)
        steps = spec["steps"]
        rates, theory = {}, {}
        for label, method, contraction in methods:
            trace = sb.run(problem, method, x0, key, steps=steps, log_every=max(1, steps // 300))
            gap = np.abs(np.asarray(trace.loss) - ref.f)
            rates[label] = _linear_rate(np.asarray(trace.step).astype(float), gap)
            theory[label] = contraction
            rows += results.trace_records(jax.tree_util.tree_map(lambda a: a[None], trace),
                                          f_star=ref.f, experiment=NAME, regime="full batch",
                                          problem=problem.name, method=label)
        full_batch[problem.name] = dict(kappa=kappa, steps=steps, rates=rates, theory=theory)
        speedup = {m: np.log(rates[m]) / np.log(rates["GD"]) for m in ("heavy ball", "Nesterov")}
        if kappa > 100:
            checks.append(dict(
                claim=f"{problem.name} (kappa = {kappa:.0f}), full batch: heavy ball and Nesterov "
                      f"accelerate, contracting the gap at least 5x faster per step (in log) than GD",
                measured={"rates": rates, "log_rate_over_GD": speedup},
                holds=bool(all(v >= 5 for v in speedup.values()))))

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, dict(config), dtype="float64", wall_seconds=round(wall, 2))
    meta["problems"] = {p.name: {"n": p.n, "d": p.x_shape[0], **p.info, "f_star": ref.f,
                                 "ref_grad_norm": ref.grad_norm, "hessian_eig_min": float(e[0]),
                                 "hessian_eig_max": float(e[-1]), "grad_rms_at_x_star": g}
                        for p, ref, e, g in refs.values()}
    meta["stochastic"] = stochastic
    meta["full_batch"] = full_batch
    experiment.save(out, rows=rows, meta=meta, checks=checks)
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the stochastic and full-batch figures and writes ``summary.md`` from the stored
    curves, the plateaus, slopes and rates in ``meta.json``, and the checks; ``sgd-bench report``
    calls it without re-running anything."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    import matplotlib.pyplot as plt
    import numpy as np

    from sgd_bench import plots, results

    beta = meta["config"]["beta"]

    stoch_rows = []
    for pname, p in meta["stochastic"].items():
        alpha, sgd_slope = p["alpha"], p["methods"]["SGD"]["slope"]
        for label, m in p["methods"].items():
            stoch_rows.append({
                "problem": pname, "method": label,
                "step": f"lr {p['lr_adam']:.3g}" if label == "Adam" else
                        (f"{alpha:.3g}" if label == "SGD"
                         else f"{(1 - beta) * alpha:.3g}, beta {beta}"),
                "plateau (mean ± se)": f"{m['plateau']:.3e} ± {m['plateau_se']:.1e}",
                "plateau / SGD's": f"{m['plateau_ratio']:.3f} ± {m['plateau_ratio_se']:.3f}",
                "slope, decreasing step": f"{m['slope']:.3f} ± {m['slope_se']:.3f}",
                "slope / SGD's": f"{m['slope'] / sgd_slope:.3f}",
            })
    full = {pname: results.curves(rows, problem=pname, regime="full batch")
            for pname in meta["full_batch"]}
    full_rows = []
    for pname, p in meta["full_batch"].items():
        for label, rate in p["rates"].items():
            full_rows.append({"problem": pname, "kappa = L/mu": f"{p['kappa']:.1f}", "method": label,
                              "measured gap contraction / step": f"{rate:.4f}",
                              "theory (asymptotic)": f"{p['theory'][label]:.4f}", "steps": p["steps"],
                              "final f - f*": f"{full[pname][label][('mean', 'f_gap')][-1]:.2e}"})

    colors = {"SGD": plots.COLORS[0], "heavy ball": plots.COLORS[1], "Nesterov": plots.COLORS[2],
              "Adam": plots.COLORS[3], "GD": plots.COLORS[0]}
    # SGD, heavy ball and Nesterov often coincide: dashes keep all three visible.
    styles = {"SGD": "-", "heavy ball": "--", "Nesterov": ":", "Adam": "-", "GD": "-"}
    names = list(meta["stochastic"])
    fig, axes = plt.subplots(len(names), 2, figsize=(11, 3.8 * len(names)), squeeze=False)
    for r, pname in enumerate(names):
        for c_, regime in enumerate(("constant", "decreasing")):
            ax = axes[r, c_]
            curves = results.curves(rows, problem=pname, regime=regime)
            for label in METHODS:
                cv = curves[label]
                plots.band(ax, cv["step"][1:], cv[("mean", "f_gap")][1:], cv[("stderr", "f_gap")][1:],
                           label=label, color=colors[label], floor=GAP_FLOOR, ls=styles[label])
            if regime == "decreasing":
                k, mean_gap = curves["SGD"]["step"], curves["SGD"][("mean", "f_gap")]
                ax.plot(k[1:], mean_gap[-1] * k[-1] / k[1:], "k--", lw=1, label=r"$\propto 1/k$")
                ax.legend(loc="lower left")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("Iteration k (batch 1)")
            ax.set_ylabel(r"$\mathbb{E}\,[f(x_k) - f^*]$")
            ax.set_title(f"{pname}: " + ("constant effective step" if regime == "constant"
                                         else r"decreasing step $c/(k+k_0)$, $c = 1/\mu$"))
    fig.suptitle(f"Stochastic regime: SGD vs momentum (beta = {beta}) at equal effective step "
                 r"$\alpha/(1-\beta)$, and Adam; mean over seeds with 95% band, float64")
    plots.legend_below(fig, axes[0], ncol=4)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    results.save_figure(fig, out / "momentum_stochastic.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, len(full), figsize=(5.6 * len(full), 3.9), squeeze=False)
    for ax, (pname, curves) in zip(axes[0], full.items()):
        for label in ("GD", "heavy ball", "Nesterov"):
            ax.plot(curves[label]["step"], np.maximum(curves[label][("mean", "f_gap")], GAP_FLOOR),
                    label=label, color=colors[label], lw=1.6)
        ax.set_yscale("log")
        ax.set_xlabel("Iteration k (full gradient)")
        ax.set_ylabel(r"$f(x_k) - f^*$")
        ax.set_title(f"{pname}, kappa = L/mu = {meta['full_batch'][pname]['kappa']:.1f}")
    fig.suptitle("Full batch: momentum accelerates (GD step 1/L; heavy ball and Nesterov tuned "
                 "with L and mu = lambda_min(grad^2 f(x*)))")
    plots.legend_below(fig, axes[0], ncol=3)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    results.save_figure(fig, out / "momentum_full_batch.png")
    plt.close(fig)

    scols, fcols = list(stoch_rows[0]), list(full_rows[0])
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Momentum does not improve the stochastic rate

**Claim (lecture):** Nesterov and Polyak momentum do not improve the convergence rate of SGD;
the bottleneck is the variance, not the condition number. They accelerate only with exact
gradients.

Batch-1 SGD samples with replacement; heavy ball and Nesterov are optax's `sgd(lr, momentum=beta)`
with lr = (1 - beta) alpha, so their effective step alpha/(1 - beta) equals SGD's alpha =
1/(2 L_max); Adam uses lr = alpha * RMS(grad f_i(x*)). Decreasing step: alpha_k = c/(k + k0) with
c = 1/mu and alpha_0 = alpha (momentum: times 1 - beta). x0 = 0; float64; device
{meta['devices'][0]}; beta = {beta}.

![stochastic](momentum_stochastic.png)

Plateau = per-seed mean of f - f* over the second half of the constant-step run (mean ± stderr
over seeds); slope = log-log slope of the mean gap over the last decade of k (± jackknife stderr).

{results.markdown_table(stoch_rows, scols)}

![full batch](momentum_full_batch.png)

{results.markdown_table(full_rows, fcols)}

Theory column: the asymptotic gap contraction on the local quadratic, (1 - mu/L)^2 for GD with
1/L, beta_HB = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2 for Polyak's heavy ball and
(1 - 1/sqrt(kappa))^2 for Nesterov; mu = lambda_min of the Hessian at x*.

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, header=NAME,
                     tables=[(stoch_rows, scols), (full_rows, fcols)])
    return {"summary": stoch_rows + full_rows, "checks": checks}


def main(argv=None) -> int:
    # --seeds applies to every stochastic run. No --steps: each problem and regime has its own
    # step counts (constant, decreasing, full batch), none of them the run length; float64 only.
    seeds = experiment.at_least("seeds", 3, "jackknife standard errors", then=lambda config, seeds: {
        **config, "stochastic": tuple(dict(spec, seeds=seeds) for spec in config["stochastic"])})
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds})


if __name__ == "__main__":
    sys.exit(main())
