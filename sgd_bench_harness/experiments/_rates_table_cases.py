"""The cases of the rates table (``rates_table``): for each problem of the lecture's classes,
its start, reference optimum, constants, the table row it stands for, and the GD and SGD
methods with the step schedules each runs."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import problems
import sgd_bench as sb
from problems import convex, nonconvex, nonsmooth
from sgd_bench import averaging, schedules, theory

ALL_CASES = ("lecture-logreg", "sin2-pl", "rank-deficient-ls", "nonseparable-logistic", "sigmoid-loss",
             "two-layer-net", "sin2-pl-nonconvex", "hinge-svm", "absolute-regression")


def setup(name: str, gd_scale: float) -> dict:
    """The problem, start, reference and methods of one case.

    Returns a dict with problem, x0, f_star (or a lower bound of f for non-convex problems),
    x_star, constants, measure ("gap" or "grad"), row_class (the class whose row of the table the
    case stands for: its own, or a wider one that also covers it), gd_steps, and gd and sgd, lists
    of (label, method, short label, step schedule or None for a constant step).
    """
    def steps(k):
        return max(20, int(k * gd_scale))

    def with_reference(p):
        ref = sb.reference_solution(p)
        return theory.constants(p, reference=ref), np.asarray(ref.x)

    x_star = None
    if name == "lecture-logreg":
        p = problems.lecture_logreg()
        c, x_star = with_reference(p)
        x0 = jnp.full(p.x_shape, 1.3)
        sgd = [("SGD, (2k+1)/(2 mu (k+1)^2)", schedules.lecture_decreasing(c.mu))]
        gd_steps = 40
    elif name == "sin2-pl":
        p = nonconvex.sin2_pl()
        c, x_star = with_reference(p)
        x0 = jnp.full(p.x_shape, 2.0)
        # The lecture's schedule starts at 1/(2 mu) = 15/L_max here; a 1/k schedule of the same
        # order that starts at 1/(2 L_max): alpha_k = a / (1 + k/k0) -> 2/(mu k).
        a = 1.0 / (2.0 * c.L_max)
        sgd = [(f"SGD, {a:.3g}/(1 + k/{2 / (c.mu * a):.0f})", schedules.inverse_time(a, 2.0 / (c.mu * a)))]
        gd_steps = 400
    elif name == "rank-deficient-ls":
        p = convex.rank_deficient_least_squares()
        c, x_star = with_reference(p)  # Newton's least-squares steps from 0: the x* nearest x_0 = 0
        x0 = p.zeros()
        sgd = [(f"SGD, {1 / c.L_max:.3g}/sqrt(k+1)", schedules.inverse_sqrt(1.0 / c.L_max))]
        gd_steps = 3000
    elif name == "nonseparable-logistic":
        p = convex.nonseparable_logistic()
        c, x_star = with_reference(p)
        x0 = p.zeros()
        # Logistic gradients are bounded, so a large c is safe and reaches the asymptotic regime.
        sgd = [("SGD, 1/sqrt(k+1)", schedules.inverse_sqrt(1.0))]
        gd_steps = 400
    elif name == "sigmoid-loss":
        p = nonconvex.sigmoid_loss()
        c = theory.constants(p)
        x0 = p.zeros()
        cc = 0.5 / c.L
        sgd = [(f"SGD, {cc:.3g}/sqrt(k+1)", schedules.inverse_sqrt(cc))]
        gd_steps = 1000
    elif name == "two-layer-net":
        p = nonconvex.two_layer_net()
        x0 = nonconvex.two_layer_init(p)
        c = theory.constants(p, points=[x0])
        sgd = [("SGD, 0.5/sqrt(k+1)", schedules.inverse_sqrt(0.5))]
        gd_steps = 3000
    elif name == "sin2-pl-nonconvex":
        # The non-convex row's SGD worst case, attained: sin2-pl is non-convex (and PL), so the
        # row's bound covers it, and where the gradient noise dominates min_j E||grad f(x_j)||^2
        # tracks the step c/sqrt(k): p = 1/2. Only SGD runs (GD is linear here: the PL row).
        p = nonconvex.sin2_pl()
        c, x_star = with_reference(p)
        a = 1.0 / c.L_max
        sched = schedules.inverse_sqrt(a)
        return dict(problem=p, x0=jnp.full(p.x_shape, 2.0), constants=c, measure="grad", f_star=c.f_star,
                    x_star=x_star, row_class="nonconvex", gd=[], gd_steps=0,
                    sgd=[(f"SGD, {a:.3g}/sqrt(k+1)", sb.sgd(sched), "SGD", sched)])
    elif name in ("hinge-svm", "absolute-regression"):
        p = nonsmooth.synthetic_hinge() if name == "hinge-svm" else nonsmooth.synthetic_absolute()
        ref = nonsmooth.lp_reference(p)
        c = theory.constants(p, reference=ref)
        x0 = p.zeros()
        cc = 1.0 / p.info["G_max"]
        sched = schedules.inverse_sqrt(cc)
        sub = sb.sgd(sched)
        full = sb.gd(sched)
        label = f"{cc:.3g}/sqrt(k+1)"
        return dict(problem=p, x0=x0, constants=c, f_star=c.f_star, x_star=np.asarray(ref.x), measure="gap",
                    row_class=p.problem_class,
                    gd=[(f"subgradient, {label}", full, "subgradient", sched),
                        (f"subgradient {label}, averaged", averaging.averaged(full), "subgradient, averaged", sched)],
                    gd_steps=steps(3000),
                    sgd=[(f"stochastic subgradient, {label}", sub, "stochastic subgr.", sched),
                         (f"stochastic subgradient {label}, averaged", averaging.averaged(sub),
                          "stochastic subgr., averaged", sched)])
    else:
        raise ValueError(f"unknown case {name!r}; known: {', '.join(ALL_CASES)}")

    nonconvex_class = p.problem_class == "nonconvex"
    if nonconvex_class:
        # alpha = 1/L with the best L known: the upper bound for the sigmoid loss, the local value
        # at x0 (halved, since the curvature of a network changes along the way) otherwise.
        alpha = 1.0 / c.L if "upper" in c.sources["L"] else 0.5 / c.L
        gd_label = f"GD, alpha = {alpha:.3g}" + (" = 1/L" if "upper" in c.sources["L"] else " = 1/(2 L(x0))")
    else:
        alpha = 1.0 / c.L
        gd_label = f"GD, alpha = 1/L = {alpha:.3g}"
    return dict(problem=p, x0=x0, constants=c, measure="grad" if nonconvex_class else "gap",
                f_star=0.0 if nonconvex_class else c.f_star,  # the losses here are >= 0
                x_star=x_star, row_class=p.problem_class, gd=[(gd_label, sb.gd(alpha), "GD", None)],
                gd_steps=steps(gd_steps), sgd=[(label, sb.sgd(sched), "SGD", sched) for label, sched in sgd])
