"""SAGA with lazy ("just-in-time") updates for linear models on sparse rows: a batch-B step costs
O(nonzeros of the batch) instead of O(d).

An eager SAGA step with the O(n) table of a linear model (``sgd_bench.variance_reduction.saga``
with ``linear=True``) and the ridge r(x) = mu/2 ||x||^2 is

    x_{k+1} = x_k - alpha (1/B sum_{j in B_k} (s_j' - s_j) a_j + m_k + mu x_k),

with m_k = 1/n sum_i s_i a_i the table's mean. A coordinate c that no row of the batch touches
moves by x_c <- (1 - alpha mu) x_c - alpha m_c, and m_c does not change until a row touching c
is drawn. So t untouched steps have the closed form

    x_c <- beta^t x_c - alpha m_c (1 - beta^t) / (1 - beta),   beta = 1 - alpha mu

(t alpha m_c when mu = 0). The state keeps every coordinate as of the step that last touched
it (``last``); a step first brings the batch's coordinates up to date, then applies the eager
update to them alone. The evaluated iterate (``state.x``) brings all d coordinates up to date,
which the runner does only at log points. The factors beta^t and (1 - beta^t) / (1 - beta) are
read from tables for t = 0..n, computed once, and every n steps all coordinates are brought up to
date (O(d) once per n steps), so no deferred span outgrows the tables: a step does no
transcendental per coordinate. Iterates equal the eager ones up to rounding (tested to 1e-12 in
float64).

Where a batch-1 step's time goes (HLO of the scan body; rcv1-like rows, 5,060 x 11,809 padded
to 298 slots; float64, XLA:CPU, jax 0.10): 33 kernels, far above the 8 that XLA:CPU runs one
after the other (see ``sgd_bench.lazy_sgd`` and ``sgd_bench.gradient_table``): the runner's
4, five that carried the last step's table rows into the next step and wrote them first, the
gathers of z, last and the mean (one each), the catch-up's divide and remainder of k, the
298-slot sum as a reduce-window plus a reduce, four scatters (z set, z add, last, mean), the
refresh's predicate and ``cond``. Now 26: the table row is written last in the step, at an
index computed from the step's results (so XLA orders the write after the read and writes in
place, without copying the table), and one row's coordinates are set by one scatter (the
padding slots dropped). Reading (CPU time per step, one-epoch scans with replacement, load
~12, best of 5, separate processes, interleaved): 12.9-17.5 us before, 8.9-9.9 us after. The
8 is out of reach in this layout: z, last and the mean are three arrays, each a gather and a
scatter; one (d, 3) array updated by one scatter is the next step.

The idea is from the SAG and SAGA papers, which both point out that with sparse gradients the
dense part of the update can be deferred and applied in closed form when a coordinate is next
needed (M. Schmidt, N. Le Roux, F. Bach, "Minimizing finite sums with the stochastic average
gradient", Math. Program. 162, 2017, section 4.1 "Implementation details"; A. Defazio, F. Bach,
S. Lacoste-Julien, "SAGA", NeurIPS 2014, section 4 on sparse gradients). scikit-learn's SAG and
SAGA solvers (``sklearn/linear_model/_sag_fast.pyx``) apply the same "just-in-time" updates
with a cumulative sum of the scaling factors.

Requirements, checked before compiling: the problem's per-sample loss exposes its row's
``support(datum) -> (columns, values)`` besides ``margin``/``target``/``phi``
(``problems.sparse``), the regularizer is ``L2`` or none, and the step is constant (the closed
form needs one alpha for every deferred step).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sgd_bench import validation
from sgd_bench.counting import Count
from sgd_bench.default_steps import require_constant, theory_step
from sgd_bench.finite_sum import L2
from sgd_bench.gradient_table import first_occurrence
from sgd_bench.methods import Method
from sgd_bench.sampling import SAMPLINGS
from sgd_bench.schedules import as_schedule


def _tables(alpha, mu, size, dtype):
    """beta^t and sum_{i < t} beta^i = (1 - beta^t) / (alpha mu) (t when mu = 0) for t = 0..size:
    the catch-up reads them instead of evaluating exp and expm1 per coordinate."""
    t = jnp.arange(size + 1, dtype=dtype)
    am = alpha * mu
    log_beta = jnp.log1p(-am)
    safe = jnp.where(am > 0, am, 1.0)
    geometric = jnp.where(am > 0, -jnp.expm1(t * log_beta) / safe, t)
    return jnp.exp(t * log_beta), geometric


def _catch_up(z, last, k, mean, alpha, power, geometric):
    """The coordinates z, last touched at steps ``last``, brought to step k (k - last <= n)."""
    t = k - last
    return (jnp.take_along_axis(power, t, axis=-1) * z
            - alpha * mean * jnp.take_along_axis(geometric, t, axis=-1))


class LazySAGAState(NamedTuple):
    """Coordinates as of their last update (``z``, ``last``), the step count ``k``, the step and
    ridge in use, the count, SAGA's table and mean.
    ``x`` is the iterate at step k (all coordinates brought up to date). ``k``, ``alpha`` and
    ``mu`` have shape (1,) so that ``x`` broadcasts over a leading seed axis as well."""

    z: jax.Array
    last: jax.Array
    k: jax.Array
    alpha: jax.Array
    mu: jax.Array
    power: jax.Array
    geometric: jax.Array
    grad_evals: Count
    table: jax.Array
    mean: jax.Array

    @property
    def x(self) -> jax.Array:
        # Every coordinate was brought up to step k // n * n (see _step).
        n = self.power.shape[-1] - 1
        last = jnp.maximum(self.last, self.k // n * n)
        return _catch_up(self.z, last, self.k, self.mean, self.alpha, self.power, self.geometric)


def _ridge(problem):
    return problem.regularizer.mu if problem.regularizer is not None else 0.0


def _alpha(p, problem):
    if p.step_size is not None:
        return p.step_size(0)
    return theory_step(problem.info, p.step_factor)


def require_sparse_linear(problem, name: str, dense: str) -> None:
    """Refuses a problem a lazy method cannot run: it needs a linear model on sparse rows (a loss
    with support, margin, target and phi) and the L2 regularizer or none; ``dense`` names the
    method to use instead."""
    loss = problem.loss_i
    if not all(hasattr(loss, a) for a in ("support", "margin", "target", "phi")):
        raise TypeError(f"{name} needs a linear model on sparse rows (problems.sparse: a loss "
                        f"with support, margin, target and phi); problem {problem.name!r} has "
                        f"{type(loss).__name__}. Use {dense} for dense data")
    if problem.regularizer is not None and not isinstance(problem.regularizer, L2):
        raise TypeError(f"{name} needs the L2 regularizer or none, got "
                        f"{type(problem.regularizer).__name__}")


def _check(p, problem):
    require_sparse_linear(problem, "lazy_saga", "saga(linear=True)")
    if p.step_size is None:
        require_constant(problem, "L_max", "lazy_saga")


def _init(p, x0, problem, key):
    del key
    loss = problem.loss_i
    data = problem.data
    z = jax.vmap(loss.margin, in_axes=(None, 0))(x0, data)
    s = jax.vmap(jax.grad(loss.phi))(z, jax.vmap(loss.target)(data)).astype(x0.dtype)
    cols, vals = jax.vmap(loss.support)(data)
    mean = jnp.zeros_like(x0).at[cols.reshape(-1)].add((s[:, None] * vals).reshape(-1)) / problem.n
    one = jnp.ones((1,), x0.dtype)
    alpha, mu = one * _alpha(p, problem), one * _ridge(problem)
    power, geometric = _tables(alpha[0], mu[0], problem.n, x0.dtype)
    return LazySAGAState(x0, jnp.zeros(x0.shape, jnp.int32), jnp.zeros((1,), jnp.int32), alpha, mu,
                         power, geometric, Count.zero().add(problem.n), s, mean)


def _step(p, state, problem, idx, k):
    loss = problem.loss_i
    alpha, mu = state.alpha[0], state.mu[0]

    n = problem.n
    batch = problem.batch(idx)
    cols, vals = jax.vmap(loss.support)(batch)
    flat, b = cols.reshape(-1), idx.shape[0]
    # The batch's coordinates, brought up to step k (padding repeats column 0: every copy of a
    # column computes the same value, so the scatter may keep any of them). A coordinate's step
    # of record is max(last, the last refresh), the refresh being at step k // n * n.
    last_flat = state.last[flat]
    zc = _catch_up(state.z[flat], jnp.maximum(last_flat, k // n * n), k, state.mean[flat],
                   alpha, state.power, state.geometric)
    # The margins <a_j, x_k> from the caught-up entries themselves (a_j = sum_s vals[j, s]
    # e_cols[j, s], the product in row_dot's order): writing zc into z first and reading it back
    # made XLA copy all of z (O(d)) every step.
    margins = jnp.sum(vals * zc.reshape(vals.shape), axis=-1)
    new = jax.vmap(jax.grad(loss.phi))(margins, jax.vmap(loss.target)(batch)).astype(zc.dtype)
    change = new - state.table[idx]
    # The eager step on those coordinates: the part that depends on the column alone, plus the
    # rows' own terms (a column in two rows of the batch gets both).
    caught = (1 - alpha * mu) * zc - alpha * state.mean[flat]
    own = (-(alpha / b) * change[:, None] * vals).reshape(-1)
    if b == 1:
        # One row: its columns are distinct, so one scatter sets both parts; the padding slots
        # (value 0) are sent out of bounds and dropped (here and for ``last``), so they cannot
        # overwrite a real column 0.
        flat = jnp.where(vals.reshape(-1) != 0, flat, state.z.shape[-1])
        z = state.z.at[flat].set(caught + own, mode="drop")
    else:
        z = state.z.at[flat].set(caught).at[flat].add(own)
    first = first_occurrence(idx).astype(z.dtype) / problem.n
    # k + 1, written as a function of the entries read above (last_flat <= k): with the value
    # independent of the read, XLA could not order the read before the in-place write and
    # copied all of ``last`` (O(d)) twice every step.
    last = state.last.at[flat].set(jnp.maximum(last_flat, k + 1), mode="drop")
    mean = state.mean.at[flat].add(((first * change)[:, None] * vals).reshape(-1), mode="drop")
    def refresh(z):
        # The batch's own coordinates (last = k + 1) have t = 0: they stay as they are.
        return _catch_up(z, jnp.maximum(last, k + 1 - n), k + 1, mean, alpha, state.power,
                         state.geometric)

    # Every n steps all coordinates are brought up to date (at the end of the step before step
    # m n), so no deferred span is longer than the tables; ``last`` is not rewritten (see
    # above). k is the same for every seed: a real branch under vmap. The branch returns z
    # alone: one that passed the whole state through made XLA copy ``last`` (O(d)) every step.
    z = lax.cond((k + 1) % n == 0, refresh, lambda z: z, z)
    # The table's rows go in last, at indices computed from the step's results (a NaN-count >= 0
    # leaves them as they are), so after its read of the old rows: XLA then writes the table in
    # place instead of copying it (O(n)) every step.
    late = jnp.minimum(idx, idx + (jnp.isnan(z[0]) + jnp.isnan(mean[0])).astype(idx.dtype))
    table = state.table.at[late].set(new)
    return state._replace(z=z, last=last, k=jnp.reshape(k + 1, (1,)).astype(jnp.int32),
                          grad_evals=state.grad_evals.add(b), table=table, mean=mean)


def lazy_saga(step_size: float | None = None, batch_size: int = 1,
              sampling: str = "with_replacement") -> Method:
    """SAGA with lazy updates on sparse rows: the iterates of ``saga(step_size, batch_size,
    sampling, linear=True)``, at O(nonzeros of the batch) per step instead of O(d) (see the
    module docstring for the update and where the idea comes from).

    **Arguments:**

    - ``step_size``: a constant alpha > 0; default 1/(3 L_max), as for ``saga``.
    - ``batch_size``: |B_k| >= 1.
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.
    """
    if step_size is not None:
        schedule = as_schedule(step_size)
        if not schedule.is_constant:
            raise ValueError("lazy_saga needs a constant step_size (the deferred steps are applied "
                             f"in closed form with one alpha), got {step_size!r}")
        step_size = schedule
    b = validation.integer("batch_size", batch_size, low=1)
    sampling = validation.choice("sampling", sampling, SAMPLINGS)
    return Method(_init, _step, hyperparams={"step_size": step_size},
                  options={"step_factor": 1.0 / 3.0, "kind": "lazy_saga"},
                  batch_size=b, sampling=sampling,
                  name="SAGA, lazy" if b == 1 else f"SAGA, lazy, batch {b}", check=_check)
