"""minibatch_error's two figures: E||e||^2 against B beside both formulas, and convergence
against iterations and gradient evaluations with the payoff per target."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sgd_bench import theory
from sgd_bench_harness import plots, results, toolkit
from sgd_bench_harness.toolkit import GAP_FLOOR

from .errors import FORMULAS, MODES, Z_FAMILY


def error_figure(out, errors, config, n, d, mu):
    """``minibatch_error.png``: E||e||^2 at x_0 and at x* against B, for both samplings."""
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2))
    for ax, point_name in zip(axes, ("x_0", "x*")):
        zero_note = None
        for i, mode in enumerate(MODES):
            r = results.curves(errors, by="sampling", x="batch", point=point_name)[mode]
            color = plots.COLORS[i]
            label = MODES[mode].removesuffix(" (reshuffle)")
            # B = n without replacement is the full gradient: its error is 0 up to rounding
            # (~1e-33), which a log axis cannot show next to the rest; it is noted instead.
            keep = r["formula"] > 0
            if not np.all(keep):
                zero_note = f"B = n without replacement: measured {r['err_sq'][~keep][0]:.0e} (exactly 0)"
            ax.errorbar(r["batch"][keep], r["err_sq"][keep], yerr=Z_FAMILY * r["err_sq_stderr"][keep], fmt="o", ms=4,
                        capsize=2, color=color, label=f"measured, {label} (99.9% CI)", zorder=3)
            fine = np.unique(np.geomspace(1, n, 400).round().astype(int))
            fine = fine[fine < n] if mode == "reshuffle" else fine
            ax.plot(fine, theory.minibatch_error(r["v"][0], fine, n, mode), "--", color=color, lw=1.2,
                    label=f"formula {FORMULAS[mode]}")
        if zero_note:
            ax.text(0.98, 0.96, zero_note, transform=ax.transAxes, ha="right", va="top", fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size B")
        ax.set_ylabel(r"$\mathbb{E}\,\|e\|^2 = \mathbb{E}\,\|g_B - \nabla f(x)\|^2$")
        where = "$x_0$" if point_name == "x_0" else "$x^*$"
        v = next(e["v"] for e in errors if e["point"] == point_name)
        ax.set_title(f"at {where}: v = {v:.3g}, {config['draws']} batches per B")
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Mini-batch gradient error against B: logistic regression n={n}, d={d}, mu={mu:g}")
    toolkit.save(fig, out / "minibatch_error.png")
    plt.close(fig)


def convergence_figure(out, conv, payoff, config, n, d, mu, alpha, delta0):
    """``minibatch_convergence.png``: E f(x_k) - f* against iterations and against gradient
    evaluations, and the evaluations to reach each target against B."""
    batches = np.array(config["batches"])
    steps = conv["steps"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    cmap = plt.get_cmap("viridis")
    for i, b in enumerate(batches):
        color = cmap(0.92 * i / max(len(batches) - 1, 1))
        mean, se = conv["gaps"][int(b)], conv["stderr"][int(b)]
        label = f"B = {int(b)}" + (" (= n)" if b == n else "")
        plots.band(axes[0], steps, mean, se, label=label, color=color, floor=GAP_FLOOR)
        plots.band(axes[1], np.maximum(steps * b, 1), mean, se, label=label, color=color, floor=GAP_FLOOR)
    gd_mean = toolkit.floored(conv["gd"])
    axes[0].plot(steps, gd_mean, color="k", lw=1.4, ls="-.", label="GD (full gradient)")
    axes[1].plot(np.maximum(steps * n, 1), gd_mean, color="k", lw=1.4, ls="-.", label="GD (full gradient)")
    for ax, xlabel in zip(axes[:2], ["iteration k", "gradient evaluations (k B)"]):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(r"$\mathbb{E}\,f(x_k) - f^*$")
        for p in payoff:
            ax.axhline(p["eps"], color="0.55", lw=0.8, ls=":")
    axes[0].set_xscale("symlog", linthresh=1)
    axes[0].set_xlim(0, steps[-1])
    axes[1].set_xscale("log")
    # GD runs down to the float64 floor; the axis stops well below the lowest plateau instead.
    lowest = min(min(conv["plateaus"].values()), min(config["targets"]) * delta0)
    for ax in axes[:2]:
        ax.set_ylim(lowest / 5, None)
    axes[0].set_title(r"against iterations ($\alpha = 1/L$)")
    axes[1].set_title("against gradient evaluations")
    ax = axes[2]
    for j, p in enumerate(payoff):
        color = plots.COLORS[j % len(plots.COLORS)]
        ev = {b: e for b, e in p["evals"].items() if e is not None}
        label = rf"$\varepsilon$ = {p['frac']:g} $\Delta_0$"
        if ev:
            ax.plot(list(ev), list(ev.values()), "o-", color=color, ms=4, label=label)
            label = None
            if p["best"] is not None:
                ax.plot([p["best"]], [ev[p["best"]]], "*", color=color, ms=15, mec="k", mew=0.6, zorder=4)
        if p["gd"] is not None:
            ax.axhline(p["gd"], color=color, lw=1.0, ls="-.", label=label)
    ax.plot([], [], "*", color="0.6", ms=12, mec="k", mew=0.6, label="B*: fewest evaluations")
    ax.plot([], [], "-.", color="0.3", lw=1.0, label="GD, same target")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlim(0.7, n * 1.4)
    ax.set_xlabel("batch size B")
    ax.set_ylabel(r"gradient evaluations to reach $\varepsilon$")
    ax.set_title("where mini-batching stops paying off")
    smallest = min((b for b, e in payoff[0]["evals"].items() if e is not None), default=None)
    if smallest is not None and smallest > batches[0]:
        ax.text(0.03, 0.04, f"B < {smallest}: the plateau at alpha = 1/L\nis above every target",
                transform=ax.transAxes, fontsize=8, va="bottom")
    ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=True, fontsize=8.5,
               bbox_to_anchor=(0.35, -0.02))
    fig.suptitle(f"Mini-batch SGD at alpha = 1/L = {alpha:.3g} (with replacement), logistic regression n={n}, d={d}, "
                 f"mu={mu:g}: mean of {config['seeds']} seeds, 95% band; dotted lines: the targets eps")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    results.save_figure(fig, out / "minibatch_convergence.png")
    plt.close(fig)
