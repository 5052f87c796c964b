"""Thin shims over JAX APIs that moved or appeared between the versions we support
(jax >= 0.4.30, see ``.ci/lower-bounds.txt``). Each shim uses the new API where it exists and an
equivalent of its own otherwise, so the rest of the package is written against one interface."""

from __future__ import annotations

import contextlib
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


def threefry_partitionable(new_val: bool = True):
    """A context manager that sets ``jax_threefry_partitionable`` inside it.

    JAX made the partitionable threefry the default in 0.5.0; under the older default the same
    key gives other random bits. Data made under this context are the same on every version.
    """
    if hasattr(jax, "threefry_partitionable"):
        return jax.threefry_partitionable(new_val)
    return _config_context("jax_threefry_partitionable", new_val)  # pragma: no cover (jax < 0.4.30)


@contextlib.contextmanager
def _config_context(name, value):
    old = getattr(jax.config, name)
    jax.config.update(name, value)
    try:
        yield
    finally:
        jax.config.update(name, old)


_MAP_HAS_BATCH_SIZE = "batch_size" in inspect.signature(lax.map).parameters  # jax >= 0.4.31


def batched_map(f, xs, batch_size: int | None):
    """``lax.map(f, xs, batch_size=batch_size)``: ``f`` over the leading axis of ``xs``, ``vmap``-ed
    over ``batch_size`` rows at a time (a sequential ``lax.map`` when ``batch_size`` is None).

    jax 0.4.30's ``lax.map`` has no ``batch_size``; there the same is built from a ``scan`` over
    full batches of ``vmap(f)`` and one ``vmap(f)`` over the remaining rows.
    """
    if batch_size is None or _MAP_HAS_BATCH_SIZE:
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
