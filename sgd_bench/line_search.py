"""Gradient descent with Armijo backtracking line search: the deterministic baseline that needs no
step size, with its extra function evaluations counted.

Evaluation accounting: each step computes grad f(x_k), n per-sample gradient evaluations in
``grad_evals``. Every f the method evaluates costs n per-sample *loss* evaluations, counted in
the state's own ``loss_evals``: f(x_0) in ``init``, then one per trial point. The value at the
accepted trial is carried as f(x_{k+1}), so the sufficient-decrease test always compares two
values of the same compiled f, and the carried f never increases, not even by a rounding
error. The runner's ``Trace`` records both (``trace.counts["loss_evals"]``). Every number of the
search (first step, shrink, c, grow, max_trials) is a traced hyperparameter; ``grow=None`` is a
different structure.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sgd_bench import validation
from sgd_bench import _tree
from sgd_bench.counting import Count
from sgd_bench.methods import Method


class ArmijoState(NamedTuple):
    """Iterate, gradient and loss evaluation counts, f(x), the next first trial step, and the
    last step's number of trials."""

    x: Any
    grad_evals: Count
    loss_evals: Count
    f: jax.Array
    trial_step: jax.Array
    trials: jax.Array


def gd_armijo(initial_step: float = 1.0, *, shrink: float = 0.5, c: float = 1e-4,
              grow: float | None = 2.0, max_trials: int = 60) -> Method:
    """Gradient descent with Armijo backtracking (Armijo 1966).

    With g = grad f(x_k), the step tries t = t_k, shrink * t_k, shrink^2 * t_k, ... and accepts
    the first t with the sufficient decrease

        f(x_k - t g) <= f(x_k) - c t ||g||^2,

    then sets x_{k+1} = x_k - t g. The first trial is t_k = grow * t_{k-1}, with t_{k-1} the
    step accepted at k - 1 (so the step can recover after a short one), or ``initial_step`` at
    every step when ``grow`` is None. If no trial passes within ``max_trials``, the iterate
    stays put (f never increases) and the next search starts where this one stopped.

    **Arguments:**

    - ``initial_step``: the first trial step t_0 > 0.
    - ``shrink``: the backtracking factor, in (0, 1).
    - ``c``: the sufficient-decrease constant, in (0, 1).
    - ``grow``: >= 1, how much the first trial of a step exceeds the previous accepted step;
      ``None`` restarts from ``initial_step`` every time.
    - ``max_trials``: trials per step at most, >= 1.

    **Returns:** a full-gradient ``Method`` (``batch_size=None``). Each step counts n gradient
    evaluations in ``grad_evals`` and n loss evaluations per trial in ``loss_evals`` (which
    starts at n, for f(x_0)).

    References: L. Armijo, "Minimization of functions having Lipschitz continuous first partial
    derivatives", Pacific J. Math. 16(1), 1966.
    """
    numbers = {"initial_step": initial_step, "shrink": shrink, "c": c, "grow": grow, "max_trials": max_trials}
    numbers = {name: None if name == "grow" and value is None else _RULES[name](name, value)
               for name, value in numbers.items()}
    return Method(_armijo_init, _armijo_step, hyperparams=numbers, name="GD, Armijo", check=_check)


def _below_one(name, value) -> float:
    value = validation.positive_float(name, value)
    if not value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


def _grow(name, value) -> float:
    value = validation.positive_float(name, value)
    if value < 1.0:
        raise ValueError(f"{name} must be >= 1 (or None), got {value!r}")
    return value


_RULES = {"initial_step": validation.positive_float, "shrink": _below_one, "c": _below_one, "grow": _grow,
          "max_trials": lambda name, value: validation.integer(name, value, low=1, high=2**31 - 1)}


def _check(p, problem) -> None:
    """The numbers as the constructor takes them, after ``replace`` or a sweep (shrink 2 and
    max_trials 0 ran), and ``initial_step`` and ``grow`` finite in the problem's float: 1e39 is
    inf in float32, inf * shrink is inf, so no trial ever passed and the run stood still at x0,
    silently (in float64 the same search backtracks to a step and goes on)."""
    largest = float(jnp.finfo(problem.dtype).max)
    kind = jnp.dtype(problem.dtype).name

    def finite(name, value):
        if float(value) > largest:
            raise ValueError(f"{name} must be at most {largest:.3g}, the largest {kind} of problem "
                             f"{problem.name!r}, got {float(value)!r}: in {kind} it is inf, and a search "
                             "from inf never takes a step")

    for name, rule in _RULES.items():
        validation.each(name, p[name], rule, optional=name == "grow")
        if name in ("initial_step", "grow"):
            validation.each(name, p[name], finite, optional=name == "grow")


def _armijo_init(p, x0, problem, key):
    del key
    dtype = jax.tree_util.tree_leaves(x0)[0].dtype
    return ArmijoState(x0, Count.zero(), Count.zero().add(problem.n), problem.loss(x0),
                       jnp.asarray(p.initial_step, dtype), jnp.zeros((), jnp.int32))


def _armijo_step(p, state, problem, idx, k):
    del idx, k
    f, g = state.f, problem.grad(state.x)
    decrease = p.c * _tree.sq_norm(g)
    first = state.trial_step

    def cond(carry):
        _, trials, accepted, _, _, _ = carry
        return ~accepted & (trials < p.max_trials)

    def body(carry):
        t, trials, _, _, _, evals = carry
        x_try = _tree.sub_scaled(state.x, t, g)
        f_try = problem.loss(x_try)
        # NaN or Inf at the trial point fails the test, so backtracking goes on.
        ok = f_try <= f - t * decrease
        t_next = jnp.where(ok, t, t * p.shrink)
        return t_next, trials + 1, ok, x_try, f_try, evals.add(problem.n)

    carry = (first, jnp.zeros((), jnp.int32), jnp.zeros((), bool), state.x, f, state.loss_evals)
    t, trials, accepted, x_try, f_try, loss_evals = lax.while_loop(cond, body, carry)
    x = jax.tree_util.tree_map(lambda new, old: jnp.where(accepted, new, old), x_try, state.x)
    next_first = p.initial_step if p.grow is None else t * p.grow
    return ArmijoState(x, state.grad_evals.add(problem.n), loss_evals,
                       jnp.where(accepted, f_try, f), jnp.asarray(next_first, first.dtype), trials)
