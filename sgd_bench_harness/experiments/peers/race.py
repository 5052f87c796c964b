"""peers' row 9: the time to reach 1e-6 suboptimality on benchopt's scale, our SAGA, L-BFGS and
GD against scikit-learn's saga and lbfgs, as records, a table and checks."""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np

import sgd_bench as sb

from sgd_bench_harness.toolkit import Check

from .saga import benchmark_problem, sklearn_fit, sklearn_saga_step
from .timing import interleaved_best


def _first_reaching(losses, steps, target):
    hit = np.flatnonzero(np.asarray(losses) <= target)
    return None if hit.size == 0 else int(np.asarray(steps)[hit[0]])


def fewest_sklearn_iters(objective, fit, cap: int) -> int | None:
    """The least ``max_iter`` whose fit reaches the target (doubling, then bisection); None if
    ``cap`` does not (the iterates of a fixed ``random_state`` are a prefix of a longer run's)."""
    hi = 1
    while objective(fit(hi)) > 0:
        if hi >= cap:
            return None
        hi = min(2 * hi, cap)
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if objective(fit(mid)) <= 0 else (mid, hi)
    return hi


def measure_race(config, repeats) -> list[dict]:
    """Row 9: seconds to f - f* <= eps / n for each solver and size (one record each)."""
    lam, eps = config["race_lambda"], config["race_eps"]
    rows = []
    for n, d in config["race_sizes"]:
        problem = benchmark_problem(n, d, lam, config["data_seed"])
        A, y = (np.asarray(a) for a in problem.data)
        ref = sb.reference_solution(problem)
        target = ref.f + eps / n
        x0, key = jnp.zeros(d), jax.random.key(0)
        L = float(sb.theory.constants(problem).L)
        ours = {"SAGA": (sb.saga(sklearn_saga_step(A, lam / n), 1, linear=True), n, config["race_max_epochs"] * n),
                "L-BFGS": (sb.lbfgs(), 1, 2_000),
                "GD 1/L": (sb.gd(1.0 / L), 50, config["race_max_iters"])}
        for label, (method, every, cap) in ours.items():
            trace = sb.run(problem, method, x0, key, steps=cap, log_every=every)
            steps = _first_reaching(trace.loss, trace.step, target)
            record = dict(comparison="race", side="ours" if label == "SAGA" else "other", timing=label,
                          size=f"{n}x{d}", steps=steps or cap, seeds=1, reached=steps is not None)
            if steps is None:
                rows.append(dict(record, seconds=math.nan, compile_seconds=math.nan))
                continue
            solver = sb.Solver(problem, method, chunk=min(steps, n if label == "SAGA" else steps))
            began = time.perf_counter()
            state = jax.block_until_ready(solver.init(x0, key))
            advance = solver.compile(state)
            compile_seconds = time.perf_counter() - began

            def go(solver=solver, advance=advance, steps=steps):
                return advance(solver.init(x0, key), steps).method.x

            seconds = interleaved_best({"go": go}, repeats)["go"]
            rows.append(dict(record, seconds=seconds, compile_seconds=compile_seconds))

        def objective(coef, problem=problem, target=target):
            return float(problem.loss(jnp.asarray(coef))) - target

        for solver, cap in (("saga", config["race_max_epochs"]), ("lbfgs", 10_000)):
            iters = fewest_sklearn_iters(objective, lambda m, s=solver: sklearn_fit(A, y, lam, s, m), cap)
            record = dict(comparison="race", side="baseline" if solver == "saga" else "other",
                          timing=f"scikit-learn {solver}", size=f"{n}x{d}", steps=iters or cap, seeds=1,
                          reached=iters is not None, compile_seconds=0.0)
            seconds = (interleaved_best({"fit": lambda s=solver, m=iters: sklearn_fit(A, y, lam, s, m)}, repeats)["fit"]
                       if iters else math.nan)
            rows.append(dict(record, seconds=seconds))
    return rows


def _reached(record) -> bool:
    return str(record["reached"]).lower() in ("true", "1")


def race_table(rows) -> list[dict]:
    """Row 9 as a table: per size and solver, what it ran, its seconds and its ratio to
    scikit-learn's saga on the same size."""
    race = [r for r in rows if r["comparison"] == "race"]
    base = {r["size"]: r for r in race if r["side"] == "baseline"}
    out = []
    for r in race:
        unit = "epochs" if "saga" in r["timing"].lower() else "iterations"
        steps = int(r["steps"])
        if r["timing"] == "SAGA":
            steps //= int(r["size"].split("x")[0])
        sk = base[r["size"]]
        ok = _reached(r)
        ratio = r["seconds"] / sk["seconds"] if ok and _reached(sk) else math.nan
        out.append(dict(size=r["size"], solver=r["timing"],
                        ran=f"{steps:,} {unit}" if ok else f"not reached in {steps:,} {unit}",
                        seconds=f"{r['seconds']:.3f}" if ok else "-",
                        compile=f"{r['compile_seconds']:.2f}" if r["side"] != "baseline" and "scikit" not in r["timing"] else "-",
                        vs_sklearn_saga="-" if math.isnan(ratio) else f"{ratio:.2f}x", ratio=ratio))
    return out


def race_checks(rows, config) -> list[dict]:
    """Per size: our SAGA reaches the target no later than scikit-learn's saga."""
    checks = []
    for row in race_table(rows):
        if row["solver"] != "SAGA":
            continue
        ratio = row["ratio"]
        checks.append(Check(claim=f"{row['size']}: our SAGA reaches f - f* <= {config['race_eps']:g} (sum scale) "
                                 "no later than scikit-learn's saga: <= 1.0x its time",
                           measured=ratio, holds=bool(ratio <= 1.0)))
    return checks
