"""The lecture's "SGD, batch = 2" picture: GD and batch-2 SGD on a 1-D linear regression with a bias.

Data: N = 50 points x_i ~ U(-0.5, 0.5), y_i = 3 + 4 x_i + 0.2 eps_i, and the least-squares finite
sum f(w) = 1/N sum_i 1/2 (w_1 + w_2 x_i - y_i)^2 (``problems.linear.least_squares`` with the
design [1, x]), so w* = (3, 4) and the minimizer w_hat of f is its least-squares estimate. Both
methods start at w = (0, 0) and take the same constant step.

Figures:

- ``sgd_trajectories.png`` and the animation ``sgd_trajectories.gif``: the GD path and one SGD
  (batch 2, with replacement) path over the contours of f in (w_1, w_2), next to the data with
  the current fits and the two points of the current batch;
- ``sgd_batch_gradients.png``: for a few SGD steps, the batch's own loss (its contours, centred
  on the line through its two points) and its gradient next to the full one at the same point;
- ``sgd_trajectories_spread.png``: E||w_k - w_hat||^2 over 4096 seeds, against the exact
  second-moment recursion of batch-2 SGD and the exact GD curve.

The single path is one of the seeds, and the measured statements are about all of them
(``checks.json``): GD follows (I - alpha H)^k exactly; the seeds' mean and mean squared
distance to w_hat follow the exact recursion of the first and second moments (expectations over
all N^2 ordered batches, computed in NumPy) within 5 standard errors at every step; SGD stalls at
the recursion's fixed point while GD converges; and the drawn batches are the ones the run used.

    python scripts/sgd_trajectories.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter

import problems.linear as linear
import sgd_bench as sb
from sgd_bench import sampling
from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.toolkit import Check

NAME = "sgd_trajectories"
DESCRIPTION = ("the lecture's 'SGD, batch = 2' picture: GD and batch-2 SGD paths on 1-D linear "
               "regression (N=50), batch vs full gradients, and the 4096-seed spread against theory")

FULL = dict(seeds=4096, steps=60, alpha=1.0, batch=2, n=50, noise=0.2, w_true=(3.0, 4.0),
            data_seed=0, key=0, show_steps=(0, 4, 40), gif_dpi=90, gif_fps=6, dpi=150)
QUICK = dict(seeds=256, steps=6, alpha=1.0, batch=2, n=50, noise=0.2, w_true=(3.0, 4.0),
             data_seed=0, key=0, show_steps=(0, 2, 5), gif_dpi=40, gif_fps=6, dpi=60)

# Claims about seed means hold within this many standard errors (fixed key: never flaky).
Z = 5.0


def regression_data(n: int, noise: float, w_true, seed: int):
    """x ~ U(-0.5, 0.5), y = w_1 + w_2 x + noise * eps, as NumPy float64 arrays."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 0.5, n)
    y = w_true[0] + w_true[1] * x + noise * rng.standard_normal(n)
    return x, y


def exact_moments(A, y, w_hat, w0, alpha, batch, steps):
    """E[w_k - w_hat] and E[(w_k - w_hat)(w_k - w_hat)^T] for SGD with batches of ``batch`` indices
    drawn uniformly with replacement, for k = 0..steps, by exact expectation over all n^batch
    ordered batches (NumPy float64).

    With e = w - w_hat, a step is e' = P_B e - alpha r_B, where P_B = I - alpha H_B, H_B the
    batch's Hessian and r_B the batch gradient at w_hat. Since B is drawn independently of e,
    m' = E[P] m - alpha E[r] and M' = E[P M P^T] - alpha (E[P m r^T] + E[r m^T P^T]) + alpha^2 E[r r^T].
    """
    n, d = A.shape
    outer = np.einsum("ia,ib->iab", A, A)
    g = A * (A @ w_hat - y)[:, None]
    combos = np.array(list(itertools.product(range(n), repeat=batch)))
    H_B = outer[combos].mean(axis=1)
    r_B = g[combos].mean(axis=1)
    P = np.eye(d)[None] - alpha * H_B
    EP, Er, Err = P.mean(0), r_B.mean(0), np.einsum("pa,pb->ab", r_B, r_B) / len(P)
    m = np.asarray(w0, np.float64) - w_hat
    M = np.outer(m, m)
    means, seconds = [m.copy()], [M.copy()]
    for _ in range(steps):
        cross = np.einsum("pab,b,pc->ac", P, m, r_B) / len(P)
        M = np.einsum("pab,bc,pdc->ad", P, M, P) / len(P) - alpha * (cross + cross.T) + alpha**2 * Err
        m = EP @ m - alpha * Er
        means.append(m.copy())
        seconds.append(M.copy())
    # The fixed point of the second moment (m -> 0): vec(M) = E[P (x) P] vec(M) + alpha^2 vec(E[r r^T]).
    kron = np.einsum("pab,pcd->acbd", P, P).reshape(d * d, d * d) / len(P)
    stationary = np.linalg.solve(np.eye(d * d) - kron, alpha**2 * Err.ravel()).reshape(d, d)
    return np.array(means), np.array(seconds), stationary


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary and checks."""
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    x, y = regression_data(config["n"], config["noise"], config["w_true"], config["data_seed"])
    A = np.stack([np.ones_like(x), x], axis=1)
    problem = linear.least_squares(A, y, name="1-D regression with bias")
    H = A.T @ A / len(y)
    w_hat = np.linalg.solve(H, A.T @ y / len(y))
    f_hat = float(0.5 * np.mean((A @ w_hat - y) ** 2))
    alpha, steps, b, seeds = config["alpha"], config["steps"], config["batch"], config["seeds"]
    w0 = jnp.zeros(2)
    key = jax.random.key(config["key"])

    gd = sb.gd(alpha)
    sgd = sb.sgd(alpha, b)
    gd_trace = sb.run(problem, gd, w0, key, steps=steps, log_every=1, x_star=jnp.asarray(w_hat),
                      log_iterates=True)
    sgd_trace = sb.run_seeds(problem, sgd, w0, key, seeds=seeds, steps=steps, log_every=1,
                             x_star=jnp.asarray(w_hat), log_iterates=True)
    gd_path = np.asarray(gd_trace.xs)
    paths = np.asarray(sgd_trace.xs)            # (seeds, steps + 1, 2)
    sgd_path = paths[0]
    run_key = sb.seed_keys(key, seeds)[0]
    batches = sampling.indices(sgd.sampling, run_key, problem.n, b, steps)  # the run's own stream

    # ---- checks ------------------------------------------------------------------------------
    checks = []
    means, seconds, stationary = exact_moments(A, y, w_hat, np.zeros(2), alpha, b, steps)
    err = paths - w_hat[None, None]
    sq = np.sum(err**2, axis=-1)                          # (seeds, steps + 1)
    spread = results.seed_statistics(sq)
    mc_sq, mc_sq_se = spread["mean"], spread["stderr"]
    exact_sq = np.trace(seconds, axis1=1, axis2=2)
    z_sq = np.abs(mc_sq - exact_sq)[1:] / mc_sq_se[1:]
    mc_m, mc_m_se = err.mean(0), err.std(0, ddof=1) / np.sqrt(seeds)
    z_m = np.abs(mc_m - means)[1:] / mc_m_se[1:]
    checks.append(Check(
        claim=f"The {seeds} seeds of batch-{b} SGD follow the exact moment recursion: at every step "
              f"the mean of w_k - w_hat and the mean of ||w_k - w_hat||^2 lie within {Z:g} standard "
              "errors of their exact expectations (over all N^2 ordered batches)",
        measured={"max z, mean": float(z_m.max()), "max z, squared distance": float(z_sq.max())},
        holds=bool(z_m.max() <= Z and z_sq.max() <= Z)))

    P = np.eye(2) - alpha * H
    gd_exact = np.array([np.linalg.matrix_power(P, k) @ (np.zeros(2) - w_hat) for k in range(steps + 1)])
    gd_err = float(np.max(np.abs(gd_path - w_hat - gd_exact)))
    checks.append(Check(
        claim="GD follows w_k - w_hat = (I - alpha H)^k (w_0 - w_hat) at every step (to 1e-10)",
        measured={"max deviation": gd_err}, holds=bool(gd_err <= 1e-10)))

    stat_tr = float(np.trace(stationary))
    contraction = float(np.max(np.abs(np.linalg.eigvals(P))))
    gd_final = float(np.sum((gd_path[-1] - w_hat) ** 2))
    gd_bound = contraction ** (2 * steps) * float(np.sum(w_hat**2))
    checks.append(Check(
        claim="GD converges linearly to w_hat while constant-step SGD stalls at a noise floor: "
              "at the last step SGD's E||w_K - w_hat||^2 is above GD's and within 5 standard errors "
              "of the exact recursion, which tends to its fixed point tr(M_inf)",
        measured={"GD ||w_K - w_hat||^2": gd_final, "GD bound rho^(2K) ||w_0 - w_hat||^2": gd_bound,
                  "SGD E||w_K - w_hat||^2": float(mc_sq[-1]), "exact": float(exact_sq[-1]),
                  "fixed point tr(M_inf)": stat_tr, "contraction rho": contraction},
        holds=bool(gd_final <= gd_bound * (1 + 1e-9) and mc_sq[-1] > gd_final
                   and abs(mc_sq[-1] - exact_sq[-1]) <= Z * mc_sq_se[-1])))

    # Replayed in NumPy, with the batch gradient written out: A_B^T (A_B w - y_B) / |B|.
    replay = [sgd_path[0]]
    for k in range(steps):
        A_b, y_b = A[batches[k]], y[batches[k]]
        replay.append(replay[-1] - alpha * A_b.T @ (A_b @ replay[-1] - y_b) / b)
    replay_err = float(np.max(np.abs(np.array(replay) - sgd_path)))
    checks.append(Check(
        claim="The drawn batches are the ones the run used: replaying w_{k+1} = w_k - alpha grad f_B_k(w_k) "
              "with sampling.indices reproduces the logged path (to 1e-12)",
        measured={"max deviation": replay_err}, holds=bool(replay_err <= 1e-12)))

    # ---- records ----------------------------------------------------------------------------
    rows = results.trace_records(sgd_trace, f_star=f_hat, experiment=NAME, figure="runs", method=sgd.name,
                                 alpha=alpha, sampling=sgd.sampling)
    for r in rows:  # logged at every step, so the step is the index
        r["dist_sq"] = float(spread[r["statistic"]][r["step"]])
    gd_evals, gd_loss, gd_dist = (np.asarray(v) for v in (gd_trace.grad_evals, gd_trace.loss, gd_trace.dist))
    rows += [dict(experiment=NAME, figure="runs", method="GD", alpha=alpha, sampling="full",
                  statistic="exact", step=k, grad_evals=int(gd_evals[k]), num_seeds=1, num_diverged=0,
                  loss=float(gd_loss[k]), f_gap=float(gd_loss[k] - f_hat), dist=float(gd_dist[k]),
                  w1=float(gd_path[k, 0]), w2=float(gd_path[k, 1]))
             for k in range(steps + 1)]
    rows += [dict(experiment=NAME, figure="runs", method=f"{sgd.name} (exact recursion)", alpha=alpha,
                  sampling=sgd.sampling, statistic="exact", step=k, dist_sq=float(exact_sq[k]))
             for k in range(steps + 1)]
    # What the pictures draw: the data, seed 0's path and batches, and every seed's end point.
    rows += [dict(experiment=NAME, figure="data", i=i, x=float(x[i]), y=float(y[i])) for i in range(len(y))]
    rows += [dict(experiment=NAME, figure="path", method=sgd.name, seed=0, step=k,
                  w1=float(sgd_path[k, 0]), w2=float(sgd_path[k, 1])) for k in range(steps + 1)]
    rows += [dict(experiment=NAME, figure="batches", method=sgd.name, seed=0, step=k, slot=j, index=int(i))
             for k in range(steps) for j, i in enumerate(np.asarray(batches[k]))]
    rows += [dict(experiment=NAME, figure="endpoints", method=sgd.name, seed=s, step=steps,
                  w1=float(w[0]), w2=float(w[1])) for s, w in enumerate(paths[:, -1])]

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "x0": [0.0, 0.0], "sampling": sgd.sampling},
                                   dtype="float64", wall_seconds=round(wall, 2))
    meta["problem"] = {"name": problem.name, "n": problem.n, "w_hat": w_hat, "f_hat": f_hat,
                       "hessian_eigenvalues": np.linalg.eigvalsh(H), **problem.info}
    # The contour window of the pictures covers every seed's whole path.
    meta["paths_extent"] = {"min": paths.min(axis=(0, 1)), "max": paths.max(axis=(0, 1))}
    meta["constants"] = {"fixed_point_tr_M_inf": stat_tr}
    experiment.save(out, rows=rows, meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the figures and the animation and writes ``summary.md`` from the stored records,
    meta and checks alone (``sgd-bench report`` calls it without re-running anything)."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)

    config, problem = meta["config"], meta["problem"]
    alpha, steps, b, seeds = config["alpha"], config["steps"], config["batch"], config["seeds"]
    w_hat = np.asarray(problem["w_hat"])
    eigs = problem["hessian_eigenvalues"]
    stat_tr = meta["constants"]["fixed_point_tr_M_inf"]
    data = results.curves(rows, by="figure", x="i", figure="data")["data"]
    runs = results.curves(rows, figure="runs")
    sgd_name = next(r["method"] for r in rows if r["figure"] == "path")
    gd_path = np.stack([runs["GD"]["w1"], runs["GD"]["w2"]], axis=1)
    sgd = runs[sgd_name]
    mc_sq, mc_sq_se = sgd[("mean", "dist_sq")], sgd[("stderr", "dist_sq")]
    exact_sq = runs[f"{sgd_name} (exact recursion)"]["dist_sq"]
    path = results.curves(rows, figure="path")[sgd_name]
    sgd_path = np.stack([path["w1"], path["w2"]], axis=1)
    slots = results.curves(rows, by="slot", figure="batches")
    batches = np.stack([slots[j]["index"] for j in sorted(slots)], axis=1).astype(int)
    ends = results.curves(rows, x="seed", figure="endpoints")[sgd_name]
    extent = meta["paths_extent"]

    _figures(out, config, data["x"], data["y"], w_hat, gd_path, sgd_path,
             np.stack([ends["w1"], ends["w2"]], axis=1), np.asarray(extent["min"]),
             np.asarray(extent["max"]), batches, mc_sq, mc_sq_se, exact_sq, stat_tr)

    ks = sorted({0, 1, 2, 5, 10, 20, steps // 2, steps} & set(range(steps + 1)))
    table = [{"k": k, "GD ||w_k − ŵ||²": f"{np.sum((gd_path[k] - w_hat) ** 2):.3e}",
              f"SGD batch {b}: mean ± se ({seeds} seeds)": f"{mc_sq[k]:.3e} ± {mc_sq_se[k]:.1e}",
              "exact recursion": f"{exact_sq[k]:.3e}"} for k in ks]
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# SGD, batch = 2: trajectories on a 1-D linear regression with a bias

N = {problem['n']}, x ~ U(-0.5, 0.5), y = {config['w_true'][0]:g} + {config['w_true'][1]:g} x + {config['noise']:g} ε
(data seed {config['data_seed']}); least squares f(w) = 1/N Σ ½ (w₁ + w₂ x_i − y_i)², minimizer
ŵ = ({w_hat[0]:.4f}, {w_hat[1]:.4f}), Hessian eigenvalues {eigs[0]:.4f}, {eigs[1]:.4f}.
GD and SGD (batch {b}, with replacement) from w₀ = (0, 0) with step α = {alpha:g}, {steps} steps;
{seeds} seeds for SGD; float64.

![trajectories](sgd_trajectories.png)

Animated: [sgd_trajectories.gif](sgd_trajectories.gif)

![batch gradients](sgd_batch_gradients.png)

![spread](sgd_trajectories_spread.png)

{results.markdown_table(table, list(table[0]))}

Fixed point of the exact recursion: E||w − ŵ||² → {stat_tr:.4e}.

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included); device {meta['devices'][0]}.
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, tables=[(table, list(table[0]))],
                     header=f"{NAME}: {seeds} seeds, {steps} steps, alpha = {alpha:g}")
    return {"summary": table, "checks": checks}


def _figures(out, config, x, y, w_hat, gd_path, sgd_path, ends, paths_min, paths_max, batches, mc_sq,
             mc_sq_se, exact_sq, stat_tr):
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


def main(argv=None) -> int:
    # --steps is the length of the GD and SGD runs (one GIF frame per step); float64 only.
    seeds = experiment.at_least("seeds", 2, "standard errors need two seeds")
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds, "steps": "steps"})


if __name__ == "__main__":
    sys.exit(main())
