"""SGD for linear models on sparse rows with the iterate stored as a scale times a vector, so a
batch-B step costs O(nonzeros of the batch) instead of O(d).

With the ridge r(x) = mu/2 ||x||^2 a step of ``sgd`` on a linear model is

    x_{k+1} = (1 - alpha mu) x_k - alpha / B sum_{j in B_k} phi'(<a_j, x_k>, t_j) a_j.

The first term moves every coordinate; the second only the batch's nonzeros. Keeping
x = s w, the shrink is s <- (1 - alpha mu) s (one number) and the sparse term is added to w
divided by the new s. Here s is not stored: it is beta^(k mod R) with beta = 1 - alpha mu, and
every R steps w is multiplied by s (O(d), once per R steps), with R chosen so that s stays above
the fourth root of the dtype's smallest normal number (no underflow, and w grows by at most that
factor's inverse). Because s depends on the step count alone, the every-R-steps branch is a
real ``cond`` under ``vmap`` across seeds (their step count is shared). The evaluated iterate
``state.x`` is s w, which the runner computes only at log points. Iterates equal ``sgd``'s up to
rounding (tested to 1e-12 in float64).

The scaled-vector representation of L2-regularized linear SGD is the one of Bottou's SGD code
(L. Bottou, "Stochastic Gradient Descent Tricks", in Neural Networks: Tricks of the Trade,
2012, section 5.1 "sparsity") and of scikit-learn's ``SGDClassifier`` (``wscale`` in
``sklearn/linear_model/_sgd_fast``).

Requirements, checked before compiling: the per-sample loss exposes its row's
``support(datum) -> (columns, values)`` besides ``margin``/``target``/``phi``
(``problems.sparse``), the regularizer is ``L2`` or none, the step is constant (the scale's
closed form needs one alpha), and alpha mu < 1.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sgd_bench import validation
from sgd_bench.counting import Count
from sgd_bench.lazy_saga import require_sparse_linear
from sgd_bench.methods import Method
from sgd_bench.sampling import SAMPLINGS
from sgd_bench.schedules import as_schedule

_MAX_PERIOD = 2**30  # mu = 0: the scale stays 1 and w is never rescaled in practice


def _scale(k, alpha, mu, period):
    """s = beta^(k mod R), beta = 1 - alpha mu."""
    return jnp.exp((k % period).astype(alpha.dtype) * jnp.log1p(-alpha * mu))


class LazySGDState(NamedTuple):
    """The vector ``w`` (x = s w, s from the step count), the step count ``k``, the step, ridge
    and rescaling period in use, and the count. ``k``, ``alpha``, ``mu`` and ``period`` have
    shape (1,) so that ``x`` broadcasts over a leading seed axis as well."""

    w: jax.Array
    k: jax.Array
    alpha: jax.Array
    mu: jax.Array
    period: jax.Array
    grad_evals: Count

    @property
    def x(self) -> jax.Array:
        return _scale(self.k, self.alpha, self.mu, self.period) * self.w


def _ridge(problem):
    return problem.regularizer.mu if problem.regularizer is not None else 0.0


def _check(p, problem):
    require_sparse_linear(problem, "lazy_sgd", "sgd")
    mu = _ridge(problem)
    alpha = p.step_size(0)
    try:
        shrink = float(alpha) * float(mu)
    except (TypeError, jax.errors.ConcretizationTypeError):  # traced values: checked by the caller
        return
    if not shrink < 1:
        raise ValueError(f"lazy_sgd needs step_size * mu < 1 (the shrink 1 - alpha mu scales the "
                         f"stored vector), got {float(alpha):g} * {float(mu):g} = {shrink:g}")


def _init(p, x0, problem, key):
    del key
    one = jnp.ones((1,), x0.dtype)
    alpha, mu = one * p.step_size(0), one * _ridge(problem)
    # R steps shrink s by beta^R >= tiny^(1/4): R = floor(-log(tiny) / 4 / -log(beta)).
    room = -jnp.log(jnp.finfo(x0.dtype).tiny) / 4
    per_step = -jnp.log1p(-alpha * mu)
    period = jnp.where(per_step > 0, jnp.floor(room / jnp.where(per_step > 0, per_step, 1.0)),
                       _MAX_PERIOD)
    period = jnp.clip(period, 1, _MAX_PERIOD).astype(jnp.int32)
    return LazySGDState(x0, jnp.zeros((1,), jnp.int32), alpha, mu, period, Count.zero())


def _step(p, state, problem, idx, k):
    loss = problem.loss_i
    alpha, mu, period = state.alpha[0], state.mu[0], state.period[0]
    s = _scale(k, alpha, mu, period)
    batch = problem.batch(idx)
    cols, vals = jax.vmap(loss.support)(batch)
    b = idx.shape[0]
    # The margins <a_j, x_k> = s <a_j, w>, in row_dot's order (padding slots hold value 0).
    margins = s * jnp.sum(vals * state.w[cols], axis=-1)
    r = jax.vmap(jax.grad(loss.phi))(margins, jax.vmap(loss.target)(batch)).astype(state.w.dtype)
    s_next = s * (1 - alpha * mu)
    w = state.w.at[cols.reshape(-1)].add((-(alpha / b) / s_next * r[:, None] * vals).reshape(-1))
    # Every R steps the scale goes back to 1 (k is the same for every seed: a real branch).
    w = lax.cond((k + 1) % period == 0, lambda w: w * s_next, lambda w: w, w)
    return state._replace(w=w, k=jnp.reshape(k + 1, (1,)).astype(jnp.int32),
                          grad_evals=state.grad_evals.add(b))


def lazy_sgd(step_size: float, batch_size: int = 1, sampling: str = "with_replacement") -> Method:
    """SGD on sparse rows at O(nonzeros of the batch) per step: the iterates of ``sgd(step_size,
    batch_size, sampling)`` on a linear model of ``problems.sparse`` with the ridge or no
    regularizer (see the module docstring for the update and where the idea comes from).

    **Arguments:**

    - ``step_size``: a constant alpha > 0 with alpha mu < 1.
    - ``batch_size``: |B_k| >= 1.
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.
    """
    schedule = as_schedule(step_size)
    if not schedule.is_constant:
        raise ValueError("lazy_sgd needs a constant step_size (the scale of the stored vector is "
                         f"(1 - alpha mu)^k with one alpha); use sgd for a schedule, got {step_size!r}")
    b = validation.integer("batch_size", batch_size, low=1)
    sampling = validation.choice("sampling", sampling, SAMPLINGS)
    return Method(_init, _step, hyperparams={"step_size": schedule},
                  options={"kind": "lazy_sgd"}, batch_size=b, sampling=sampling,
                  name="SGD, lazy" if b == 1 else f"SGD, lazy, batch {b}", check=_check)
