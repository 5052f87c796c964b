"""variance_reduction's three figures: f - f* against epochs, against wall-clock seconds, and the
growing batch against iterations with its batch size."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sgd_bench_harness import plots, results, toolkit
from sgd_bench_harness.toolkit import GAP_FLOOR

from .methods import GROWTH
from .rates import growing_rate


def draw(out, curves, infos, device):
    """Draws the figures into ``out`` from the stored curves by problem."""
    names = list(infos)
    timed_names = [p for p in names if infos[p]["wallclock"]]
    labels = list(dict.fromkeys(m for c in curves.values() for m in c))

    colors = {m: plots.COLORS[i % len(plots.COLORS)] for i, m in enumerate(labels)}
    styles = {"GD, 1/L": "--", "GD, Armijo": ":", "L-BFGS": "-."}

    def panels(names, xkey, xlabel, fname, title):
        fig, axes = plt.subplots(1, len(names), figsize=(max(5.2 * len(names), 8.0), 4.0),
                                 squeeze=False)
        for ax, pname in zip(axes[0], names):
            # Seconds span decades (a GD step against an epoch of batch-1 steps): log axis,
            # from the first log point on.
            first = 1 if xkey == "seconds_seed0" else 0
            for m in labels:
                cv = curves[pname][m]
                x = cv[xkey][first:]
                plots.band(ax, x, cv[("mean", "f_gap")][first:], None, label=m, color=colors[m],
                           floor=GAP_FLOOR, ls=styles.get(m, "-"))
                if cv["num_seeds"][0] > 1:  # the spread of the seeds (a mean +/- stderr band
                    # would dip below zero on a log axis where seeds differ by decades)
                    ax.fill_between(x, toolkit.floored(cv[("q10", "f_gap")][first:]),
                                    toolkit.floored(cv[("q90", "f_gap")][first:]),
                                    color=colors[m], alpha=0.12, lw=0)
            if xkey == "seconds_seed0":
                ax.set_xscale("log")
            info = infos[pname]
            ax.set_yscale("log")
            ax.set_ylim(bottom=1e-15)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(r"$\mathbb{E}\,[f(x_k) - f^*]$")
            ax.set_title(f"{pname} (n={info['n']}, d={info['d']}, mu={info['mu']:g})")
        fig.suptitle(title)
        plots.legend_below(fig, axes[0], ncol=len(labels))
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        results.save_figure(fig, out / fname)
        plt.close(fig)

    panels(names, "epochs", "Epochs (gradient evaluations / n; Armijo, L-BFGS: + function evaluations / n)",
           "variance_reduction.png",
           "Logistic regression: variance reduction and growing batches converge linearly, "
           "constant-step SGD stalls (mean over seeds; band: 10%-90% of seeds; float64)")
    panels(timed_names, "seconds_seed0", f"Wall-clock seconds of the steps, seed 0 ({device}, float64)",
           "variance_reduction_wallclock.png",
           "The same runs against wall-clock time: compilation excluded, f evaluated outside "
           "the clock")

    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.8), squeeze=False)
    for ax, pname in zip(axes[0], names):
        cv, n = curves[pname]["growing batch"], infos[pname]["n"]
        sizes = np.asarray(infos[pname]["growing_batch_sizes"])
        gap_line, = ax.plot(cv["step"], toolkit.floored(cv[("mean", "f_gap")]),
                            color=colors["growing batch"], lw=1.6,
                            label=r"$\mathbb{E}\,[f(x_k) - f^*]$ (left)")
        ax.set_yscale("log")
        ax.set_xlabel("Iteration k")
        ax.set_ylabel(r"$\mathbb{E}\,[f(x_k) - f^*]$")
        ax.axvline(len(sizes) - 1, color="0.5", lw=0.8, ls=":")
        twin = ax.twinx()
        kk = np.arange(cv["step"][-1] + 1)
        size_line, = twin.step(kk, np.append(sizes, [n] * (len(kk) - len(sizes)))[: len(kk)] / n,
                               where="post", color="0.4", lw=1, label=r"$|B_k| / n$ (right)")
        twin.set_yscale("log")
        twin.set_ylabel(r"$|B_k| / n$")
        twin.spines["right"].set_visible(True)
        ax.legend([gap_line, size_line], [gap_line.get_label(), size_line.get_label()],
                  loc="lower left", fontsize=8)
        ax.set_title(f"{pname} (n={n}):\nrate {growing_rate(cv, sizes)[0]:.3f} per step while growing",
                     fontsize=10)
    fig.suptitle(rf"Growing batch $|B_{{k+1}}| = \lceil {GROWTH} |B_k| \rceil + 1$, step 1/L: "
                 "linear in iterations; GD from the dotted line on")
    toolkit.save(fig, out / "variance_reduction_growing_batch.png")
    plt.close(fig)
