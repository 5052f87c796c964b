"""The lecture's rates table, measured: GD and SGD on problems of every class, with fitted orders.

The lecture's table (if grad f is Lipschitz):

    assumption   GD                SGD
    PL           O(log(1/eps))     O(1/eps)
    convex       O(1/eps)          O(1/eps^2)
    non-convex   O(1/eps)          O(1/eps^2)

with eps the accuracy f(x_k) - f* for PL and convex problems and min_j ||grad f(x_j)||^2 for
non-convex ones; a row for non-smooth convex problems and the subgradient method (O(1/eps^2)
for both, last and averaged iterate) is added below it. Each cell is measured on two problems
of its class: GD is one deterministic run, SGD (batch 1, with replacement) a mean over seeds.
The measured order is the better of a linear fit (rho) and a power fit (p in C k^-p) over the
last decade of k, with a bootstrap interval over seeds; O(1/eps) means p = 1 and O(1/eps^2)
p = 1/2. The verdicts are two-sided (``rates.compare``): a cell matches when its interval meets
[p - 0.05, p + 0.05] and is at most 0.5 wide (``rates.MAX_WIDTH``; a wider one is too wide to tell,
a failure); slower is a failure; faster passes only with its reason, since the table's
rates are worst cases over a class (GD on a convex problem that is locally strongly convex
converges linearly: the smallest Hessian eigenvalue where GD ends is measured and given as the
reason), or else the plain statement that the row is an upper bound this problem beats. The
summary lists which problems attain each row's worst case; sin2-pl (non-convex and PL) also
stands in the non-convex row, where its SGD attains O(1/eps^2). Beside the table's rate each run
shows the schedule-induced one (the decay of its step). The standard GD bounds at alpha = 1/L
are checked along the way. The claim that SGD with the decreasing step fits p in [0.8, 1.2] (the
strongly convex problems) asks the fit's whole interval to lie in that band.

The records hold each run's seed statistics at every logged k (``figure`` "curves") and one row
per run (``figure`` "runs": its fitted order as ``fit_*`` columns, the verdict against the table,
the GD bound's note); ``meta.json`` holds each problem's class, measure, f* and constants.

    python scripts/rates_table.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]

Where the time goes (issue 16; 2026-12-07, the shared 2-core machine under a load of 10-12, the
compilation cache off): 299 s, of which compiling 205 s (142 programs: each of the 18 runs
compiles the runner's programs for its own problem and method, 8-18 s under that load, and each
case its reference and constants), the report 39 s (matplotlib laying out nine log-log panels),
the steps a few seconds (100 seeds x 20,000 batch-1 steps per SGD run). Nothing is compiled
twice, so the lever is JAX's persistent compilation cache, on for the command line: under a load
of ~15 the run took 490 s with an empty cache and 278 s with it warm (readings).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import jax
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

import sgd_bench as sb
from sgd_bench import curvature, rates, theory
from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.experiments.rates_table.cases import ALL_CASES, setup
from sgd_bench_harness.toolkit import Check

NAME = "rates_table"
DESCRIPTION = "the lecture's table of rates (PL / convex / non-convex, GD / SGD) with measured orders"

FULL = dict(seeds=100, cases=ALL_CASES, sgd_steps=20_000, sgd_log_every=100, gd_scale=1.0, key=0)
# The quick run (seconds, for the tests) keeps one row: compiling each run's program dominates it.
QUICK = dict(seeds=16, cases=("lecture-logreg",), sgd_steps=2000, sgd_log_every=20, gd_scale=0.25, key=0)

# The table's rows and a problem class that stands for each.
ROWS = {"PL": "pl", "convex": "convex", "non-convex": "nonconvex", "non-smooth convex": "nonsmooth"}


def _why(case, kind, short, trace, fit, sched_p) -> str:
    """Why a run beats its row's worst case: a measured property of the problem where the run
    ends when there is one (positive curvature at the last GD iterate), otherwise plainly that
    the row is an upper bound over the class which this problem beats."""
    p, cls = case["problem"], case["row_class"]
    if cls == "nonsmooth":
        return ("the row is an upper bound over all Lipschitz convex functions, which this "
                "piecewise-linear problem beats" + (" (and iterate averaging)" if "averaged" in short else ""))
    if kind == "GD" and fit.kind == "linear":
        x_end = jax.tree_util.tree_map(lambda a: a[0], trace.x)
        lam = float(np.min(curvature.hessian_eigenvalues(p, x_end)))
        if lam > 0:
            return (f"locally strongly convex where GD ends (lambda_min of the Hessian = {lam:.3g} > 0), "
                    "so the PL row's linear rate holds there")
    bound = {"GD": "2 L Delta_0 / k" if cls == "nonconvex" else "L ||x_0 - x*||^2 / (2k)",
             "SGD": "O(1/sqrt k)"}[kind]
    extra = "" if kind == "GD" else f"; its step decays like k^-{sched_p:.2f}"
    return f"the row is an upper bound ({bound}) over the class, which this problem beats{extra}"


def _measured(trace, f_star, measure):
    values = np.asarray(trace.grad_norm_sq if measure == "grad" else trace.loss, dtype=np.float64)
    if measure == "gap":
        values = values - f_star
    return values


def _fit(steps, values, measure, floor):
    """The measured order: both fits on the last decade, or from k = 0 if the run reaches the floor
    before that (GD on PL problems)."""
    running = measure == "grad"
    mean = values.mean(axis=0) if values.ndim == 2 else values
    if running:
        mean = np.minimum.accumulate(mean)
    start = float(steps[-1]) / 10.0
    hits = np.flatnonzero(mean <= floor)
    if hits.size and steps[hits[0]] <= 3 * start:
        start = 0.0
    return theory.fit_order(steps, np.maximum(values, 0.0), start=start, floor=floor, running_min=running)


def decreasing_step_claim(problem: str, label: str, fit) -> Check:
    """SGD with the decreasing step on a strongly convex problem fits p in [0.8, 1.2]: its whole
    interval, as other slope claims are judged (the point estimate alone was)."""
    return Check(claim=f"{problem}, {label}: SGD with the decreasing step fits p in [0.8, 1.2]",
                 measured=fit.describe(), holds=bool(fit.kind == "power" and 0.8 <= fit.lo and fit.hi <= 1.2))


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figure and the summary from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)

    start = time.perf_counter()
    key = jax.random.key(config["key"])
    seeds = config["seeds"]
    rows, run_rows, checks, cases = [], [], [], {}
    for name in config["cases"]:
        case = setup(name, config["gd_scale"])
        p, c, x0, f_star, measure = case["problem"], case["constants"], case["x0"], case["f_star"], case["measure"]
        cls = case["row_class"]
        row = rates.CLASS_ROWS[cls]
        cases[name] = {"name": p.name, "class": cls, "own_class": p.problem_class, "n": p.n, "row": row,
                       "measure": measure, "f_star": f_star, "constants": c.as_dict()}
        floor = 16 * np.finfo(np.float64).eps * max(1.0, abs(f_star))
        if measure == "grad":
            floor = 1e-28  # ||grad f||^2 has no rounding offset; stop at the float64 floor of its square
        # GD logs about 150 points (every step for the short PL runs, which reach the float64
        # floor in a few steps). Bounds on min_j ||grad f(x_j)||^2 checked at logged j only are
        # conservative: the minimum over a subset is never below the minimum over all j.
        gd_log_every = max(1, case["gd_steps"] // 150)
        runs = [(label, method, short, sched, "GD", case["gd_steps"], gd_log_every, 1)
                for label, method, short, sched in case["gd"]]
        runs += [(label, method, short, sched, "SGD", config["sgd_steps"], config["sgd_log_every"], seeds)
                 for label, method, short, sched in case["sgd"]]
        for label, method, short, sched, kind, steps, log_every, n_seeds in runs:
            if n_seeds == 1:
                trace = sb.run(p, method, x0, key, steps=steps, log_every=log_every)
                trace = jax.tree_util.tree_map(lambda a: a[None], trace)
            else:
                trace = sb.run_seeds(p, method, x0, key, seeds=n_seeds, steps=steps, log_every=log_every)
            if bool(np.any(np.asarray(trace.diverged))):
                raise RuntimeError(f"{label} diverged on {p.name}")
            k = np.asarray(trace.step[0])
            values = _measured(trace, f_star, measure)
            fit = _fit(k, values if n_seeds > 1 else values[0], measure, floor)
            cell = theory.theory_rate(cls, kind)
            # The schedule-induced rate: what the step schedule alone allows over the fit's window.
            sched_p = 0.0 if sched is None else rates.schedule_power(sched, max(fit.k_min, 1), fit.k_max)
            verdict = rates.compare(fit, cell)
            if verdict.outcome == "faster":  # it needs its reason
                verdict = rates.compare(fit, cell, why=_why(case, kind, short, trace, fit, sched_p))
            checks.append(Check(claim=f"{p.name}, {label}: the measured order is the table's "
                                      f"{cell.complexity}, or beats it for a stated reason (two-sided: "
                                      f"band +-{rates.MATCH_TOL:g} around p; slower fails)",
                                measured={"fit": fit.describe(), "kind": fit.kind, "outcome": verdict.outcome,
                                          "schedule_p": sched_p, "verdict": verdict.text},
                                holds=bool(verdict.ok)))
            bound_note = "-"
            if kind == "GD" and len(case["gd"]) == 1:
                bound_note = _gd_bound(case, k, values[0], floor, checks, label)
            if p.problem_class == "strongly_convex" and kind == "SGD":
                checks.append(decreasing_step_claim(p.name, label, fit))
            if kind == "GD" and row == "PL":
                rho_theory = 1.0 - c.mu / c.L
                checks.append(Check(claim=f"{p.name}: GD's fitted linear rate is at most 1 - mu/L = {rho_theory:.4f}",
                                    measured=fit.describe(),
                                    holds=bool(fit.kind == "linear" and fit.value <= rho_theory + 1e-3)))
            rows += results.trace_records(trace, f_star=None if measure == "grad" else f_star,
                                          experiment=NAME, figure="curves", row=row, problem=p.name,
                                          method=label, problem_class=p.problem_class)
            run_rows.append({"experiment": NAME, "figure": "runs", "case": name, "row": row, "problem": p.name,
                             "method": label, "short": short, "kind": kind, "steps": int(k[-1]), "seeds": n_seeds,
                             **{f"fit_{f}": v for f, v in fit.as_dict().items()},
                             "schedule": "constant" if sched is None else "decreasing", "schedule_p": sched_p,
                             "outcome": verdict.outcome, "verdict": verdict.text, "gd_bound": bound_note})

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "cases": list(config["cases"]), "sampling": "with_replacement",
                                          "batch_size": 1}, dtype="float64", wall_seconds=round(wall, 2))
    meta["problems"] = cases
    experiment.save(out, rows=rows + run_rows, meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws ``rates_table.png`` (every run with its fitted order) and writes the measured rates
    table into ``summary.md``, from the stored files alone; ``sgd-bench report`` calls it
    without re-running anything."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)

    config, cases = meta["config"], meta["problems"]
    seeds = config["seeds"]
    fields = [f.name for f in dataclasses.fields(rates.RateFit)]
    runs = [dict(r, fit=rates.RateFit(**{f: r[f"fit_{f}"] for f in fields})) for r in rows if r["figure"] == "runs"]
    _figure(rows, runs, cases, out, seeds)

    cells: dict[tuple[str, str], list[str]] = {}
    attained: dict[tuple[str, str], list[str]] = {}
    detail = []
    for r in runs:
        fit, cell = r["fit"], rates.theory_rate(cases[r["case"]]["class"], r["kind"])
        several = sum(o["case"] == r["case"] and o["kind"] == r["kind"] for o in runs) > 1
        short = f" ({r['short']})" if several else ""
        entry = f"{r['problem'].split(' ')[0]}{short}: {fit.describe()}"
        if fit.kind == "linear" and cell.kind == "power":
            entry += " (linear)"
        entry += {"match": "", "faster": " (beats it)", "slower": " (SLOWER)", "unclear": " (TOO WIDE TO TELL)"}[r["outcome"]]
        cells.setdefault((r["row"], r["kind"]), []).append(entry)
        attained.setdefault((r["row"], r["kind"]), [])
        if r["outcome"] == "match":
            attained[r["row"], r["kind"]].append(r["problem"].split(" ")[0])
        detail.append({"row": r["row"], "problem": r["problem"], "method": r["method"], "steps": r["steps"],
                       "seeds": r["seeds"], "measure": cell.measure, "lecture (worst case)": cell.describe(),
                       "schedule-induced": ("constant step" if r["schedule"] == "constant"
                                            else f"alpha_k ~ k^-{r['schedule_p']:.2f}"),
                       "measured": f"{fit.kind}: {fit.describe()}", "fit window": f"k in [{fit.k_min}, {fit.k_max}]",
                       "verdict": r["verdict"], "GD bound": r["gd_bound"]})

    table = []
    for row, cls in ROWS.items():
        if (row, "GD") not in cells and (row, "SGD") not in cells:
            continue
        gd_cell, sgd_cell = rates.theory_rate(cls, "GD"), rates.theory_rate(cls, "SGD")
        table.append({"assumption": row + (" (not in the lecture)" if row == "non-smooth convex" else ""),
                      "accuracy": gd_cell.measure,
                      "GD: lecture": gd_cell.complexity, "GD: measured": "<br>".join(cells.get((row, "GD"), [])),
                      "SGD: lecture": sgd_cell.complexity,
                      "SGD: measured": "<br>".join(cells.get((row, "SGD"), []))})
    constant_rows = [_constants_row(case) for case in cases.values()]
    worst_cases = []
    for (row, kind), who in attained.items():
        cell = rates.theory_rate(ROWS[row], kind)
        worst_cases.append(f"- {row}, {kind} ({cell.complexity}): " + (
            f"attained by {', '.join(who)}." if who else
            "attained by no problem here: the row is an upper bound that every problem here beats."))
    worst_text = "\n".join(worst_cases)
    above = ", ".join(f"{r['problem'].split(' ')[0]} ({r['short']}, p = {r['fit'].value:.3f} against "
                      f"{r['schedule_p']:.2f})" for r in runs
                      if r["kind"] == "SGD" and r["schedule"] != "constant" and r["fit"].kind == "power"
                      and "averaged" not in r["short"] and r["fit"].lo > r["schedule_p"] + rates.MATCH_TOL)
    columns, detail_cols = list(table[0]), list(detail[0])
    held = [d for d in detail if not d["GD bound"].startswith("-")]
    num_held = sum("holds" in d["GD bound"] for d in held)
    wall = meta.get("wall_seconds") or 0.0
    # said where it happens, so that a report of the committed runs (none too wide) stays as it was
    too_wide = (f" An interval that meets the band but is more than {rates.MAX_WIDTH:g} wide (p = 1 from 1/2) is too"
                " wide to tell, a failure." if any(r["outcome"] == "unclear" for r in runs) else "")
    text = f"""# The lecture's rates table, measured

GD runs once (deterministic); SGD is batch 1 with replacement, {seeds} seeds, {config['sgd_steps']} steps. The
measured order is the better (smaller log residual) of a linear fit (rho: gap ~ C rho^k) and a power fit
(p: gap ~ C k^-p) over the last decade of k (from k = 0 for runs that reach the float64 floor first),
with a 95% bootstrap interval over seeds (a least-squares interval for the single GD trace).
O(log 1/eps) is a linear rate, O(1/eps) is p = 1, O(1/eps^2) is p = 1/2. The lecture's rates are
worst cases over a class, and the verdicts are two-sided: a cell matches when its interval meets
[p - {rates.MATCH_TOL:g}, p + {rates.MATCH_TOL:g}]; a whole interval above that band beats the worst case and passes
only with its reason (a measured property where there is one, otherwise that the row is an upper
bound this problem beats); a whole interval below it is slower than the table, a failure.{too_wide}
sin2-pl stands twice: in the PL row, and in the non-convex row (it is non-convex too), where its
SGD attains that row's worst case.

{results.markdown_table(table, columns)}

Which problems attain each row's worst case (their interval meets the band):

{worst_text}

The schedule-induced rate (in the "Every run" table) is separate from the table's: where the
gradient noise dominates, E[f(x_k) - f*] tracks the step (the constant-step plateau is linear in
alpha), so a schedule alpha_k ~ k^-a gives SGD's last iterate p = a whatever the class allows.
It is read off the schedule over the fit's window, not checked. A measured p whose interval lies
above it says that the noise does not dominate there: {above or "none here"}. A deterministic run
(GD, subgradient) has no noise term, so its schedule sets no such rate.

![rates](rates_table.png)

## The problems and their constants

{results.markdown_table(constant_rows, list(constant_rows[0]))}

## Every run

{results.markdown_table(detail, detail_cols)}

GD bounds at alpha = 1/L (PL: (1 - mu/L)^k Delta_0; convex: L ||x_0 - x*||^2/(2k); non-convex:
min_j ||grad f(x_j)||^2 <= 2 L Delta_0 / k) held on {num_held} of {len(held)} problems
they apply to (see the last column).

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included); float64; device {meta['devices'][0]}.
"""
    terminal = [{k: v.replace("<br>", "; ") for k, v in r.items()} for r in table]
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, tables=[(terminal, columns)],
                     header=f"{NAME}: {len(cases)} problems, {seeds} seeds")
    return {"summary": table, "detail": detail, "checks": checks}


def _constants_row(case):
    """One row of the constants table: each value with a one-word note of how it was obtained."""
    constants = case["constants"]

    def show(key):
        value = constants[key]
        if value is None:
            return "-"
        how = constants["sources"].get(key, "")
        note = ("closed form" if how.startswith("closed form") else "upper bound" if "upper bound" in how
                else "local" if how.startswith("local") else "LP" if "HiGHS" in how else "Newton"
                if "reference_solution" in how or "newton" in how else "")
        return f"{value:.4g}" + (f" ({note})" if note else "")

    cls = case["class"] if case.get("own_class", case["class"]) == case["class"] else \
        f"{case['own_class']} (in the {case['row']} row)"
    return {"problem": case["name"], "class": cls, "n": case["n"], "L": show("L"),
            "L_max": show("L_max"), "mu": show("mu"), "sigma_*^2": show("sigma2_star"),
            "f*": (show("f_star") if case["measure"] == "gap" or case["constants"]["f_star"] is not None
                   else f"lower bound {case['f_star']:g}")}


def _gd_bound(case, k, values, floor, checks, label):
    """Checks the GD bound of the problem's row; returns a note for the table."""
    p, c, x0 = case["problem"], case["constants"], case["x0"]
    cls = p.problem_class
    delta0 = float(values[0])  # f(x_0) - f* as the run measured it: the bound starts exactly there
    if cls in ("strongly_convex", "pl"):
        bound, name = theory.gd_pl(k, c, delta0=delta0), "(1 - mu/L)^k Delta_0"
        measured = values
    elif cls == "convex":
        dist0 = float(np.sum((np.asarray(x0) - case["x_star"]) ** 2))
        bound, name = theory.gd_convex(k, c, dist0_sq=dist0), "L ||x_0 - x*||^2 / (2k)"
        measured = values
    elif cls == "nonconvex":
        if "upper" not in c.sources["L"]:
            return "- (L only local)"
        bound, name = theory.gd_nonconvex(k, c, delta0=delta0), "2 L Delta_0 / k"
        measured = np.minimum.accumulate(values)
    else:
        return "-"
    chk = theory.check(k, measured, bound, name=f"{p.name}, {label}: {name}", atol=floor)
    checks.append(chk.as_dict())
    return "holds at every k" if chk.holds else chk.summary()


def _figure(rows, runs, cases, out, seeds):
    """One panel per problem: each run's measured accuracy (mean of the seeds, 95% band) and its
    fitted order (dashed) over the fit's window."""
    matplotlib.use("Agg")

    ncol = min(4, len(cases))
    nrow = (len(cases) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 4.9 * nrow), squeeze=False)
    for ax, (name, case) in zip(axes.flat, cases.items()):
        grad = case["measure"] == "grad"
        curves = results.curves(rows, figure="curves", problem=case["name"])
        for i, r in enumerate(run for run in runs if run["case"] == name):
            color = plots.COLORS[i % len(plots.COLORS)]
            curve, fit = curves[r["method"]], r["fit"]
            k = curve["step"]
            keep = k >= 1
            if grad:
                mean, se = np.minimum.accumulate(curve[("mean", "grad_norm_sq")]), None
            else:
                mean = curve[("mean", "loss")] - case["f_star"]
                se = curve[("stderr", "loss")][keep] if r["seeds"] > 1 else None
            plots.band(ax, k[keep], mean[keep], se, color=color, floor=1e-30 if grad else 1e-16,
                       label=f"{r['short']}: {fit.describe()}")
            kk = k[(k >= max(fit.k_min, 1)) & (k <= fit.k_max)]
            ax.plot(kk, fit.predict(kk), "--", color=color, lw=1.3)
        toolkit.log_axes(ax)
        ax.set_xlabel("iteration k")
        ax.set_ylabel(r"$\min_{j\leq k}\,\|\nabla f(x_j)\|^2$" if grad else r"$\mathbb{E}\,f(x_k) - f^*$")
        gd_cell, sgd_cell = rates.theory_rate(case["class"], "GD"), rates.theory_rate(case["class"], "SGD")
        ax.set_title(f"{case['row']}: {case['name']}\nlecture: GD {gd_cell.complexity}, "
                     f"SGD {sgd_cell.complexity}", fontsize=9)
        # Under the panel, so that no label hides a curve.
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    for ax in list(axes.flat)[len(cases):]:
        ax.set_visible(False)
    fig.suptitle(f"The lecture's rates, measured: GD (one run) and SGD (batch 1, mean of {seeds} seeds, "
                 "95% band); fitted orders dashed", fontsize=11)
    toolkit.save(fig, out / "rates_table.png")
    plt.close(fig)


def main(argv=None) -> int:
    # --steps is the length of the SGD runs; each GD run's length is set per problem (gd_scale).
    # float64 only (theory checks).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least("seeds", 2, "standard errors need two seeds"),
                                      "steps": experiment.at_least(
                                          "steps", lambda config: 10 * config["sgd_log_every"],
                                          "orders are fitted over the last decade of k", key="sgd_steps")})


if __name__ == "__main__":
    sys.exit(main())
