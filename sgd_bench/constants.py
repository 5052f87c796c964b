"""The constants the lecture's bounds are written in, gathered for any ``FiniteSum`` in float64.

``constants(problem)`` returns L (global smoothness), L_max (the largest per-sample smoothness
L_i), mu (strong convexity or PL constant), sigma_*^2 = E_i ||grad f_i(x*)||^2 and f*, each
with a note of how it was obtained. The lecture's sigma^2 belongs to a run, not to the problem:
``sigma2_along_run`` (``sgd_bench.gradient_noise``) measures it from a run's logged iterates.

How L, L_max and mu are obtained, in order of preference:

- a closed form the problem's factory stored in ``problem.info`` (``"L"``, ``"L_max"``,
  ``"mu"``): these are the tight constants (for logistic regression L = lambda_max(A^T A/n)/4
  + mu, attained at x = 0; for least squares the extreme eigenvalues of A^T A/n);
- an upper bound from ``problem.info`` (``"L_upper"``, ``"L_max_upper"``) where the tight
  global constant has no closed form;
- otherwise a local value, the largest ||grad^2 f(x)|| over the given points
  (``sgd_bench.curvature``: an exact eigendecomposition of the Hessian for dimension <= 2048,
  power iteration on Hessian-vector products beyond). A local value is a lower bound on the
  global constant and is labelled so.
"""

from __future__ import annotations

import copy
import dataclasses
import numbers
from typing import Any, Iterable, Mapping, Sequence

import jax
import numpy as np

from sgd_bench import _tree, validation
from sgd_bench.compat import enable_x64
from sgd_bench.curvature import (DENSE_MAX_DIM, flat_size, hessian_eigenvalues, hessian_norm,
                                 per_sample_smoothness, to_float64)
from sgd_bench.finite_sum import L2, FiniteSum
from sgd_bench.gradient_noise import second_moment
from sgd_bench.reference import reference_solution
from sgd_bench.solver import check_x

# Classes for which the theory may use a PL constant mu (strong convexity implies PL).
PL_CLASSES = ("strongly_convex", "pl")
# Classes whose minimizer Newton's method finds from any start (no spurious stationary points).
_NEWTON_CLASSES = ("strongly_convex", "pl", "convex")


@dataclasses.dataclass(frozen=True)
class Constants:
    """The constants of one problem, in float64, with how each was obtained.

    - ``L``: global smoothness, sup_x ||grad^2 f(x)|| (``None`` for non-smooth problems).
    - ``L_max``: max_i L_i, the largest per-sample smoothness.
    - ``mu``: the strong-convexity or PL constant, 1/2 ||grad f||^2 >= mu (f - f*)
      (``None`` when the problem class assumes no PL inequality).
    - ``sigma2_star``: E_i ||grad f_i(x*)||^2, the gradient variance at the optimum.
    - ``f_star``: f(x*).
    - ``sources``: {constant: how it was obtained}.
    """

    name: str
    problem_class: str
    n: int
    L: float | None
    L_max: float | None
    mu: float | None
    sigma2_star: float | None
    f_star: float | None
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def __post_init__(self, strict: bool = True):
        # documented as float64: a jnp / NumPy 0-d constant (mu=jnp.float32(0.5)) made every bound,
        # kappa and as_dict a float32 JAX array
        if strict and (isinstance(self.n, (bool, np.bool_)) or not isinstance(self.n, numbers.Integral) or self.n < 1):
            raise TypeError(f"n must be an integer >= 1 (the number of terms), got {self.n!r}")  # "10" was kept
        for key in ("L", "L_max", "mu", "sigma2_star", "f_star"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, (str, bytes)) and np.ndim(value) != 0:
                # mu=jnp.array([0.1]) made kappa a one-element array (the bounds refused it later)
                raise TypeError(f"{key} must be one number, got an array of shape {np.shape(value)}")
            if strict and value is not None and not _real_number(value):
                # Constants(mu="0.5") was kept as text: describe() said "Unknown format code 'g'", kappa
                # "unsupported operand type(s)"; replace() leaves one in on purpose, for the bounds to refuse
                raise TypeError(f"{key} must be a real number or None, got {value!r}")
            if (isinstance(value, (np.generic, np.ndarray, jax.Array)) and not isinstance(value, jax.core.Tracer)
                    and np.ndim(value) == 0 and np.asarray(value).dtype.kind in "fiu"):
                object.__setattr__(self, key, float(value))

    def replace(self, **changes) -> "Constants":
        """A copy with some constants changed (for example a deliberately wrong one). Unlike the
        constructor, it takes text or a bool as a constant, a wrong value by design, so that the
        bounds' own refusal of it ("needs L as a number") can be shown; arrays are refused."""
        if unknown := set(changes) - {f.name for f in dataclasses.fields(self)}:
            raise TypeError(f"unknown field(s) {sorted(unknown)}; known: {[f.name for f in dataclasses.fields(self)]}")
        out = copy.copy(self)
        for key, value in changes.items():
            object.__setattr__(out, key, value)
        out.__post_init__(strict=False)
        return out

    @property
    def kappa(self) -> float | None:
        """The condition number L / mu, when both are known."""
        L, mu = self._numbers("kappa", "L", "mu")
        return None if L is None or not mu else _float(L) / _float(mu)  # L=10**400 (kept for the bounds'
        # refusal "an integer of 401 digits"): inf, as in float64, not Python's OverflowError

    def _numbers(self, what: str, *keys) -> tuple:
        """The constants ``keys`` (None kept), refused by name when one is not a number: ``replace``
        takes text or a bool on purpose (mu="0.5": describe said "Unknown format code 'g'", kappa
        "unsupported operand type(s)")."""
        for key in keys:
            value = getattr(self, key)
            if value is not None and not _real_number(value):
                raise TypeError(f"{what} needs {key} as a number, got {value!r} (a wrong constant "
                                "replace() let in; only the bounds refuse it by design)")
        return tuple(getattr(self, key) for key in keys)

    def as_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready values (NumPy integers and Fractions as int and float)."""
        def plain(value):  # replace(n=np.int64(20)) kept np.int64 and a Fraction stayed one: not JSON
            if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
                return int(value)
            return float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else value
        return {f.name: (dict(getattr(self, f.name)) if f.name == "sources" else plain(getattr(self, f.name)))
                for f in dataclasses.fields(self)}

    def describe(self) -> str:
        """One Markdown bullet per constant: value and how it was obtained."""
        lines = []
        keys = ("L", "L_max", "mu", "sigma2_star", "f_star")
        for key, value in zip(keys, self._numbers("describe", *keys)):
            shown = "-" if value is None else f"{_float(value):.6g}"
            lines.append(f"- {key} = {shown} ({self.sources.get(key, '')})")
        return "\n".join(lines)


def _float(value) -> float:
    """A real number as a float for display (an int beyond float64 as +-inf, not an OverflowError)."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def _real_number(value) -> bool:
    """A real number: an int or float (NumPy's too, a Fraction), or a 0-d real array; not a bool."""
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, numbers.Real) or (hasattr(value, "dtype") and np.dtype(value.dtype).kind in "fiu")


# -- the record ----------------------------------------------------------------------------------------
def constants(problem: FiniteSum, *, reference=None, points: Sequence[Any] | None = None) -> Constants:
    """L, L_max, mu, sigma_*^2 and f* of ``problem`` in float64, each with how it was obtained.

    **Arguments:**

    - ``problem``: a ``FiniteSum``; its ``problem_class`` decides which constants exist (no L
      for ``"nonsmooth"``, no mu outside ``"strongly_convex"`` and ``"pl"``).
    - ``reference``: a minimizer, as a ``ReferenceSolution`` or an ``(x_star, f_star)`` pair;
      ``ValueError`` when f(x_star) on ``problem`` (float64) and f_star differ by more than
      ``REFERENCE_RTOL`` relative (an f_star rounded to 4 digits passes; another problem's reference not).
      By default ``reference_solution(problem)`` (Newton in float64) for the strongly convex,
      PL and convex classes; non-convex and non-smooth problems need one passed in, else
      sigma_*^2 and f* are ``None``.
    - ``points``: where to evaluate local constants when ``problem.info`` has no closed form
      (default: zeros of ``problem.x_shape`` and x* when known).

    **Returns:** a ``Constants`` record. ``constants(p).sources["L"]`` says, for example,
    ``"closed form (problem.info)"`` or ``"local: max of ||grad^2 f(x)|| over 2 points"``.
    """
    if not isinstance(problem, FiniteSum):
        raise TypeError(f"problem must be a sgd_bench.FiniteSum, got {type(problem).__name__}")
    validation.live("problem.data", problem.data)  # a donated array: JAX's error named nothing
    points = None if points is None else _point_list(problem, points)
    _tree.on_host("theory.constants", "eigenvalues and a Newton solve, read as Python floats", problem, reference, points)
    info, cls, sources = problem.info, problem.problem_class, {}

    if points is not None:  # before the reference's Newton solve; these were named "x", and unused
        points = list(points)  # (a closed-form L) a wrong one passed silently
        for i, point in enumerate(points):
            check_x(f"points[{i}]", point, problem)
    x_star = f_star = None
    if reference is not None:
        validation.live("reference", reference)  # was JAX's "Array has been deleted" from its unpacking
        try:
            x_star, f_star = reference
            f_star = float(f_star)
        except (TypeError, ValueError):
            raise TypeError("reference must be a ReferenceSolution or an (x_star, f_star) pair with "
                            f"a number f_star, got {reference!r}") from None
        if not np.isfinite(f_star):
            raise ValueError(f"reference's f_star must be finite, got {f_star!r}")
        check_x("reference's x_star", x_star, problem)  # was named "x" (the curvature helpers' name)
        _check_reference(problem, x_star, f_star)
        sources["f_star"] = f"given reference ({getattr(reference, 'solver', 'user')})"
    elif cls in _NEWTON_CLASSES:
        # without x_shape (a pytree iterate) Newton starts from the first point: it said "pass x0
        # explicitly", an argument constants does not have, even when points were given
        if problem.x_shape is None and not points:
            raise ValueError(f"problem {problem.name!r} has no x_shape (a pytree iterate): pass points=[x] "
                             "(an iterate of its shape), or reference=(x_star, f_star)")
        ref = reference_solution(problem, points[0] if problem.x_shape is None else None)
        x_star, f_star = ref.x, float(ref.f)
        sources["f_star"] = f"reference_solution ({ref.solver}, ||grad f(x*)|| = {ref.grad_norm:.1e})"
    else:
        sources["f_star"] = f"unknown: class {cls!r} needs a reference= minimizer"

    if points is None:
        points = []
        if problem.x_shape is not None:
            points.append(problem.zeros())
        if x_star is not None:
            points.append(x_star)
    points = list(points)

    smooth = cls != "nonsmooth"
    L = L_max = None
    if not smooth:
        sources["L"] = sources["L_max"] = "not smooth (class 'nonsmooth')"
    else:
        L, sources["L"] = _smoothness_from(info, "L", points, lambda x: hessian_norm(problem, x))
        L_max, sources["L_max"] = _smoothness_from(
            info, "L_max", points, lambda x: (float(np.max(per_sample_smoothness(problem, [x]))),
                                              "per-sample Hessians"))

    mu = None
    if cls not in PL_CLASSES:
        sources["mu"] = f"not assumed: class {cls!r} declares no PL inequality"
    elif info.get("mu", 0.0) > 0:
        mu, sources["mu"] = float(info["mu"]), "closed form (problem.info)"
    elif isinstance(problem.regularizer, L2) and cls == "strongly_convex":
        mu = float(problem.regularizer.mu)
        sources["mu"] = "L2 regularizer (a lower bound; tight when the data term's curvature vanishes)"
    elif x_star is not None and flat_size(x_star) <= DENSE_MAX_DIM:
        mu = float(hessian_eigenvalues(problem, x_star)[0])
        sources["mu"] = ("local: smallest Hessian eigenvalue at x* (exact for quadratics, an upper "
                         "bound on the PL constant otherwise)")
    else:
        sources["mu"] = "unknown: no closed form in problem.info and no x*"

    sigma2_star = None
    if x_star is not None:
        sigma2_star = second_moment(problem, x_star)
        sources["sigma2_star"] = "E_i ||grad f_i(x*)||^2 at the reference x* (float64)" + (
            ", with autodiff's subgradient at kinks" if cls == "nonsmooth" else "")
    else:
        sources["sigma2_star"] = "unknown: no x*"
    return Constants(problem.name, cls, problem.n, L, L_max, mu, sigma2_star, f_star, sources)


def _point_list(problem: FiniteSum, points) -> list:
    """``points`` as a list of iterates: 5 was "'int' object is not iterable", one iterate x was read as its
    entries ("points[0] must have shape (3,) ..., got ()"), a dict as its keys, an iterator warned from JAX."""
    if problem.x_shape is not None and hasattr(points, "shape") and tuple(np.shape(points)) == problem.x_shape:
        raise TypeError(f"points must be a list of iterates, got one iterate of shape {problem.x_shape}: pass [x]")
    if isinstance(points, (str, bytes, Mapping)) or not isinstance(points, Iterable):
        raise TypeError(f"points must be a list of iterates (each shaped as the problem's x), got {points!r}"[:300])
    return list(points)


# How far f(x_star) may be from a given f_star: a user's f_star rounded to 4 significant digits
# passes; the reference of another problem of the same shape (taken as given before) does not.
REFERENCE_RTOL, REFERENCE_ATOL = 1e-3, 1e-8


@jax.jit
def _value(problem, x):
    return problem.loss(x)


def _check_reference(problem: FiniteSum, x_star, f_star: float) -> None:
    """Refuses a reference whose f_star is not f(x_star) on ``problem`` (one loss evaluation, in
    float64): the minimizer of another problem gave that problem's f* and sigma_*^2 silently."""
    with enable_x64():
        value = float(_value(to_float64(problem), to_float64(x_star)))
    tol = REFERENCE_RTOL * max(abs(value), abs(f_star)) + REFERENCE_ATOL
    if not abs(value - f_star) <= tol:  # NaN fails too
        raise ValueError(f"reference does not fit problem {problem.name!r}: f(x_star) = {value:.6g} on it, but "
                         f"its f_star = {f_star:.6g} (more apart than a rounded f_star, {REFERENCE_RTOL:g} "
                         "relative): pass this problem's minimizer (sgd_bench.reference_solution(problem))")


def _smoothness_from(info, key, points, local):
    if key in info:
        return float(info[key]), "closed form (problem.info)"
    if f"{key}_upper" in info:
        return float(info[f"{key}_upper"]), "upper bound from problem.info (not tight)"
    if not points:
        return None, "unknown: no closed form and no points to evaluate at"
    best, how = -np.inf, ""
    for x in points:
        value, how = local(x)
        best = max(best, value)
    return float(best), f"local: max over {len(points)} point(s) of the {how} (a lower bound)"
