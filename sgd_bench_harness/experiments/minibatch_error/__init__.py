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

The package: ``errors`` (the error measurements), ``payoff`` (the batch size B* that needs the
fewest gradient evaluations, and its predictions), ``figures`` and ``summary`` (the report).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import problems
import sgd_bench as sb
from sgd_bench import sampling, theory
from sgd_bench_harness import experiment, results, toolkit
from sgd_bench_harness.toolkit import Check

from . import figures, summary
from .errors import FORMULAS, MODES, Z_FAMILY, errors_along, prefix_errors
from .payoff import b_star_grows, convergence, payoff_table

NAME = "minibatch_error"
DESCRIPTION = "mini-batch SGD as GD with error: E||e||^2 against B (both samplings) and when batches stop paying off"

FULL = dict(seeds=64, n=2048, d=20, mu=0.01, data_seed=0, key=0,
            batches=(1, 4, 16, 64, 128, 256, 512, 1024, 2048), steps=300, draws=4000,
            error_batches=(4, 64, 1024), error_steps=200, targets=(1e-1, 3e-2, 1e-2, 3e-3))
# The quick run shares the lecture problem's shape (200 x 10), so its data compiles once per test session.
QUICK = dict(seeds=16, n=200, d=10, mu=0.05, data_seed=0, key=0,
             batches=(20, 200), steps=120, draws=1000,
             error_batches=(20,), error_steps=60, targets=(3e-1, 1e-1))

# Decided (issue 18, leftovers32c): "within its 99.9% interval" along the run also asks that
# interval's half-width (Z_FAMILY standard errors over the seeds) to be at most TELL of the formula:
# at --seeds 2 any value was within it. Full (64 seeds): 0.009-0.025; quick (16): 0.062.
TELL = 0.1


def along_check(b: int, along: dict, diff_mean: float) -> Check:
    """"E||e_k||^2 = E v(x_k)/B along the run" for batch size ``b`` (``along``: its record, with
    the paired difference's standard error; ``diff_mean``: that difference's mean over seeds)."""
    claim = (f"B = {b}: along the run E||e_k||^2 = E v(x_k)/B (mean over steps and seeds, "
             "within its 99.9% interval)")
    measured = {"measured": along["err_sq"], "formula": along["formula"], "stderr": along["diff_stderr"]}
    width = Z_FAMILY * along["diff_stderr"] / along["formula"]  # the interval's half-width over the formula
    return Check(
        claim=claim, measured=measured, holds=bool(abs(diff_mean) <= Z_FAMILY * along["diff_stderr"] and width <= TELL),
        summary=None if width <= TELL else (
            f"{claim} (measured: {experiment.readable(measured)}; the interval's half-width is {width:.3g} of "
            f"the formula, over {TELL:g}: too wide to tell; more --seeds)"))


def _problem(config: dict):
    """The logistic regression of ``config`` (``run`` and ``plateau_steps`` build the same one)."""
    return problems.synthetic_logreg(config["n"], config["d"], seed=config["data_seed"], mu=config["mu"], noise=0.5)


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)

    start = time.perf_counter()
    n, d, mu = config["n"], config["d"], config["mu"]
    problem = _problem(config)
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
            sq = np.asarray(prefix_errors(problem, x, jnp.asarray(draws[mode])))[:, batches - 1]
            mean, se = sq.mean(axis=0), sq.std(axis=0, ddof=1) / np.sqrt(len(sq))
            formula = theory.minibatch_error(v, batches, n, mode)
            ok = np.abs(mean - formula) <= Z_FAMILY * se + 1e-12 * v
            for b, m, s, fo, agrees in zip(batches, mean, se, formula, ok):
                rows.append({"experiment": NAME, "figure": "error", "point": point_name, "sampling": mode,
                             "batch": int(b), "statistic": "mean", "err_sq": float(m), "err_sq_stderr": float(s),
                             "formula": float(fo), "v": v, "draws": config["draws"], "agrees": bool(agrees)})
            checks.append(Check(
                claim=f"E||e||^2 at {point_name}, {MODES[mode]}, matches the formula {FORMULAS[mode]} within its "
                      "99.9% interval at every B",
                measured={"B": batches.tolist(), "measured/formula": [None if f == 0 else float(m / f)
                                                                      for m, f in zip(mean, formula)]},
                holds=bool(np.all(ok))))
            means[(point_name, mode)] = mean
    full_batch = means[("x*", "reshuffle")][batches == n]
    if full_batch.size:
        checks.append(Check(claim="Without replacement a batch of B = n has no error (the formula's factor is 0)",
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
        f_k, g2, e2 = (np.asarray(a).reshape(seeds, K) for a in errors_along(
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
        checks.append(Check(
            claim=f"B = {int(b)}: f(x_(k+1)) <= f(x_k) - ||grad f(x_k)||^2/(2L) + ||e_k||^2/(2L) at every one of "
                  f"{K} steps of every one of {seeds} seeds",
            measured={"violations": along["violations"], "min_relative_slack": along["min_relative_slack"]},
            holds=bool(along["violations"] == 0)))
        checks.append(along_check(int(b), along, float(diff.mean())))

    # ---- when mini-batching stops paying off --------------------------------------------------
    conv = convergence(rows, f_star)
    payoff = payoff_table(conv, targets=config["targets"], delta0=delta0, n=n, c=c, alpha=alpha)
    largest = payoff[0]
    b_large = largest["best"]
    evals_large = None if b_large is None else largest["evals"][b_large]
    checks.append(Check(claim=f"Mini-batching pays off: at eps = {largest['frac']:g} Delta_0 some B < n reaches eps "
                             "with fewer gradient evaluations than every larger B and than GD",
                       measured={"B*": b_large, "evals at B*": evals_large, "GD evals": largest["gd"]},
                       holds=bool(b_large is not None and b_large < batches.max() and (
                           largest["gd"] is None or evals_large < largest["gd"]))))
    checks.append(Check(claim="B* grows as the target accuracy shrinks (smaller eps needs a smaller error)",
                       measured={str(p["frac"]): p["best"] for p in payoff}, holds=b_star_grows(payoff)))
    plateau_list = list(conv["plateaus"].values())
    checks.append(Check(claim="The plateau of E f(x_k) - f* at alpha = 1/L falls as B grows",
                       measured=conv["plateaus"],
                       holds=bool(all(a > b for a, b in zip(plateau_list, plateau_list[1:])))))

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "alpha": alpha, "x0": "zeros", "problem": "synthetic_logreg"},
                                   dtype="float64", wall_seconds=round(wall, 2))
    meta["constants"] = c.as_dict()
    meta["delta0"] = delta0
    meta["problem"] = {"name": problem.name, "n": n, "d": d, **problem.info}
    experiment.save(out, rows=rows, meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws ``minibatch_error.png`` (E||e||^2 against B, with the formula) and
    ``minibatch_convergence.png`` and writes ``summary.md`` with the payoff table, from the
    stored files alone; ``sgd-bench report`` calls it without re-running anything."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    config, info = meta["config"], meta["problem"]
    c = theory.Constants(**meta["constants"])
    n, d, mu, alpha, delta0 = info["n"], info["d"], c.mu, config["alpha"], meta["delta0"]
    errors = [r for r in rows if r["figure"] == "error"]
    along = [r for r in rows if r["figure"] == "along_run"]
    conv = convergence(rows, c.f_star)
    payoff = payoff_table(conv, targets=config["targets"], delta0=delta0, n=n, c=c, alpha=alpha)
    figures.error_figure(out, errors, config, n, d, mu)
    figures.convergence_figure(out, conv, payoff, config, n, d, mu, alpha, delta0)
    text, payoff_rows, along_rows = summary.text(meta, checks, c, errors, along, payoff)
    experiment.close(out, text, checks=checks, echo=echo, wall=meta.get("wall_seconds") or 0.0,
                     header=f"{NAME}: {info['name']}, L = {c.L:.4f}, mu = {mu:g}, {config['seeds']} seeds",
                     tables=[(payoff_rows, list(payoff_rows[0])), (along_rows, list(along_rows[0]))])
    return {"summary": payoff_rows, "checks": checks}


def _steps(config: dict, steps: int) -> dict:
    # The one-step bound is checked along the first error_steps steps of a run, so never more.
    return {**config, "steps": steps, "error_steps": min(config["error_steps"], steps)}


# Decided (issue 18): a plateau is the mean of E f(x_k) - f* over the second half of the run, so a
# --steps is refused when that half starts before the runs can be on their plateau: at --steps 1 the
# claim "the plateau falls as B grows" compared gaps one step from x_0, still descending. The
# GD-with-error bound at alpha = 1/L, E Delta_k <= (1 - mu/L)^k Delta_0 + v_B/(2 mu) with
# v_B = sigma*^2/B, is at its plateau once its transient term falls below its plateau term; the
# largest B has the smallest plateau, so it gets there last (k_B), and the run needs 2 k_B steps.
# Quick: 26 (of 120), full: 112 (of 300). Decided (leftovers32c): the two configs a run can have
# keep their minimum in PLATEAU_STEPS (the tests compute it again from the problems' own constants,
# with this table emptied), so that a refusal is instant; it computed the problem's
# constants first (a reference solve, ~2.5 s). Another config computes them.
PLATEAU_STEPS = {(200, 10, 0.05, 0, 200): 26, (2048, 20, 0.01, 0, 2048): 112}


def plateau_k(c, delta0: float, batch: int) -> int:
    """Twice the first step k at which the bound's transient (1 - mu/L)^k ``delta0`` is at most its
    plateau v_B/(2 mu) for batch size ``batch`` (at least 2), from the constants ``c``."""
    plateau = float(theory.minibatch_error(c.sigma2_star, batch, c.n)) / (2 * c.mu)
    if plateau <= 0:  # no gradient noise at x*: no plateau to reach
        return sys.maxsize
    k = np.ceil(np.log(delta0 / plateau) / -np.log1p(-c.mu / c.L)) if delta0 > plateau else 1
    return int(2 * max(k, 1))


def plateau_steps(config: dict) -> int:
    """``plateau_k`` for the largest batch size of ``config``: from PLATEAU_STEPS for the quick and
    full problems, else from the problem's constants (a reference solve)."""
    known = PLATEAU_STEPS.get((config["n"], config["d"], config["mu"], config["data_seed"], max(config["batches"])))
    if known is not None:
        return known
    jax.config.update("jax_enable_x64", True)
    problem = _problem(config)
    c = theory.constants(problem, reference=sb.reference_solution(problem))
    return plateau_k(c, float(problem.loss(problem.zeros())) - c.f_star, max(config["batches"]))


def main(argv=None) -> int:
    # --steps is the length of every SGD and GD run at alpha = 1/L; float64 only (theory checks).
    steps = experiment.at_least("steps", plateau_steps, "a plateau is the mean over the second half of the run, "
                                "and the GD-with-error bound puts the largest batch size on its plateau only "
                                "after half this many steps", then=_steps)
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least("seeds", 2, "standard errors need two seeds"),
                                      "steps": steps})


if __name__ == "__main__":
    sys.exit(main())
