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

The records hold E||e||^2 with its standard error and formula per point, sampling and B
(``figure`` "error"), the seed statistics of every run at alpha = 1/L (``figure``
"convergence"), and per checked B the one-step bound's violations and E||e_k||^2 along the run
(``figure`` "along_run"); B* and its predictions are recomputed from them and the constants in
``meta.json``.

    python scripts/minibatch_error.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench_harness import experiment
from sgd_bench.compat import batched_map

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
MODES = {"with_replacement": "with replacement", "reshuffle": "without replacement (reshuffle)"}
FORMULAS = {"with_replacement": "v/B", "reshuffle": "(n-B)/(n-1) v/B"}


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

    return batched_map(one, idx, 64)


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

    return batched_map(one, (xs, xs_next), 256)


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


def _convergence(rows, f_star):
    """The runs at alpha = 1/L from the records: the logged steps, by batch size the seed mean
    and standard error of f(x_k) - f* and the plateau (its mean over the second half of the run),
    and GD's f(x_k) - f*."""
    import numpy as np

    from sgd_bench_harness import results

    curves = results.curves(rows, figure="convergence")
    gd = curves.pop("GD")
    steps = gd["step"]
    gaps = {int(c["batch"][0]): c[("mean", "loss")] - f_star for c in curves.values()}
    return dict(steps=steps, gaps=gaps, gd=gd[("mean", "loss")] - f_star,
                stderr={int(c["batch"][0]): c[("stderr", "loss")] for c in curves.values()},
                plateaus={b: float(np.mean(g[steps >= steps[-1] / 2])) for b, g in gaps.items()})


def _payoff(conv, *, targets, delta0, n, c, alpha):
    """For each target eps = frac Delta_0: the gradient evaluations each B and GD need to reach it,
    the measured B* (the fewest among the B that reach it), and the B* predicted from the
    GD-with-error bound and from the quadratic model (``"GD"`` when no B beats full batches)."""
    from sgd_bench import theory

    rate = 1 - c.mu / c.L
    out = []
    for frac in targets:
        eps = frac * delta0
        evals = {b: _evals_to(gap, conv["steps"], b, eps) for b, gap in conv["gaps"].items()}
        reached = {b: e for b, e in evals.items() if e is not None}
        gd_pred = _predicted_evals(0.0, n, eps, delta0, rate)

        def predicted_best(plateau_of):
            predicted = {b: _predicted_evals(plateau_of(float(theory.minibatch_error(c.sigma2_star, b, n))), b,
                                             eps, delta0, rate) for b in evals}
            ok = {b: e for b, e in predicted.items() if e is not None and e < gd_pred}
            return min(ok, key=ok.get) if ok else "GD"

        out.append(dict(frac=frac, eps=eps, evals=evals, gd=_evals_to(conv["gd"], conv["steps"], n, eps),
                        best=min(reached, key=reached.get) if reached else None,
                        model=predicted_best(lambda err: alpha * err / 4),
                        bound=predicted_best(lambda err: err / (2 * c.mu))))
    return out


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import problems
    import sgd_bench as sb
    from sgd_bench import sampling, theory
    from sgd_bench_harness import results

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
    means = {}
    draws = {mode: sampling.indices(mode, jax.random.fold_in(key, i), n, n, config["draws"])
             for i, mode in enumerate(MODES)}
    for point_name, x in (("x_0", x0), ("x*", x_star)):
        v = theory.gradient_variance(problem, x)
        for mode in MODES:
            sq = np.asarray(_prefix_errors(problem, x, jnp.asarray(draws[mode])))[:, batches - 1]
            mean, se = sq.mean(axis=0), sq.std(axis=0, ddof=1) / np.sqrt(len(sq))
            formula = theory.minibatch_error(v, batches, n, mode)
            ok = np.abs(mean - formula) <= Z_FAMILY * se + 1e-12 * v
            for b, m, s, fo, agrees in zip(batches, mean, se, formula, ok):
                rows.append({"experiment": NAME, "figure": "error", "point": point_name, "sampling": mode,
                             "batch": int(b), "statistic": "mean", "err_sq": float(m), "err_sq_stderr": float(s),
                             "formula": float(fo), "v": v, "draws": config["draws"], "agrees": bool(agrees)})
            checks.append(dict(
                claim=f"E||e||^2 at {point_name}, {MODES[mode]}, matches the formula {FORMULAS[mode]} within its "
                      "99.9% interval at every B",
                measured={"B": batches.tolist(), "measured/formula": [None if f == 0 else float(m / f)
                                                                      for m, f in zip(mean, formula)]},
                holds=bool(np.all(ok))))
            means[(point_name, mode)] = mean
    full_batch = means[("x*", "reshuffle")][batches == n]
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
        diff_se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
        along = {"experiment": NAME, "figure": "along_run", "batch": int(b), "steps": K, "seeds": seeds,
                 "violations": int(np.sum(slack < -tol)),
                 "min_relative_slack": float(np.min(slack / np.maximum(1.0, np.abs(f_k)))),
                 "err_sq": float(per_seed_err.mean()), "formula": float(per_seed_formula.mean()),
                 "diff_stderr": diff_se}
        rows.append(along)
        checks.append(dict(
            claim=f"B = {int(b)}: f(x_(k+1)) <= f(x_k) - ||grad f(x_k)||^2/(2L) + ||e_k||^2/(2L) at every one of "
                  f"{K} steps of every one of {seeds} seeds",
            measured={"violations": along["violations"], "min_relative_slack": along["min_relative_slack"]},
            holds=bool(along["violations"] == 0)))
        checks.append(dict(
            claim=f"B = {int(b)}: along the run E||e_k||^2 = E v(x_k)/B (mean over steps and seeds, "
                  "within its 99.9% interval)",
            measured={"measured": along["err_sq"], "formula": along["formula"], "stderr": diff_se},
            holds=bool(abs(diff.mean()) <= Z_FAMILY * diff_se)))

    # ---- when mini-batching stops paying off --------------------------------------------------
    conv = _convergence(rows, f_star)
    payoff = _payoff(conv, targets=config["targets"], delta0=delta0, n=n, c=c, alpha=alpha)
    largest = payoff[0]
    b_large = largest["best"]
    evals_large = None if b_large is None else largest["evals"][b_large]
    checks.append(dict(claim=f"Mini-batching pays off: at eps = {largest['frac']:g} Delta_0 some B < n reaches eps "
                             "with fewer gradient evaluations than every larger B and than GD",
                       measured={"B*": b_large, "evals at B*": evals_large, "GD evals": largest["gd"]},
                       holds=bool(b_large is not None and b_large < batches.max() and (
                           largest["gd"] is None or evals_large < largest["gd"]))))
    found = [p["best"] for p in payoff if p["best"] is not None]
    checks.append(dict(claim="B* grows as the target accuracy shrinks (smaller eps needs a smaller error)",
                       measured={str(p["frac"]): p["best"] for p in payoff},
                       holds=bool(len(found) >= 2 and all(a <= b for a, b in zip(found, found[1:])))))
    plateau_list = list(conv["plateaus"].values())
    checks.append(dict(claim="The plateau of E f(x_k) - f* at alpha = 1/L falls as B grows",
                       measured=conv["plateaus"],
                       holds=bool(all(a > b for a, b in zip(plateau_list, plateau_list[1:])))))

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "alpha": alpha, "x0": "zeros", "problem": "synthetic_logreg"},
                                   dtype="float64", wall_seconds=round(wall, 2))
    meta["constants"] = c.as_dict()
    meta["delta0"] = delta0
    meta["problem"] = {"name": problem.name, "n": n, "d": d, **problem.info}
    experiment.save(out, rows=rows, meta=meta, checks=checks)
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws ``minibatch_error.png`` (E||e||^2 against B, with the formula) and
    ``minibatch_convergence.png`` and writes ``summary.md`` with the payoff table, from the
    stored files alone; ``sgd-bench report`` calls it without re-running anything."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    import matplotlib.pyplot as plt
    import numpy as np

    from sgd_bench import theory
    from sgd_bench_harness import plots, results

    config, info = meta["config"], meta["problem"]
    c = theory.Constants(**meta["constants"])
    n, d, mu, L, alpha, delta0 = info["n"], info["d"], c.mu, c.L, config["alpha"], meta["delta0"]
    batches = np.array(config["batches"])
    errors = [r for r in rows if r["figure"] == "error"]
    along = [r for r in rows if r["figure"] == "along_run"]
    formula_ok = all(r["agrees"] for r in errors)
    conv = _convergence(rows, c.f_star)
    steps = conv["steps"]
    payoff = _payoff(conv, targets=config["targets"], delta0=delta0, n=n, c=c, alpha=alpha)

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
    fig.tight_layout()
    results.save_figure(fig, out / "minibatch_error.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    cmap = plt.get_cmap("viridis")
    for i, b in enumerate(batches):
        color = cmap(0.92 * i / max(len(batches) - 1, 1))
        mean, se = conv["gaps"][int(b)], conv["stderr"][int(b)]
        label = f"B = {int(b)}" + (" (= n)" if b == n else "")
        plots.band(axes[0], steps, mean, se, label=label, color=color, floor=1e-16)
        plots.band(axes[1], np.maximum(steps * b, 1), mean, se, label=label, color=color, floor=1e-16)
    gd_mean = np.maximum(conv["gd"], 1e-16)
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

    fixed_rows = [{"point": r["point"], "sampling": MODES[r["sampling"]], "B": r["batch"],
                   "measured E||e||^2": f"{r['err_sq']:.4e} ± {r['err_sq_stderr']:.1e}",
                   "formula": f"{r['formula']:.4e}",
                   "ratio": "-" if r["formula"] == 0 else f"{r['err_sq'] / r['formula']:.3f}"}
                  for r in errors if r["point"] == "x*"]
    along_rows = [{"B": a["batch"], "steps x seeds": f"{a['steps']} x {a['seeds']}",
                   "one-step bound violations": a["violations"], "min relative slack": f"{a['min_relative_slack']:.2e}",
                   "mean ||e_k||^2": f"{a['err_sq']:.4e}",
                   "mean v(x_k)/B": f"{a['formula']:.4e} (± {a['diff_stderr']:.1e})"} for a in along]
    payoff_rows = []
    for p in payoff:
        measured = "GD" if p["best"] is None or (p["gd"] is not None and p["gd"] < p["evals"][p["best"]]) else p["best"]
        payoff_rows.append({"target eps": f"{p['eps']:.2e} (= {p['frac']:g} Delta_0)",
                            **{f"B={b}": "-" if e is None else f"{e:,}" for b, e in p["evals"].items()},
                            "GD": "-" if p["gd"] is None else f"{p['gd']:,}", "B* measured": measured,
                            "B* quadratic model": p["model"], "B* from the bound": p["bound"]})
    step_ok = all(a["violations"] == 0 for a in along)
    held_text = (("both E||e||^2 formulas at every B, at x_0 and at x*" if formula_ok else
                  "NOT every E||e||^2 formula (see the checks)") + "; " +
                 (f"the one-step bound at every step of every seed for B = {', '.join(str(a['batch']) for a in along)}"
                  if step_ok else "NOT the one-step bound everywhere (see the checks)") + ".")
    wall = meta.get("wall_seconds") or 0.0
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

{results.markdown_table(fixed_rows, list(fixed_rows[0]))}

![error](minibatch_error.png)

Along SGD runs at alpha = 1/L (with replacement), e_k = (x_k - x_(k+1))/alpha - grad f(x_k) at every step:

{results.markdown_table(along_rows, list(along_rows[0]))}

Which bounds held: {held_text}

## Convergence against B

![convergence](minibatch_convergence.png)

Gradient evaluations to reach E f(x_k) - f* <= eps (first logged k where the seed mean is below eps; "-":
not within {config['steps']} steps). B* is the batch size that needs the fewest: beyond it mini-batching
stops paying off in gradient evaluations. The predictions use Delta_k <= (1 - mu/L)^k Delta_0 + P_B with
P_B = E||e||^2/(2 mu) from the GD-with-error bound, or P_B = alpha E||e||^2/4 from SGD's stationary
distribution on the quadratic model around x* (v = sigma_*^2 = {c.sigma2_star:.4f}).

{results.markdown_table(payoff_rows, list(payoff_rows[0]))}

The bound's plateau v/(2 mu B) is 2L/mu = {2 * L / mu:.0f} times the quadratic model's alpha v/(4B) at
alpha = 1/L, so the bound alone would send every target to far larger batches than the measured B*.

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall,
                     header=f"{NAME}: {info['name']}, L = {L:.4f}, mu = {mu:g}, {config['seeds']} seeds",
                     tables=[(payoff_rows, list(payoff_rows[0])), (along_rows, list(along_rows[0]))])
    return {"summary": payoff_rows, "checks": checks}


def _steps(config: dict, steps: int) -> dict:
    # The one-step bound is checked along the first error_steps steps of a run, so never more.
    return {**config, "steps": steps, "error_steps": min(config["error_steps"], steps)}


def main(argv=None) -> int:
    # --steps is the length of every SGD and GD run at alpha = 1/L; float64 only (theory checks).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least("seeds", 2, "standard errors need two seeds"),
                                      "steps": _steps})


if __name__ == "__main__":
    sys.exit(main())
