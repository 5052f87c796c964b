"""The two-phase Newton-like method of Bach & Moulines (2013): O(1/k) without strong convexity.

For least squares, constant-step averaged SGD already reaches O(1/k) (``averaged(sgd(gamma))``
with gamma = 1/(4 R^2)). For other smooth losses, such as logistic regression, constant-step
averaged SGD stalls at a bias, and the paper runs averaged SGD on a *local quadratic model*
around a support point x~ instead, with the unbiased gradient of that model

    g_k = grad f_i(x~) + grad^2 f_i(x~) (x_k - x~).

For a linear model f_i'' is rank one, phi''(<a_i, x~>) a_i a_i^T, so the product costs O(d);
here it is one forward-over-reverse derivative of the batch gradient, which JAX evaluates in
O(B d) for such losses without forming a matrix. For least squares the model is exact (g_k is
the plain stochastic gradient), so the method *is* averaged constant-step SGD.

Evaluation accounting: a step of phase 1 counts B gradient evaluations; a Newton step counts B
gradient evaluations (at x~) in ``grad_evals`` and B Hessian-vector products in the state's
``hvp_evals``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sgd_bench import validation
from sgd_bench import _tree
from sgd_bench.counting import Count
from sgd_bench.default_steps import require_constant, theory_step
from sgd_bench.methods import Method
from sgd_bench.sampling import SAMPLINGS
from sgd_bench.schedules import as_schedule

SUPPORTS = ("two_phase", "running_average")


class OnlineNewtonState(NamedTuple):
    """The evaluated (averaged) iterate ``x``, the raw iterate, the support point x~, the
    number of iterates in the current average, and the gradient and HVP counts."""

    x: Any
    iterate: Any
    support: Any
    num_averaged: jax.Array
    grad_evals: Count
    hvp_evals: Count


def _require_l_max(p, problem):
    for name in ("step_size", "phase1_step_size"):
        if p[name] is None and (p.support == "two_phase" or name == "step_size"):
            require_constant(problem, "L_max", "online_newton", name, name)
    if p.support == "two_phase":  # as the constructor takes it, after replace or a sweep (0 ran)
        validation.each("phase1_steps", p.phase1_steps, _phase1_steps)


def _phase1_steps(name, value) -> int:
    return validation.integer(name, value, low=1, high=2**31 - 2)


def _gamma(schedule, problem, k):
    """The step at k: the schedule, or 1/(4 L_max) by default (L_max is traced)."""
    return schedule(k) if schedule is not None else theory_step(problem.info, 0.25)


def online_newton(step_size=None, *, support: str = "two_phase", phase1_steps: int | None = None,
                  phase1_step_size=None, batch_size: int = 1,
                  sampling: str = "with_replacement") -> Method:
    """Bach & Moulines' online Newton step: constant-step averaged SGD on a local quadratic model.

    With support point x~ and step gamma, each Newton step is

        x_{k+1} = x_k - gamma (grad f_B(x~) + grad^2 f_B(x~) (x_k - x~)),

    and the evaluated iterate is the running average of the x_k. Two supports:

    - ``"two_phase"``: for k < ``phase1_steps``, averaged SGD x_{k+1} = x_k - gamma1_k grad
      f_B(x_k) (evaluated: its average); its average at the end of phase 1 becomes x~ and the
      start of phase 2, whose average restarts there.
    - ``"running_average"``: one phase; x~ is the current average x̄_k, updated every step
      (the paper's variant that needs no phase length).

    **Arguments:**

    - ``step_size``: gamma, a float or a schedule; default 1/(4 L_max), the paper's
      gamma = 1/R^2 for logistic regression (f_i'' <= R^2/4 = L_max) and gamma = 1/(4 R^2) for
      least squares (f_i'' <= R^2 = L_max).
    - ``support``: ``"two_phase"`` or ``"running_average"``.
    - ``phase1_steps``: the length of phase 1 (>= 1), required for ``"two_phase"`` only.
    - ``phase1_step_size``: gamma1_k of phase 1, a float or a schedule; default the constant
      1/(4 L_max). Constant-step averaged SGD ends within O(gamma) of x* on smooth losses (its
      bias), close enough for the Newton phase; the paper's 1/(2 R^2 sqrt(N)) is far smaller
      when the curvature at x* is small, and leaves the support point far from x*.
    - ``batch_size``: |B| >= 1.
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.

    References: F. Bach, E. Moulines, "Non-strongly-convex smooth stochastic approximation with
    convergence rate O(1/n)", NeurIPS 2013.
    """
    support = validation.choice("support", support, SUPPORTS)
    if support == "two_phase":
        if phase1_steps is None:
            raise ValueError("phase1_steps is required for support='two_phase' (the number of "
                             "averaged-SGD steps that give the support point)")
        phase1 = _phase1_steps("phase1_steps", phase1_steps)
    else:
        if phase1_steps is not None or phase1_step_size is not None:
            raise ValueError("phase1_steps and phase1_step_size apply to support='two_phase' "
                             f"only; got support={support!r}")
        phase1 = 0
    b = validation.integer("batch_size", batch_size, low=1)
    sampling = validation.choice("sampling", sampling, SAMPLINGS)
    label = "online Newton, running-average support" if support == "running_average" else \
        f"two-phase Newton ({phase1} averaged-SGD steps)"
    return Method(_init, _step,
                  hyperparams={"step_size": None if step_size is None else as_schedule(step_size),
                               "phase1_step_size": None if phase1_step_size is None
                               else as_schedule(phase1_step_size, "phase1_step_size"),
                               "phase1_steps": phase1},
                  options={"support": support}, batch_size=b, sampling=sampling, name=label,
                  check=_require_l_max)


def _init(p, x0, problem, key):
    del p, problem, key
    return OnlineNewtonState(x0, x0, x0, jnp.ones((), jnp.int32), Count.zero(), Count.zero())


def _newton_direction(problem, x, x_tilde, idx):
    grad_b = lambda z: problem.batch_grad(z, idx)
    g, hv = jax.jvp(grad_b, (x_tilde,), (_tree.sub(x, x_tilde),))
    return jax.tree_util.tree_map(jnp.add, g, hv)


def _step(p, state, problem, idx, k):
    used = idx.shape[0]
    two_phase = p.support == "two_phase"

    def sgd_step(s):
        x = _tree.sub_scaled(s.iterate, _gamma(p.phase1_step_size, problem, k),
                             problem.batch_grad(s.iterate, idx))
        count = s.num_averaged + 1
        return OnlineNewtonState(_tree.mean_update(s.x, x, count), x, s.support, count,
                                 s.grad_evals.add(used), s.hvp_evals)

    def newton_step(s):
        if two_phase:
            # Phase 2 starts from the phase-1 average, which becomes the support point and
            # the first iterate of a fresh average.
            s = lax.cond(k == p.phase1_steps,
                         lambda t: t._replace(iterate=t.x, support=t.x,
                                              num_averaged=jnp.ones((), jnp.int32)),
                         lambda t: t, s)
            x_tilde = s.support
        else:
            x_tilde = s.x
        direction = _newton_direction(problem, s.iterate, x_tilde, idx)
        x = _tree.sub_scaled(s.iterate, _gamma(p.step_size, problem, k), direction)
        count = s.num_averaged + 1
        support_point = s.support if two_phase else _tree.mean_update(s.x, x, count)
        return OnlineNewtonState(_tree.mean_update(s.x, x, count), x, support_point, count,
                                 s.grad_evals.add(used), s.hvp_evals.add(used))

    if not two_phase:
        return newton_step(state)
    # k is the same for every seed: under vmap this stays a real branch.
    return lax.cond(k < p.phase1_steps, sgd_step, newton_step, state)
