"""Thin shims over JAX APIs that moved or appeared between the versions we support
(jax >= 0.4.30, see ``.ci/lower-bounds.txt``). Each shim uses the new API where it exists and an
equivalent of its own otherwise, so the rest of the package is written against one interface.

Public, because the problem catalog and the experiments need the same shims and must not import
a private module. A shim goes when the lower bound passes the version its comment names.
(``threefry_partitionable`` went: ``jax.threefry_partitionable`` exists on every supported jax.)"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
from jax import lax


def enable_x64(new_val: bool = True):
    """A context manager that turns 64-bit types on (or off, with ``False``) inside it."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(new_val)
    from jax.experimental import enable_x64 as legacy  # jax < 0.6

    return legacy(new_val)


MAP_HAS_BATCH_SIZE = "batch_size" in inspect.signature(lax.map).parameters  # jax >= 0.4.31


def batched_map(f, xs, batch_size: int | None):
    """``lax.map(f, xs, batch_size=batch_size)``: ``f`` over the leading axis of ``xs``, ``vmap``-ed
    over ``batch_size`` rows at a time (a sequential ``lax.map`` when ``batch_size`` is None).

    jax 0.4.30's ``lax.map`` has no ``batch_size``; there the same is built from a ``scan`` over
    full batches of ``vmap(f)`` and one ``vmap(f)`` over the remaining rows.
    """
    if batch_size is None or MAP_HAS_BATCH_SIZE:
        return lax.map(f, xs) if batch_size is None else lax.map(f, xs, batch_size=batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    leaves = jax.tree_util.tree_leaves(xs)
    n = leaves[0].shape[0]
    full, rest = divmod(n, batch_size)
    vf = jax.vmap(f)
    parts = []
    if full:
        head = jax.tree_util.tree_map(
            lambda a: a[: full * batch_size].reshape(full, batch_size, *a.shape[1:]), xs)
        ys = lax.map(vf, head)
        parts.append(jax.tree_util.tree_map(lambda a: a.reshape(full * batch_size, *a.shape[2:]), ys))
    if rest:
        parts.append(vf(jax.tree_util.tree_map(lambda a: a[full * batch_size:], xs)))
    if len(parts) == 1:
        return parts[0]
    return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), *parts)


def cost_flops(compiled) -> float:
    """The 'flops' entry of XLA's cost analysis of a compiled function (0 if unavailable)."""
    analysis = compiled.cost_analysis()
    if isinstance(analysis, (list, tuple)):  # older jaxlib returns one dict per computation
        analysis = analysis[0] if analysis else {}
    return float((analysis or {}).get("flops", 0.0))
