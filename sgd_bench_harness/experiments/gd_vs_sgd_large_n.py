"""GD against mini-batch SGD as n grows: a GD step costs O(n), an SGD step does not.

Logistic regression with a small ridge on Gaussian data (d = 100, float32), n from 10^4 up to
10^7 on a CPU (sizes that do not fit in memory are skipped with the numbers) and 10^8 on a large
GPU. For every n: the wall-clock of one step of GD and of SGD (compilation and metric evaluation
excluded), and the time, gradient evaluations and FLOPs each method needs to reach
f - f* <= eps. f* comes from a float64 Newton solve.

The records hold the timings, each row labelled by ``part``: ``step_cost`` (per n and method:
the timed ``steps``, their ``seconds``, ``seconds_per_step``, compile seconds, FLOPs per step),
``progress`` (the cumulative step ``seconds`` and ``gap`` = f - f* at every logged step) and
``to_eps`` (what reaching each eps took); every row names its ``device`` and ``dtype``.

Where the time went (issue 16; profiled at n = 1e4 .. 1e6 on the 2-core CPU under a load of
~10, so readings): 121 compiles (per n: each method's advance program and its one-step FLOP
program, the loss, the Newton programs; shapes change with n, so once per n is the floor);
L by power iteration, up to 50 rounds of ``A.T @ (A @ v)``, 24 CPU s at n = 1e6 against 0.4 s for
the Gram matrix in one pass (and it stopped 1-1.5% below lambda_max); f* by Newton from zero,
8 dense-Hessian steps (16 CPU s at 1e6) where 3 do from the best end point; an L-BFGS step cost
13x a GD step (reverse mode through the loss's block scan in the line search, now one streamed
pass: ~1.8x); f at every log point, about 180 full passes over the data per n, where one
vmapped pass per method evaluates all of a run's log points (41 at the cost of ~7). Left as
they are: the data itself (float64 normals, ~6 CPU s per 1e6 rows) and the FLOP programs.

Round 2 (CPU seconds per phase of one size, under a load of ~15, so readings): at n = 1e6, f*
took 65 of the size's 102 CPU s. From the best end point the gradient norm was already below
``tol`` (1e-8), where a Newton step's decrease (~1e-17) is below the rounding of f's sum over n
terms: the line search failed at every step, 18 Hessians and 353 loss passes, 69 CPU s.
``reference_solution`` now takes pure Newton steps below ``tol``: 1 Hessian, 2 CPU s, the same
f* to ~1e-15. At n = 1e4 and 1e5 compilation is most of a size's time (~20 CPU s each: L-BFGS's
program the largest, then SVRG's, the FLOP programs ~4 s); data and steps dominate from 1e6.
GD's step-cost slope (0.90 [0.65, 1.15] in the committed run): its CPU time per step is
proportional to n (4.6-4.9 ms at 1e5, 36-42 ms at 1e6, float32, one thread), but the committed
wall time at 1e5 (8.2 ms, steady over all 40 steps) is above L-BFGS's step at the same n (5.7 ms),
which does more work; a disturbance of those 0.3 s rather than the step's cost, as far as could
be seen here (no idle machine to re-time it; the lead's idle re-run decides).

    python scripts/gd_vs_sgd_large_n.py [--quick] [--sizes 10000 100000 ...] [--steps K] [--dtype T]
        [--out DIR] [--overwrite]
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import problems
import sgd_bench as sb
from problems import synthetic
from sgd_bench.flops import FlopsWarning
from sgd_bench.rates import loglog_slope
from sgd_bench.timing import time_to_eps, timed_run
from sgd_bench_harness import experiment, plots, results, toolkit, work
from sgd_bench_harness.toolkit import Check

NAME = "gd_vs_sgd_large_n"
DESCRIPTION = "cost per step and time to eps of GD vs mini-batch SGD for n = 1e4 .. 1e7 (1e8 on a GPU)"

FULL = dict(sizes=(10**4, 10**5, 10**6, 10**7), d=100, mu=1e-3, batches=(16, 256), svrg_batch=64,
            svrg_epochs=4, gd_steps=40, lbfgs_steps=40,
            sgd_steps=20_000, sgd_log_every=500, eps=(1e-1, 1e-2, 1e-3), dtype="float32", seed=0)
QUICK = dict(sizes=(2_000, 8_000), d=10, mu=1e-3, batches=(16,), svrg_batch=64, svrg_epochs=2,
             gd_steps=10, lbfgs_steps=10, sgd_steps=400,
             sgd_log_every=100, eps=(1e-1, 1e-2), dtype="float32", seed=0)


@jax.jit
def _gram(problem):
    """A^T A / n in float64, one streamed pass over the row blocks of A (each block's product in
    A's dtype, the sum over blocks in float64)."""
    def block_gram(_, block):
        a = block[0]
        return jnp.dot(a.T, a).astype(jnp.float64)

    return problem.stream_sum(block_gram, jnp.zeros(())) / problem.n


def _gram_lmax(problem) -> float:
    """lambda_max(A^T A / n), exactly (``eigvalsh`` of the d x d Gram matrix)."""
    return float(np.linalg.eigvalsh(np.asarray(_gram(problem)))[-1])


def _flops_ratio(step_cost: list[dict]) -> float | None:
    """XLA's FLOPs of a GD step at the largest n over the smallest, divided by the ratio of the
    sizes: 1 when the compiled program's count is proportional to n. A reading of the static
    cost analysis, not a measurement, so it is printed and never checked."""
    gd = sorted((r["n"], r["flops_per_step"]) for r in step_cost if r["method"] == "GD")
    if len(gd) < 2:
        return None
    return (gd[-1][1] / gd[0][1]) / (gd[-1][0] / gd[0][0])


def _checks(rows: list[dict], config: dict) -> list[dict]:
    """The claims, from the stored records alone (``run`` stores them, ``report`` recomputes
    them): per-step cost against n over all sizes with an interval, and who reaches the
    smallest eps first at the largest n."""
    step_cost = [r for r in rows if r["part"] == "step_cost"]
    checks = []

    def slope_of(name):
        pts = sorted((r["n"], r["seconds_per_step"]) for r in step_cost if r["method"] == name)
        # An interval needs 3 sizes; a slope over less than two decades says little.
        if len(pts) >= 3 and pts[-1][0] >= 100 * pts[0][0]:
            return pts, loglog_slope(*zip(*pts))
        return pts, None

    pts, slope = slope_of("GD")
    if slope is not None:
        checks.append(Check(claim=f"A GD step costs O(n): the 95% interval of the log-log slope of seconds per "
                                  f"step against n over all {len(pts)} sizes ({pts[0][0]:,} .. {pts[-1][0]:,}) "
                                  "lies inside [0.8, 1.2]",
                            measured=dict(slope=slope.value, lo=slope.lo, hi=slope.hi),
                            holds=bool(0.8 <= slope.lo and slope.hi <= 1.2), fit=slope.describe()))
    for b in config["batches"]:
        name = sb.sgd(1.0, b).name
        pts, slope = slope_of(name)
        if slope is not None:
            # Not flat (random rows of a larger array probably miss the caches more often; we
            # did not measure that). The lecture's point is that it does not grow like n.
            checks.append(Check(claim=f"An {name} step does not grow like n: the 95% interval of the log-log "
                                      f"slope of seconds per step against n over {pts[0][0]:,} .. {pts[-1][0]:,} "
                                      "lies below 0.5 (GD's is 1)",
                                measured=dict(slope=slope.value, lo=slope.lo, hi=slope.hi),
                                holds=bool(slope.hi < 0.5), fit=slope.describe()))
    # Time to the smallest eps at the largest n: the race the figure's right panel shows.
    to_eps = [r for r in rows if r["part"] == "to_eps"]
    if to_eps:
        n, eps = max(r["n"] for r in to_eps), min(config["eps"])
        at = {r["method"]: r for r in to_eps if r["n"] == n and r["eps"] == eps}
        svrg = next((m for m in at if m.startswith("SVRG")), None)
        if svrg and "GD" in at:
            s, g = at[svrg], at["GD"]
            for what, unit in (("seconds", "s"), ("grad_evals", "")):
                ok = bool(s["reached"] and (not g["reached"] or s[what] < g[what]))
                words = "in less wall-clock time" if what == "seconds" else "with fewer gradient evaluations"
                checks.append(Check(claim=f"At n = {n:,}, {svrg} reaches f - f* <= {eps:g} {words} than GD",
                                    measured=dict(svrg=s[what] if s["reached"] else None,
                                                  gd=g[what] if g["reached"] else None), holds=ok,
                                    fit=f"{s[what]:.3g}{unit} vs {g[what]:.3g}{unit}" if s["reached"] and g["reached"]
                                    else "not both reached"))
        if "L-BFGS" in at and "GD" in at:
            q, g = at["L-BFGS"], at["GD"]
            ok = bool(q["reached"] and (not g["reached"] or q["grad_evals"] < g["grad_evals"]))
            checks.append(Check(claim=f"At n = {n:,}, L-BFGS reaches f - f* <= {eps:g} with fewer gradient "
                                      "evaluations than GD at 1/L",
                                measured=dict(lbfgs=q["grad_evals"] if q["reached"] else None,
                                              gd=g["grad_evals"] if g["reached"] else None), holds=ok,
                                fit=f"{q['grad_evals']:.3g} vs {g['grad_evals']:.3g}" if q["reached"] and g["reached"]
                                else "not both reached"))
        progress = [r for r in rows if r["part"] == "progress" and r["n"] == n]
        for b in config["batches"]:
            name = sb.sgd(1.0, b).name
            curve = sorted((r["step"], r["gap"]) for r in progress if r["method"] == name)
            if name not in at or not curve:
                continue
            gaps = [g for _, g in curve]
            quarter = gaps[(3 * len(gaps)) // 4]
            fall = quarter / min(gaps[(3 * len(gaps)) // 4:])
            ok = bool(not at[name]["reached"] and fall < 2 and min(gaps) > eps)
            checks.append(Check(claim=f"At n = {n:,}, constant-step {name} stalls above {eps:g}: it never reaches it "
                                      "and over the last quarter of its steps its gap falls by less than 2x",
                                measured=dict(reached=bool(at[name]["reached"]), last_quarter_fall=fall,
                                              lowest_gap=min(gaps)), holds=ok,
                                fit=f"lowest gap {min(gaps):.3g}, last-quarter fall {fall:.2f}x"))
    return toolkit.records(dataclasses.replace(c, summary=f"{c.claim} (measured: {c.fit})") for c in checks)


def _measure_size(config: dict, n: int) -> dict:
    """Every method's timed run at one size n: ``step_cost``, ``to_eps`` and ``progress`` records,
    or ``skipped`` with the reason when the data do not fit in memory."""
    dtype = jnp.dtype(config["dtype"])
    d, mu = config["d"], config["mu"]

    def say(text):  # the long phases of a large size, said before they run (stdout has the size's line after)
        print(text, file=sys.stderr, flush=True)

    try:
        synthetic.check_size(n, d, dtype)  # a size that cannot fit is skipped before its line below
        if n * d >= work.LONG_PHASE_SIZE:
            say(f"n = {n:,}: the data ({n * d:,} numbers), L, and the timed runs of every method ...")
        problem = problems.synthetic_logreg(n, d, seed=config["seed"], mu=mu, dtype=dtype)
    except MemoryError as err:
        print(f"skipping n = {n:,}: {err}")
        return dict(skipped=f"n = {n:,}: {err}")
    if len(jax.devices()) > 1 and n % len(jax.devices()) == 0:
        problem = sb.shard(problem)
    A = problem.data[0]
    L = _gram_lmax(problem) / 4 + mu
    # jitted, so the squares are reduced on the fly rather than stored (4 GB at n = 1e7)
    L_max = float(jax.jit(lambda A: jnp.max(jnp.sum(jnp.square(A), axis=1)))(A)) / 4 + mu
    x0 = jnp.zeros(d, dtype)
    key = jax.random.key(config["seed"])
    methods = [(sb.gd(1.0 / L), config["gd_steps"], 1)]
    # The strong deterministic baseline: without it, SGD is only compared with GD at 1/L.
    if config.get("lbfgs_steps"):
        methods.append((sb.lbfgs(), config["lbfgs_steps"], 1))
    # A batch of B samples drawn with replacement is smooth in expectation with
    # L_B = L + L_max / B (Gower et al. 2019); 1/(2 L_B) is the safe constant step.
    methods += [(sb.sgd(1.0 / (2 * (L + L_max / b)), b), config["sgd_steps"], config["sgd_log_every"])
                for b in config["batches"] if b <= n]
    # One variance-reduced method: SVRG with a snapshot every epoch (m = n/B steps) and the
    # step 1/(4 L_B), L_B = L + L_max/B, a quarter of the mini-batch's expected smoothness.
    b = config["svrg_batch"]
    if b <= n:
        m = n // b
        methods.append((sb.svrg(1.0 / (4 * (L + L_max / b)), b, loop_length=m),
                        config["svrg_epochs"] * m, max(1, m // 4)))
    with warnings.catch_warnings():  # SVRG's and L-BFGS's: no FLOPs are reported for them (below)
        warnings.simplefilter("ignore", FlopsWarning)
        timed_runs = [(method, steps, timed_run(problem, method, x0, key, steps=steps, log_every=log_every,
                                                defer_loss=True))
                      for method, steps, log_every in methods]
    # f* is needed only for the gaps, after the runs: Newton starts from the best end point
    # (near x*: 3 Newton steps at n = 1e6 instead of 8 from zero, each a dense d x d Hessian).
    best = min((t for _, _, t in timed_runs if np.isfinite(t.loss[-1])), key=lambda t: t.loss[-1])
    work.said_f_star(problem, say)
    f_star = sb.reference_solution(problem, best.x, tol=1e-8).f
    step_cost, to_eps, progress = [], [], []
    for method, steps, timed in timed_runs:
        # XLA's cost analysis adds up both branches of SVRG's snapshot cond, as if every step
        # took a full gradient, and counts L-BFGS's line-search loop once whatever its trials:
        # no FLOPs are reported for them (their gradient evaluations are exact).
        no_flops = method.name.startswith(("SVRG", "L-BFGS"))
        step_cost.append(dict(part="step_cost", n=n, method=method.name, steps=steps,
                              seconds=float(timed.seconds[-1]), seconds_per_step=timed.seconds[-1] / steps,
                              compile_seconds=round(timed.compile_seconds, 3),
                              flops_per_step=float("nan") if no_flops else timed.flops_per_step,
                              final_gap=float(timed.loss[-1] - f_star), f_star=float(f_star), L=L))
        progress += [dict(part="progress", n=n, method=method.name, step=int(k), seconds=float(s),
                          gap=float(g), grad_evals=int(e))
                     for k, s, g, e in zip(timed.step, timed.seconds, timed.loss - f_star, timed.grad_evals)]
        for row in time_to_eps([timed], f_star, config["eps"]):
            to_eps.append(dict(part="to_eps", n=n, **row) | ({"flops": float("nan")} if no_flops else {}))
    print(f"n = {n:>10,}: L = {L:.3f}, f* = {f_star:.6f}, " +
          ", ".join(f"{r['method']} {r['seconds_per_step'] * 1e3:.3f} ms/step" for r in step_cost))
    return dict(step_cost=step_cost, to_eps=to_eps, progress=progress)


def run(config: dict, out: Path) -> dict:
    """Times every size in ``config`` (each size a resumable ``experiment.part``), stores the
    timings in ``out``, then draws the figure and the summary from them (``report``); returns
    the summary rows."""
    jax.config.update("jax_enable_x64", True)

    started = time.perf_counter()
    step_cost, to_eps, progress, skipped = [], [], [], []
    for n in config["sizes"]:
        measured = experiment.part(out, f"n={n}", lambda n=n: _measure_size(config, n))
        if "skipped" in measured:
            skipped.append(measured["skipped"])
            continue
        step_cost += measured["step_cost"]
        to_eps += measured["to_eps"]
        progress += measured["progress"]
    if not step_cost:
        # Nothing to report: refuse with the numbers instead of storing an empty result. The
        # stored parts only say "skipped"; they go, so that the folder is left empty.
        shutil.rmtree(out / experiment.PARTS, ignore_errors=True)
        raise MemoryError(f"--sizes: no size fits in memory ({'; '.join(skipped)})")

    device = results.device_label()
    wall = time.perf_counter() - started
    meta = results.metadata_record(NAME, config, dtype=config["dtype"], wall_seconds=round(wall, 1))
    meta["skipped"] = skipped
    experiment.save(out, rows=[dict(device=device, dtype=config["dtype"], **r) for r in step_cost + to_eps + progress],
                    meta=meta, checks=_checks(step_cost + to_eps + progress, config))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the figure and writes ``summary.md`` from the stored timings alone."""
    out = Path(out)
    rows, meta, _ = experiment.open_report(out)

    config = meta["config"]
    # The checks follow from the records: recomputed here, so that a change to what is checked
    # reaches checks.json through `sgd-bench report` without timing anything again.
    checks = _checks(rows, config)
    results.write_json(out / "checks.json", checks)
    d, mu = config["d"], config["mu"]
    device = rows[0]["device"]
    step_cost = [r for r in rows if r["part"] == "step_cost"]
    to_eps = [r for r in rows if r["part"] == "to_eps"]

    # ---- figure: cost per step against n, and the gap against wall-clock at the largest n ----
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = list(dict.fromkeys(r["method"] for r in step_cost))
    for i, name in enumerate(names):
        pts = [(r["n"], r["seconds_per_step"]) for r in step_cost if r["method"] == name]
        axes[0].plot(*zip(*pts), "o-", color=plots.COLORS[i], label=name)
    ns = np.array(sorted({r["n"] for r in step_cost}), dtype=float)
    gd_pts = {r["n"]: r["seconds_per_step"] for r in step_cost if r["method"] == "GD"}
    if gd_pts:
        ref_n = max(gd_pts)
        axes[0].plot(ns, gd_pts[ref_n] * ns / ref_n, "k:", lw=1, label=r"$\propto n$")
    axes[0].set(xscale="log", yscale="log", xlabel="n (samples)", ylabel="seconds per step",
                title=f"Cost of one step ({config['dtype']}, d = {d}, {device})")
    axes[0].legend()
    largest = int(ns.max())
    progress = results.curves(rows, part="progress", n=largest)
    for i, name in enumerate(names):
        if name in progress:
            secs, gap = progress[name]["seconds"], progress[name]["gap"]
            keep = secs > 0
            axes[1].plot(secs[keep], np.maximum(gap[keep], 1e-8), color=plots.COLORS[i], label=name)
    for e in config["eps"]:
        axes[1].axhline(e, color="0.6", lw=0.8, ls="--")
    axes[1].set(xscale="log", yscale="log", xlabel="wall-clock seconds (steps only)",
                ylabel=r"$f(x_k) - f^*$", title=f"Progress against time at n = {largest:,}")
    axes[1].legend()
    toolkit.save(fig, out / "gd_vs_sgd_large_n.png")
    plt.close(fig)

    def flops(value):
        return "n/a (branches)" if value != value else f"{value:.2e}"

    table = [dict(n=f"{r['n']:,}", method=r["method"], eps=f"{r['eps']:g}",
                  seconds=f"{r['seconds']:.4f}" if r["reached"] else "not reached",
                  grad_evals=f"{r['grad_evals']:,}" if r["reached"] else "-",
                  flops=flops(r["flops"]) if r["reached"] else "-") for r in to_eps]
    step_table = [dict(n=f"{r['n']:,}", method=r["method"], ms_per_step=f"{r['seconds_per_step'] * 1e3:.4f}",
                       flops_per_step=("n/a (branches)" if r["flops_per_step"] != r["flops_per_step"]
                                       else f"{r['flops_per_step']:.3g}"), compile_s=r["compile_seconds"])
                  for r in step_cost]
    ratio = _flops_ratio(step_cost)
    flops_text = ("" if ratio is None else
                  f"Reading (not a check): XLA's static FLOP count of a GD step grows in proportion to n "
                  f"(ratio {ratio:.4f} between the largest and smallest n). It is the compiler's count of "
                  "the program, not a measurement, so it could not come out otherwise.")
    skipped_text = "\n".join(f"- skipped {s}" for s in meta["skipped"]) or "- none skipped"
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# GD against mini-batch SGD as n grows

Logistic regression, d = {d}, mu = {mu:g}, {config['dtype']}, device {device}. GD steps 1/L
(L = lambda_max(A^T A / n) / 4 + mu, the Gram matrix's top eigenvalue); L-BFGS (memory 10,
zoom line search) needs no step, and its gradient evaluations count every line-search trial;
SGD with batch B steps 1/(2 (L + L_max / B)), the safe constant step for the expected
smoothness of a with-replacement batch. Times exclude
compilation and metric evaluation; FLOPs from XLA's cost analysis of the compiled step (none for
SVRG: the analysis adds up both branches of its snapshot cond, as if every step took a full
gradient; none for L-BFGS: it counts the line-search loop once, whatever its trials). SVRG takes
a snapshot every epoch (m = n/B steps) with step 1/(4 (L + L_max / B)).

![scaling](gd_vs_sgd_large_n.png)

## Cost of one step

{results.markdown_table(step_table, list(step_table[0]))}

## Time, gradient evaluations and FLOPs to reach f - f* <= eps

{results.markdown_table(table, list(table[0]))}

{flops_text}

## Checks

{experiment.check_lines(checks)}

Sizes:
{skipped_text}

Wall time {wall:.0f} s.
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall,
                     header=f"{NAME}: d = {d}, {config['dtype']} on {device}",
                     tables=[(step_table, list(step_table[0])), (table, list(table[0]))])
    return {"rows": step_table, "checks": checks}


def _sizes(config: dict, values: list[int]) -> dict:
    """``--sizes``, each n once: a repeated n stored its rows twice ("stored by the interrupted
    run, skipped" the second time) and the scaling claims were judged on the copies. Each n at
    least the largest batch: below it SGD (or SVRG) was left out unsaid ("none skipped"), exit 0."""
    twice = sorted({n for n in values if values.count(n) > 1})
    if twice:
        raise ValueError(f"--sizes: n = {', '.join(map(str, twice))} is given twice; give each n once")
    batch = max(*config["batches"], config["svrg_batch"])
    if min(values) < batch:
        raise ValueError(f"--sizes: n = {', '.join(str(n) for n in values if n < batch)} is below {batch}, the "
                         f"largest batch of SGD and SVRG here; give each n >= {batch}")
    return {**config, "sizes": tuple(values)}


def main(argv=None) -> int:
    # --steps is the length of the SGD runs (GD's gd_steps reach every eps long before); no
    # --seeds: the timings use one seed.
    # 4 log intervals: the claim that constant-step SGD stalls compares its gap over the last quarter
    # of its logged steps, which at one interval (--steps 100, quick) was one point, a fall of 1.00x
    steps = experiment.at_least("steps", lambda config: 4 * config["sgd_log_every"],
                                "SGD's progress is logged every sgd_log_every steps, and the claim that SGD "
                                "stalls compares its gap over the last quarter of them", key="sgd_steps")
    sizes = dict(type=experiment.array_length, nargs="+", metavar="N",
                 help="values of n (default 1e4 1e5 1e6 1e7; quick 2000 8000)")
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"steps": steps, "dtype": "dtype",
                                      "sizes": _sizes},
                           options={"sizes": sizes})


if __name__ == "__main__":
    sys.exit(main())
