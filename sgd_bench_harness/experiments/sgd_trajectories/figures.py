"""The figures of ``sgd_trajectories``: GD and batch-2 SGD paths over the loss contours (a PNG
and an animated GIF), the drawn batches' own losses and gradients, and the seeds' spread against
the exact recursion."""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter

from sgd_bench_harness import plots, results, toolkit


def draw(out, config, x, y, w_hat, gd_path, sgd_path, ends, paths_min, paths_max, batches, mc_sq,
         mc_sq_se, exact_sq, stat_tr):
    """Draws the trajectories picture, its animation, the batch gradients and the spread
    against the exact recursion into ``out``, from the stored data."""
    c_gd, c_sgd, c_data = plots.COLORS[0], plots.COLORS[1], "0.45"
    alpha, b, steps = config["alpha"], config["batch"], config["steps"]
    n = len(y)
    A = np.stack([np.ones_like(x), x], axis=1)

    # The loss on a grid of (w1, w2), in closed form: f(w) = 1/2 (w - w_hat)^T H (w - w_hat) + f_hat.
    lo = np.minimum(-0.6, paths_min - 0.3)
    hi = np.maximum(w_hat + 1.2, paths_max + 0.3)
    lo, hi = np.minimum(lo, [-0.6, -0.8]), np.maximum(hi, [4.6, 5.6])
    u, v = np.linspace(lo[0], hi[0], 240), np.linspace(lo[1], hi[1], 240)
    U, V = np.meshgrid(u, v)

    def batch_loss(idx, U=U, V=V):
        Ab, yb = A[idx], y[idx]
        r = U[..., None] * Ab[:, 0] + V[..., None] * Ab[:, 1] - yb
        return 0.5 * np.mean(r * r, axis=-1)

    F = batch_loss(np.arange(n))
    f_min = F.min()
    levels = f_min + np.geomspace(1e-3, F.max() - f_min, 14)
    xs_line = np.array([-0.55, 0.55])

    def draw_contours(ax, U=U, V=V, levels=levels):
        ax.contour(U, V, batch_loss(np.arange(n), U, V), levels=levels, colors="0.6", linewidths=0.7)
        ax.plot(*w_hat, "*", color="k", ms=11, zorder=6, label="ŵ (minimizer of f)")
        ax.set_xlabel("w₁ (bias)")
        ax.set_ylabel("w₂ (slope)")
        ax.set_xlim(U.min(), U.max())
        ax.set_ylim(V.min(), V.max())
        ax.set_aspect("equal")
        ax.grid(False)

    def setup_frame():
        fig, (ax_w, ax_d) = plt.subplots(1, 2, figsize=(10.5, 5.2), gridspec_kw={"width_ratios": [1.05, 1]})
        draw_contours(ax_w)
        (gd_line,) = ax_w.plot([], [], "-o", color=c_gd, ms=3, lw=1.4, label=f"GD, α = {alpha:g}")
        (sgd_line,) = ax_w.plot([], [], "-o", color=c_sgd, ms=3, lw=1.2, label=f"SGD, batch {b}, α = {alpha:g}")
        ax_w.plot(0, 0, "s", color="k", ms=5, label="start (0, 0)")
        ax_w.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=True)
        ax_d.scatter(x, y, s=14, color=c_data, zorder=2, label=f"data (N = {n})")
        batch_pts = ax_d.scatter([], [], s=70, facecolor="none", edgecolor=c_sgd, lw=1.8, zorder=4,
                                 label="SGD's current batch")
        ax_d.plot(xs_line, w_hat[0] + w_hat[1] * xs_line, color="k", lw=1, ls=":", label="best fit ŵ")
        (gd_fit,) = ax_d.plot([], [], color=c_gd, lw=2, label="GD fit")
        (sgd_fit,) = ax_d.plot([], [], color=c_sgd, lw=2, label="SGD fit")
        ax_d.set_xlim(*xs_line)
        ax_d.set_ylim(y.min() - 0.4, y.max() + 0.9)
        ax_d.set_xlabel("x")
        ax_d.set_ylabel("y")
        ax_d.legend(loc="upper left", fontsize=8, frameon=True)
        ax_w.set_title("Loss contours and paths, step k = 00")  # room for the titles set per frame
        ax_d.set_title("Data and fits at step 00; circled: the batch of step 00")
        fig.tight_layout()
        return fig, ax_w, ax_d, gd_line, sgd_line, batch_pts, gd_fit, sgd_fit

    def update(k, ax_w, ax_d, gd_line, sgd_line, batch_pts, gd_fit, sgd_fit):
        gd_line.set_data(gd_path[: k + 1, 0], gd_path[: k + 1, 1])
        sgd_line.set_data(sgd_path[: k + 1, 0], sgd_path[: k + 1, 1])
        gd_fit.set_data(xs_line, gd_path[k, 0] + gd_path[k, 1] * xs_line)
        sgd_fit.set_data(xs_line, sgd_path[k, 0] + sgd_path[k, 1] * xs_line)
        idx = batches[min(k, steps - 1)]
        batch_pts.set_offsets(np.c_[x[idx], y[idx]])
        ax_w.set_title(f"Loss contours and paths, step k = {k}")
        ax_d.set_title(f"Data and fits at step {k}; circled: the batch of step {min(k, steps - 1)}")
        return gd_line, sgd_line, batch_pts, gd_fit, sgd_fit

    # The still picture: the last frame, plus where all seeds end.
    fig, ax_w, ax_d, *artists = setup_frame()
    ax_w.scatter(ends[:, 0], ends[:, 1], s=2, color=c_sgd, alpha=0.12, lw=0, zorder=1,
                 label=f"SGD end points, {len(ends)} seeds")
    legend = ax_w.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8,
                         frameon=True)
    legend.legend_handles[-1].set_alpha(1.0)
    legend.legend_handles[-1].set_sizes([12])
    update(steps, ax_w, ax_d, *artists)
    results.save_figure(fig, out / "sgd_trajectories.png", dpi=config["dpi"])

    # The animation: one frame per step.
    plt.close(fig)
    fig, ax_w, ax_d, *artists = setup_frame()
    anim = FuncAnimation(fig, lambda k: update(k, ax_w, ax_d, *artists), frames=steps + 1, blit=False)
    target = out / "sgd_trajectories.gif"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp.gif")
    anim.save(tmp, writer=PillowWriter(fps=config["gif_fps"]), dpi=config["gif_dpi"])
    os.replace(tmp, target)  # atomic, as every file under results/
    plt.close(fig)

    # Batch loss and batch gradient against the full ones at a few SGD steps.
    shown = [k for k in config["show_steps"] if k < steps]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.1 * len(shown), 4.6))
    drawn_minimizer = False
    axes = np.atleast_1d(axes)
    for ax, k in zip(axes, shown):
        idx = batches[k]
        w_k = sgd_path[k]
        g_full = A.T @ (A @ w_k - y) / n
        g_batch = A[idx].T @ (A[idx] @ w_k - y[idx]) / len(idx)
        # Each panel frames w_k, both steps and w_hat with the main window's proportions, so
        # that late steps near w_hat are zoomed in (equal axes keep gradients normal to contours).
        pts = np.stack([w_k, w_k - alpha * g_full, w_k - alpha * g_batch, w_hat])
        centre = 0.5 * (pts.min(0) + pts.max(0))
        span = hi - lo
        scale = min(1.0, max(1.3 * (pts.max(0) - pts.min(0)) / span))
        lo_k, hi_k = centre - 0.5 * scale * span, centre + 0.5 * scale * span
        if scale == 1.0:
            lo_k, hi_k = lo, hi
        Uk, Vk = np.meshgrid(np.linspace(lo_k[0], hi_k[0], 240), np.linspace(lo_k[1], hi_k[1], 240))
        Fk = batch_loss(np.arange(n), Uk, Vk)
        draw_contours(ax, Uk, Vk, Fk.min() + np.geomspace(1e-4, Fk.max() - Fk.min(), 12))
        Fb = batch_loss(idx, Uk, Vk)
        # The batch's loss is minimal at the (w1, w2) of the line through its two data points.
        w_b = np.linalg.lstsq(A[idx], y[idx], rcond=None)[0]
        # Levels spread over the values in the window (the batch's minimum is often outside it).
        fb_levels = np.unique(np.quantile(Fb, np.linspace(0.03, 0.97, 8)))
        ax.contour(Uk, Vk, Fb, levels=fb_levels, colors=c_sgd, linewidths=0.9)
        if np.all((w_b >= lo_k) & (w_b <= hi_k)):
            ax.plot(*w_b, "X", color=c_sgd, ms=8, mec="k", mew=0.5, zorder=6)
            drawn_minimizer = True
        for g, color in ((g_full, c_gd), (g_batch, c_sgd)):
            ax.annotate("", xy=w_k - alpha * g, xytext=w_k, zorder=7,
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=2.2, mutation_scale=15))
        ax.plot(*w_k, "o", color="k", ms=5, zorder=8)
        cos = float(g_full @ g_batch / (np.linalg.norm(g_full) * np.linalg.norm(g_batch)))
        ax.set_title(f"step k = {k}, batch {{{idx[0]}, {idx[1]}}}\ncos(∇f, ∇f_B) = {cos:.2f}", fontsize=10)
    handles = [plt.Line2D([], [], color="0.6", lw=1, label="full loss f"),
               plt.Line2D([], [], color=c_sgd, lw=1, label="batch loss f_B"),
               plt.Line2D([], [], color=c_sgd, marker="X", ls="", mec="k", label="minimizer of f_B")
               if drawn_minimizer else None,
               plt.Line2D([], [], color="k", marker="*", ls="", ms=10, label="ŵ"),
               plt.Line2D([], [], color="k", marker="o", ls="", label="w_k (SGD)"),
               plt.Line2D([], [], color=c_gd, lw=2.2, label="−α ∇f(w_k): the GD step"),
               plt.Line2D([], [], color=c_sgd, lw=2.2, label="−α ∇f_B(w_k): the SGD step")]
    handles = [h for h in handles if h is not None]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=True, fontsize=8.5,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"SGD, batch {b}: each step follows its batch's own loss, not f (α = {alpha:g})")
    fig.tight_layout(rect=(0, 0.12, 1, 0.95))
    results.save_figure(fig, out / "sgd_batch_gradients.png", dpi=config["dpi"])
    plt.close(fig)

    # The spread over seeds against the exact recursion.
    k = np.arange(steps + 1)
    fig, ax = plt.subplots(figsize=(6.6, 4.2))
    gd_sq = np.sum((gd_path - w_hat) ** 2, axis=1)
    ax.plot(k, gd_sq, color=c_gd, lw=1.8, label="GD (exact: (I − αH)^k)")
    plots.band(ax, k, mc_sq, mc_sq_se, label=f"SGD batch {b}: mean of {len(ends)} seeds, 95% band",
               color=c_sgd, floor=1e-16)
    ax.plot(k, exact_sq, "k--", lw=1.1, label="SGD: exact second-moment recursion")
    ax.axhline(stat_tr, color="0.4", lw=0.9, ls=":", label=f"its fixed point, {stat_tr:.3f}")
    ax.set_yscale("log")
    ax.set_xlabel("step k")
    ax.set_ylabel("E ||w_k − ŵ||²")
    ax.set_title(f"GD converges, SGD (batch {b}) stalls at a noise floor (α = {alpha:g})")
    ax.legend(fontsize=8)
    toolkit.save(fig, out / "sgd_trajectories_spread.png", dpi=config["dpi"])
    plt.close(fig)
