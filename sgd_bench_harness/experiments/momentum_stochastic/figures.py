"""momentum_stochastic's two figures: the stochastic regime's gap curves (constant and decreasing
step) and the full-batch curves."""

from __future__ import annotations

import matplotlib.pyplot as plt

from sgd_bench_harness import plots, results, toolkit
from sgd_bench_harness.toolkit import GAP_FLOOR

from .methods import SQN_LARGE_C


def draw(out, rows, meta, full):
    """Draws ``momentum_stochastic.png`` and ``momentum_full_batch.png`` (``full``: the
    full-batch curves by problem) into ``out``."""
    beta = meta["config"]["beta"]
    colors = {"SGD": plots.COLORS[0], "heavy ball": plots.COLORS[1], "Nesterov": plots.COLORS[2],
              "Adam": plots.COLORS[3], "GD": plots.COLORS[0], "preconditioned SGD": plots.COLORS[4],
              "stochastic L-BFGS": plots.COLORS[5], "preconditioned GD": plots.COLORS[4],
              SQN_LARGE_C: plots.COLORS[6]}
    # SGD, heavy ball and Nesterov often coincide: dashes keep all three visible.
    styles = {"SGD": "-", "heavy ball": "--", "Nesterov": ":", "Adam": "-", "GD": "-",
              "preconditioned SGD": "-", "stochastic L-BFGS": "-.", "preconditioned GD": "-",
              SQN_LARGE_C: ":"}
    names = list(meta["stochastic"])
    fig, axes = plt.subplots(len(names), 2, figsize=(11, 3.8 * len(names)), squeeze=False)
    for r, pname in enumerate(names):
        for c_, regime in enumerate(("constant", "decreasing")):
            ax = axes[r, c_]
            curves = results.curves(rows, problem=pname, regime=regime)
            for label in meta["stochastic"][pname]["methods"]:
                cv = curves[label]
                plots.band(ax, cv["step"][1:], cv[("mean", "f_gap")][1:], cv[("stderr", "f_gap")][1:],
                           label=label, color=colors[label], floor=GAP_FLOOR, ls=styles[label])
            if regime == "decreasing":
                k, mean_gap = curves["SGD"]["step"], curves["SGD"][("mean", "f_gap")]
                ax.plot(k[1:], mean_gap[-1] * k[-1] / k[1:], "k--", lw=1, label=r"$\propto 1/k$")
                ax.legend(loc="lower left", fontsize=7)
            toolkit.log_axes(ax)
            ax.set_xlabel("Iteration k (batch 1)")
            ax.set_ylabel(r"$\mathbb{E}\,[f(x_k) - f^*]$")
            ax.set_title(f"{pname}: " + ("constant step" if regime == "constant"
                                         else r"decreasing step $c/(k+k_0)$"), fontsize=9)
    fig.suptitle(f"Stochastic regime: SGD vs momentum (beta = {beta}) at equal effective step "
                 r"$\alpha/(1-\beta)$, Adam, and quasi-Newton; mean over seeds with 95% band, float64")
    toolkit.save(fig, out / "momentum_stochastic.png")   # each decreasing-step panel carries the legend
    plt.close(fig)

    fig, axes = plt.subplots(1, len(full), figsize=(5.6 * len(full), 3.9), squeeze=False)
    for ax, (pname, curves) in zip(axes[0], full.items()):
        for label in ("GD", "heavy ball", "Nesterov", "preconditioned GD"):
            if label not in curves:
                continue
            ax.plot(curves[label]["step"], toolkit.floored(curves[label][("mean", "f_gap")]),
                    label=label, color=colors[label], lw=1.6)
        toolkit.log_axes(ax, x=False)
        ax.set_xlabel("Iteration k (full gradient)")
        ax.set_ylabel(r"$f(x_k) - f^*$")
        ax.set_title(f"{pname}, kappa = L/mu = {meta['full_batch'][pname]['kappa']:.1f}", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("Full batch: momentum accelerates (GD step 1/L; heavy ball and Nesterov tuned "
                 "with L and mu = lambda_min(grad^2 f(x*))); H^-1 solves a quadratic in one step")
    toolkit.save(fig, out / "momentum_full_batch.png")
    plt.close(fig)
