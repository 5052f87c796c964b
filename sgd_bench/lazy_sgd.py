"""SGD for linear models on sparse rows with the iterate stored as a scale times a vector, so a
batch-B step costs O(nonzeros of the batch) instead of O(d).

With the ridge r(x) = mu/2 ||x||^2 a step of ``sgd`` on a linear model is

    x_{k+1} = (1 - alpha mu) x_k - alpha / B sum_{j in B_k} phi'(<a_j, x_k>, t_j) a_j.

The first term moves every coordinate; the second only the batch's nonzeros. Keeping
x = s w, the shrink is s <- (1 - alpha mu) s (one number) and the sparse term is added to w
divided by the new s. With a batch of B > 1, s is not stored: it is beta^(k mod R) with
beta = 1 - alpha mu, and every R steps w is multiplied by s (O(d), once per R steps), with R
chosen so that s stays above the fourth root of the dtype's smallest normal number (no
underflow, and w grows by at most that factor's inverse). Because s depends on the step count
alone, the every-R-steps branch is a real ``cond`` under ``vmap`` across seeds. With batch 1,
s is stored, and where it would pass below that root a new *era* starts: s goes back to 1, the
era's last scale S is kept, and each coordinate remembers the era it was written in; a
coordinate one era old reads as S w_c, an older one as 0 (a factor below tiny^(1/2)), and the
drawn row's coordinates are rewritten in the new era. Nothing is O(d) and nothing branches.
The evaluated iterate ``state.x`` is s w, which the runner computes only at log points.
Iterates equal ``sgd``'s up to rounding (tested to 1e-12 in float64).

Where a batch-1 step's time goes (HLO of the scan body; rcv1-like rows, 5,060 x 11,809, padded
to 298 slots, 73 nonzeros on average; float64, XLA:CPU, jax 0.10). XLA:CPU runs a loop body of
at most 8 kernels one after the other and a longer one as a dataflow graph on its thread pool,
which costs far more per step on a loaded machine (``sgd_bench.gradient_table``). The step had
18 kernels: the runner's loop counter and the ``Count`` (4), the scale as an exp of the step
count and its remainders (5 scalar kernels), the row's indices, gather, the 298-slot sum as a
reduce-window plus a reduce, phi', the update, the scatter, the rescale's predicate and
``cond``. In isolation a scatter-add of one 298-slot row ran at ~0.4 us a step (a
``fori_loop``, CPU time, load ~17); the whole step took ~2.4 us, so most of it was the graph
executor, not the arithmetic. With the era table the step has 11 kernels: the 4, the rows'
gather, the indices, the product, reduce-window, margin with phi' and the coefficient, the
update and one scatter. The 8 is not reached: a fold of the sum into short sums (as
``gradient_table`` does for dense rows) makes it 9 but ran slower; the gathered rows feed both
the margin and the update, so XLA writes them out (a kernel). Bucketing rows by length with a
``lax.switch`` (to scan 16, 32, ... slots instead of 298) does not pay: a scatter inside a
branch copies the whole operand (O(d)) every step, since XLA:CPU does not update a
conditional's operand in place. Reading (CPU time per step, one-epoch scans, load ~15, best of
5, separate processes, interleaved): 2.37-2.46 us before, 2.10 us after; scikit-learn's
``SGDClassifier`` 0.43 us a sample (its fixed cost per fit included).

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


class LazySGDRowState(NamedTuple):
    """Batch 1: one table of shape (d + 2, 2) that a step updates with one scatter. Row c < d is
    (w_c, e_c), the stored value and the era it is stored in; row d is (s, e), the current scale
    and era; row d + 1 holds (S, 0), the scale at the end of the previous era. x_c = s w_c when
    e_c = e, s S w_c when e_c = e - 1, and 0 when older (S <= tiny^(1/4): a factor of at most
    tiny^(1/2), underflowed). ``alpha`` and ``mu`` have shape (1,) as in ``LazySGDState``."""

    table: jax.Array
    alpha: jax.Array
    mu: jax.Array
    grad_evals: Count

    @property
    def x(self) -> jax.Array:
        d = self.table.shape[-2] - 2
        head = self.table[..., d:, 0]
        stored = _in_era(self.table[..., :d, :], self.table[..., d:d + 1, 1], head[..., 1:])
        return head[..., :1] * stored


# Scatter whole table rows: update (j, :) goes to row indices[j].
_ROWS = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                    scatter_dims_to_operand_dims=(0,))


def _get(a, cols):
    # The columns lie in [0, d) (problems.sparse checks them): no bounds select.
    return a.at[cols].get(mode="promise_in_bounds")


def _in_era(rows, era, previous):
    """The stored values ``rows[..., 0]`` in the units of the era ``era``: rows from the era before
    are scaled by its last scale ``previous``; older ones have underflowed (factor 0)."""
    gap = era - rows[..., 1]
    return rows[..., 0] * jnp.where(gap == 0, 1.0, jnp.where(gap == 1, previous, 0.0))


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
    if p.batch_size == 1:
        table = jnp.zeros((x0.shape[0] + 2, 2), x0.dtype).at[:, 0].set(
            jnp.concatenate([x0, jnp.ones((2,), x0.dtype)]))
        return LazySGDRowState(table, alpha, mu, Count.zero())
    return LazySGDState(x0, jnp.zeros((1,), jnp.int32), alpha, mu, period, Count.zero())


def _row_step(state, problem, idx, k):
    """Batch 1 in one scatter into the table: the row's coordinates, brought to the current era
    and updated; the scale and the era (row d); the last scale of the era before (row d + 1).
    When the scale would fall below the dtype's tiny^(1/4) a new era starts instead: the scale
    goes back to 1, and only the row's coordinates are converted, the others when they are read
    (``_in_era``). No ``cond`` and no O(d) rescale (see the module docstring)."""
    del k
    loss = problem.loss_i
    table = state.table
    d = table.shape[0] - 2
    alpha, mu = state.alpha[0], state.mu[0]
    datum = jax.tree_util.tree_map(lambda a: a[0], problem.batch(idx))
    cols, vals = loss.support(datum)
    s, era, previous = table[d, 0], table[d, 1], table[d + 1, 0]
    shrunk = s * (1 - alpha * mu)
    new_era = shrunk < jnp.finfo(table.dtype).tiny ** 0.25
    s_next = jnp.where(new_era, 1.0, shrunk)
    w = _in_era(_get(table, cols), era, previous)
    # The margin <a, x_k> = s <a, w> (padding slots hold value 0). A fold into short sums (as
    # gradient_table does for dense rows) saves XLA's reduce-window kernels but ran slower here.
    coef = -alpha * jax.grad(loss.phi)(s * jnp.sum(vals * w), loss.target(datum)) / s_next
    w = jnp.where(new_era, w * shrunk, w) + coef.astype(table.dtype) * vals
    era_next = era + new_era
    rows = jnp.concatenate([jnp.stack([w, jnp.full_like(w, era_next)], axis=-1),
                            jnp.stack([s_next, era_next])[None],
                            jnp.stack([jnp.where(new_era, shrunk, previous), 0.0 * s])[None]])
    # Written with "set": the row's columns are distinct; its padding slots (value 0, column 0)
    # are sent out of bounds and dropped, so they cannot overwrite a real column 0.
    at = jnp.concatenate([jnp.where(vals != 0, cols, d + 2), jnp.array([d, d + 1], cols.dtype)])
    table = lax.scatter(table, at[:, None], rows.astype(table.dtype), _ROWS, mode="drop")
    return state._replace(table=table, grad_evals=state.grad_evals.add(1))


def _step(p, state, problem, idx, k):
    if p.batch_size == 1:
        return _row_step(state, problem, idx, k)
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
