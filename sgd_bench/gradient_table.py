"""Per-sample gradient memory for the variance-reduced methods: a general O(n d) table, and the
O(n) table of linear models, which stores one scalar per sample.

A *linear model* is a problem whose per-sample loss depends on x only through one inner
product, loss_i(x, datum) = phi(<a_i, x>, datum) with a_i = features(datum): logistic
regression, least squares, any GLM. Its data gradient is phi'(<a_i, x>) a_i, so the scalars
s_i = phi'(<a_i, x_i>) hold the whole table. The VR constructors take the protocol as their
``linear`` keyword:

- ``linear=False`` (default): the general table; any problem, any pytree iterate;
- ``linear=True``: a linear model whose datum's first leaf is the feature row a_i, the layout
  of ``problems.logistic_regression`` and ``problems.least_squares`` (data = (A, targets));
- ``linear=features``: a callable datum -> a_i, for other layouts.

The scalar comes from forward-mode autodiff, so the loss is never written twice: the
derivative of loss_i along a_i is phi'(z) ||a_i||^2, hence s_i = jvp(loss_i, x; a_i) / ||a_i||^2
(0 for a zero row, whose gradient is 0). The linear form is a promise the code cannot check:
a loss that depends on x in another way gets wrong gradients.

A loss_i that is split into a margin and a scalar loss, i.e. has ``margin(x, datum) -> z``
(linear in x), ``target(datum)`` and ``phi(z, target)``, gives its scalars as s_i = phi'(z_i):
one inner product per sample where the jvp above takes two (<a_i, x> and ||a_i||^2). The dense
losses of ``problems.linear`` come split, and so does every loss of ``problems.sparse``. On
sparse rows (a split loss that also has ``support``) the feature rows are never built densely:
s_i costs the row's nonzeros, and sum_j w_j s_j a_j is the gradient of the linear map
x -> sum_j w_j s_j margin(x, datum_j), one scatter of the batch's entries; ``features`` is then
not used. Dense split rows combine through ``features`` as any linear model does.

Where a batch-1 SAGA step's time goes (HLO of the scan body, dense logistic regression,
n = 10^4, d = 100, float64, XLA:CPU, jax 0.10): XLA:CPU runs a loop body's kernels ("thunks")
one after the other only while there are at most 8 of them (or they form a chain); with more,
its executor dispatches them as a dataflow graph, which cost ~0.4 us more per step in a
reading under load (a scan of 8 kernels took 0.13 us a step, the same with one more
independent scalar kernel 0.57 us). A vector kernel over d = 100 costs 40-80 ns, a scalar one
a few ns; XLA lowers a sum of more than 32 numbers to a reduce-window of partial sums and a
second reduce (two more kernels). Batch-1 SGD has 8 kernels. Batch-1 SAGA had 18: the jvp's
second inner product ||a_i||^2 (two kernels), the copies that carried the last step's rows to
the next step (five), a copy of the stored mean, and the inner product's reduce-window (two).
It now has 8, the count and the loop counter included: the split loss takes one inner
product, ``_fold_dot`` keeps it and phi' in one kernel, and ``sgd_bench.variance_reduction``
writes the rows last in the step and reads the updated mean. In an interleaved reading under
load (n = 10^4, d = 100, 10 epochs, CPU time): 1.37 us a step before, 0.46 us after, and
scikit-learn's saga 0.97 us a sample.

Only the data term loss_i is stored. The regularizer's gradient is taken exactly at the current
point, as Schmidt, Le Roux & Bach (2017) do for l2-regularized problems, in both layouts, so the
two give the same iterates.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp


class Table(NamedTuple):
    """How a method stores and uses per-sample data gradients.

    - ``full(problem, x) -> (table, mean)``: the entries of all n samples at x, and the mean
      data gradient 1/n sum_i grad loss_i(x) (a pytree like x);
    - ``rows(problem, x, idx) -> rows``: the entries of the samples ``idx`` at x;
    - ``combine(problem, idx, rows, w) -> sum_j w_j grad_j``: the weighted sum of the data
      gradients that ``rows`` represent, as a pytree like x;
    - ``get(table, idx)`` and ``put(table, idx, rows)``: read and write entries;
    - ``linear``: whether entries are scalars (O(n) memory) or whole gradients (O(n d)).
    """

    full: Callable
    rows: Callable
    combine: Callable
    get: Callable
    put: Callable
    linear: bool


def data_rows(problem, x, data) -> Any:
    """grad loss_i(x) for each row of ``data`` (the data term only), leading axis = row."""
    return jax.vmap(jax.grad(problem.loss_i), in_axes=(None, 0))(x, data)


def _dense_full(problem, x):
    table = data_rows(problem, x, problem.data)
    return table, jax.tree_util.tree_map(lambda t: jnp.mean(t, axis=0), table)


def _dense_combine(problem, idx, rows, w):
    del problem, idx
    return jax.tree_util.tree_map(lambda r: jnp.tensordot(w.astype(r.dtype), r, axes=1), rows)


def _get(table, idx):
    return jax.tree_util.tree_map(lambda t: t[idx], table)


def _put(table, idx, rows):
    # Duplicate indices in a batch carry equal rows (all computed at the same x), so the
    # scatter's choice among them does not matter.
    return jax.tree_util.tree_map(lambda t, r: t.at[idx].set(r), table, rows)


DENSE = Table(_dense_full, lambda p, x, idx: data_rows(p, x, p.batch(idx)), _dense_combine,
              _get, _put, False)


def first_leaf(datum):
    """The feature row of the (A, targets) layout: the datum's first leaf."""
    return jax.tree_util.tree_leaves(datum)[0]


def _check_array_iterate(x):
    if not hasattr(x, "shape") or isinstance(x, (dict, list, tuple)):
        raise TypeError("linear=... (the O(n) gradient table) needs an array iterate x, got a "
                        f"{type(x).__name__}; use linear=False for pytree iterates")


def _check_feature_rows(features, problem, x) -> None:
    """A feature row must have x's shape (abstractly: nothing runs). linear=True on a two-layer net
    was JAX's "jvp called with different primal and tangent shapes", a feature map of the wrong
    length its dot_general error, both from inside the run."""
    _check_array_iterate(x)
    datum = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), problem.data)
    try:
        shapes = [leaf.shape for leaf in jax.tree_util.tree_leaves(jax.eval_shape(features, datum))]
    except Exception:  # a feature map that fails says so itself when the run calls it
        return
    if shapes != [tuple(jnp.shape(x))]:
        got = f"shape {shapes[0]}" if len(shapes) == 1 else f"{len(shapes)} arrays"
        raise ValueError(f"linear=...: the feature row of a datum of problem {problem.name!r} (the datum's "
                         f"first leaf for linear=True) has {got}, but x has shape {tuple(jnp.shape(x))}: "
                         "not a linear model of this layout; use linear=False, or a feature map datum -> a_i")


def split_loss(problem):
    """The loss_i of ``problem`` if it comes split into margin and scalar loss, else None."""
    loss = problem.loss_i
    return loss if all(hasattr(loss, a) for a in ("margin", "target", "phi")) else None


def sparse_loss(problem):
    """The loss_i of ``problem`` if it is split and on sparse rows (has ``support``), else None."""
    loss = split_loss(problem)
    return loss if hasattr(loss, "support") else None


def _margin_scalars(loss, x, data):
    z = jax.vmap(loss.margin, in_axes=(None, 0))(x, data)
    t = jax.vmap(loss.target)(data)
    return jax.vmap(jax.grad(loss.phi))(z, t).astype(x.dtype)


def _margin_combine(problem, loss, data, coef):
    """sum_j coef_j a_j for the rows ``data``: the gradient of a linear map of x."""
    x0 = problem.zeros()
    return jax.grad(lambda x: jnp.sum(coef.astype(x.dtype)
                                      * jax.vmap(loss.margin, in_axes=(None, 0))(x, data)))(x0)


# XLA:CPU splits a reduction over more than this many numbers into a reduce-window and a
# second reduce, two more kernels in a loop body (see the module docstring).
_SHORT_REDUCE = 32


def _folded(a, x):
    d = a.shape[-1]
    k = -(-d // _SHORT_REDUCE)
    w = -(-d // k)
    v = jnp.pad(a * x, (0, k * w - d))
    part = v[:w]
    for j in range(1, k):
        part = part + v[j * w:(j + 1) * w]
    return jnp.sum(part)


@jax.custom_batching.custom_vmap
def _fold_dot_one(a, x):
    return _folded(a, x)


@_fold_dot_one.def_vmap
def _fold_dot_many(axis_size, in_batched, a, x):
    # Batched (seeds, configurations): one dot_general, which XLA:CPU runs as one library
    # call; the fold of 1-D rows would be k slice kernels.
    a_batched, x_batched = in_batched
    if a_batched and x_batched:
        return jnp.einsum("bd,bd->b", a, x), True
    if a_batched or x_batched:
        return (a @ x if a_batched else x @ a), True
    return jnp.broadcast_to(_folded(a, x), (axis_size,)), True


@jax.custom_jvp
def _fold_dot(a, x):
    """<a, x> for 1-D vectors: for 32 < d <= 32^2 the sum of k <= 32 slices of a * x of <= 32
    entries each, summed, so that every reduction stays short enough for XLA to fuse it with
    what reads it (one kernel instead of three, see the module docstring); ``jnp.dot``
    otherwise. Under ``vmap`` it is a batched ``dot_general``; its derivative is the dot's."""
    d = a.shape[-1]
    if d <= _SHORT_REDUCE or d > _SHORT_REDUCE**2:
        return jnp.dot(a, x)
    return _fold_dot_one(a, x)


@_fold_dot.defjvp
def _fold_dot_jvp(primals, tangents):
    (a, x), (da, dx) = primals, tangents
    return _fold_dot(a, x), jnp.dot(da, x) + jnp.dot(a, dx)


def one_dense_row(problem, x, idx) -> bool:
    """Whether ``row_grad`` applies: one index, a split loss on dense rows, an array iterate."""
    return (idx.shape[0] == 1 and split_loss(problem) is not None
            and sparse_loss(problem) is None and isinstance(x, jax.Array))


def row_grad(problem, x, idx):
    """grad f_i(x) = phi'(<a_i, x>) a_i + grad r(x) for the one row ``idx`` of a dense split loss
    (``one_dense_row``): the batch gradient of batch-1 SGD in two loop kernels, where autodiff of
    the loss takes four (the inner product's reduce-window; see the module docstring)."""
    split = split_loss(problem)
    datum = jax.tree_util.tree_map(lambda leaf: leaf[0], problem.batch(idx))
    a = jax.grad(split.margin)(x, datum)  # the row itself: the margin is linear in x
    g = jax.grad(split.phi)(_fold_dot(a, x), split.target(datum)).astype(x.dtype) * a
    return g + regularizer_grad(problem, x)


def linear_table(features: Callable[[Any], jax.Array]) -> Table:
    """The O(n) table of a linear model with feature map ``features: datum -> a_i`` (or of a
    loss split into margin and scalar loss, see the module docstring)."""

    def scalar(problem, x, datum):
        a = features(datum).astype(x.dtype)
        _, along_a = jax.jvp(lambda z: problem.loss_i(z, datum), (x,), (a,))  # phi'(z) ||a||^2
        aa = jnp.vdot(a, a)
        nonzero = aa > 0
        return jnp.where(nonzero, along_a / jnp.where(nonzero, aa, 1), 0).astype(x.dtype)

    def scalars(problem, x, data):
        _check_array_iterate(x)
        split = split_loss(problem)
        if split is not None:
            return _margin_scalars(split, x, data)
        return jax.vmap(scalar, in_axes=(None, None, 0))(problem, x, data)

    def feature_rows(problem, data, dtype):
        return jax.vmap(features)(data).astype(dtype)

    def full(problem, x):
        sparse = sparse_loss(problem)
        if sparse is None:
            _check_feature_rows(features, problem, x)
        s = scalars(problem, x, problem.data)
        if sparse is not None:
            return s, _margin_combine(problem, sparse, problem.data, s) / problem.n
        mean = (s @ feature_rows(problem, problem.data, x.dtype)) / problem.n
        return s, mean

    def rows(problem, x, idx):
        split = split_loss(problem)
        if split is not None and idx.shape[0] == 1 and sparse_loss(problem) is None:
            # One dense row: its margin as a short fold (see _fold_dot), so that the inner
            # product and phi' make one kernel.
            _check_array_iterate(x)
            datum = jax.tree_util.tree_map(lambda leaf: leaf[0], problem.batch(idx))
            z = _fold_dot(features(datum).astype(x.dtype), x)
            return jax.grad(split.phi)(z, split.target(datum)).astype(x.dtype)[None]
        return scalars(problem, x, problem.batch(idx))

    def combine(problem, idx, rows, w):
        sparse = sparse_loss(problem)
        if sparse is not None:
            return _margin_combine(problem, sparse, problem.batch(idx), w.astype(rows.dtype) * rows)
        return (w.astype(rows.dtype) * rows) @ feature_rows(problem, problem.batch(idx), rows.dtype)

    return Table(full, rows, combine, _get, _put, True)


def make_table(linear: bool | Callable) -> Table:
    """The table for the ``linear`` keyword of the VR constructors (see the module docstring)."""
    if linear is False or linear is None:
        return DENSE
    if linear is True:
        return linear_table(first_leaf)
    if callable(linear):
        return linear_table(linear)
    raise TypeError("linear must be False, True (features = the datum's first leaf) or a "
                    f"callable datum -> feature row; got {linear!r}")


def first_occurrence(idx: jax.Array) -> jax.Array:
    """Boolean mask of the first position of each distinct index in ``idx`` (shape (B,)).

    Running means of a table must count a sample once per step even when a with-replacement
    batch (or a batch across an epoch boundary) holds it twice.
    """
    b = idx.shape[0]
    if b == 1:
        return jnp.ones((1,), bool)
    order = jnp.argsort(idx, stable=True)
    ordered = idx[order]
    first_sorted = jnp.concatenate([jnp.ones((1,), bool), ordered[1:] != ordered[:-1]])
    return jnp.zeros((b,), bool).at[order].set(first_sorted)


def regularizer_grad(problem, x) -> Any:
    """grad r(x), or zeros when the problem has no regularizer."""
    if problem.regularizer is None:
        return jax.tree_util.tree_map(jnp.zeros_like, x)
    return jax.grad(problem.regularizer)(x)


def data_grad(problem, x) -> Any:
    """The mean data gradient 1/n sum_i grad loss_i(x), streamed over row blocks."""
    if problem.regularizer is None:
        return problem.grad(x)
    return problem.replace(regularizer=None, info={}).grad(x)  # info: only the data's gradient is used
