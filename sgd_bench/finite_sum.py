"""The finite-sum problem f(x) = 1/n sum_i f_i(x): a pytree of data plus a per-sample loss.

Everything a method needs (full loss and gradient, per-sample and mini-batch gradients,
Hessian-vector products) is derived from ``loss_i`` by JAX transformations. The regularizer
r(x) is part of every f_i, so f_i(x) = loss_i(x, datum_i) + r(x) and the mean of the
per-sample gradients is the full gradient.

Full-data reductions stream over row blocks of ``block_rows`` rows (a few MiB each) inside a
``lax.scan``, so a full gradient reads the data once and never materializes the n x d matrix of
per-sample gradients.

On XLA:CPU a streamed reduction runs on one thread (its loop's dots run on the calling thread),
while a plain ``jnp.sum`` of the data uses every core; to put every core on a full gradient,
shard the data over one CPU device per core (``sgd_bench.shard`` in a process started with
``--xla_force_host_platform_device_count``). The measurements are in
``sgd_bench_harness/experiments/peers/cores.py``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sgd_bench import validation
from sgd_bench import _tree, memory
from sgd_bench._values import Label, check_replaced_data, leaves_equal, leaves_hash, shifted_info
from sgd_bench.method_state import Shapes, fits_x_shape

PROBLEM_CLASSES = ("strongly_convex", "pl", "convex", "nonconvex", "nonsmooth")

# Rows per streamed block are chosen so that one block of data is about this many bytes:
# small enough to stay in a core's L2 cache between the forward matvec and the backward
# vector-matrix product (so the data is read from memory once), large enough to amortize
# the loop. On XLA:CPU (n = 10^6, d = 100, f64) 256 KiB blocks ran a full gradient at ~1.6
# reads of the data, 4 MiB blocks at ~2.9.
_BLOCK_BYTES = 256 * 2**10

# Batches of at most this many rows are gathered as row slices on CPU (see FiniteSum.batch).
_SLICED_GATHER_MAX = 8


@jax.tree_util.register_pytree_node_class
class L2:
    """The ridge regularizer r(x) = mu/2 ||x||^2. ``mu`` is a pytree leaf, so problems that
    differ only in mu share one compiled program."""

    def __init__(self, mu: float):
        self.mu = mu if isinstance(mu, jax.core.Tracer) else validation.nonnegative_float("mu", mu)

    def __call__(self, x) -> jax.Array:
        return 0.5 * self.mu * _tree.sq_norm(x)

    def tree_flatten(self):
        return (self.mu,), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        obj.mu = children[0]
        return obj

    def __eq__(self, other):
        return type(other) is L2 and leaves_equal([self.mu], [other.mu])

    def __hash__(self):
        return hash(("L2", leaves_hash([self.mu])))

    def __repr__(self):
        return f"L2(mu={self.mu!r})"


def _float_dtype(leaves):
    for leaf in leaves:  # as JAX holds it (float64 is float32 with x64 off)
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            return jax.dtypes.canonicalize_dtype(leaf.dtype)
    return jnp.result_type(float)


def _is_tree(value) -> bool:
    """Whether ``value`` is a pytree with leaves of its own (``L2``), not a plain callable."""
    if value is None:
        return False
    leaves = jax.tree_util.tree_leaves(value)
    return not (len(leaves) == 1 and leaves[0] is value)


def _default_block_rows(data) -> int:
    row_bytes = sum(
        int(np.prod(leaf.shape[1:], dtype=np.int64)) * leaf.dtype.itemsize
        for leaf in jax.tree_util.tree_leaves(data)
    )
    return max(64, _BLOCK_BYTES // max(row_bytes, 1))


@jax.tree_util.register_pytree_node_class
class FiniteSum:
    """A finite-sum problem f(x) = 1/n sum_i [loss_i(x, datum_i) + r(x)].

    **Arguments:**

    - ``loss_i``: a pure function ``(x, datum) -> scalar``, where ``datum`` is one row of
      ``data`` (the pytree ``data`` with its leading axis indexed away).
    - ``data``: a pytree of arrays sharing the leading axis n.
    - ``regularizer``: optional ``x -> scalar`` added to every f_i (for example ``L2(mu)``).
      A pytree such as ``L2(mu)`` puts its numbers in the traced values (another mu, same
      program); a plain function is static and compared by identity.
    - ``name``: a label for tables and plots.
    - ``problem_class``: one of ``PROBLEM_CLASSES``; what the theory may assume.
    - ``x_shape``: the shape of an iterate when x is an array (``loss_i`` is traced once at it, abstractly,
      here); ``None`` lets it be inferred from ``x0`` (any pytree accepted by ``loss_i``).
    - ``info``: known facts (for example ``{"mu": 1.0, "L": 1.37}``), floats only.
    - ``block_rows``: rows per block in streamed full-data reductions (default: ~256 KiB).
    - ``shards``: the number of equal row shards the data is split into across devices
      (set by ``sgd_bench.shard``; 1 on a single device). Full-data reductions then stream
      each shard's rows locally and sum the per-shard results: one cross-device reduction.
    - ``validate``: check that the data is finite (one pass over it, on construction).

    A ``FiniteSum`` is a pytree: the data, the values of ``info`` and a pytree regularizer's
    numbers are its children, so they are traced (not baked in) when passed to a jitted
    function; new data of the same shapes and dtypes, another mu or other constants reuse the
    compiled program. The loss, shapes and block sizes are static; the name is a label only.
    Float64 data while ``jax_enable_x64`` is off is cast to float32 with a ``PrecisionWarning``
    (``sgd_bench.precision``: entries float32 cannot hold are refused or named).
    """

    def __init__(
        self,
        loss_i: Callable[[Any, Any], jax.Array],
        data: Any,
        *,
        regularizer: Callable[[Any], jax.Array] | None = None,
        name: str = "custom",
        problem_class: str = "nonconvex",
        x_shape: tuple[int, ...] | None = None,
        info: Mapping[str, float] | None = None,
        block_rows: int | None = None,
        shards: int = 1,
        validate: bool = True,
    ):
        if not callable(loss_i):
            raise TypeError(f"loss_i must be callable (x, datum) -> scalar, got {loss_i!r}")
        if regularizer is not None and not callable(regularizer):
            raise TypeError(f"regularizer must be callable x -> scalar or None, got {regularizer!r}")
        validation.choice("problem_class", problem_class, PROBLEM_CLASSES)
        validation.instance("name", name, str, "a string, a label for tables and plots")  # None was 'None'
        # Every check runs on the arrays as given (host arrays stay on the host), so bad data is
        # refused before anything is transferred to a device or compiled.
        leaves, treedef = validation.data_leaves(data)
        if not leaves:
            raise ValueError("data must hold at least one array")
        for name_, leaf in leaves:
            if len(leaf.shape) == 0:
                raise ValueError(
                    f"every leaf of data needs a leading sample axis; got a scalar leaf {name_} "
                    "(lists and tuples are pytrees, not arrays: pass np.asarray(...) for a list "
                    "of rows)")
        sizes = {int(leaf.shape[0]) for _, leaf in leaves}
        if len(sizes) != 1:
            raise ValueError(f"all leaves of data must share the leading axis n; got sizes {sorted(sizes)}")
        (n,) = sizes
        if n < 1:
            raise ValueError("data must hold at least one sample (n >= 1)")
        if validation.boolean("validate", validate):  # "no" is truthy: it validated anyway
            for name_, leaf in leaves:
                validation.finite_array(name_, leaf)
        if block_rows is not None:
            block_rows = validation.integer("block_rows", block_rows, low=1)
        shards = validation.integer("shards", shards, low=1)
        if n % shards:
            raise ValueError(f"shards must divide n = {n}, got shards = {shards}")
        x_shape = validation.x_shape(x_shape)
        info = validation.problem_info(info)
        reg = [("mu", regularizer.mu)] if isinstance(regularizer, L2) else []
        validation.within_dtype(reg + [(f"info[{k!r}]", v) for k, v in info],
                                _float_dtype(leaf for _, leaf in leaves), f"problem {name!r}")
        validation.warn_if_downcast(leaves)
        fits_x_shape(Shapes(loss_i, treedef, leaves, regularizer, name, x_shape))  # x_shape=(4,) on 3 columns ran
        data = jax.tree_util.tree_unflatten(treedef, [validation.jax_array(name_, leaf) for name_, leaf in leaves])
        if block_rows is None:
            block_rows = _default_block_rows(data)
        self._init(data, loss_i, regularizer, name, problem_class, x_shape, info, block_rows, shards)

    def _init(self, data, loss_i, regularizer, name, problem_class, x_shape, info, block_rows,
              shards):
        self.data = data
        self.loss_i = loss_i
        self.regularizer = regularizer
        self.name = name
        self.problem_class = problem_class
        self.x_shape = x_shape
        self._info = info
        self.block_rows = block_rows
        self.shards = shards

    # -- pytree protocol -------------------------------------------------------------------
    # Children: the data, the values of ``info`` and a regularizer that is a pytree itself
    # (``L2``: its mu). So new data of the same shapes, another mu or other constants reuse the
    # compiled program. Static: the loss, the names of the facts, shapes and block sizes; the
    # name is a label that never selects a program.
    def tree_flatten(self):
        reg_is_tree = _is_tree(self.regularizer)
        keys = tuple(k for k, _ in self._info)
        children = (self.data, tuple(v for _, v in self._info),
                    self.regularizer if reg_is_tree else None)
        aux = (self.loss_i, None if reg_is_tree else self.regularizer, Label(self.name),
               self.problem_class, self.x_shape, keys, self.block_rows, self.shards)
        return children, aux

    @classmethod
    def tree_unflatten(cls, aux, children):
        loss_i, reg_static, name, problem_class, x_shape, keys, block_rows, shards = aux
        data, values, reg_tree = children
        obj = object.__new__(cls)
        obj._init(data, loss_i, reg_static if reg_tree is None else reg_tree, name.text,
                  problem_class, x_shape, tuple(zip(keys, values)), block_rows, shards)
        return obj

    def replace(self, **changes) -> "FiniteSum":
        """A copy with some fields changed (``data``, ``name``, ``block_rows``, ...). ``info`` is
        kept for the same data (cast to another dtype, placed on devices); other data (another n,
        other values) needs ``info`` too: the old facts (L, mu) describe the old data. A new
        regularizer moves info's L, L_max and mu with it (``_values.shifted_info``). Traced data
        (inside ``jit``) needs ``info`` too: its facts cannot be checked or computed on the host."""
        fields = dict(loss_i=self.loss_i, data=self.data, regularizer=self.regularizer, name=self.name,
                      problem_class=self.problem_class, x_shape=self.x_shape, info=self.info,
                      block_rows=self.block_rows, shards=self.shards)
        if unknown := set(changes) - set(fields):
            raise TypeError(f"unknown field(s) {sorted(unknown)}; known: {sorted(fields)}")
        if "data" in changes and "info" not in changes and self._info:  # L of the old data was read silently
            check_replaced_data(self.name, sorted(self.info), changes["data"], self.data)
        if "regularizer" in changes and "info" not in changes:
            ridge = [0.0 if r is None else r.mu if isinstance(r, L2) else None for r in (self.regularizer, changes["regularizer"])]
            changes["info"] = shifted_info(self.info, *ridge, changes.get("problem_class", self.problem_class))
        fields.update(changes)
        return FiniteSum(fields.pop("loss_i"), fields.pop("data"), validate=False, **fields)  # checks x_shape

    def __repr__(self) -> str:
        shapes = jax.tree_util.tree_map(lambda a: f"{a.dtype}{list(a.shape)}", self.data)
        return f"FiniteSum(name={self.name!r}, n={self.n}, class={self.problem_class}, data={shapes})"

    # -- static facts ----------------------------------------------------------------------
    @property
    def n(self) -> int:
        """The number of terms in the sum."""
        return jax.tree_util.tree_leaves(self.data)[0].shape[0]

    @property
    def info(self) -> dict[str, float]:
        """Known facts about the problem (mu, L, ...), as given by its constructor: floats on the
        host, traced scalars inside a compiled program (they are leaves of the problem)."""
        return dict(self._info)

    @property
    def dtype(self):
        """The floating dtype of the data (the first floating leaf)."""
        return _float_dtype(jax.tree_util.tree_leaves(self.data))

    def zeros(self) -> jax.Array:
        """An all-zero iterate of shape ``x_shape`` in the data's dtype."""
        if self.x_shape is None:
            raise ValueError(f"problem {self.name!r} has no x_shape; pass x0 explicitly")
        return memory.zeros(self.x_shape, self.dtype, f"the zero iterate of problem {self.name!r}")  # checked: x_shape may be huge

    # -- per-sample and mini-batch quantities ------------------------------------------------
    def batch(self, idx) -> Any:
        """The data rows ``idx`` (an integer array), as a pytree with leading axis len(idx).

        Host indices (NumPy arrays, lists, concrete JAX arrays) must lie in [0, n), or a
        ValueError names them. Traced indices (inside ``jit``, ``vmap`` or ``scan``: the engine's
        hot path, whose indices come from the sampler and are in range) are not checked, so the
        compiled program is the same with or without the check. There, as in JAX's indexing, an
        index in [-n, 0) counts from the end, and one outside [-n, n) is not an error: it gives
        the nearest row (one row, or up to 8 rows on CPU, which are sliced) or NaN (larger
        batches, whose gather fills what is out of bounds).
        """
        if not isinstance(idx, jax.core.Tracer):  # [n] gave row n - 1 without a word
            rows = self._rows(idx, flat=False)
            idx = idx if isinstance(idx, jax.Array) else rows
        if idx.ndim == 1 and idx.shape[0] == 1 and self.shards == 1:
            # One row: a dynamic slice, without the out-of-bounds select that jnp.take adds
            # (~7% of a batch-1 SGD step on XLA:CPU); the sampler's indices are in range.
            # Sharded data keeps the gather, which the partitioner handles without a copy.
            return jax.tree_util.tree_map(lambda a: lax.dynamic_slice_in_dim(a, idx[0], 1, axis=0),
                                          self.data)
        if idx.ndim == 1 and 1 < idx.shape[0] <= _SLICED_GATHER_MAX and jax.default_backend() == "cpu":
            # XLA:CPU's gather costs ~0.3 us per index for small batches inside a loop; a
            # concatenation of dynamic row slices does the same in ~30 ns per row.
            rows = [idx[j] for j in range(idx.shape[0])]
            return jax.tree_util.tree_map(
                lambda a: jnp.concatenate([lax.dynamic_slice_in_dim(a, r, 1, axis=0) for r in rows]),
                self.data)
        return jax.tree_util.tree_map(lambda a: jnp.take(a, idx, axis=0), self.data)

    def _reg(self, x):
        return 0.0 if self.regularizer is None else self.regularizer(x)

    def _block_sum(self, x, block) -> jax.Array:
        return jnp.sum(jax.vmap(self.loss_i, in_axes=(None, 0))(x, block))

    def _rows(self, idx, flat: bool = True):
        # a host index outside [0, n) was clamped by the gather without a word: idx=[100] with
        # n = 20 gave row 19, and [-1] gave row 0 (NumPy's -1 is the last); traced indices pass
        if isinstance(idx, jax.core.Tracer):
            return idx
        rows = np.asarray(idx)
        if rows.dtype.kind not in "iu" or (flat and rows.ndim != 1) or (rows.size and not (
                rows.min() >= 0 and rows.max() < self.n)):
            raise ValueError(f"idx must be {'a 1-D' if flat else 'an integer'} array of row indices in "
                             f"[0, n) = [0, {self.n}), got {idx!r}")
        return rows

    def per_sample_losses(self, x, idx=None) -> jax.Array:
        """f_i(x) for every i (or for ``idx``), shape (n,) or (len(idx),)."""
        data = self.data if idx is None else self.batch(self._rows(idx))
        return jax.vmap(self.loss_i, in_axes=(None, 0))(x, data) + self._reg(x)

    def per_sample_grads(self, x, idx=None) -> Any:
        """grad f_i(x) for every i (or for ``idx``) via ``vmap(grad(loss_i))``; leading axis is i.

        This materializes one gradient per sample: use it for small batches and checks, and
        ``grad`` for the full gradient.
        """
        data = self.data if idx is None else self.batch(self._rows(idx))
        g = jax.vmap(jax.grad(self.loss_i), in_axes=(None, 0))(x, data)
        if self.regularizer is None:
            return g
        g_reg = jax.grad(self.regularizer)(x)
        return jax.tree_util.tree_map(lambda gi, gr: gi + gr[None], g, g_reg)

    def batch_loss(self, x, idx) -> jax.Array:
        """1/|B| sum_{i in B} f_i(x) for the index array ``idx``."""
        return self._block_sum(x, self.batch(idx)) / idx.shape[0] + self._reg(x)

    def batch_value_and_grad(self, x, idx):
        """(batch loss, batch gradient) at x for the index array ``idx``."""
        return jax.value_and_grad(self.batch_loss)(x, idx)

    def batch_grad(self, x, idx) -> Any:
        """1/|B| sum_{i in B} grad f_i(x) for the index array ``idx``."""
        return jax.grad(self.batch_loss)(x, idx)

    # -- full-data quantities, streamed over row blocks ----------------------------------------
    def stream_sum(self, fn: Callable[[Any, Any], Any], x) -> Any:
        """Sums ``fn(x, block)`` (a pytree) over row blocks of ``block_rows`` rows of the data,
        reading each row once: the one streamed reduction that every full-data quantity uses.

        With several shards, the data is viewed as (shards, n / shards, ...) and each shard is
        streamed on its own (vmapped over the shard axis, which is the sharded one), so every
        device reads only its rows; the final sum over shards is the one cross-device reduction.
        """
        if self.shards == 1:
            return _stream_rows(fn, x, self.data, self.block_rows)
        split = jax.tree_util.tree_map(
            lambda a: a.reshape((self.shards, a.shape[0] // self.shards) + a.shape[1:]), self.data)
        per_shard = jax.vmap(lambda d: _stream_rows(fn, x, d, self.block_rows))(split)
        return jax.tree_util.tree_map(lambda a: jnp.sum(a, axis=0), per_shard)

    def check_shape(self, x, name: str = "x"):
        """Returns ``x``, or raises ValueError naming ``name``, ``x_shape`` and x's shape when they
        differ (nothing is checked when ``x_shape`` is None)."""
        # x of another shape failed inside loss_i with JAX's "dot_general requires contracting
        # dimensions ..."; shapes are static, so this costs nothing under jit and changes no value
        if self.x_shape is not None:
            try:
                shape = tuple(np.shape(x))
            except ValueError:  # a ragged list
                shape = None
            if shape != self.x_shape:
                raise ValueError(f"{name} must have shape {self.x_shape} for problem {self.name!r}, got "
                                 f"{shape if shape is not None else type(x).__name__}")
        return x

    def loss(self, x) -> jax.Array:
        """f(x) = 1/n sum_i f_i(x)."""
        x = self.check_shape(x)
        return self.stream_sum(self._block_sum, x) / self.n + self._reg(x)

    def value_and_grad(self, x):
        """(f(x), grad f(x)) in one streamed pass over the data."""
        x = self.check_shape(x)
        total, g = self.stream_sum(jax.value_and_grad(self._block_sum), x)
        inv_n = 1.0 / self.n
        value = total * inv_n
        g = jax.tree_util.tree_map(lambda gi: gi * jnp.asarray(inv_n, gi.dtype), g)
        if self.regularizer is not None:
            r, g_reg = jax.value_and_grad(self.regularizer)(x)
            value = value + r
            g = jax.tree_util.tree_map(jnp.add, g, g_reg)
        return value, g

    def grad(self, x) -> Any:
        """grad f(x) = 1/n sum_i grad f_i(x), streamed over row blocks."""
        # Streams the gradient alone: accumulating f as well would cost a transcendental per
        # sample that a GD step does not need.
        x = self.check_shape(x)
        g = self.stream_sum(jax.grad(self._block_sum), x)
        g = jax.tree_util.tree_map(lambda gi: gi * jnp.asarray(1.0 / self.n, gi.dtype), g)
        if self.regularizer is not None:
            g = jax.tree_util.tree_map(jnp.add, g, jax.grad(self.regularizer)(x))
        return g

    def hvp(self, x, v) -> Any:
        """The Hessian-vector product grad^2 f(x) v (forward-over-reverse)."""
        return jax.jvp(self.grad, (x,), (v,))[1]


def _stream_rows(fn: Callable[[Any, Any], Any], x, data, block_rows: int) -> Any:
    """Sums ``fn(x, block)`` over consecutive blocks of ``block_rows`` rows of ``data``."""
    n = jax.tree_util.tree_leaves(data)[0].shape[0]
    b = block_rows
    num_blocks = n // b
    if num_blocks <= 1:
        return fn(x, data)

    def body(acc, i):
        block = jax.tree_util.tree_map(lambda a: lax.dynamic_slice_in_dim(a, i * b, b, axis=0), data)
        return jax.tree_util.tree_map(jnp.add, acc, fn(x, block)), None

    first = jax.tree_util.tree_map(lambda a: a[:b], data)
    acc = jax.tree_util.tree_map(jnp.zeros_like, jax.eval_shape(fn, x, first))
    acc, _ = lax.scan(body, acc, jnp.arange(num_blocks, dtype=jnp.int32))
    if n % b:
        tail = jax.tree_util.tree_map(lambda a: a[num_blocks * b:], data)
        acc = jax.tree_util.tree_map(jnp.add, acc, fn(x, tail))
    return acc
