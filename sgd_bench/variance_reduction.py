"""Variance-reduced stochastic gradient methods: SAG, SAGA, SVRG and SARAH, usable with no
arguments.

One runner step is one stochastic update (an inner step for SVRG and SARAH). Gradient
evaluations are counted exactly as they are computed:

- SAG, SAGA: ``init`` fills the table at x_0 (n evaluations, so a trace starts at n), then B
  per step.
- SVRG: the step that starts an inner loop takes the snapshot's full gradient (n); every inner
  step evaluates the batch at x and at the snapshot (2B), or only at x (B) with the linear
  table, which keeps the snapshot's per-sample scalars.
- SARAH: the step that starts a loop takes a full gradient (n); inner steps evaluate the batch
  at the current and the previous iterate (2B).

Default steps follow the papers' theorems, factor / L_max with L_max = max_i L_i read from
``problem.info["L_max"]`` (a traced value of the problem: another L_max, same program).
Step sizes and loop lengths are hyperparameters (traced); the batch, the sampling and the
table layout are static. The ``linear`` keyword selects the O(n)
table of linear models (see ``sgd_bench.gradient_table``). Loop lengths count runner steps and
default to 2n/B (two epochs of inner work, Johnson & Zhang's m = 2n at B = 1).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sgd_bench import validation
from sgd_bench import _tree
from sgd_bench.counting import Count
from sgd_bench.default_steps import require_constant, theory_step
from sgd_bench.gradient_table import (data_grad, data_rows, first_occurrence, make_table,
                                      regularizer_grad)
from sgd_bench.methods import Method
from sgd_bench.sampling import SAMPLINGS
from sgd_bench.schedules import as_schedule


class SAGState(NamedTuple):
    """SAG/SAGA state: iterate, count, the per-sample table and its running mean."""

    x: Any
    grad_evals: Count
    table: Any
    mean: Any


class SVRGState(NamedTuple):
    """SVRG state: iterate, count, snapshot point, its mean data gradient, and (linear table
    only) its per-sample scalars."""

    x: Any
    grad_evals: Count
    snapshot: Any
    snapshot_mean: Any
    table: Any


class SARAHState(NamedTuple):
    """SARAH state: iterate, count, the recursive gradient estimate v and the previous iterate."""

    x: Any
    grad_evals: Count
    v: Any
    x_prev: Any


def _require_l_max(p, problem):
    """A host check for the default step factor / L_max: the problem must know L_max."""
    if p.step_size is None:
        require_constant(problem, "L_max", p.kind)
    # as the constructor takes it, after replace or a sweep: loop_length 0 or -1 ran
    validation.each("loop_length", p.get("loop_length"), _loop_length, optional=True)


def _alpha(p, problem, k):
    """The step at k: the given schedule, or step_factor / L_max (L_max is traced)."""
    if p.step_size is not None:
        return p.step_size(k)
    return theory_step(problem.info, p.step_factor)


def _hyper(step_size):
    return {"step_size": None if step_size is None else as_schedule(step_size)}


def _check(batch_size, sampling, loop_length=None):
    b = validation.integer("batch_size", batch_size, low=1)
    sampling = validation.choice("sampling", sampling, SAMPLINGS)
    if loop_length is not None:
        loop_length = _loop_length("loop_length", loop_length)
    return b, sampling, loop_length


def _loop_length(name, value) -> int:
    # int32, the step counter's type: 2**31 was JAX's OverflowError naming "method[0]"
    return validation.integer(name, value, low=1, high=2**31 - 1)


def _loop(p, problem):
    """m, runner steps per loop: the hyperparameter, or ceil(2n / B) (static) by default."""
    if p.loop_length is not None:
        return p.loop_length
    return math.ceil(2 * problem.n / p.batch_size)


def _name(base, b):
    return base if b == 1 else f"{base} batch {b}"


def _add(a, b):
    return jax.tree_util.tree_map(jnp.add, a, b)


def _table_init(p, x0, problem, key):
    del key
    table, mean = make_table(p.linear).full(problem, x0)
    return SAGState(x0, Count.zero().add(problem.n), table, mean)


def _after(idx, *trees):
    """``idx`` itself, computed from the first entry of every leaf of ``trees``: a data
    dependency that orders the table's write after the step's reads of it."""
    leaves = jax.tree_util.tree_leaves(trees)
    late = sum(jnp.isnan(jnp.ravel(leaf)[0]) for leaf in leaves).astype(idx.dtype)
    return jnp.minimum(idx, idx + late)  # late >= 0, so this is idx


def _table_step(p, state, problem, idx, k):
    table_ops = make_table(p.linear)
    old = table_ops.get(state.table, idx)
    new = table_ops.rows(problem, state.x, idx)
    change = jax.tree_util.tree_map(jnp.subtract, new, old)
    # The running mean of the table counts each distinct sample of the batch once.
    first = first_occurrence(idx).astype(jnp.result_type(float)) / problem.n
    mean = _add(state.mean, table_ops.combine(problem, idx, change, first))
    if p.unbiased:
        # SAGA: the batch mean of (new - stored) plus the stored mean, written with the updated
        # mean (the same direction, combine being linear in the weights): a step that read
        # the stored mean after the in-place update made XLA copy the mean (O(d)) every step.
        batch_w = jnp.full((idx.shape[0],), 1.0 / idx.shape[0]) - first
        data_part = _add(table_ops.combine(problem, idx, change, batch_w), mean)
    else:           # SAG: the mean of the updated table (biased)
        data_part = mean
    direction = _add(data_part, regularizer_grad(problem, state.x))
    x = _tree.sub_scaled(state.x, _alpha(p, problem, k), direction)
    # The rows are written last, at indices that depend on x and the mean: XLA then runs every
    # read of the old rows first and updates the table in place. Without that order it copied
    # the whole table (O(n) a step); the earlier fix, carrying the rows to the next step and
    # writing them there before the read, cost five small kernels a step, which pushed the
    # loop body past the 8 kernels that XLA:CPU runs sequentially (``gradient_table``).
    table = table_ops.put(state.table, _after(idx, x, mean), new)
    return SAGState(x, state.grad_evals.add(idx.shape[0]), table, mean)


def _table_method(saga: bool, step_size, batch_size, sampling, linear, factor, base) -> Method:
    b, sampling, _ = _check(batch_size, sampling)
    make_table(linear)  # refuses a bad ``linear`` now
    return Method(_table_init, _table_step, hyperparams=_hyper(step_size),
                  options={"unbiased": saga, "linear": linear, "step_factor": factor,
                           "kind": base.lower()},
                  batch_size=b, sampling=sampling, name=_name(base, b), check=_require_l_max)


def sag(step_size=None, batch_size: int = 1, sampling: str = "with_replacement", *,
        linear=False) -> Method:
    """SAG, the stochastic average gradient (Schmidt, Le Roux & Bach 2017).

    Keeps y_i, the last data gradient seen for each sample; a step on the batch B_k stores
    y_i = grad loss_i(x_k) for i in B_k and moves along the table's mean,

        x_{k+1} = x_k - alpha (1/n sum_i y_i + grad r(x_k)).

    The table starts at x_0 (n evaluations, counted by ``init``).

    **Arguments:**

    - ``step_size``: alpha, a float or a schedule; default 1/(16 L_max), the step of the
      paper's main convergence theorem.
    - ``batch_size``: |B_k| >= 1.
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.
    - ``linear``: ``False`` for the general O(n d) table, ``True`` or a feature map for the O(n)
      table of linear models (``sgd_bench.gradient_table``).

    References: M. Schmidt, N. Le Roux, F. Bach, "Minimizing finite sums with the stochastic
    average gradient", Math. Program. 162, 2017.
    """
    return _table_method(False, step_size, batch_size, sampling, linear, 1.0 / 16.0, "SAG")


def saga(step_size=None, batch_size: int = 1, sampling: str = "with_replacement", *,
         linear=False) -> Method:
    """SAGA (Defazio, Bach & Lacoste-Julien 2014): SAG's table with an unbiased step.

    With y_i the stored data gradients and B_k the batch,

        x_{k+1} = x_k - alpha (1/|B_k| sum_{j in B_k} (grad loss_j(x_k) - y_j) + 1/n sum_i y_i
                               + grad r(x_k)),

    then y_j = grad loss_j(x_k) for j in B_k. The table starts at x_0 (n evaluations).

    **Arguments:**

    - ``step_size``: alpha, a float or a schedule; default 1/(3 L_max), the step for which the
      paper gives the rate 1 - min(1/(4n), mu/(3 L)) per step.
    - ``batch_size``, ``sampling``, ``linear``: as for ``sag``.

    References: A. Defazio, F. Bach, S. Lacoste-Julien, "SAGA: a fast incremental gradient
    method with support for non-strongly convex composite objectives", NeurIPS 2014.
    """
    return _table_method(True, step_size, batch_size, sampling, linear, 1.0 / 3.0, "SAGA")


def svrg(step_size=None, batch_size: int = 1, sampling: str = "with_replacement", *,
         loop_length: int | None = None, linear=False) -> Method:
    """SVRG, stochastic variance-reduced gradient (Johnson & Zhang 2013).

    Every m steps (at k = 0, m, 2m, ...) the step first takes a snapshot x~ = x_k and its full
    data gradient mu~ (n evaluations); each step then moves along

        x_{k+1} = x_k - eta (1/|B_k| sum_{j in B_k} (grad loss_j(x_k) - grad loss_j(x~)) + mu~
                             + grad r(x_k)),

    the paper's option I (the next snapshot is the last iterate).

    **Arguments:**

    - ``step_size``: eta, a float or a schedule; default 1/(10 L_max). The paper's bound
      1/(mu eta (1 - 2 L eta) m) + 2 L eta / (1 - 2 L eta) on the contraction per loop is then
      12.5 L/(mu m) + 1/4, below 1 once m > 17 L_max/mu.
    - ``batch_size``, ``sampling``: as for ``sag``.
    - ``loop_length``: m, runner steps per snapshot; default ceil(2n / batch_size).
    - ``linear``: ``True`` or a feature map keeps the snapshot's per-sample scalars (O(n)
      memory) so an inner step costs B evaluations instead of 2B.

    References: R. Johnson, T. Zhang, "Accelerating stochastic gradient descent using
    predictive variance reduction", NeurIPS 2013.
    """
    b, sampling, loop_length = _check(batch_size, sampling, loop_length)
    keep = linear is not False and linear is not None
    if keep:
        make_table(linear)
    return Method(_svrg_init, _svrg_step, hyperparams={**_hyper(step_size), "loop_length": loop_length},
                  options={"linear": linear if keep else False, "step_factor": 0.1, "kind": "svrg"},
                  batch_size=b, sampling=sampling, name=_name("SVRG", b), check=_require_l_max)


def _svrg_init(p, x0, problem, key):
    del key
    zeros = jax.tree_util.tree_map(jnp.zeros_like, x0)
    if p.linear is not False:  # the first snapshot's checks, here (abstractly) as SAG's init makes them;
        jax.eval_shape(make_table(p.linear).full, problem, x0)  # before x0.dtype: a dict x0 was an AttributeError
    table = jnp.zeros((problem.n,), x0.dtype) if p.linear is not False else ()
    return SVRGState(x0, Count.zero(), x0, zeros, table)


def _svrg_step(p, state, problem, idx, k):
    keep = p.linear is not False
    table_ops = make_table(p.linear) if keep else None

    def take_snapshot(s):
        if keep:
            table, mean = table_ops.full(problem, s.x)
        else:
            table, mean = (), data_grad(problem, s.x)
        return SVRGState(s.x, s.grad_evals.add(problem.n), s.x, mean, table)

    # k is the same for every seed (and m for every seed of a configuration), so under vmap
    # this stays a real branch and the full gradient runs only at snapshot steps.
    state = lax.cond(k % _loop(p, problem) == 0, take_snapshot, lambda s: s, state)
    w = jnp.full((idx.shape[0],), 1.0 / idx.shape[0])
    if keep:
        new = table_ops.rows(problem, state.x, idx)
        change = new - table_ops.get(state.table, idx)
        correction = table_ops.combine(problem, idx, change, w)
        used = idx.shape[0]
    else:
        batch = problem.batch(idx)
        change = jax.tree_util.tree_map(jnp.subtract, data_rows(problem, state.x, batch),
                                        data_rows(problem, state.snapshot, batch))
        correction = jax.tree_util.tree_map(
            lambda r: jnp.tensordot(w.astype(r.dtype), r, axes=1), change)
        used = 2 * idx.shape[0]
    direction = _add(_add(correction, state.snapshot_mean), regularizer_grad(problem, state.x))
    x = _tree.sub_scaled(state.x, _alpha(p, problem, k), direction)
    return state._replace(x=x, grad_evals=state.grad_evals.add(used))


def sarah(step_size=None, batch_size: int = 1, sampling: str = "with_replacement", *,
          loop_length: int | None = None) -> Method:
    """SARAH, the stochastic recursive gradient algorithm (Nguyen et al. 2017).

    A loop of m steps starts with a full gradient, v = grad f(x), and continues with the
    recursive estimate

        v_k = 1/|B_k| sum_{j in B_k} (grad f_j(x_k) - grad f_j(x_{k-1})) + v_{k-1},

    each step moving x_{k+1} = x_k - eta v_k; the last iterate starts the next loop.

    **Arguments:**

    - ``step_size``: eta, a float or a schedule; default 1/(2 L_max). The paper's bound
      1/(mu eta (m + 1)) + eta L / (2 - eta L) on the contraction of E||grad f||^2 per loop
      (strongly convex case) is then 2 L/(mu (m + 1)) + 1/3, below 1 once m + 1 > 3 L_max/mu.
    - ``batch_size``, ``sampling``: as for ``sag``.
    - ``loop_length``: m, runner steps per loop; default ceil(2n / batch_size).

    References: L. M. Nguyen, J. Liu, K. Scheinberg, M. Takac, "SARAH: a novel method for
    machine learning problems using stochastic recursive gradient", ICML 2017.
    """
    b, sampling, loop_length = _check(batch_size, sampling, loop_length)
    return Method(_sarah_init, _sarah_step, hyperparams={**_hyper(step_size), "loop_length": loop_length},
                  options={"step_factor": 0.5, "kind": "sarah"}, batch_size=b, sampling=sampling,
                  name=_name("SARAH", b), check=_require_l_max)


def _sarah_init(p, x0, problem, key):
    del p, problem, key
    return SARAHState(x0, Count.zero(), jax.tree_util.tree_map(jnp.zeros_like, x0), x0)


def _sarah_step(p, state, problem, idx, k):
    def restart(s):
        return problem.grad(s.x), s.grad_evals.add(problem.n)

    def recurse(s):
        change = _tree.sub(problem.batch_grad(s.x, idx), problem.batch_grad(s.x_prev, idx))
        return _add(change, s.v), s.grad_evals.add(2 * idx.shape[0])

    v, evals = lax.cond(k % _loop(p, problem) == 0, restart, recurse, state)
    x = _tree.sub_scaled(state.x, _alpha(p, problem, k), v)
    return SARAHState(x, evals, v, state.x)
