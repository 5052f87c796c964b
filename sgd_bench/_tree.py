"""Small pytree arithmetic used by methods and the runner, so iterates may be any pytree."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def sq_norm(tree: Any) -> jax.Array:
    """sum of squares of all leaves."""
    return sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree_util.tree_leaves(tree))


def sub_scaled(x: Any, alpha: Any, g: Any) -> Any:
    """x - alpha * g leaf by leaf, with alpha cast to each leaf's dtype (no silent promotion)."""
    return jax.tree_util.tree_map(lambda xi, gi: xi - jnp.asarray(alpha, gi.dtype) * gi, x, g)


def sub(a: Any, b: Any) -> Any:
    return jax.tree_util.tree_map(jnp.subtract, a, b)


def structure_matches(a: Any, b: Any) -> bool:
    """True when two pytrees have the same structure, leaf shapes and dtypes kinds."""
    if jax.tree_util.tree_structure(a) != jax.tree_util.tree_structure(b):
        return False
    return all(jnp.shape(u) == jnp.shape(v)
               for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))
