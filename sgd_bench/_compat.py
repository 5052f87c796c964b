"""Thin shims over JAX APIs that moved between the versions we support (jax >= 0.4.30)."""

from __future__ import annotations

import jax


def enable_x64():
    """A context manager that turns on 64-bit types inside it."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64 as legacy  # jax < 0.6

    return legacy()


def cost_flops(compiled) -> float:
    """The 'flops' entry of XLA's cost analysis of a compiled function (0 if unavailable)."""
    analysis = compiled.cost_analysis()
    if isinstance(analysis, (list, tuple)):  # older jaxlib returns one dict per computation
        analysis = analysis[0] if analysis else {}
    return float((analysis or {}).get("flops", 0.0))

