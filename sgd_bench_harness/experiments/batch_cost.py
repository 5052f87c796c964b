"""What a mini-batch costs: wall-clock per step and per gradient evaluation against the batch size.

The lecture says mini-batches are "particularly useful for vectorization and parallelization".
On one logistic-regression problem (n = 10^6, d = 100, float32) this times SGD steps with
B = 1, 2, 4, ..., 4096 and a GD step (B = n), compilation excluded, best of several repeats.
Up to some B a larger batch costs about the same per step, so its gradient evaluations are
nearly free; past it, the cost per step grows like B.

The records hold one row per batch size: the best ``seconds`` of ``timed_steps`` steps, the
seconds per step and per gradient evaluation, XLA's FLOPs per step, ``device`` and ``dtype``.

    python scripts/batch_cost.py [--quick] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import problems
import sgd_bench as sb
from sgd_bench.rates import loglog_slope
from sgd_bench.timing import best_of
from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.toolkit import Check

NAME = "batch_cost"
DESCRIPTION = "seconds per SGD step and per gradient evaluation against the batch size B (1 .. 4096, and n)"

FULL = dict(n=1_000_000, d=100, batches=tuple(2**i for i in range(13)), target_seconds=0.25,
            repeats=5, dtype="float32", seed=0)
QUICK = dict(n=20_000, d=20, batches=(1, 64), target_seconds=0.01, repeats=2, dtype="float32", seed=0)

# A batch is "nearly free" while one step costs at most this multiple of a batch-1 step.
FREE_FACTOR = 2.0
# The claim under test, fixed here before any run (the README's "a batch of up to 4 costs at
# most 2x a batch-1 step"). The largest free batch of a run is only a reading of its table: a
# claim built from the measured value itself could not fail.
CLAIMED_FREE_B = 4
# From this batch size on the step is expected to cost in proportion to B (the rows dominate
# the fixed cost of a step); the slope over these sizes is checked, and the cost per extra row
# is read off a straight-line fit over them.
LINEAR_FROM_B = 256


def _free_batch(rows, factor: float) -> int:
    """The largest SGD batch whose step costs at most ``factor`` batch-1 steps (the last row is GD)."""
    base = rows[0]["seconds_per_step"]
    return max([r["B"] for r in rows[:-1] if r["seconds_per_step"] <= factor * base], default=1)


def _per_row_seconds(rows) -> float | None:
    """The cost of one more row in a step: the slope of a straight-line fit of seconds per step
    against B over the SGD batches from LINEAR_FROM_B on (None with fewer than 2 of them)."""
    big = [(r["B"], r["seconds_per_step"]) for r in rows[:-1] if r["B"] >= LINEAR_FROM_B]
    if len(big) < 2:
        return None
    return float(np.polyfit(*np.array(big, dtype=float).T, 1)[0])


def _checks(rows, factor: float) -> list[dict]:
    """The claims, computed from the timing records alone (``run`` stores them, ``report``
    recomputes them), each against a threshold fixed before the run."""
    base = rows[0]["seconds_per_step"]
    sgd = {r["B"]: r for r in rows[:-1]}
    checks = []
    if CLAIMED_FREE_B in sgd:
        ratio = sgd[CLAIMED_FREE_B]["seconds_per_step"] / base
        claim = (f"A batch of B = {CLAIMED_FREE_B} costs at most {factor:g}x a batch-1 step (its "
                 "extra gradient evaluations are nearly free)")
        checks.append(Check(claim=claim, measured=ratio, holds=bool(ratio <= factor),
                            summary=f"{claim} (measured: {ratio:.2f}x)"))
    largest = rows[-2]
    ratio = largest["seconds_per_grad_eval"] / rows[0]["seconds_per_grad_eval"]
    claim = f"Per gradient evaluation, the largest SGD batch (B = {largest['B']}) is cheaper than batch 1"
    checks.append(Check(claim=claim, measured=ratio, holds=bool(ratio < 1),
                        summary=f"{claim} (measured: {ratio:.3f}x the batch-1 cost, {1 / ratio:.1f}x cheaper)"))
    big = [(B, r["seconds_per_step"]) for B, r in sgd.items() if B >= LINEAR_FROM_B]
    if len(big) >= 3:
        slope = loglog_slope(*zip(*big))
        claim = (f"From B = {LINEAR_FROM_B} on a step costs in proportion to B: the 95% interval of the "
                 "log-log slope of seconds per step against B lies inside [0.8, 1.2]")
        checks.append(Check(claim=claim, measured=dict(slope=slope.value, lo=slope.lo, hi=slope.hi),
                            holds=bool(0.8 <= slope.lo and slope.hi <= 1.2),
                            summary=f"{claim} (measured: {slope.describe()})"))
    return toolkit.records(checks)


def run(config: dict, out: Path) -> dict:
    """Times every batch size in ``config``, stores the timings in ``out``, then draws the figure
    and the summary from them (``report``); returns the summary rows."""
    started = time.perf_counter()
    dtype = jnp.dtype(config["dtype"])
    n, d = config["n"], config["d"]
    problem = problems.synthetic_logreg(n, d, seed=config["seed"], mu=1e-3, dtype=dtype)
    if len(jax.devices()) > 1 and n % len(jax.devices()) == 0:
        problem = sb.shard(problem)
    x0 = jnp.zeros(d, dtype)
    key = jax.random.key(config["seed"])

    def timed(method, B, label):
        # Size the timed chunk so that one timing lasts about target_seconds.
        probe_solver = sb.Solver(problem, method, chunk=8)
        state = probe_solver.init(x0, key)
        probe = probe_solver.compile(state)
        once = best_of(lambda: probe(state, 8), 2) / 8
        steps = int(np.clip(config["target_seconds"] / max(once, 1e-9), 8, 200_000))
        solver = sb.Solver(problem, method, chunk=steps)
        state = solver.init(x0, key)
        fn = solver.compile(state)
        seconds = best_of(lambda: fn(state, steps), config["repeats"])
        t = seconds / steps
        return dict(B=B, method=label, seconds=seconds, timed_steps=steps, seconds_per_step=t,
                    seconds_per_grad_eval=t / B, flops_per_step=sb.step_flops(problem, method, x0))

    rows = []
    for b in config["batches"]:
        if b > n:
            continue
        rows.append(timed(sb.sgd(0.01, b), b, f"SGD batch {b}"))
        t = rows[-1]["seconds_per_step"]
        print(f"B = {b:>5}: {t * 1e6:9.2f} us/step, {t / b * 1e9:8.1f} ns per gradient evaluation")
    rows.append(timed(sb.gd(0.01), n, "GD (B = n)"))
    t = rows[-1]["seconds_per_step"]
    print(f"GD (B = n = {n:,}): {t * 1e3:.2f} ms/step, {t / n * 1e9:.2f} ns per gradient evaluation")

    device = results.device_label()
    wall = time.perf_counter() - started
    meta = results.metadata_record(NAME, config, dtype=config["dtype"], wall_seconds=round(wall, 1))
    meta["free_factor"] = FREE_FACTOR
    experiment.save(out, rows=[dict(device=device, dtype=config["dtype"], n=n, d=d, **r) for r in rows],
                    meta=meta, checks=_checks(rows, FREE_FACTOR))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the figure and writes ``summary.md`` from the stored timings alone."""
    out = Path(out)
    rows, meta, _ = experiment.open_report(out)

    config, factor = meta["config"], meta["free_factor"]
    # The checks follow from the records: recomputed here, so that a change to what is checked
    # reaches checks.json through `sgd-bench report` without timing anything again.
    checks = _checks(rows, factor)
    results.write_json(out / "checks.json", checks)
    n, d, device = rows[0]["n"], rows[0]["d"], rows[0]["device"]
    base, free_b = rows[0]["seconds_per_step"], _free_batch(rows, factor)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    bs = np.array([r["B"] for r in rows], dtype=float)
    per_step = np.array([r["seconds_per_step"] for r in rows])
    per_eval = np.array([r["seconds_per_grad_eval"] for r in rows])
    for ax, values, label in [(axes[0], per_step, "seconds per step"),
                              (axes[1], per_eval, "seconds per gradient evaluation")]:
        ax.plot(bs[:-1], values[:-1], "o-", color=plots.COLORS[0], label="SGD, batch B")
        ax.plot(bs[-1:], values[-1:], "s", color=plots.COLORS[4], ms=8, label=f"GD (B = n = {n:,})")
        if free_b > bs[0]:  # an empty band would still put its label in the legend
            ax.axvspan(bs[0], free_b, color=plots.COLORS[2], alpha=0.12,
                       label=f"step <= {factor:g}x batch-1 step")
        ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel=label)
    axes[0].plot(bs, base * bs, "k:", lw=1, label=r"$\propto B$")
    axes[0].legend()
    fig.suptitle(f"What a mini-batch costs: logistic regression, n = {n:,}, d = {d}, {config['dtype']}, {device}")
    toolkit.save(fig, out / "batch_cost.png")
    plt.close(fig)

    table = [dict(B=f"{r['B']:,}", method=r["method"], us_per_step=f"{r['seconds_per_step'] * 1e6:.2f}",
                  ns_per_grad_eval=f"{r['seconds_per_grad_eval'] * 1e9:.2f}",
                  step_vs_batch1=f"{r['seconds_per_step'] / base:.2f}x",
                  flops_per_step=f"{r['flops_per_step']:.3g}") for r in rows]
    cheapest = min(rows[:-1], key=lambda r: r["seconds_per_grad_eval"])
    per_row = _per_row_seconds(rows)
    per_row_text = ("" if per_row is None else
                    f";\n- from B = {LINEAR_FROM_B} on, one more row adds {per_row * 1e6:.2f} us to a step "
                    "(slope of a straight-line fit)")
    free_text = (f"up to B = {free_b:,} a step costs at most {factor:g}x a batch-1 step" if free_b > bs[0] else
                 f"no batch above 1 costs at most {factor:g}x a batch-1 step: B = {rows[1]['B']:,} already "
                 f"costs {rows[1]['seconds_per_step'] / base:.2f}x")
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# What a mini-batch costs

SGD steps on logistic regression, n = {n:,}, d = {d}, {config['dtype']}, device {device}
({meta['cpu_count']} CPU cores visible), jax {meta['versions']['jax']}; compilation excluded, best of
{config['repeats']}, each timing about {config['target_seconds']} s of steps.

![batch cost](batch_cost.png)

{results.markdown_table(table, list(table[0]))}

Readings of the table (not checks: they are read off this run's numbers):
- {free_text};
- the cheapest gradient evaluation comes from B = {cheapest['B']:,} ({cheapest['seconds_per_grad_eval'] * 1e9:.0f} ns,
  {rows[0]['seconds_per_grad_eval'] / cheapest['seconds_per_grad_eval']:.1f}x cheaper than batch 1){per_row_text}.

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.0f} s.
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall,
                     header=f"{NAME}: n = {n:,}, d = {d}, {config['dtype']} on {device}",
                     tables=[(table, list(table[0]))])
    return {"rows": table, "checks": checks}


def main(argv=None) -> int:
    # No --seeds (a timing uses one seed), no --steps (each timed chunk is sized to last
    # target_seconds), no --dtype (run() does not enable x64, so float64 would silently be float32).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run, overrides={})


if __name__ == "__main__":
    sys.exit(main())
