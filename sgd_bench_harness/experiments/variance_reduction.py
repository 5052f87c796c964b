"""Variance reduction and growing batches converge linearly where SGD stalls.

Two ways out of SGD's variance problem, on logistic regression (the lecture's problem,
breast_cancer and synthetic data with n = 10^5): growing-batch SGD, |B_{k+1}| = ceil(1.1 |B_k|) + 1
(the lecture's "Approach 1: control the sample size"), and SAG, SAGA, SVRG and SARAH with their
default steps (variance reduction: not in our copy of the lecture, which stops after Approach 1;
from Le Roux, Schmidt & Bach 2012, Defazio, Bach & Lacoste-Julien 2014, Johnson & Zhang 2013 and
Nguyen et al. 2017), against constant-step SGD, with GD (step 1/L), GD with
Armijo line search and L-BFGS (memory 10, zoom line search) as deterministic references: a
comparison against GD at a fixed step alone would flatter the stochastic methods. Figures: f - f* against epochs (gradient
evaluations / n; for the line searches, gradient plus function evaluations / n), against
wall-clock (compilation excluded), and the growing batch against iterations. The fitted linear
rates and every claim go in ``checks.json`` and ``summary.md``.

    python scripts/variance_reduction.py [--quick] [--seeds S] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench_harness import experiment

NAME = "variance_reduction"
DESCRIPTION = ("SAG, SAGA, SVRG, SARAH and growing batches converge linearly on logistic "
               "regression; SGD stalls")

FULL = dict(
    key=0, logs_per_epoch=2, timing_repeats=3,
    problems=(
        dict(problem="lecture", epochs=30, seeds=20, gb_seeds=200, target=1e-10),
        dict(problem="breast_cancer", mu=0.1, epochs=250, seeds=20, gb_seeds=200, target=1e-10),
        dict(problem="synthetic", n=100_000, d=20, mu=1e-4, epochs=50, seeds=3, gb_seeds=32,
             target=1e-10, timing_repeats=1, wallclock=True),
    ),
)
# The quick run's growing-batch R^2 is the R^2 of a mean over few seeds whose early steps are
# single samples: its value moves with the random stream (64 seeds, key 0: 0.67 under jax
# 0.4.30's stream, 0.91 under jax 0.10's; below 0.8 for 4 of 20 keys on 0.4.30). So the quick run
# has 128 seeds and its claim allows `gb_r2_z` standard errors of R^2 (a bootstrap over seeds,
# R2_BOOTSTRAP resamples with a fixed generator); the full run, with gb_r2_z absent, keeps the
# plain R^2 >= GB_R2_MIN.
QUICK = dict(
    key=0, logs_per_epoch=1, timing_repeats=1,
    problems=(dict(problem="lecture", epochs=30, seeds=4, gb_seeds=128, gb_r2_z=1.96,
                   target=1e-10, wallclock=True),),
)

GAP_FLOOR = 1e-16
FIT_FLOOR = 1e-12          # fits of linear rates stop above the rounding floor
GROWTH = 1.1               # growing batch: |B_{k+1}| = ceil(GROWTH |B_k|) + 1
GB_R2_MIN = 0.8            # the growing batch's log-linear fit while |B_k| grows
R2_BOOTSTRAP = 400         # resamples of the seeds for the standard error of that R^2
VR_METHODS = ("SAG", "SAGA", "SVRG", "SARAH")
# The wall-clock claims, fixed before the run and checked on the timed problem(s) of at least
# WALLCLOCK_MIN_N samples (on smaller ones the fixed cost of a compiled call sets the clock):
# an epoch of batch-1 steps costs at least BATCH1_EPOCH_FACTOR full-gradient epochs of GD, and
# these methods are the first below WALLCLOCK_EPS in seconds and in epochs.
WALLCLOCK_MIN_N = 10_000
BATCH1_EPOCH_FACTOR = 10.0
WALLCLOCK_EPS = 1e-8
# Fixed before the run that added L-BFGS (the previous runs, without it, had GD with Armijo
# first in seconds): superlinear convergence on a smooth, strongly convex problem of d = 20.
FIRST_IN_SECONDS = "L-BFGS"
FIRST_IN_EPOCHS = "SVRG"


def _problem(spec):
    import problems

    if spec["problem"] == "lecture":
        return problems.lecture_logreg()
    if spec["problem"] == "breast_cancer":
        return problems.breast_cancer(spec["mu"])
    return problems.synthetic_logreg(spec["n"], spec["d"], seed=0, mu=spec["mu"]).replace(
        name="synthetic logreg")


def _methods(problem):
    """(label, method, deterministic) in plotting order."""
    import sgd_bench as sb
    from sgd_bench import variance_reduction as vr
    from sgd_bench.growing_batch import growing_batch
    from sgd_bench.line_search import gd_armijo

    alpha = 1.0 / (2.0 * problem.info["L_max"])
    return [
        ("SGD, constant step", sb.sgd(alpha), False),
        ("SAG", vr.sag(linear=True), False),
        ("SAGA", vr.saga(linear=True), False),
        ("SVRG", vr.svrg(linear=True), False),
        ("SARAH", vr.sarah(), False),
        ("growing batch", growing_batch(q=GROWTH), False),
        ("GD, 1/L", sb.gd(1.0 / problem.info["L"]), True),
        ("GD, Armijo", gd_armijo(), True),
        ("L-BFGS", sb.lbfgs(), True),
    ]


def timed(problem, method, x0, key, *, steps, log_every, repeats=1):
    """Runs ``method`` through the public ``sgd_bench.Solver`` (the runner's samplers, keys and
    compiled steps, seed ``key``), timing only the steps: the solver's program is compiled and
    warmed up first, then the clock runs around one ``advance`` of ``log_every`` steps and
    ``block_until_ready``; f is evaluated
    afterwards, untimed. Returns cumulative seconds (median over ``repeats``), f, gradient and
    loss evaluations at each log point, the final iterate, and the fixed cost of one compiled
    call (dispatch plus ``block_until_ready``: the median of 30 calls of a compiled identity on
    the same state), which every timed chunk includes once."""
    import numpy as np

    import sgd_bench as sb

    solver = sb.Solver(problem, method, chunk=log_every)
    state0 = jax.block_until_ready(solver.init(x0, key))
    jax.block_until_ready(solver.advance(state0, log_every))  # compile and warm up, untimed
    loss = jax.jit(lambda p, x: p.loss(x))
    times = []
    for _ in range(repeats):
        state = state0
        elapsed, clock, logs = 0.0, [0.0], [state0.method]
        for _ in range(steps // log_every):
            t0 = time.perf_counter()
            state = jax.block_until_ready(solver.advance(state, log_every))
            elapsed += time.perf_counter() - t0
            clock.append(elapsed)
            logs.append(state.method)
        times.append(clock)
    seconds = np.median(np.array(times), axis=0)
    state = state.method
    identity = jax.jit(lambda s: jax.tree_util.tree_map(lambda a: a, s)).lower(state).compile()
    calls = []
    for _ in range(30):
        t0 = time.perf_counter()
        jax.block_until_ready(identity(state))
        calls.append(time.perf_counter() - t0)
    # A method that carries its own f (the line search) reports that one: the value its
    # monotonicity is defined on; f computed by another program may differ by rounding.
    f = np.array([float(s.f) if "f" in s._fields else float(loss(problem, s.x)) for s in logs])
    grads = np.array([int(s.grad_evals) for s in logs])
    losses = np.array([int(getattr(s, "loss_evals", 0)) for s in logs])
    return seconds, f, grads, losses, logs[-1].x, float(np.median(calls))


def _fit_rate(x, gap, top):
    """exp(slope) of log(gap) against x, over the points with FIT_FLOOR < gap < top, with R^2."""
    import numpy as np

    keep = (gap > FIT_FLOOR) & (gap < top)
    if keep.sum() < 3:
        return float("nan"), float("nan")
    slope, icpt = np.polyfit(x[keep], np.log(gap[keep]), 1)
    resid = np.log(gap[keep]) - (slope * x[keep] + icpt)
    total = np.sum((np.log(gap[keep]) - np.log(gap[keep]).mean()) ** 2)
    return float(np.exp(slope)), float(1 - np.sum(resid**2) / total) if total > 0 else 1.0


def _epoch_rate(cv):
    """The fitted rate per epoch of a stored curve and its R^2, from a tenth of its first gap on."""
    mean = cv[("mean", "f_gap")]
    return _fit_rate(cv["epochs"], mean, top=mean[0] / 10)


def _growing_rate(cv, sizes):
    """The growing batch's rate per step, its R^2, and its rate once the batch is full (|B_k| = n
    from k = len(sizes) - 1 on)."""
    k, mean = cv["step"].astype(float), cv[("mean", "f_gap")]
    growing = k < len(sizes) - 1
    rate_k, r2_k = _fit_rate(k[growing], mean[growing], top=mean[0] / 10)
    rate_full, _ = _fit_rate(k[~growing], mean[~growing], top=1e-3)
    return rate_k, r2_k, rate_full


def _growing_r2_se(k, gap, diverged, sizes, resamples=R2_BOOTSTRAP, seed=0):
    """The standard error of the growing batch's R^2 (``_growing_rate`` on the mean over seeds of
    ``gap``, shape (seeds, len(k))): the spread of that R^2 over bootstrap resamples of the seeds,
    drawn by a fixed NumPy generator so that a run's verdict is reproducible."""
    import numpy as np

    from sgd_bench import stats

    rng = np.random.default_rng(seed)
    gap, diverged = np.asarray(gap), np.asarray(diverged)
    r2 = []
    for _ in range(resamples):
        pick = rng.integers(0, len(gap), len(gap))
        mean = stats.mean(gap[pick], diverged[pick])
        r2.append(_growing_rate({"step": np.asarray(k), ("mean", "f_gap"): mean}, sizes)[1])
    r2 = np.asarray(r2)
    r2 = r2[np.isfinite(r2)]
    return float(r2.std(ddof=1)) if len(r2) > 1 else float("nan")


def growing_r2_holds(r2, se, z):
    """The growing batch's linearity claim: R^2 >= GB_R2_MIN, less z standard errors (z = 0 in
    the full run: the plain bound). A NaN R^2 or a NaN standard error under z > 0 fails."""
    import numpy as np

    allowed = GB_R2_MIN - (z * se if z else 0.0)
    return bool(np.isfinite(r2) and np.isfinite(allowed) and r2 >= allowed), float(allowed)


def _run_problem(config: dict, spec: dict, key) -> dict:
    """Every method on one problem of ``config``: its records, its checks and its ``info`` for
    ``meta["problems"]`` (one resumable ``experiment.part`` of the run)."""
    import jax.numpy as jnp
    import numpy as np

    import sgd_bench as sb
    from sgd_bench_harness import results
    from sgd_bench.growing_batch import batch_sizes

    rows, checks = [], []
    problem = _problem(spec)
    ref = sb.reference_solution(problem)
    n, epochs = problem.n, spec["epochs"]
    sizes = batch_sizes(n, GROWTH)
    info = dict(n=n, d=problem.x_shape[0], f_star=ref.f, ref_grad_norm=ref.grad_norm,
                               **problem.info, epochs=epochs, target=spec["target"],
                               wallclock=bool(spec.get("wallclock")),
                               growing_batch_sizes=sizes.tolist())
    x0 = jnp.zeros(problem.x_shape)
    per_epoch = config["logs_per_epoch"]
    seed_counts = {spec["seeds"], spec.get("gb_seeds", spec["seeds"])}
    seed0 = {s: sb.seed_keys(key, s)[0] for s in seed_counts}
    repeats = spec.get("timing_repeats", config["timing_repeats"])
    for label, method, deterministic in _methods(problem):
        # Budget: `epochs` epochs of gradient evaluations. SVRG and SARAH spend 2.5
        # evaluations per step on average (n + 2m per loop of m = 2n steps; SVRG with the
        # linear table 1.5); the growing batch and GD spend n per step once full.
        if method.batch_size is None:
            used = sizes if label == "growing batch" else np.array([n])
            full_steps = max(0, epochs - int(np.ceil(used.sum() / n))) + len(used)
            # At n = 10^5 a full step costs ~2 ms: two per timed chunk keep the fixed cost
            # of a compiled call (~0.1-0.3 ms) a small part of each timing.
            log_every = 1 if n < 50_000 else 2
            steps = int(np.ceil(full_steps / log_every) * log_every)
        else:
            per_step = {"SVRG": 1.5, "SARAH": 2.5}.get(label, 1.0)
            log_every = int(n / per_epoch / per_step)
            steps = log_every * per_epoch * epochs
        # The growing batch gets more seeds: its early steps are single samples, and the
        # mean gap over its ~log(n)/log(1.1) growing steps is noisy.
        num_seeds = spec.get("gb_seeds", spec["seeds"]) if label == "growing batch" \
            else spec["seeds"]
        seconds, f, grads, losses, x_last, overhead = timed(
            problem, method, x0, seed0[num_seeds], steps=steps, log_every=log_every,
            repeats=repeats)
        info.setdefault("call_overhead_seconds", {})[label] = overhead
        evals = grads + losses
        if deterministic:
            gap = np.abs(f - ref.f)[None]
            diverged = np.zeros(1, bool)
            k = np.arange(len(f)) * log_every
            num_seeds = 1
        else:
            trace = sb.run_seeds(problem, method, x0, key, seeds=num_seeds, steps=steps,
                                 log_every=log_every)
            gap = np.abs(np.asarray(trace.loss) - ref.f)
            diverged = np.asarray(trace.diverged)
            k = np.asarray(trace.step[0])
            # the timed run is seed 0 of these runs, step for step
            np.testing.assert_allclose(np.asarray(trace.x[0]), np.asarray(x_last), rtol=1e-9,
                                       atol=1e-12)
            np.testing.assert_array_equal(np.asarray(trace.grad_evals)[0], grads)
        # Cut at the budget (a line search spends 2-4 evaluations of f per step).
        keep = evals <= (epochs + 1.5) * n
        k, gap, seconds, grads, losses, evals = (k[keep], gap[:, keep], seconds[keep],
                                                grads[keep], losses[keep], evals[keep])
        spread = sb.stats.quantiles(gap, (0.1, 0.9), diverged)
        statistics = {
            "mean": sb.stats.mean(gap, diverged),
            "stderr": sb.stats.stderr(gap, diverged) if num_seeds > 1 else np.zeros(len(k)),
            "q10": spread[0.1], "q90": spread[0.9],
        }
        for statistic, values in statistics.items():
            for i in range(len(k)):
                rows.append(dict(experiment=NAME, problem=problem.name, method=label,
                                 statistic=statistic, step=int(k[i]), grad_evals=int(grads[i]),
                                 loss_evals=int(losses[i]), epochs=float(evals[i] / n),
                                 seconds_seed0=float(seconds[i]), num_seeds=num_seeds,
                                 num_diverged=int(diverged.sum()), f_gap=float(values[i])))
        if label == "GD, Armijo":
            armijo_f = f[keep]  # the f the line search carries and tests against
        if label == "growing batch":
            growing_seeds = (k, gap, diverged)  # for the standard error of its R^2

    # ---- checks for this problem -------------------------------------------------------
    c = results.curves(rows, problem=problem.name)
    target = spec["target"]
    linear = {}
    for m in VR_METHODS:
        rate, r2 = _epoch_rate(c[m])
        linear[m] = dict(rate=rate, r2=r2, final=float(c[m][("mean", "f_gap")][-1]))
    checks.append(dict(
        claim=f"{problem.name}: SAG, SAGA, SVRG and SARAH (default steps) converge linearly: "
              f"f - f* < {target:.0e} within {epochs} epochs, log(f - f*) linear in epochs "
              f"(R^2 >= 0.9, rate < 1 per epoch)",
        measured=linear,
        holds=bool(all(v["final"] < target and v["r2"] >= 0.9 and v["rate"] < 1
                       for v in linear.values()))))
    rate_k, r2_k, rate_full = _growing_rate(c["growing batch"], sizes)
    r2_se = _growing_r2_se(*growing_seeds, sizes)
    r2_z = spec.get("gb_r2_z", 0.0)
    r2_ok, r2_allowed = growing_r2_holds(r2_k, r2_se, r2_z)
    r2_bound = (f"R^2 >= {GB_R2_MIN:g} - {r2_z:g} bootstrap standard errors over "
                f"{len(growing_seeds[1])} seeds" if r2_z else f"R^2 >= {GB_R2_MIN:g}")
    gd = c["GD, 1/L"]
    rate_gd, _ = _fit_rate(gd["step"].astype(float), gd[("mean", "f_gap")], top=1e-3)
    like_gd = abs(np.log(rate_full) / np.log(rate_gd) - 1)
    full_at = len(sizes) - 1
    checks.append(dict(
        claim=f"{problem.name}: the growing batch converges linearly in iterations while |B_k| "
              f"grows (log(f - f*) linear in k, {r2_bound}, rate < 1 per step; theory ~ 1/q = "
              f"{1 / GROWTH:.3f}), and from k = {full_at} (|B_k| = n) on it contracts at GD's "
              f"rate per step (log-rates within 25%)",
        measured=dict(rate_per_step=rate_k, r2=r2_k, r2_stderr=r2_se, r2_allowed=r2_allowed,
                      rate_after_full=rate_full,
                      gd_rate=rate_gd, log_rate_mismatch=float(like_gd),
                      final=float(c["growing batch"][("mean", "f_gap")][-1]),
                      full_batch_step=int(full_at)),
        holds=bool(r2_ok and rate_k < 1 and like_gd <= 0.25)))
    sgd = c["SGD, constant step"][("mean", "f_gap")]
    quarter = len(sgd) * 3 // 4
    checks.append(dict(
        claim=f"{problem.name}: constant-step SGD stalls at a plateau: over the last quarter of "
              f"the budget its gap falls by less than 2x, and it ends above 100x every VR "
              f"method's final gap",
        measured=dict(sgd_final=float(sgd[-1]), sgd_quarter_ratio=float(sgd[quarter] / sgd[-1]),
                      vr_final_max=max(v["final"] for v in linear.values())),
        holds=bool(sgd[quarter] / sgd[-1] < 2
                   and sgd[-1] > 100 * max(v["final"] for v in linear.values()))))
    rate, r2 = _epoch_rate(c["GD, Armijo"])
    checks.append(dict(
        claim=f"{problem.name}: GD with Armijo line search never increases f and converges "
              f"linearly (R^2 >= 0.9 of the log-linear fit, rate < 1 per epoch)",
        measured=dict(max_increase=float(np.max(np.diff(armijo_f))), rate=rate, r2=r2,
                      final=float(c["GD, Armijo"][("mean", "f_gap")][-1])),
        holds=bool(np.all(np.diff(armijo_f) <= 0) and rate < 1 and r2 >= 0.9)))
    return dict(name=problem.name, rows=rows, checks=checks, info=info)


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config`` (each problem a resumable ``experiment.part``), stores
    records, meta and checks in ``out``, then draws the figures and the summary from them
    (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    from sgd_bench_harness import results

    start = time.perf_counter()
    key = jax.random.key(config["key"])
    rows, checks, infos = [], [], {}
    for spec in config["problems"]:
        done = experiment.part(out, f"problem={spec['problem']}", lambda spec=spec: _run_problem(config, spec, key))
        rows += done["rows"]
        checks += done["checks"]
        infos[done["name"]] = done["info"]

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, dict(config), dtype="float64", wall_seconds=round(wall, 2))
    meta["problems"] = infos
    meta["timing"] = ("seed 0 of each stochastic method, timed chunk by chunk with "
                      "block_until_ready, compiled ahead of time, f evaluated outside the clock; "
                      f"median of {config['timing_repeats']} repeat(s) (1 for n = 10^5)")
    experiment.save(out, rows=rows, meta=meta, checks=checks)
    return report(out, echo=True)


def _first_below(curves_of_problem, eps):
    """Per method, the (seconds of seed 0, epochs) at which its mean gap first falls below eps."""
    import numpy as np

    reach = {}
    for m, cv in curves_of_problem.items():
        hit = np.flatnonzero(cv[("mean", "f_gap")] < eps)
        if len(hit):
            reach[m] = (float(cv["seconds_seed0"][hit[0]]), float(cv["epochs"][hit[0]]))
    return reach


def _wallclock_checks(curves, infos) -> list[dict]:
    """The wall-clock claims on each timed problem with n >= WALLCLOCK_MIN_N, from the stored
    curves alone: ``report`` computes them, so ``sgd-bench report`` refreshes them."""
    checks = []
    for pname, info in infos.items():
        if not info["wallclock"] or info["n"] < WALLCLOCK_MIN_N:
            continue
        cv = curves[pname]
        cost = {m: c["seconds_seed0"][-1] / c["epochs"][-1] for m, c in cv.items()}
        ratios = {m: float(cost[m] / cost["GD, 1/L"]) for m in ("SGD, constant step",) + VR_METHODS}
        low = min(ratios.values())
        claim = (f"{pname}: an epoch of every batch-1 method (SGD, {', '.join(VR_METHODS)}) costs at least "
                 f"{BATCH1_EPOCH_FACTOR:g}x the wall-clock of a full-gradient epoch of GD")
        checks.append(dict(claim=claim, measured=ratios, holds=bool(low >= BATCH1_EPOCH_FACTOR), wallclock=True,
                           summary=f"{claim} (measured: {low:.0f}-{max(ratios.values()):.0f}x)"))
        reach = _first_below(cv, WALLCLOCK_EPS)
        for expected, index, unit in ((FIRST_IN_SECONDS, 0, "seconds"), (FIRST_IN_EPOCHS, 1, "epochs")):
            others = {m: r[index] for m, r in reach.items() if m != expected}
            mine = reach.get(expected, (None, None))[index]
            ok = mine is not None and all(mine < v for v in others.values())
            runner_up = min(others, key=others.get) if others else "-"
            claim = f"{pname}: {expected} is the first method below {WALLCLOCK_EPS:g} in {unit}"
            shown = "not reached" if mine is None else f"{mine:.3g}"
            checks.append(dict(claim=claim, measured=dict(reach_in=mine, next_best=runner_up,
                                                          next_best_in=others.get(runner_up)),
                               holds=bool(ok), wallclock=True,
                               summary=f"{claim} (measured: {shown} {unit}; next: {runner_up} at "
                                       f"{others.get(runner_up, float('nan')):.3g})"))
    return checks


def report(out: Path, echo: bool = False) -> dict:
    """Draws the epochs, wall-clock and growing-batch figures and writes ``summary.md`` from the
    stored curves (the rates are refitted on them), ``meta.json`` and the checks; ``sgd-bench
    report`` calls it without re-running anything."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    import matplotlib.pyplot as plt
    import numpy as np

    from sgd_bench_harness import plots, results

    infos, device = meta["problems"], meta["devices"][0]
    curves = {pname: results.curves(rows, problem=pname) for pname in infos}
    names = list(infos)
    timed_names = [p for p in names if infos[p]["wallclock"]]
    labels = list(dict.fromkeys(m for c in curves.values() for m in c))

    table, timing_rows = [], []
    for pname, info in infos.items():
        for label, cv in curves[pname].items():
            mean, epochs = cv[("mean", "f_gap")], cv["epochs"]
            rate, r2 = _epoch_rate(cv)
            reached = np.flatnonzero(mean < info["target"])
            table.append({
                "problem": pname, "method": label,
                "final f - f* (mean)": f"{mean[-1]:.2e}",
                "epochs used": f"{epochs[-1]:.1f}",
                f"epochs to {info['target']:.0e}": f"{epochs[reached[0]]:.1f}" if len(reached) else "-",
                "fitted rate / epoch": f"{rate:.3f}" if np.isfinite(rate) else "-",
                "R^2 of log-linear fit": f"{r2:.3f}" if np.isfinite(r2) else "-",
            })
            if info["wallclock"]:
                row = {"problem": pname, "method": label,
                       "seconds per epoch": f"{cv['seconds_seed0'][-1] / epochs[-1]:.4f}"}
                for eps in (1e-4, 1e-8):
                    hit = np.flatnonzero(mean < eps)
                    row[f"seconds to {eps:.0e}"] = f"{cv['seconds_seed0'][hit[0]]:.3f}" if len(hit) else "-"
                    row[f"epochs to {eps:.0e}"] = f"{epochs[hit[0]]:.1f}" if len(hit) else "-"
                timing_rows.append(row)

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
                    ax.fill_between(x, np.maximum(cv[("q10", "f_gap")][first:], GAP_FLOOR),
                                    np.maximum(cv[("q90", "f_gap")][first:], GAP_FLOOR),
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
        gap_line, = ax.plot(cv["step"], np.maximum(cv[("mean", "f_gap")], GAP_FLOOR),
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
        ax.set_title(f"{pname} (n={n}):\nrate {_growing_rate(cv, sizes)[0]:.3f} per step while growing",
                     fontsize=10)
    fig.suptitle(rf"Growing batch $|B_{{k+1}}| = \lceil {GROWTH} |B_k| \rceil + 1$, step 1/L: "
                 "linear in iterations; GD from the dotted line on")
    fig.tight_layout()
    results.save_figure(fig, out / "variance_reduction_growing_batch.png")
    plt.close(fig)

    # The wall-clock checks follow from the stored curves: recomputed here (replacing any stored
    # ones), so that `sgd-bench report` brings checks.json up to date without re-running.
    checks = [c for c in checks if not c.get("wallclock")] + _wallclock_checks(curves, infos)
    results.write_json(out / "checks.json", checks)
    cols, tcols = list(table[0]), list(timing_rows[0])
    overheads = [v for info in infos.values() for v in info["call_overhead_seconds"].values()]
    overhead_us = 1e6 * float(np.median(overheads))
    wall_note = ""
    for pname in timed_names:
        cost = {m: cv["seconds_seed0"][-1] / cv["epochs"][-1] for m, cv in curves[pname].items()}
        batch1 = [cost[m] for m in ("SGD, constant step",) + VR_METHODS]
        reach = _first_below(curves[pname], WALLCLOCK_EPS)
        by_time = min(reach, key=lambda m: reach[m][0]) if reach else "-"
        by_epochs = min(reach, key=lambda m: reach[m][1]) if reach else "-"
        checked = ("the claims are checked below" if infos[pname]["n"] >= WALLCLOCK_MIN_N else
                   f"not checked: below n = {WALLCLOCK_MIN_N:,} the fixed cost of a call sets the clock")
        wall_note += (f"Reading of this run on {pname} (seed 0, one timing; {checked}): an epoch of a batch-1 method costs {1e3 * min(batch1):.2f}-"
                      f"{1e3 * max(batch1):.2f} ms against {1e3 * cost['GD, 1/L']:.2f} ms for a "
                      f"full-gradient epoch of GD ({min(batch1) / cost['GD, 1/L']:.0f}-"
                      f"{max(batch1) / cost['GD, 1/L']:.0f}x). First below {WALLCLOCK_EPS:g} in seconds: "
                      f"{by_time}; in epochs: {by_epochs}. Our explanation, not measured here: a "
                      f"batch-1 step is a chain of tiny kernels of about a microsecond whatever d, "
                      f"while a full gradient streams the data through two matrix-vector products. ")
    sag_note = ("SAG and SAGA fill their table at x0 (epoch 1). Our explanation of SAG's curve, "
                "not measured here: SAG then moves along the table's mean, which during the first epoch is mostly the stale full gradient at x0: with "
                "n alpha >> 1/L (large n) it overshoots before it converges, the bump at the start "
                "of its curve on the largest problem.")
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Variance reduction and growing batches: linear convergence on logistic regression

**Claims:** SGD with a constant step stalls at a noise floor; a geometrically growing batch
(the lecture's "Approach 1: control the sample size"; Friedlander & Schmidt 2012) converges
linearly in iterations; SAG, SAGA, SVRG (and SARAH) remove the variance and converge linearly at
O(1) cost per step (variance reduction is not in our copy of the lecture, which stops after
Approach 1: Le Roux, Schmidt & Bach 2012; Defazio, Bach & Lacoste-Julien 2014; Johnson & Zhang
2013; Nguyen et al. 2017).

Default steps: SAG 1/(16 L_max), SAGA 1/(3 L_max), SVRG 1/(10 L_max) with an inner loop of 2n,
SARAH 1/(2 L_max) with loops of 2n; SAG, SAGA and SVRG keep the O(n) gradient table of linear
models. SGD: alpha = 1/(2 L_max), batch 1, with replacement. Growing batch: |B_0| = 1,
|B_k+1| = ceil(1.1 |B_k|) + 1, step 1/L, with replacement. GD: step 1/L; GD + Armijo: first
trial twice the last accepted step, halving, c = 1e-4. L-BFGS: memory 10, optax's zoom line
search (strong Wolfe). x0 = 0; float64; device {device}.
Epochs count per-sample gradient evaluations / n (SAG/SAGA start at 1: their table is filled
at x0); for GD + Armijo and L-BFGS the function evaluations of the line search are added (an
L-BFGS trial evaluates f and its gradient together, so it counts two epochs).

![epochs](variance_reduction.png)

{results.markdown_table(table, cols)}

Fitted rate: exp(slope) of log(mean f - f*) against epochs, over the points between 1e-12 and
a tenth of the initial gap. {sag_note}

![wall-clock](variance_reduction_wallclock.png)

Wall-clock is shown for the largest problem only: on the small ones a whole run takes
milliseconds, and the fixed cost of each compiled call, not the methods, would set the curves.
Seconds of the steps alone for seed 0 (compiled ahead of time, f evaluated outside the clock,
each timed chunk also paying one call of ~{overhead_us:.0f} µs); epochs to eps read off the mean
gap curve. Timings taken on a shared 2-core CPU: expect tens of percent of noise.

{results.markdown_table(timing_rows, tcols)}

{wall_note}

![growing batch](variance_reduction_growing_batch.png)

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, header=NAME,
                     tables=[(table, cols)])
    return {"summary": table, "checks": checks}


def main(argv=None) -> int:
    # --seeds applies to every stochastic method on every problem (the growing-batch figure keeps
    # its gb_seeds). No --steps: runs are measured in epochs, set per problem; float64 only.
    seeds = experiment.at_least("seeds", 2, "standard errors need two seeds", then=lambda config, seeds: {
        **config, "problems": tuple(dict(spec, seeds=seeds) for spec in config["problems"])})
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds})


if __name__ == "__main__":
    sys.exit(main())
