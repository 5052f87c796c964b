"""The flags a run's ``Trace`` carries about a run gone wrong, and the one rule behind each.

- ``diverged`` / ``rose``: the loss at a log point is NaN/Inf or above a multiple of
  max(|f(x_0)|, 1) (``above_start``): ``DIVERGENCE_FACTOR`` = 10^6 for ``diverged``, the run's
  ``rise_factor`` (default ``RISE_FACTOR`` = 10) for ``rose``. ``sgd_bench.stats`` leaves diverged
  seeds out of means; a seed that rose but stayed finite stays in (the reason is at
  ``RISE_FACTOR``). Stored records are judged by the same function (the grid's report,
  variance_reduction's timed seeds).
- ``negative_step_at``: the first step at which a step size is negative or NaN
  (``first_negative_step``), warned about with ``NegativeStepWarning``; 0 for a traced
  preconditioner that is not positive semi-definite (``traced_preconditioner_climbs``).
- ``counts["uphill_steps"]`` (``lbfgs``): the steps whose line search ended without sufficient
  decrease and took a point above f(x_k), warned about with ``UphillStepWarning`` (``warn_uphill``).

Hyperparameters traced by a user's ``jax.jit`` (around ``run``, or ``Method.replace`` of a traced
value) skip the host checks, which need numbers. Of what those checks refuse, the run flags: a
negative or NaN step size of any schedule or optax learning rate (``negative_step_at`` at the
first such k) and a preconditioner with a negative eigenvalue (at 0); no ``NegativeStepWarning``
is issued there (the values are known only when the program runs): read the flag. Not flagged:
a step size of exactly 0 (the run stands still), a zero preconditioner, and every other
hyperparameter outside its range (a momentum of 2, an SVRG loop length of 0 or -3, a negative
noise scale), which runs as the formulas make it; what that does to the loss shows in ``rose``
and ``diverged``.

The runner computes them inside its compiled programs; this module keeps the rules in one place.

``Solver.advance`` (and ``Solver.run``) return a state, which carries no flag: it has no losses to
judge (a state holds no f(x_0); ``Solver.metrics`` gives f(x_k) for the caller's own rule, and
``sgd_bench.run`` the flags). Decided: a step size that goes negative within the steps it runs is
warned about there as in ``run`` (``NegativeStepWarning``, from ``warn_solver_negative``), since the
step sizes are known on the host; ``first_negative_step(method, steps)`` is the accessor for a flag
of one's own. Not checked there: a state or hyperparameters traced by a user's ``jax.jit``.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import validation
from sgd_bench.methods import step_sizes

# A seed has diverged once its loss is not finite or exceeds this multiple of max(|f(x_0)|, 1).
DIVERGENCE_FACTOR = 1e6
# A seed has *risen* once its loss is not finite or exceeds this multiple of max(|f(x_0)|, 1)
# (the default of ``rise_factor``): an order of magnitude above the start is far above where any
# descent method should go (lecture_decreasing uncapped went 0.69 -> 85 within one epoch, and the
# diverged flag waited for 10^6). Unlike a diverged seed, a risen one stays in the statistics: its
# loss is a finite, real outcome of the method (often a transient climb it recovers from), and
# leaving it out would bias the means toward the seeds that behaved.
RISE_FACTOR = 10.0
# Step numbers k per vectorized evaluation of the step sizes when looking for a negative one.
STEP_CHECK_BLOCK = 1024
# A step size counts as negative below -ROUNDING_ULPS eps |alpha_0| (rounding of a decay to 0 is not).
ROUNDING_ULPS = 64


class NegativeStepWarning(UserWarning):
    """A run's step size went negative (or NaN) at some step k: from there it climbs uphill."""


def above_start(loss, factor):
    """The runner's one rule for a loss gone bad, per log point: f(x_k) is NaN/Inf or above
    ``factor`` max(|f(x_0)|, 1), where f(x_0) is ``loss[..., 0]`` (log points on the last axis).
    ``diverged`` is this with ``DIVERGENCE_FACTOR``, ``rose`` with the rise factor. Traced or
    NumPy arrays (stored records) alike; compared in at least float32 (1e6 overflows float16)."""
    xp = np if isinstance(loss, (np.ndarray, np.generic)) else jnp
    wide = loss.astype(xp.promote_types(loss.dtype, xp.float32))
    limit = factor * xp.maximum(xp.abs(wide[..., :1]), 1.0)
    return ~xp.isfinite(wide) | (wide > limit)


def check_rise_factor(rise_factor) -> float:
    """``rise_factor`` as a float: ``RISE_FACTOR`` for None, else finite and >= 1."""
    if rise_factor is None:
        return RISE_FACTOR
    value = validation.finite_float("rise_factor", rise_factor)
    if value < 1:
        raise ValueError(f"rise_factor must be >= 1 (a multiple of max(|f(x_0)|, 1)), got {rise_factor!r}")
    return value


def first_negative_step(method, steps) -> jax.Array:
    """The first k in [0, steps) at which a step size of ``method`` is negative (beyond rounding)
    or NaN, or -1
    (traceable; ``steps`` may be traced). Evaluates every step size at every k, in blocks of
    ``STEP_CHECK_BLOCK``, stopping at the first bad block: cheap next to the steps themselves,
    and exact for any schedule, where sampling a few k could miss a dip below zero."""
    fns = [fn for _, fn in step_sizes(method)]
    if not fns:
        return jnp.int32(-1)
    steps = jnp.asarray(steps, jnp.int32)
    offsets = jnp.arange(STEP_CHECK_BLOCK, dtype=jnp.int32)

    def floating(a):
        a = jnp.asarray(a)
        return a.astype(jnp.promote_types(a.dtype, jnp.float32))

    # A schedule that decays to exactly 0 may land a rounding error below it (optax 0.2.5's
    # linear_schedule gives -7e-10 after 0.1 in float32): that does not climb. Below
    # -ROUNDING_ULPS eps |alpha_0| does.
    floors = [-ROUNDING_ULPS * jnp.finfo(floating(fn(jnp.int32(0))).dtype).eps
              * jnp.abs(floating(fn(jnp.int32(0)))) for fn in fns]

    def body(carry):
        k0, _ = carry
        left = steps - k0  # > 0 here; k0 + offsets may wrap past int32 only beyond ``left``
        ks = k0 + offsets
        bad = jnp.zeros(STEP_CHECK_BLOCK, bool)
        for fn, floor in zip(fns, floors):
            alpha = floating(jnp.broadcast_to(jax.vmap(lambda k, fn=fn: fn(k))(ks), ks.shape))
            bad = bad | ~(alpha >= floor)
        bad = bad & (offsets < left)
        found = jnp.where(jnp.any(bad), k0 + jnp.argmax(bad).astype(jnp.int32), -1)
        return k0 + jnp.minimum(left, STEP_CHECK_BLOCK), found

    _, found = jax.lax.while_loop(lambda c: (c[1] < 0) & (c[0] < steps), body,
                                  (jnp.int32(0), jnp.int32(-1)))
    return found


def traced_preconditioner_climbs(method):
    """A traced bool: whether a preconditioner of ``method`` (a hyperparameter named
    ``preconditioner``, as ``preconditioned_sgd``'s) that is traced, so unchecked on the host (a user's
    ``jax.jit`` around ``run``), has a direction it climbs along (``quasi_newton.climbs``); None when
    none is traced. The runner then sets ``negative_step_at`` to 0: every step climbs along it."""
    from sgd_bench.quasi_newton import climbs

    bad = [climbs(v) for name, v in method.values().items()
           if name.rsplit(".", 1)[-1] == "preconditioner" and isinstance(v, jax.core.Tracer) and jnp.ndim(v) == 2]
    return None if not bad else jnp.any(jnp.stack(bad))


def warn_negative(negative: np.ndarray, label: str) -> None:
    if np.all(negative < 0):
        return
    first = int(negative[negative >= 0].min())
    where = ""
    if negative.ndim == 2:  # a sweep: (config, seed); every seed of a config shares its steps
        configs = np.flatnonzero(np.any(negative >= 0, axis=1))
        where = f" in configuration(s) {', '.join(str(c) for c in configs[:10])}" + (
            " ..." if len(configs) > 10 else "")
    warnings.warn(f"{label}: a step size is negative (or NaN) from step k = {first}{where}: the run "
                  "climbs uphill from there; Trace.negative_step_at flags it", NegativeStepWarning,
                  stacklevel=4)


_first_negative_jit = jax.jit(first_negative_step)


def warn_solver_negative(solver, k_end: int) -> None:
    """``Solver.advance``'s check (see the module docstring): warns when a step size of the solver's
    method is negative (or NaN) at some k < ``k_end``. Constant steps are checked by their
    constructors; the first negative k is searched once up to a horizon that doubles, so a driver
    loop of many short ``advance`` calls evaluates each k about twice."""
    from sgd_bench.schedules import Schedule

    method = solver.method
    if any(isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves(method)):
        return
    if all(isinstance(fn, Schedule) and fn.is_constant for _, fn in step_sizes(method)):
        return
    checked, found = getattr(solver, "_negative_checked", (0, -1))
    if found < 0 and k_end > checked:
        checked = min(max(k_end, 2 * checked), validation.MAX_STEPS)
        found = int(_first_negative_jit(method, jnp.int32(checked)))
        solver._negative_checked = (checked, found)
    if 0 <= found < k_end:
        warnings.warn(f"Solver.advance of {method.name}: a step size is negative (or NaN) from step k = {found}: "
                      "the run climbs uphill from there (the state carries no flag; sgd_bench.run's "
                      "Trace.negative_step_at does)", NegativeStepWarning, stacklevel=3)


class UphillStepWarning(UserWarning):
    """A line-search method (``lbfgs``) took steps that raised f: its search found no decrease."""


def warn_uphill(counts, label: str) -> None:
    """Warns when a run's ``counts`` (``Trace.counts``, host values) hold ``uphill_steps`` above 0 at
    its last log point, in any seed or configuration."""
    if counts is None or "uphill_steps" not in counts:
        return
    last = np.asarray(counts["uphill_steps"])[..., -1]
    if np.any(last > 0):
        warnings.warn(f"{label}: {int(np.max(last))} step(s) went uphill (f(x_k+1) > f(x_k): the line search ended "
                      "without sufficient decrease and took its last trial point); Trace.counts['uphill_steps'] "
                      "counts them per log point", UphillStepWarning, stacklevel=4)
