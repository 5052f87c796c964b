"""local_minima's four figures, drawn from the stored records alone."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sgd_bench_harness import plots, results, toolkit

from .sweep import cells_of


def _endpoints(rows, landscape, method, batch, alpha):
    """The stored end points of one cell, (seeds, d), in seed order."""
    c = results.curves(rows, x="seed", figure="endpoints", landscape=landscape, method=method,
                       batch=batch, alpha=alpha)[method]
    return np.stack([c[k] for k in ("w1", "w2") if k in c], axis=1)


def draw(out, config, land, land2, cells, rows):
    """Draws the landscape with the end points, P(wide) and sharpness against the step, the
    heatmap of P(wide) over (step, batch) and the 2-D landscape, into ``out``."""
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    h_narrow = narrow.sharpness
    alphas = config["alphas"]
    seeds = config["seeds"]
    c_train, c_test = plots.COLORS[0], "#d62728"
    c_gd, c_sgd, c_large = plots.COLORS[2], plots.COLORS[1], plots.COLORS[4]

    def row(landscape, method, batch):
        return cells_of(cells, landscape, method, batch)

    def p_wide(landscape, method, batch, alpha):
        return next(c["p_wide"] for c in row(landscape, method, batch) if c["alpha"] == alpha)

    # Figure 1: the landscape (train and shifted test) and where the runs end.
    a_small, a_sgd, a_large = config["show"]
    shown = [(f"GD, α = {a_small:g}", ("GD", "n", a_small), c_gd),
             (f"SGD (batch 1), α = {a_sgd:g}", ("SGD", 1, a_sgd), c_sgd),
             (f"GD, α = {a_large:g}", ("GD", "n", a_large), c_large)]
    curve = results.curves(rows, by="landscape", x="w1", figure="landscape", landscape="1d")["1d"]
    w, f_train, f_test = curve["w1"], curve["f"], curve["f_test"]
    fig, axes = plt.subplots(1 + len(shown), 1, figsize=(7.5, 7.4), sharex=True,
                             gridspec_kw={"height_ratios": [3.2] + [1] * len(shown), "hspace": 0.14})
    ax = axes[0]
    ax.axvspan(config["x0_low"], config["x0_high"], color="0.88", lw=0,
               label=f"starts, x0 ~ U({config['x0_low']:g}, {config['x0_high']:g})")
    ax.plot(w, f_train, color=c_train, lw=2, label="train  f(w)")
    ax.plot(w, f_test, color=c_test, lw=1.6, ls="--", label=f"\"test\"  f(w − {land.test_shift[0]:g}): illustration only")
    for m in (narrow, wide):
        x = m.x[0]
        ax.plot([x, x], [m.value, m.test_value], color="0.3", lw=1, ls=":")
        ax.plot(x, m.value, "o", color=c_train, ms=7, zorder=5)
        ax.plot(x, m.test_value, "o", color=c_test, ms=7, zorder=5)
    ax.annotate(f"narrow: f'' = {narrow.sharpness:.3f}\ntest − train = {narrow.gap:.3f}",
                (narrow.x[0], 0.5 * (narrow.value + narrow.test_value)), xytext=(3.2, 0.12),
                fontsize=9, va="center", arrowprops=dict(arrowstyle="-", color="0.4", lw=0.8))
    ax.annotate(f"wide: f'' = {wide.sharpness:.3f}, test − train = {wide.gap:.3f}",
                (wide.x[0], wide.value), xytext=(wide.x[0], 0.015), ha="center", fontsize=9)
    ax.set_ylabel("loss")
    ax.set_ylim(-0.01, 0.56)
    ax.legend(loc="center right", fontsize=9)
    ax.set_title(f"Narrow and wide minima: where {seeds} runs end after {config['steps']} steps")
    bins = np.arange(-5, 30.01, 0.5)
    for axh, (label, cell_key, color) in zip(axes[1:], shown):
        xs = _endpoints(rows, "1d", *cell_key)[:, 0]
        frac = np.histogram(np.clip(xs, -5, 30), bins=bins)[0] / len(xs)
        axh.bar(bins[:-1], frac, width=np.diff(bins), align="edge", color=color, lw=0)
        axh.text(0.99, 0.88, f"{label}:  P(wide) = {p_wide('1d', *cell_key):.2f}", transform=axh.transAxes,
                 ha="right", va="top", fontsize=9)
        axh.set_ylim(0, 1.05)
        axh.set_yticks([0, 0.5, 1])
        axh.set_ylabel("fraction", fontsize=8)
    axes[-1].set_xlabel("w (end point; bins of 0.5)")
    results.save_figure(fig, out / "local_minima.png", dpi=config["dpi"])
    plt.close(fig)
    # Figure 2: P(wide) and the train-test gap against the step, for a few batch sizes.
    palette = plt.get_cmap("viridis")
    few = [b for b in config["batches"] if b in (1, 4, 16)] or list(config["batches"])[:3]
    lines = [("GD", "n", "GD", "k", "-")]
    lines += [("SGD", b, "SGD" if b == 1 else f"SGD batch {b}", palette(0.8 * i / max(len(few) - 1, 1)), "-")
              for i, b in enumerate(few)]
    nb = config["noise_batches"][0]
    lines.append(("GD + Gaussian noise", nb, f"GD + Gaussian noise (as batch {nb})", "0.55", "--"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for method, b, label, color, ls in lines:
        r = row("1d", method, b)
        a = np.array([c["alpha"] for c in r])
        plots.band(axes[0], a, [c["p_wide"] for c in r], [c["se_wide"] for c in r], label=label,
                   color=color, ls=ls, marker="o", ms=3)
        axes[1].plot(a, [c["sharpness"] for c in r], label=label, color=color, ls=ls, marker="o", ms=3)
    for ax in axes:
        ax.axvline(2 / h_narrow, color="0.3", lw=1, ls=":")
        ax.text(2 / h_narrow, 0.98, " α = 2/h", transform=ax.get_xaxis_transform(), fontsize=8,
                color="0.3", va="top")
        ax.set_xscale("log")
        ax.set_xticks(alphas)
        ax.set_xticklabels([f"{a:g}" for a in alphas])
        ax.minorticks_off()
        ax.set_xlabel("step size α")
    axes[0].set_ylabel("P(run ends in the wide basin)")
    axes[0].set_ylim(-0.03, 1.03)
    axes[0].set_title("Escaping the narrow minimum")
    axes[1].set_ylabel("mean f'' at the end point")
    axes[1].set_title("Sharpness of the end points")
    for m in (narrow, wide):
        axes[1].axhline(m.sharpness, color=c_test, lw=0.8, ls=":")
        axes[1].text(alphas[0], m.sharpness, f" at the {m.name} minimum", va="bottom", fontsize=8,
                     color=c_test)
    fig.suptitle(f"{seeds} runs per point from x0 ~ U({config['x0_low']:g}, {config['x0_high']:g}), "
                 f"{config['steps']} steps, 95% bands on P(wide); h = f''(narrow minimum) = {h_narrow:.3f}", y=1.02)
    toolkit.save(fig, out / "local_minima_pwide.png", legend_axes=axes, ncol=len(lines), dpi=config["dpi"])
    plt.close(fig)

    # Figure 3: the heatmap of P(wide) over (step, batch).
    batches = list(config["batches"])
    row_labels = [f"{b}" for b in batches] + [f"GD (n = {land.n})"]
    grid = np.array([[c["p_wide"] for c in row("1d", "SGD", b)] for b in batches]
                    + [[c["p_wide"] for c in row("1d", "GD", "n")]])
    fig, ax = plt.subplots(figsize=(1.4 + 0.62 * len(alphas), 1.0 + 0.45 * len(row_labels)))
    im = ax.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto", origin="lower")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if grid[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(alphas)))
    ax.set_xticklabels([f"{a:g}" for a in alphas])
    ax.set_yticks(range(len(row_labels)))
    ax.set_yticklabels(row_labels)
    ax.grid(False)
    ax.set_xlabel("step size α")
    ax.set_ylabel("batch size B (with replacement)")
    ax.set_title(f"P(run ends in the wide basin), {seeds} runs per cell")
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    toolkit.save(fig, out / "local_minima_heatmap.png", dpi=config["dpi"])
    plt.close(fig)

    # Figure 4: the 2-D landscape and where GD and SGD end at the same step.
    n2, w2 = land2.minimum("narrow"), land2.minimum("wide")
    b2 = config["batches_2d"][0]
    a2_show = next(r["alpha"] for r in rows if r["figure"] == "endpoints" and r["landscape"] == "2d")
    grid = sorted((r for r in rows if r["figure"] == "landscape" and r["landscape"] == "2d"),
                  key=lambda r: (r["w2"], r["w1"]))
    u, v = np.unique([r["w1"] for r in grid]), np.unique([r["w2"] for r in grid])
    U, V = np.meshgrid(u, v)
    F = np.array([r["f"] for r in grid]).reshape(U.shape)
    levels = np.linspace(F.min(), 0.5, 14)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
    shown2 = [(f"GD, α = {a2_show:g}", ("GD", "n", a2_show), c_gd),
              (f"SGD (batch {b2}), α = {a2_show:g}", ("SGD", b2, a2_show), c_sgd)]
    for ax, (label, cell_key, color) in zip(axes, shown2):
        cs = ax.contourf(U, V, F, levels=levels, cmap="Greys_r")
        ax.contour(U, V, F, levels=levels, colors="0.35", linewidths=0.4)
        ax.add_patch(plt.Circle(tuple(n2.x), config["x0_radius_2d"], fill=False, ls="--",
                                color="w", lw=1))
        xs = _endpoints(rows, "2d", *cell_key)
        for m in land2.minima:
            ax.plot(*m.x, "+", color="w", ms=9, mew=1)
        ax.plot(*land2.saddle, "x", color="w", ms=7)
        ax.scatter(xs[:, 0], xs[:, 1], s=12, color=color, alpha=0.35, lw=0, zorder=3)
        ax.set_title(f"{label}:  P(wide) = {p_wide('2d', *cell_key):.2f}")
        ax.set_xlabel("w₁")
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0].set_ylabel("w₂")
    axes[0].text(n2.x[0], -config["x0_radius_2d"] - 0.4, "starts", color="w", ha="center", va="top",
                 fontsize=8)
    fig.suptitle("2-D: a narrow dimple (Hessian eigenvalues "
                 f"{n2.hessian_eigenvalues[0]:.2f}, {n2.hessian_eigenvalues[1]:.2f}) on a wide bowl "
                 f"({w2.hessian_eigenvalues[0]:.3f}, {w2.hessian_eigenvalues[1]:.3f}); "
                 f"{seeds} end points, {config['steps']} steps")
    cbar = fig.colorbar(cs, ax=axes, fraction=0.025, pad=0.02, label="train loss")
    cbar.ax.yaxis.set_major_formatter(plt.FormatStrFormatter("%.2f"))
    results.save_figure(fig, out / "local_minima_2d.png", dpi=config["dpi"])
    plt.close(fig)
