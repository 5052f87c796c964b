"""minibatch_error's payoff: the gradient evaluations each batch size needs to reach a target, the
measured best batch size B* and its predictions from the bound and from the quadratic model."""

from __future__ import annotations

import numpy as np

from sgd_bench import theory
from sgd_bench_harness import results


def _evals_to(gap_mean, steps, batch, eps):
    hit = np.flatnonzero(gap_mean <= eps)
    return None if not hit.size else int(steps[hit[0]]) * int(batch)


def _predicted_evals(plateau, batch, eps, delta0, rate):
    """B * K(B) with K from Delta_k <= rate^k Delta_0 + plateau (None if plateau >= eps)."""
    if plateau >= eps:
        return None
    k = np.ceil(np.log((eps - plateau) / max(delta0 - plateau, 1e-300)) / np.log(rate))
    return int(max(k, 0) * batch)


def convergence(rows, f_star):
    """The runs at alpha = 1/L from the records: the logged steps, by batch size the seed mean
    and standard error of f(x_k) - f* and the plateau (its mean over the second half of the run),
    and GD's f(x_k) - f*."""
    curves = results.curves(rows, figure="convergence")
    gd = curves.pop("GD")
    steps = gd["step"]
    gaps = {int(c["batch"][0]): c[("mean", "loss")] - f_star for c in curves.values()}
    return dict(steps=steps, gaps=gaps, gd=gd[("mean", "loss")] - f_star,
                stderr={int(c["batch"][0]): c[("stderr", "loss")] for c in curves.values()},
                plateaus={b: float(np.mean(g[steps >= steps[-1] / 2])) for b, g in gaps.items()})


def payoff_table(conv, *, targets, delta0, n, c, alpha):
    """For each target eps = frac Delta_0: the gradient evaluations each B and GD need to reach it,
    the measured B* (the fewest among the B that reach it), and the B* predicted from the
    GD-with-error bound and from the quadratic model (``"GD"`` when no B beats full batches)."""
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


def b_star_grows(payoff) -> bool:
    """Whether the measured B* strictly grows from each target to the next smaller one (over the
    targets some B reaches; at least two of them): an equal B* at two targets is no growth."""
    found = [p["best"] for p in payoff if p["best"] is not None]
    return bool(len(found) >= 2 and all(a < b for a, b in zip(found, found[1:])))
