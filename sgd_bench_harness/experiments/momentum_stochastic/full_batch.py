"""momentum_stochastic's full-batch regime: GD, heavy ball and Nesterov tuned with L and mu, and
Newton's method on least squares, where momentum and the inverse Hessian do help."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sgd_bench as sb
from sgd_bench_harness import results
from sgd_bench_harness.toolkit import Check

from .fits import linear_rate


def run(problem, ref, eigs, spec: dict, key, tags: dict):
    """Runs the full-batch methods on ``problem`` (``eigs``: its Hessian's eigenvalues at x*):
    the measured and theoretical rates, the trace records (tagged with ``tags``) and the checks."""
    checks, rows = [], []
    lip, mu = problem.info["L"], float(eigs[0])
    kappa = lip / mu
    root = np.sqrt(kappa)
    hb_alpha, hb_beta = 4.0 / (np.sqrt(lip) + np.sqrt(mu)) ** 2, ((root - 1) / (root + 1)) ** 2
    nes_beta = (root - 1) / (root + 1)
    methods = [
        ("GD", sb.gd(1.0 / lip), (1 - mu / lip) ** 2),
        ("heavy ball", sb.from_optax(optax.sgd(hb_alpha, momentum=hb_beta), None,
                                     name="heavy ball"), hb_beta),
        ("Nesterov", sb.from_optax(optax.sgd(1.0 / lip, momentum=nes_beta, nesterov=True), None,
                                   name="Nesterov"), (1 - 1 / root) ** 2),
    ]
    newton = spec["problem"] == "ill_ls"
    if newton:   # on a quadratic, the exact inverse Hessian with step 1 is Newton's method
        P = sb.inverse_hessian(problem, jnp.asarray(ref.x))
        methods.append(("preconditioned GD", sb.preconditioned_sgd(1.0, P, None), 0.0))
    x0 = jnp.zeros(problem.x_shape)
    steps = spec["steps"]
    rates, theory, newton_gaps = {}, {}, None
    for label, method, contraction in methods:
        # Newton's method is done after one step: a few steps, each logged, show it
        n_steps, every = (3, 1) if label == "preconditioned GD" else (steps, max(1, steps // 300))
        trace = sb.run(problem, method, x0, key, steps=n_steps, log_every=every)
        gap = np.abs(np.asarray(trace.loss) - ref.f)
        if label == "preconditioned GD":
            newton_gaps = [float(gap[0]), float(gap[1])]
        else:
            rates[label] = linear_rate(np.asarray(trace.step).astype(float), gap)
            theory[label] = contraction
        rows += results.trace_records(jax.tree_util.tree_map(lambda a: a[None], trace),
                                      f_star=ref.f, **tags, regime="full batch",
                                      problem=problem.name, method=label)
    summary = dict(kappa=kappa, steps=steps, rates=rates, theory=theory)
    speedup = {m: np.log(rates[m]) / np.log(rates["GD"]) for m in ("heavy ball", "Nesterov")}
    if kappa > 100:
        checks.append(Check(
            claim=f"{problem.name} (kappa = {kappa:.0f}), full batch: heavy ball and Nesterov "
                  f"accelerate, contracting the gap at least 5x faster per step (in log) than GD",
            measured={"rates": rates, "log_rate_over_GD": speedup},
            holds=bool(all(v >= 5 for v in speedup.values()))))
    if newton:
        summary["newton_gaps"] = newton_gaps
        checks.append(Check(
            claim=f"{problem.name} (kappa = {kappa:.0f}), full batch: GD preconditioned by the "
                  f"exact H^-1 with step 1 (Newton's method) solves it in one step, "
                  f"f(x_1) - f* <= 1e-12 (f(x_0) - f*): without noise the condition number "
                  f"costs nothing",
            measured={"gap_0": newton_gaps[0], "gap_1": newton_gaps[1]},
            holds=bool(newton_gaps[1] <= 1e-12 * newton_gaps[0])))
    return summary, rows, checks
