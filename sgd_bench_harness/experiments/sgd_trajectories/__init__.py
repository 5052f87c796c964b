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
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import problems.linear as linear
import sgd_bench as sb
from sgd_bench import sampling
from sgd_bench_harness import experiment, results, toolkit
from sgd_bench_harness.experiments.sgd_trajectories import figures
from sgd_bench_harness.toolkit import Check

NAME = "sgd_trajectories"
DESCRIPTION = ("the lecture's 'SGD, batch = 2' picture: GD and batch-2 SGD paths on 1-D linear "
               "regression (N=50), batch vs full gradients, and the 4096-seed spread against theory")

FULL = dict(seeds=4096, steps=60, alpha=1.0, batch=2, n=50, noise=0.2, w_true=(3.0, 4.0),
            data_seed=0, key=0, show_steps=(0, 4, 40), gif_dpi=90, gif_fps=6, dpi=150)
# QUICK's 6 steps are below floor_steps (37): its noise-floor claim is not evaluated there (SKIP).
# 1024 seeds (256 before leftovers34b): at step 6 SGD's E||w_K - w_hat||^2 (exact 6.237) is above GD's
# (5.560) by 0.68, and the 5-standard-error interval of 256 seeds (+-0.94) could not tell them apart.
QUICK = dict(seeds=1024, steps=6, alpha=1.0, batch=2, n=50, noise=0.2, w_true=(3.0, 4.0),
             data_seed=0, key=0, show_steps=(0, 2, 5), gif_dpi=40, gif_fps=6, dpi=60)

# Claims about seed means hold within this many standard errors (fixed key: never flaky).
Z = 5.0
# Decided (issue 18, leftovers32c): "within Z standard errors" also asks those Z standard errors to
# be at most TELL of the exact E||w_k - w_hat||^2, at every step: at --seeds 2 any path was "within
# 5 standard errors". Full (4096 seeds) reaches 0.081, quick 0.15 at its 256 seeds then (about 0.075 at its
# 1024 now): a full run below about 110 seeds (quick: 23) fails, its line saying the interval is too wide to tell.
TELL = 0.5


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
    width = Z * mc_sq_se[1:] / exact_sq[1:]   # the interval's half-width over the exact value
    checks.append(moments_check(seeds, b, float(z_m.max()), float(z_sq.max()), width))

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
    floor = floor_steps(config)
    checks.append(last_step_check(steps, floor, gd_final, gd_bound, float(mc_sq[-1]), float(mc_sq_se[-1]),
                                  float(exact_sq[-1]), stat_tr, contraction))
    if steps < floor:  # the floor itself is a claim of its own, not evaluated (leftovers32c)
        checks.append(floor_check(steps, floor, float(exact_sq[-1] / stat_tr)))

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

    figures.draw(out, config, data["x"], data["y"], w_hat, gd_path, sgd_path,
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


# Decided (issue 18): the claim that SGD "stalls at a noise floor" is read at the last step, so a
# --steps is refused below the step at which the exact recursion's E||w_k - w_hat||^2 comes within a
# factor FLOOR_FACTOR of its fixed point tr(M_inf) (37 for this data and step): before it, SGD is
# still descending, and the claim's comparisons (SGD above GD, SGD on the exact recursion) held
# after one step without showing any floor. Computed from the config, exactly (NumPy, ~0.1 s).
# QUICK's 6 steps lie below it; decided (leftovers30a): the quick run keeps its 6 steps (37 made its
# tests ~20 s CPU longer, 37 GIF frames drawn twice) and its claim says the floor is not evaluated,
# naming the steps it needs, so that its summary ticks only what 6 steps show; the floor is then a
# check of its own, marked not evaluated (SKIP, neither held nor failed; leftovers32c).
FLOOR_FACTOR = 2.0
FLOOR_SEARCH = 10_000  # steps searched; this data gets there in 37


def floor_claim(steps: int, floor: int) -> str:
    """The third claim's words for a run of ``steps`` steps: the noise floor is claimed only from
    ``floor`` (``floor_steps``) steps on, and said to be not evaluated below it."""
    compared = ("at the last step SGD's E||w_K - w_hat||^2 is above GD's and within 5 standard errors "
                "of the exact recursion")
    if steps >= floor:
        return ("GD converges linearly to w_hat while constant-step SGD stalls at a noise floor: "
                f"{compared}, which tends to its fixed point tr(M_inf)")
    return (f"GD converges linearly to w_hat, and {compared} (the noise floor is not evaluated: "
            f"{steps} steps, fewer than the {floor} after which the exact recursion is within "
            f"{FLOOR_FACTOR:g}x its fixed point)")


def last_step_check(steps: int, floor: int, gd_final: float, gd_bound: float, mc: float, se: float, exact: float,
                    stat_tr: float, contraction: float) -> Check:
    """The claim read at the last step K (``floor_claim``'s words): GD within its bound rho^(2K)
    ||w_0 - w_hat||^2; SGD's E||w_K - w_hat||^2 (seed mean ``mc``, standard error ``se``) above GD's
    and within Z standard errors of the exact recursion ``exact``, those Z standard errors at most
    TELL of it. Decided (leftovers34b): "above GD's" is a claim about the expectation, so SGD's whole
    Z-standard-error interval must lie above GD's (exact) value, as its other comparisons use that
    interval; it compared the seed mean alone. Committed full run: its lower end 0.03218 against GD's
    0.000384 (holds, as before)."""
    last = dict(claim=floor_claim(steps, floor),
                measured={"GD ||w_K - w_hat||^2": gd_final, "GD bound rho^(2K) ||w_0 - w_hat||^2": gd_bound,
                          "SGD E||w_K - w_hat||^2": mc, "exact": exact,
                          "fixed point tr(M_inf)": stat_tr, "contraction rho": contraction})
    width = Z * se / exact
    lower = (f"{last['claim']} (measured: {experiment.readable(last['measured'])}; SGD's {Z:g}-standard-error interval "
             f"reaches down to {mc - Z * se:.4g}, not above GD's {gd_final:.4g}: more --seeds)") if mc - Z * se <= gd_final else None
    return Check(**last, summary=too_wide(last, width, "at the last step") or lower,
                 holds=bool(gd_final <= gd_bound * (1 + 1e-9) and mc - Z * se > gd_final
                            and abs(mc - exact) <= Z * se and width <= TELL))


def moments_check(seeds: int, b: int, z_mean: float, z_sq: float, width) -> Check:
    """The first claim: the seeds' moments on the exact recursion within Z standard errors (the
    largest z of the mean and of the squared distance over the steps), those Z standard errors at
    most TELL of the exact E||w_k - w_hat||^2 at every step k >= 1 (``width``)."""
    width = np.asarray(width)
    moments = dict(claim=f"The {seeds} seeds of batch-{b} SGD follow the exact moment recursion: at every step "
                         f"the mean of w_k - w_hat and the mean of ||w_k - w_hat||^2 lie within {Z:g} standard "
                         "errors of their exact expectations (over all N^2 ordered batches)",
                   measured={"max z, mean": z_mean, "max z, squared distance": z_sq})
    return Check(**moments, summary=too_wide(moments, float(width.max()), f"at step {int(width.argmax()) + 1}"),
                 holds=bool(z_mean <= Z and z_sq <= Z and width.max() <= TELL))


def floor_check(steps: int, floor: int, ratio: float) -> Check:
    """The noise-floor claim of a run shorter than ``floor`` steps: not evaluated (``ratio``: the
    exact recursion over its fixed point at the last step)."""
    return Check(
        claim=f"Constant-step SGD stalls at a noise floor: by the last step the exact recursion's "
              f"E||w_K - w_hat||^2 is within {FLOOR_FACTOR:g}x its fixed point tr(M_inf), and SGD's on it",
        measured={"steps": steps, "steps needed": floor, "exact / fixed point at the last step": ratio},
        holds=None, skipped=f"{steps} steps, fewer than the {floor} after which the exact recursion is within "
                            f"{FLOOR_FACTOR:g}x its fixed point; run with --steps {floor} or more")


def too_wide(check: dict, width: float, where: str) -> str | None:
    """The summary line of a claim whose Z-standard-error interval is too wide to tell (half-width
    over TELL of the exact value), else None (the claim's own words)."""
    if width <= TELL:
        return None
    return (f"{check['claim']} (measured: {experiment.readable(check['measured'])}; {Z:g} standard errors are "
            f"{width:.3g} of the exact E||w_k - w_hat||^2 {where}, over {TELL:g}: too wide to tell; more --seeds)")


def floor_steps(config: dict) -> int:
    """The first step k at which the exact E||w_k - w_hat||^2 of batch SGD is within
    ``FLOOR_FACTOR`` of its fixed point (``FLOOR_SEARCH`` + 1 when it never is within that many)."""
    x, y = regression_data(config["n"], config["noise"], config["w_true"], config["data_seed"])
    A = np.stack([np.ones_like(x), x], axis=1)
    w_hat = np.linalg.solve(A.T @ A, A.T @ y)
    steps = 16
    while True:
        _, seconds, stationary = exact_moments(A, y, w_hat, np.zeros(2), config["alpha"], config["batch"], steps)
        near = np.flatnonzero(np.trace(seconds, axis1=1, axis2=2) <= FLOOR_FACTOR * np.trace(stationary))
        if near.size or steps >= FLOOR_SEARCH:
            return int(near[0]) if near.size else FLOOR_SEARCH + 1
        steps = min(4 * steps, FLOOR_SEARCH)


def main(argv=None) -> int:
    # --steps is the length of the GD and SGD runs (one GIF frame per step); float64 only.
    seeds = experiment.at_least("seeds", 2, "standard errors need two seeds")
    steps = experiment.at_least("steps", floor_steps, "the claim that SGD stalls at a noise floor is read at "
                                f"the last step, and before this step SGD's exact E||w_k - w_hat||^2 is more "
                                f"than {FLOOR_FACTOR:g}x its fixed point: still descending")
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds, "steps": steps})


if __name__ == "__main__":
    sys.exit(main())
