"""Mini-batch SGD as gradient descent with error: the error's size against B, and when batches pay off.

The lecture views mini-batch SGD at alpha = 1/L as GD with an error e_k = g_{B_k} - grad f(x_k):
    f(x_{k+1}) <= f(x_k) - ||grad f(x_k)||^2 / (2L) + ||e_k||^2 / (2L)   for every e_k,
and E||e_k||^2 = v/B with replacement, (n-B)/(n-1) v/B without, v = E_i ||grad f_i - grad f||^2.

On a logistic regression (n = 2048, d = 20, mu = 0.01; kappa ~ 30) this script
- measures E||e||^2 at x_0 and at x* for every B, for both sampling modes, over thousands of
  batches drawn by the engine's samplers, beside both formulas (99.9% intervals);
- runs SGD at alpha = 1/L for each B (with replacement, many seeds), recovers e_k at every step
  from two consecutive iterates (x_k - x_(k+1) = alpha (grad f(x_k) + e_k)), and checks the
  one-step bound at every step of every seed and E||e_k||^2 = E v(x_k) / B along the run;
- plots E f(x_k) - f* against iterations and against gradient evaluations, and finds for each
  target accuracy eps the batch size B* that reaches eps with the fewest gradient evaluations:
  past B*, mini-batching stops paying off. Predictions of B* from the bound (plateau
  v/(2 mu B)) and from the quadratic model (plateau alpha v/(4B)) are listed beside it.

    python scripts/minibatch_error.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench import experiment

NAME = "minibatch_error"
DESCRIPTION = "mini-batch SGD as GD with error: E||e||^2 against B (both samplings) and when batches stop paying off"

FULL = dict(seeds=64, n=2048, d=20, mu=0.01, data_seed=0, key=0,
            batches=(1, 4, 16, 64, 128, 256, 512, 1024, 2048), steps=300, draws=4000,
            error_batches=(4, 64, 1024), error_steps=200, targets=(1e-1, 3e-2, 1e-2, 3e-3))
# The quick run shares the lecture problem's shape (200 x 10), so its data compiles once per test session.
QUICK = dict(seeds=16, n=200, d=10, mu=0.05, data_seed=0, key=0,
             batches=(20, 200), steps=120, draws=1000,
             error_batches=(20,), error_steps=60, targets=(3e-1, 1e-1))

Z_FAMILY = 3.29  # 99.9% intervals: dozens of comparisons must not fail by chance


@jax.jit
def _prefix_errors(problem, x, idx):
    """||g_B - grad f(x)||^2 for every B in 1..n, for each row of ``idx`` (draws, n).

    Row t is step t of a run with batch size n: with replacement n iid uniform indices, with
    ``reshuffle`` one fresh uniform permutation (one epoch per step). Its first B entries are a
    batch of size B of the same kind (iid, or a uniform subset), so one row serves every B.
    """
    import jax.numpy as jnp

    g = problem.grad(x)

    def one(rows):
        per = problem.per_sample_grads(x, rows) - g  # (n, d)
        means = jnp.cumsum(per, axis=0) / jnp.arange(1, rows.shape[0] + 1, dtype=per.dtype)[:, None]
        return jnp.sum(means * means, axis=1)

    return jax.lax.map(one, idx, batch_size=64)


@jax.jit
def _errors_along(problem, xs, xs_next, alpha):
    """f(x_k), ||grad f(x_k)||^2 and ||e_k||^2 for iterates xs (P, d) and their successors.

    A step is x_(k+1) = x_k - alpha g_B(x_k), so the batch gradient the run used is
    (x_k - x_(k+1)) / alpha and its error e_k = g_B(x_k) - grad f(x_k) follows from two iterates,
    exact up to rounding (|delta e| ~ eps ||x|| / alpha).
    """
    import jax.numpy as jnp

    def one(args):
        x, x_next = args
        f, g = problem.value_and_grad(x)
        e = (x - x_next) / alpha - g
        return f, jnp.sum(g * g), jnp.sum(e * e)

    return jax.lax.map(one, (xs, xs_next), batch_size=256)


def _evals_to(gap_mean, steps, batch, eps):
    import numpy as np

    hit = np.flatnonzero(gap_mean <= eps)
    return None if not hit.size else int(steps[hit[0]]) * int(batch)


def _predicted_evals(plateau, batch, eps, delta0, rate):
    """B * K(B) with K from Delta_k <= rate^k Delta_0 + plateau (None if plateau >= eps)."""
    import numpy as np

    if plateau >= eps:
        return None
    k = np.ceil(np.log((eps - plateau) / max(delta0 - plateau, 1e-300)) / np.log(rate))
    return int(max(k, 0) * batch)


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
    from sgd_bench import plots, results, sampling, theory

    start = time.perf_counter()
    n, d, mu = config["n"], config["d"], config["mu"]
    problem = problems.synthetic_logreg(n, d, seed=config["data_seed"], mu=mu, noise=0.5)
    ref = sb.reference_solution(problem)
    c = theory.constants(problem, reference=ref)
    L, f_star = c.L, c.f_star
    x0 = problem.zeros()
    x_star = jnp.asarray(ref.x)
    delta0 = float(problem.loss(x0)) - f_star
    alpha = 1.0 / L
    key = jax.random.key(config["key"])
    batches = np.array(config["batches"])
    if batches.max() > n:
        raise ValueError(f"batch sizes must be <= n = {n}")
    checks, rows = [], []

    # ---- E||e||^2 against B at fixed points ---------------------------------------------------
    error_table, fixed = [], {}
    draws = {mode: sampling.indices(mode, jax.random.fold_in(key, i), n, n, config["draws"])
             for i, mode in enumerate(("with_replacement", "reshuffle"))}
    for point_name, x in (("x_0", x0), ("x*", x_star)):
        v = theory.gradient_variance(problem, x)
        for mode in ("with_replacement", "reshuffle"):
            sq = np.asarray(_prefix_errors(problem, x, jnp.asarray(draws[mode])))[:, batches - 1]
            mean, se = sq.mean(axis=0), sq.std(axis=0, ddof=1) / np.sqrt(len(sq))
            formula = theory.minibatch_error(v, batches, n, mode)
            ok = np.abs(mean - formula) <= Z_FAMILY * se + 1e-12 * v
            fixed[(point_name, mode)] = dict(v=v, mean=mean, se=se, formula=formula, ok=ok)
            label = "with replacement" if mode == "with_replacement" else "without replacement (reshuffle)"
            for b, m, s, fo in zip(batches, mean, se, formula):
                error_table.append({"point": point_name, "sampling": label, "B": int(b),
                                    "measured E||e||^2": f"{m:.4e} ± {s:.1e}", "formula": f"{fo:.4e}",
                                    "ratio": "-" if fo == 0 else f"{m / fo:.3f}"})
                rows.append({"experiment": NAME, "figure": "error", "point": point_name, "sampling": mode,
                             "batch": int(b), "statistic": "mean", "err_sq": float(m), "err_sq_stderr": float(s),
                             "formula": float(fo), "v": v, "draws": config["draws"]})
            checks.append(dict(
                claim=f"E||e||^2 at {point_name}, {label}, matches the formula "
                      f"{'v/B' if mode == 'with_replacement' else '(n-B)/(n-1) v/B'} within its 99.9% interval "
                      "at every B",
                measured={"B": batches.tolist(), "measured/formula": [None if f == 0 else float(m / f)
                                                                      for m, f in zip(mean, formula)]},
                holds=bool(np.all(ok))))
    full_batch = fixed[("x*", "reshuffle")]["mean"][batches == n]
    if full_batch.size:
        checks.append(dict(claim="Without replacement a batch of B = n has no error (the formula's factor is 0)",
                           measured=float(full_batch[0]), holds=bool(full_batch[0] <= 1e-24)))

    # ---- runs at alpha = 1/L for every B ---------------------------------------------------
    runs = {}
    for b in batches:
        method = sb.sgd(alpha, int(b))
        trace = sb.run_seeds(problem, method, x0, key, seeds=config["seeds"], steps=config["steps"],
                             log_every=1, log_iterates=int(b) in config["error_batches"])
        runs[int(b)] = trace
        rows += results.trace_records(trace, f_star=f_star, experiment=NAME, figure="convergence",
                                      problem=problem.name, method=method.name, batch=int(b), alpha=alpha)

    gd_trace = sb.run(problem, sb.gd(alpha), x0, key, steps=config["steps"], log_every=1)
    gd_trace = jax.tree_util.tree_map(lambda a: a[None], gd_trace)
    rows += results.trace_records(gd_trace, f_star=f_star, experiment=NAME, figure="convergence",
                                  problem=problem.name, method="GD", batch=n, alpha=alpha)

    # ---- the one-step bound and E||e_k||^2 along the run -------------------------------------------
    along = []
    K = config["error_steps"]
    for b in config["error_batches"]:
        trace = runs[int(b)]
        xs = np.asarray(trace.xs)[:, : K + 1]  # (S, K+1, d)
        seeds = xs.shape[0]
        f_k, g2, e2 = (np.asarray(a).reshape(seeds, K) for a in _errors_along(
            problem, jnp.asarray(xs[:, :K].reshape(-1, d)), jnp.asarray(xs[:, 1:].reshape(-1, d)), alpha))
        f_next = np.asarray(trace.loss)[:, 1: K + 1]
        rhs = theory.gd_with_error_step(c, f_k=f_k, grad_sq_k=g2, err_sq_k=e2)
        slack = rhs - f_next
        tol = 64 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(f_k))
        v_k = theory.gradient_variances(problem, jnp.asarray(xs[:, :K]), leading=2)  # (S, K)
        per_seed_err = e2.mean(axis=1)
        per_seed_formula = (v_k / b).mean(axis=1)
        diff = per_seed_err - per_seed_formula
        diff_se = diff.std(ddof=1) / np.sqrt(len(diff))
        along.append(dict(B=int(b), min_slack=float(np.min(slack / np.maximum(1.0, np.abs(f_k)))),
                          violations=int(np.sum(slack < -tol)), err=float(per_seed_err.mean()),
                          formula=float(per_seed_formula.mean()), diff_se=float(diff_se),
                          steps=K, seeds=seeds))
        checks.append(dict(
            claim=f"B = {int(b)}: f(x_(k+1)) <= f(x_k) - ||grad f(x_k)||^2/(2L) + ||e_k||^2/(2L) at every one of "
                  f"{K} steps of every one of {seeds} seeds",
            measured={"violations": along[-1]["violations"], "min_relative_slack": along[-1]["min_slack"]},
            holds=bool(along[-1]["violations"] == 0)))
        checks.append(dict(
            claim=f"B = {int(b)}: along the run E||e_k||^2 = E v(x_k)/B (mean over steps and seeds, "
                  "within its 99.9% interval)",
            measured={"measured": along[-1]["err"], "formula": along[-1]["formula"], "stderr": float(diff_se)},
            holds=bool(abs(diff.mean()) <= Z_FAMILY * diff_se)))

    # ---- when mini-batching stops paying off --------------------------------------------------
    steps = np.asarray(runs[int(batches[0])].step[0])
    gaps = {b: np.asarray(t.loss).mean(axis=0) - f_star for b, t in runs.items()}
    gd_gap = np.asarray(gd_trace.loss)[0] - f_star
    plateaus = {b: float(np.mean((np.asarray(t.loss) - f_star)[:, steps >= steps[-1] / 2])) for b, t in runs.items()}
    payoff, best, best_gd = [], {}, {}
    v_star = c.sigma2_star
    for frac in config["targets"]:
        eps = frac * delta0
        evals = {b: _evals_to(gaps[b], steps, b, eps) for b in gaps}
        gd_evals = _evals_to(gd_gap, steps, n, eps)
        reached = {b: e for b, e in evals.items() if e is not None}
        b_best = min(reached, key=reached.get) if reached else None
        best[frac] = b_best
        gd_evals_pred = _predicted_evals(0.0, n, eps, delta0, 1 - mu / L)
        pred_bound = {int(b): _predicted_evals(float(theory.minibatch_error(v_star, b, n)) / (2 * mu), b, eps,
                                               delta0, 1 - mu / L) for b in batches}
        pred_model = {int(b): _predicted_evals(alpha * float(theory.minibatch_error(v_star, b, n)) / 4, b, eps,
                                               delta0, 1 - mu / L) for b in batches}

        def argmin(d):
            ok = {k: v for k, v in d.items() if v is not None and v < gd_evals_pred}
            return min(ok, key=ok.get) if ok else "GD"

        payoff.append({"target eps": f"{eps:.2e} (= {frac:g} Delta_0)",
                       **{f"B={b}": "-" if evals[b] is None else f"{evals[b]:,}" for b in evals},
                       "GD": "-" if gd_evals is None else f"{gd_evals:,}",
                       "B* measured": "GD" if b_best is None or (gd_evals is not None and gd_evals < reached[b_best])
                       else b_best,
                       "B* quadratic model": argmin(pred_model), "B* from the bound": argmin(pred_bound)})
        best_gd[frac] = gd_evals
    largest = config["targets"][0]
    b_large = best[largest]
    checks.append(dict(claim=f"Mini-batching pays off: at eps = {largest:g} Delta_0 some B < n reaches eps with fewer "
                             "gradient evaluations than every larger B and than GD",
                       measured={"B*": b_large, "evals at B*": None if b_large is None else
                                 _evals_to(gaps[b_large], steps, b_large, largest * delta0),
                                 "GD evals": best_gd[largest]},
                       holds=bool(b_large is not None and b_large < batches.max() and (
                           best_gd[largest] is None or _evals_to(gaps[b_large], steps, b_large, largest * delta0)
                           < best_gd[largest]))))
    found = [best[f] for f in config["targets"] if best[f] is not None]
    checks.append(dict(claim="B* grows as the target accuracy shrinks (smaller eps needs a smaller error)",
                       measured={str(f): b for f, b in best.items()},
                       holds=bool(len(found) >= 2 and all(a <= b for a, b in zip(found, found[1:])))))
    plateau_list = [plateaus[int(b)] for b in batches]
    checks.append(dict(claim="The plateau of E f(x_k) - f* at alpha = 1/L falls as B grows",
                       measured={int(b): p for b, p in zip(batches, plateau_list)},
                       holds=bool(all(a > b for a, b in zip(plateau_list, plateau_list[1:])))))

    # ---- figures --------------------------------------------------------------------------------
    plots.style()
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2))
    for ax, point_name in zip(axes, ("x_0", "x*")):
        zero_note = None
        for i, mode in enumerate(("with_replacement", "reshuffle")):
            r = fixed[(point_name, mode)]
            color = plots.COLORS[i]
            label = "with replacement" if mode == "with_replacement" else "without replacement"
            # B = n without replacement is the full gradient: its error is 0 up to rounding
            # (~1e-33), which a log axis cannot show next to the rest; it is noted instead.
            keep = r["formula"] > 0
            if not np.all(keep):
                zero_note = f"B = n without replacement: measured {r['mean'][~keep][0]:.0e} (exactly 0)"
            ax.errorbar(batches[keep], r["mean"][keep], yerr=Z_FAMILY * r["se"][keep], fmt="o", ms=4, capsize=2,
                        color=color, label=f"measured, {label} (99.9% CI)", zorder=3)
            fine = np.unique(np.geomspace(1, n, 400).round().astype(int))
            fine = fine[fine < n] if mode == "reshuffle" else fine
            formula = "v/B" if mode == "with_replacement" else "(n-B)/(n-1) v/B"
            ax.plot(fine, theory.minibatch_error(r["v"], fine, n, mode), "--", color=color, lw=1.2,
                    label=f"formula {formula}")
        if zero_note:
            ax.text(0.98, 0.96, zero_note, transform=ax.transAxes, ha="right", va="top", fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size B")
        ax.set_ylabel(r"$\mathbb{E}\,\|e\|^2 = \mathbb{E}\,\|g_B - \nabla f(x)\|^2$")
        where = "$x_0$" if point_name == "x_0" else "$x^*$"
        ax.set_title(f"at {where}: v = {fixed[(point_name, 'with_replacement')]['v']:.3g}, "
                     f"{config['draws']} batches per B")
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Mini-batch gradient error against B: logistic regression n={n}, d={d}, mu={mu:g}")
    fig.tight_layout()
    results.save_figure(fig, out / "minibatch_error.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    cmap = plt.get_cmap("viridis")
    gd_mean = np.asarray(gd_trace.loss)[0] - f_star
    for i, b in enumerate(batches):
        color = cmap(0.92 * i / max(len(batches) - 1, 1))
        trace = runs[int(b)]
        s = sb.stats.summarize(np.asarray(trace.loss) - f_star, np.asarray(trace.diverged))
        label = f"B = {int(b)}" + (" (= n)" if b == n else "")
        plots.band(axes[0], steps, s.mean, s.stderr, label=label, color=color, floor=1e-16)
        plots.band(axes[1], np.maximum(steps * b, 1), s.mean, s.stderr, label=label, color=color, floor=1e-16)
    axes[0].plot(steps, np.maximum(gd_mean, 1e-16), color="k", lw=1.4, ls="-.", label="GD (full gradient)")
    axes[1].plot(np.maximum(steps * n, 1), np.maximum(gd_mean, 1e-16), color="k", lw=1.4, ls="-.",
                 label="GD (full gradient)")
    for ax, xlabel in zip(axes[:2], ["iteration k", "gradient evaluations (k B)"]):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(r"$\mathbb{E}\,f(x_k) - f^*$")
        for frac in config["targets"]:
            ax.axhline(frac * delta0, color="0.55", lw=0.8, ls=":")
    axes[0].set_xscale("symlog", linthresh=1)
    axes[0].set_xlim(0, steps[-1])
    axes[1].set_xscale("log")
    # GD runs down to the float64 floor; the axis stops well below the lowest plateau instead.
    lowest = min(min(plateaus.values()), min(config["targets"]) * delta0)
    for ax in axes[:2]:
        ax.set_ylim(lowest / 5, None)
    axes[0].set_title(r"against iterations ($\alpha = 1/L$)")
    axes[1].set_title("against gradient evaluations")
    ax = axes[2]
    for j, frac in enumerate(config["targets"]):
        eps = frac * delta0
        color = plots.COLORS[j % len(plots.COLORS)]
        ev = [(int(b), _evals_to(gaps[int(b)], steps, b, eps)) for b in batches]
        ev = [(b, e) for b, e in ev if e is not None]
        label = rf"$\varepsilon$ = {frac:g} $\Delta_0$"
        if ev:
            bs, es = zip(*ev)
            ax.plot(bs, es, "o-", color=color, ms=4, label=label)
            label = None
            if best[frac] is not None:
                ax.plot([best[frac]], [dict(ev)[best[frac]]], "*", color=color, ms=15, mec="k", mew=0.6, zorder=4)
        if best_gd[frac] is not None:
            ax.axhline(best_gd[frac], color=color, lw=1.0, ls="-.", label=label)
    ax.plot([], [], "*", color="0.6", ms=12, mec="k", mew=0.6, label="B*: fewest evaluations")
    ax.plot([], [], "-.", color="0.3", lw=1.0, label="GD, same target")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlim(0.7, n * 1.4)
    ax.set_xlabel("batch size B")
    ax.set_ylabel(r"gradient evaluations to reach $\varepsilon$")
    ax.set_title("where mini-batching stops paying off")
    first_target = config["targets"][0] * delta0
    smallest = min((b for b in batches if _evals_to(gaps[int(b)], steps, b, first_target)), default=None)
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

    # ---- records, metadata, summary -----------------------------------------------------------
    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "alpha": alpha, "x0": "zeros", "problem": "synthetic_logreg"},
                                   dtype="float64", wall_seconds=round(wall, 2))
    meta["constants"] = c.as_dict()
    meta["delta0"] = delta0
    meta["problem"] = {"name": problem.name, "n": n, "d": d, **problem.info}
    results.write_records(out / "records", rows)
    results.write_json(out / "meta.json", meta)
    results.write_json(out / "checks.json", checks)
    along_rows = [{"B": a["B"], "steps x seeds": f"{a['steps']} x {a['seeds']}",
                   "one-step bound violations": a["violations"], "min relative slack": f"{a['min_slack']:.2e}",
                   "mean ||e_k||^2": f"{a['err']:.4e}", "mean v(x_k)/B": f"{a['formula']:.4e} (± {a['diff_se']:.1e})"}
                  for a in along]
    check_lines = "\n".join(f"- [{'x' if ch['holds'] else ' '}] {ch['claim']} (measured: {ch['measured']})"
                            for ch in checks)
    fixed_rows = [r for r in error_table if r["point"] == "x*"]
    formula_ok = all(bool(np.all(f["ok"])) for f in fixed.values())
    step_ok = all(a["violations"] == 0 for a in along)
    held_text = (("both E||e||^2 formulas at every B, at x_0 and at x*" if formula_ok else
                  "NOT every E||e||^2 formula (see the checks)") + "; " +
                 (f"the one-step bound at every step of every seed for B = {', '.join(str(a['B']) for a in along)}"
                  if step_ok else "NOT the one-step bound everywhere (see the checks)") + ".")
    text = f"""# Mini-batch SGD as gradient descent with error (logistic regression, n={n}, d={d}, mu={mu:g})

Constants (float64):

{c.describe()}

Step alpha = 1/L = {alpha:.4f}; x_0 = 0, Delta_0 = f(x_0) - f* = {delta0:.4f}; {config['seeds']} seeds;
device {meta['devices'][0]}.

## The error of a mini-batch gradient

e = g_B - grad f(x). Measured over {config['draws']} batches per B drawn by the engine's samplers
(`sampling.indices` with batch n: each step of `with_replacement` gives n iid indices, each step of
`reshuffle` one fresh permutation, whose first B entries are a uniform subset drawn without replacement),
against v/B and (n-B)/(n-1) v/B with v = E_i ||grad f_i(x) - grad f(x)||^2. Intervals are
99.9% (z = {Z_FAMILY}), since {2 * 2 * len(batches)} comparisons are made. At x*:

{_markdown(fixed_rows)}

![error](minibatch_error.png)

Along SGD runs at alpha = 1/L (with replacement), e_k = (x_k - x_(k+1))/alpha - grad f(x_k) at every step:

{_markdown(along_rows)}

Which bounds held: {held_text}

## Convergence against B

![convergence](minibatch_convergence.png)

Gradient evaluations to reach E f(x_k) - f* <= eps (first logged k where the seed mean is below eps; "-":
not within {config['steps']} steps). B* is the batch size that needs the fewest: beyond it mini-batching
stops paying off in gradient evaluations. The predictions use Delta_k <= (1 - mu/L)^k Delta_0 + P_B with
P_B = E||e||^2/(2 mu) from the GD-with-error bound, or P_B = alpha E||e||^2/4 from SGD's stationary
distribution on the quadratic model around x* (v = sigma_*^2 = {v_star:.4f}).

{_markdown(payoff)}

The bound's plateau v/(2 mu B) is 2L/mu = {2 * L / mu:.0f} times the quadratic model's alpha v/(4B) at
alpha = 1/L, so the bound alone would send every target to far larger batches than the measured B*.

## Checks

{check_lines}

Wall time {wall:.1f} s (compilation included).
"""
    results.write_text(out / "summary.md", text)
    print(f"\n{NAME}: {problem.name}, L = {L:.4f}, mu = {mu:g}, {config['seeds']} seeds")
    print(results.text_table(payoff, list(payoff[0])))
    print(results.text_table(along_rows, list(along_rows[0])))
    for ch in checks:
        print(f"[{'PASS' if ch['holds'] else 'FAIL'}] {ch['claim']}")
    print(f"wrote {out}/ in {wall:.1f} s")
    return {"summary": payoff, "checks": checks}


def _seeds(config: dict, seeds: int) -> dict:
    if seeds < 2:
        raise ValueError("--seeds must be >= 2 (standard errors need two seeds)")
    return {**config, "seeds": seeds}


def _steps(config: dict, steps: int) -> dict:
    # The one-step bound is checked along the first error_steps steps of a run, so never more.
    return {**config, "steps": steps, "error_steps": min(config["error_steps"], steps)}


def main(argv=None) -> int:
    # --steps is the length of every SGD and GD run at alpha = 1/L; float64 only (theory checks).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": _seeds, "steps": _steps})


if __name__ == "__main__":
    sys.exit(main())
