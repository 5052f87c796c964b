"""Small pytree arithmetic used by methods and the runner, so iterates may be any pytree."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import validation


def sq_norm(tree: Any) -> jax.Array:
    """sum of squares of all leaves."""
    return sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree_util.tree_leaves(tree))


def sub_scaled(x: Any, alpha: Any, g: Any) -> Any:
    """x - alpha * g leaf by leaf, with alpha cast to each leaf's dtype (no silent promotion)."""
    return jax.tree_util.tree_map(lambda xi, gi: xi - jnp.asarray(alpha, gi.dtype) * gi, x, g)


def sub(a: Any, b: Any) -> Any:
    return jax.tree_util.tree_map(jnp.subtract, a, b)


def cast_floating(tree: Any, dtype) -> Any:
    """``tree`` with every floating leaf cast to ``dtype`` (integer and boolean leaves kept)."""
    def cast(a):
        a = jnp.asarray(validation.native_order(a))  # a big-endian NumPy x0: JAX's error from inside
        return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a

    return jax.tree_util.tree_map(cast, tree)


def mean_update(avg: Any, new: Any, count: Any) -> Any:
    """avg + (new - avg) / count leaf by leaf: the running mean after adding ``new`` as item
    ``count`` (count 1 gives ``new``); ``count`` is cast to each leaf's dtype."""
    return jax.tree_util.tree_map(lambda a, b: a + (b - a) / jnp.asarray(count, b.dtype), avg, new)


def structure_matches(a: Any, b: Any) -> bool:
    """True when two pytrees have the same structure, leaf shapes and dtypes kinds."""
    if jax.tree_util.tree_structure(a) != jax.tree_util.tree_structure(b):
        return False
    return all(jnp.shape(u) == jnp.shape(v)
               for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def hyperparam_dtype(x: Any):
    """The dtype optax's injected hyperparameters take for iterate ``x``: its widest floating
    type, at least float32. optax.inject_hyperparams casts them to x's own dtype, and in
    bfloat16 adam's b2 = 0.999 rounds to 1.0: its bias correction divides by 0 (NaN at step 1)."""
    return functools.reduce(jnp.promote_types, [jnp.result_type(a) for a in jax.tree_util.tree_leaves(x)],
                            jnp.float32)


def cast_like(tree: Any, like: Any) -> Any:
    """``tree`` with each leaf cast to the dtype of ``like``'s leaf where they differ (a loop's
    carry keeps its types); leaves that already match are returned untouched."""
    return jax.tree_util.tree_map(lambda a, b: a if a.dtype == b.dtype else a.astype(b.dtype), tree, like)


def on_host(what: str, why: str, *trees: Any) -> None:
    """Refuses traced leaves in ``trees`` for a function that works on the host: under a user's jit,
    vmap or grad it was JAX's ConcretizationTypeError (``float()`` of a tracer) from inside."""
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(trees)):
        raise TypeError(f"{what} works on the host ({why}), so it cannot run inside jit / vmap / grad, "
                        "and an argument here is traced: call it outside them, on concrete values")
    # under a user's jit even concrete arguments give traced results (an array made here is a tracer):
    # jax.jit(lambda k: theory.gd_pl(k, theory.constants(p), ...)) was the ConcretizationTypeError still
    if isinstance(jnp.zeros(()), jax.core.Tracer):
        raise TypeError(f"{what} works on the host ({why}), so it cannot run inside jit / vmap / grad, "
                        "and it is being traced here (inside a jax.jit): call it outside, on concrete values")


def listed(x: Any, x_shape) -> Any:
    """A list or tuple ``x`` of numbers as one NumPy array where the problem has an ``x_shape`` (there
    it is no pytree of its own), as ``reference_solution`` takes it; anything else as it is."""
    if x_shape is None or not isinstance(x, (list, tuple)):
        return x
    try:
        return np.asarray(x)
    except (ValueError, TypeError):  # ragged: the shape check names it
        return x
