"""variance_reduction on one problem: every method within an epoch budget, seed 0 timed, the
seeds' statistics as records, then the problem's checks."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import sgd_bench as sb
from sgd_bench.growing_batch import batch_sizes

from . import claims, methods, timing
from .methods import GROWTH
from .timing import timed


def run_problem(config: dict, spec: dict, key, tags: dict) -> dict:
    """Every method on one problem of ``config``: its records, its checks and its ``info`` for
    ``meta["problems"]`` (one resumable ``experiment.part`` of the run)."""
    rows = []
    problem = methods.problem(spec)
    ref = sb.reference_solution(problem)
    n, epochs = problem.n, spec["epochs"]
    sizes = batch_sizes(n, GROWTH)
    info = dict(n=n, d=problem.x_shape[0], f_star=ref.f, ref_grad_norm=ref.grad_norm,
                **problem.info, epochs=epochs, target=spec["target"],
                wallclock=bool(spec.get("wallclock")), growing_batch_sizes=sizes.tolist())
    x0 = jnp.zeros(problem.x_shape)
    per_epoch = config["logs_per_epoch"]
    repeats = spec.get("timing_repeats", config["timing_repeats"])
    for label, method, deterministic in methods.methods(problem):
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
        if deterministic:
            num_seeds = 1
        # Seed s is run_seeds' seed s (its keys). The other seeds run vmapped (run_seeds, a
        # program of its own) or one after another through the timed seed's compiled program,
        # whichever cost less in the full run (timing's docstring).
        keys = sb.seed_keys(key, num_seeds)
        vmapped = not deterministic and not timing.loop_seeds(label, n, steps, num_seeds)
        seconds, f, grads, losses, x_last, overhead = timed(
            problem, method, x0, keys[:1] if vmapped else keys, steps=steps,
            log_every=log_every, repeats=repeats)
        if vmapped:
            trace = sb.run_keys(problem, method, x0, keys, steps=steps, log_every=log_every)
            # the timed run is seed 0 of these runs, step for step
            np.testing.assert_allclose(np.asarray(trace.x[0]), np.asarray(x_last), rtol=1e-9,
                                       atol=1e-12)
            np.testing.assert_array_equal(np.asarray(trace.grad_evals)[0], grads)
            f = np.asarray(trace.loss, np.float64)
        info.setdefault("call_overhead_seconds", {})[label] = overhead
        evals = grads + losses
        gap = np.abs(f - ref.f)
        diverged = timing.diverged(f)
        k = np.arange(f.shape[1]) * log_every
        f = f[0]
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
                rows.append(dict(**tags, problem=problem.name, method=label,
                                 statistic=statistic, step=int(k[i]), grad_evals=int(grads[i]),
                                 loss_evals=int(losses[i]), epochs=float(evals[i] / n),
                                 seconds_seed0=float(seconds[i]), num_seeds=num_seeds,
                                 num_diverged=int(diverged.sum()), f_gap=float(values[i])))
        if label == "GD, Armijo":
            armijo_f = f[keep]  # the f the line search carries and tests against
        if label == "growing batch":
            growing_seeds = (k, gap, diverged)  # for the standard error of its R^2

    checks = claims.problem_checks(problem.name, spec, rows, sizes, growing_seeds, armijo_f)
    return dict(name=problem.name, rows=rows, checks=checks, info=info)
