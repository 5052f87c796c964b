"""Theory-safe default steps from a problem's constants: the one formula every method and the
method registry (``sgd_bench.specs``) use when no step is given.

A default step is ``factor / L`` or ``factor / L_max`` (GD, growing batches, the variance-reduced
methods, online Newton), or ``factor / (L + L_max / B)`` for mini-batch SGD (Gower et al. 2019,
the expected smoothness of a batch of B samples drawn with replacement). ``values`` is any
mapping that holds ``"L"`` and ``"L_max"``:

- ``problem.info`` inside a method's step: its values are traced leaves of the problem, so
  another problem with other constants runs the same compiled program;
- the host floats of ``sgd_bench.constants.constants(problem)`` in the registry, which also
  covers problems whose ``info`` lacks a closed form.

``require_constant`` is the host check a method's ``check`` runs before anything compiles, so
that a missing constant is refused with the method, the constant and the argument to pass.
"""

from __future__ import annotations

from typing import Any, Mapping


def theory_step(values: Mapping[str, Any], factor: float, key: str = "L_max", *,
                batch: int | None = None):
    """``factor / values[key]``, or ``factor / (values["L"] + values["L_max"] / batch)`` when
    ``batch`` is given; traced when the values are (no host conversion here)."""
    if batch is not None:
        return factor / (values["L"] + values["L_max"] / batch)
    return factor / values[key]


def require_constant(problem, key: str, who: str, what: str = "step", arg: str = "step_size") -> None:
    """Refuses (ValueError) a default ``what`` of method ``who`` on a problem whose
    ``info[key]`` is missing or not > 0; the message names the argument ``arg`` to pass."""
    value = problem.info.get(key)
    if value is None or not value > 0:
        raise ValueError(f"{who}() with its default {what} needs problem.info['{key}'] > 0 "
                         f"(problem {problem.name!r} has {problem.info}); pass {arg}")
