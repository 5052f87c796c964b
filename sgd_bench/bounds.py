"""The lecture's convergence bounds as plain functions of k and the constants, and the check of a
measured run against one.

Every bound takes a ``Constants`` record (``sgd_bench.constants.constants(problem)``) and first
checks that the problem's declared class meets the bound's assumptions; if not it raises
``AssumptionError`` naming the assumption. The bounds (Delta_0 = f(x_0) - f*):

- GD, alpha = 1/L, L-smooth and mu-PL:        f(x_k) - f* <= (1 - mu/L)^k Delta_0;
- SGD, constant alpha < 1/(2 mu):             E f(x_k) - f* <= (1 - 2 alpha mu)^k Delta_0
                                                                + L sigma^2 alpha / (4 mu)
  (the lecture writes E f(x_{k+1}) - f* <= (1 - 2 alpha mu)^k Delta_0 + ..., but unrolling its
  own one-step recursion E f(x_{j+1}) - f* <= (1 - 2 alpha mu) (E f(x_j) - f*) + L sigma^2 alpha^2 / 2
  from j = 0 to k gives the exponent k + 1 for x_{k+1}: an off-by-one on the safe side. We use the
  unrolled index, exponent k for x_k, which is tighter than the lecture's by 1 / (1 - 2 alpha mu));
- SGD, alpha_k = (2k+1)/(2 mu (k+1)^2):       E f(x_k) - f* <= L sigma^2 / (2 mu^2 k), k >= 1
  (the lecture writes it for x_{k+1}: L sigma^2 / (2 mu^2 (k+1)));
- mini-batch SGD as GD with error e_k, alpha = 1/L, L-smooth (holds for every e_k):
                                              f(x_{k+1}) <= f(x_k) - ||grad f(x_k)||^2/(2L)
                                                            + ||e_k||^2/(2L);
- the error of a batch of B: E||e_k||^2 = v/B with replacement, (n-B)/(n-1) v/B without,
  v = E_i ||grad f_i(x) - grad f(x)||^2;

and two standard GD bounds at alpha = 1/L for the other rows of the lecture's rates table:
convex, f(x_k) - f* <= L ||x_0 - x*||^2 / (2k); non-convex, min_{j<k} ||grad f(x_j)||^2 <=
2 L Delta_0 / k.

sigma^2 is a bound on E ||grad f_{i_k}(x_k)||^2 along the run (``sigma2_along_run``), not the
variance at the optimum: the bounds take it as an explicit argument so that it is never
silently replaced by sigma_*^2.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from sgd_bench import validation
from sgd_bench.constants import Constants

# Which declared problem classes meet each assumption. "nonsmooth" is the non-smooth convex class.
ASSUMPTIONS = {
    "L-smooth": ("strongly_convex", "pl", "convex", "nonconvex"),
    "PL": ("strongly_convex", "pl"),
    "convex": ("strongly_convex", "convex", "nonsmooth"),
}

_STATEMENTS = {
    "L-smooth": "an L-Lipschitz gradient, ||grad f(x) - grad f(y)|| <= L ||x - y||",
    "PL": "the PL inequality 1/2 ||grad f(x)||^2 >= mu (f(x) - f*)",
    "convex": "convexity of f",
}


class AssumptionError(ValueError):
    """A bound was asked for a problem whose declared class does not meet its assumptions."""


def require(c: Constants, bound: str, *assumptions: str) -> None:
    """Raises ``AssumptionError`` unless ``c.problem_class`` meets every one of ``assumptions``."""
    if not isinstance(c, Constants):
        raise TypeError(f"expected a Constants record (sgd_bench.constants.constants(problem)), "
                        f"got {type(c).__name__}")
    for name in assumptions:
        if not isinstance(name, str) or name not in ASSUMPTIONS:  # was a KeyError
            raise ValueError(f"assumptions must be among {', '.join(ASSUMPTIONS)}; got {name!r}")
        if c.problem_class not in ASSUMPTIONS[name]:
            raise AssumptionError(
                f"the {bound} bound assumes {_STATEMENTS[name]} ({name}); problem {c.name!r} is "
                f"declared {c.problem_class!r}, which does not meet it. Classes that do: "
                f"{', '.join(ASSUMPTIONS[name])}")


def _shown(value) -> str:
    """``repr(value)``, but an integer of more than 30 digits as its size (L = 10**400 printed all
    401 digits in the message)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"{'a negative' if value < 0 else 'an'} integer of {len(str(abs(value)))} digits"
    return repr(value)


def _needs(c: Constants, bound: str, **values) -> tuple[float, ...]:
    """The constants ``values`` as host float64 numbers (a jnp 0-d mu made a float32 JAX bound),
    refused by name when unknown, not numbers, or not finite and > 0."""
    out = []
    for key, value in values.items():
        if value is None:
            raise ValueError(f"the {bound} bound needs {key}, which is unknown for problem {c.name!r} "
                             f"({c.sources.get(key, 'not computed')})")
        try:  # a text "1" in a hand-made Constants was NumPy's "ufunc 'isfinite' not supported"
            out.append(validation.positive_float(key, value))
        except TypeError:
            raise TypeError(f"the {bound} bound needs {key} as a number, got {_shown(value)}") from None
        except ValueError:
            raise ValueError(f"the {bound} bound needs a finite {key} > 0, got {_shown(value)}") from None
    return tuple(out)


def _steps(k) -> np.ndarray:
    try:
        raw = np.asarray(k)
    except Exception:  # real_array names what NumPy cannot read
        raw = None
    if raw is not None and raw.dtype == object:  # 10**20 was "must be an array of numbers, got dtype object"
        _in_range([v for v in raw.ravel().tolist() if isinstance(v, int) and not isinstance(v, bool)])
    k = validation.real_array("k", k)  # a NaN k gave a NaN bound, silently
    if k.size:
        _in_range([np.min(k).item(), np.max(k).item()])
    return k


def _in_range(ks) -> None:
    if any(v < 0 for v in ks):
        raise ValueError(f"k must be >= 0, got {_shown(min(ks))}")
    beyond = [v for v in ks if v > validation.MAX_STEPS]
    if beyond:
        raise ValueError(f"k = {_shown(beyond[0])} is beyond the largest step count, {validation.MAX_STEPS} "
                         "(MAX_STEPS: a run's step counter is int32)")


def _pl(c: Constants, bound: str) -> tuple[float, float]:
    """(L, mu) of an L-smooth mu-PL bound, as host floats; mu > L refused: no L-smooth function is
    mu-PL with mu > L (gd_pl's base 1 - mu/L went negative; the SGD bounds stayed positive, silently
    wrong). Every PL bound checks it, not only the one whose numbers showed it."""
    require(c, bound, "L-smooth", "PL")
    L, mu = _needs(c, bound, L=c.L, mu=c.mu)
    if mu > L:
        raise ValueError(f"the {bound} bound needs mu <= L (a PL constant never exceeds the "
                         f"smoothness), got mu = {mu!r} > L = {L!r}")
    return L, mu


# -- the lecture's bounds -------------------------------------------------------------------------
def gd_pl(k, c: Constants, *, delta0: float) -> np.ndarray:
    """GD with alpha = 1/L on an L-smooth mu-PL function: f(x_k) - f* <= (1 - mu/L)^k Delta_0.

    **Arguments:**

    - ``k``: step numbers (array-like, >= 0).
    - ``c``: the problem's ``Constants`` (L and mu are used).
    - ``delta0``: f(x_0) - f*.
    """
    L, mu = _pl(c, "GD linear-rate")
    delta0 = validation.nonnegative_float("delta0", delta0)
    return (1.0 - mu / L) ** _steps(k) * delta0


def sgd_constant_step(k, c: Constants, *, alpha: float, delta0: float, sigma2: float) -> np.ndarray:
    """SGD with a constant step alpha < 1/(2 mu) on an L-smooth mu-PL function:

    E f(x_k) - f* <= (1 - 2 alpha mu)^k Delta_0 + L sigma^2 alpha / (4 mu).

    **Arguments:**

    - ``k``: step numbers (>= 0).
    - ``c``: the problem's ``Constants`` (L, mu).
    - ``alpha``: the step, 0 < alpha < 1/(2 mu).
    - ``delta0``: f(x_0) - f*.
    - ``sigma2``: a bound on E ||grad f_{i_k}(x_k)||^2 along the run (``sigma2_along_run``).
    """
    bound = "constant-step SGD"
    _, mu = _pl(c, bound)
    alpha = validation.positive_float("alpha", alpha)
    if not alpha < 1.0 / (2.0 * mu):
        raise ValueError(f"alpha must be < 1/(2 mu) = {1.0 / (2.0 * mu):.6g} for the {bound} bound, "
                         f"got {alpha!r}")
    plateau = sgd_plateau(c, alpha=alpha, sigma2=sigma2)  # checks sigma2
    delta0 = validation.nonnegative_float("delta0", delta0)
    return (1.0 - 2.0 * alpha * mu) ** _steps(k) * delta0 + plateau


def sgd_plateau(c: Constants, *, alpha: float, sigma2: float) -> float:
    """The k -> infinity limit of the constant-step bound, L sigma^2 alpha / (4 mu): linear in alpha."""
    L, mu = _pl(c, "constant-step SGD")
    # checked here too, not only in sgd_constant_step: alpha=-1 gave a negative plateau. Any
    # alpha > 0 is taken: alpha=1 gives the slope of the plateau in alpha (pl_bounds uses it).
    alpha = validation.positive_float("alpha", alpha)
    sigma2 = validation.nonnegative_float("sigma2", sigma2)
    return L * sigma2 * alpha / (4.0 * mu)


def sgd_decreasing_step(k, c: Constants, *, sigma2: float) -> np.ndarray:
    """SGD with alpha_k = (2k+1)/(2 mu (k+1)^2) on an L-smooth mu-PL function:

    E f(x_k) - f* <= L sigma^2 / (2 mu^2 k) for k >= 1 (+inf at k = 0, where nothing is claimed).

    **Arguments:**

    - ``k``: step numbers (>= 0).
    - ``c``: the problem's ``Constants`` (L, mu).
    - ``sigma2``: a bound on E ||grad f_{i_k}(x_k)||^2 along the run.
    """
    L, mu = _pl(c, "decreasing-step SGD")
    sigma2 = validation.nonnegative_float("sigma2", sigma2)
    k = _steps(k)
    with np.errstate(divide="ignore"):
        return np.where(k >= 1, L * sigma2 / (2.0 * mu**2 * np.maximum(k, 1.0)), np.inf)


def gd_with_error_step(c: Constants, *, f_k, grad_sq_k, err_sq_k) -> np.ndarray:
    """The one-step bound of mini-batch SGD at alpha = 1/L viewed as GD with error e_k:

    f(x_{k+1}) <= f(x_k) - ||grad f(x_k)||^2 / (2L) + ||e_k||^2 / (2L), for any e_k.

    **Arguments:**

    - ``c``: the problem's ``Constants`` (L).
    - ``f_k``, ``grad_sq_k``, ``err_sq_k``: f(x_k), ||grad f(x_k)||^2 and ||e_k||^2 (arrays).
    """
    require(c, "GD-with-error", "L-smooth")
    (L,) = _needs(c, "GD-with-error", L=c.L)
    # np.asarray took a masked array without its mask, text as NumPy's "could not convert string
    # to float", two lengths as "operands could not be broadcast", a negative squared norm silently
    named = {"f_k": f_k, "grad_sq_k": grad_sq_k, "err_sq_k": err_sq_k}
    f_k, g2, e2 = (validation.real_array(name, a, nan=True) for name, a in named.items())
    for name, a in (("grad_sq_k", g2), ("err_sq_k", e2)):
        if np.any(a < 0):
            raise ValueError(f"{name} must be >= 0 (a squared norm), got {float(a[a < 0].flat[0])!r}")
    try:
        np.broadcast_shapes(f_k.shape, g2.shape, e2.shape)
    except ValueError:
        raise ValueError(f"f_k, grad_sq_k and err_sq_k must have one shape (or broadcast), got shapes "
                         f"{f_k.shape}, {g2.shape} and {e2.shape}") from None
    return f_k - g2 / (2.0 * L) + e2 / (2.0 * L)


MINIBATCH_SAMPLINGS = ("with_replacement", "without_replacement")


def minibatch_error(v, batch_size, n: int, sampling: str = "with_replacement"):
    """E ||e||^2 of a mini-batch gradient g_B = 1/B sum_{i in B} grad f_i(x), e = g_B - grad f(x):

    with replacement v / B, without replacement (n - B)/(n - 1) v / B, where
    v = E_i ||grad f_i(x) - grad f(x)||^2 (``sgd_bench.constants.gradient_variance``).

    A batch drawn by the ``"reshuffle"`` sampler inside one epoch is a uniform subset drawn
    without replacement, so ``"reshuffle"`` is accepted as ``"without_replacement"``. The
    identity needs no assumption on f.

    **Arguments:**

    - ``v``: the per-sample gradient variance (scalar or array).
    - ``batch_size``: B in [1, n] (scalar or array).
    - ``n``: the number of samples.
    - ``sampling``: ``"with_replacement"`` or ``"without_replacement"`` (``"reshuffle"``).
    """
    n = validation.integer("n", n, low=1)
    if sampling == "reshuffle":
        sampling = "without_replacement"
    validation.choice("sampling", sampling, MINIBATCH_SAMPLINGS)
    b = validation.real_array("batch_size", batch_size)
    if np.any(b < 1) or np.any(b > n) or np.any(b != np.round(b)):
        raise ValueError(f"batch_size must be integers in [1, n] = [1, {n}], got {batch_size!r}")
    v = validation.real_array("v", v)
    if np.any(v < 0):  # a variance: v = -1 gave a negative error, silently
        raise ValueError(f"v must be >= 0 (a variance), got {float(v.min())!r}")
    if sampling == "with_replacement":
        return v / b
    return v / b * ((n - b) / (n - 1) if n > 1 else 0.0)


def gd_convex(k, c: Constants, *, dist0_sq: float) -> np.ndarray:
    """GD with alpha = 1/L on an L-smooth convex function: f(x_k) - f* <= L ||x_0 - x*||^2 / (2k).

    +inf at k = 0. ``dist0_sq`` is ||x_0 - x*||^2 for the x* nearest x_0.
    """
    require(c, "convex GD", "L-smooth", "convex")
    (L,) = _needs(c, "convex GD", L=c.L)
    dist0_sq = validation.nonnegative_float("dist0_sq", dist0_sq)
    k = _steps(k)
    with np.errstate(divide="ignore"):
        return np.where(k >= 1, L * dist0_sq / (2.0 * np.maximum(k, 1.0)), np.inf)


def gd_nonconvex(k, c: Constants, *, delta0: float) -> np.ndarray:
    """GD with alpha = 1/L on an L-smooth function bounded below:
    min_{j < k} ||grad f(x_j)||^2 <= 2 L (f(x_0) - f*) / k (+inf at k = 0).

    ``delta0`` may use any lower bound of f in place of f* (the bound only grows).
    """
    require(c, "non-convex GD", "L-smooth")
    (L,) = _needs(c, "non-convex GD", L=c.L)
    delta0 = validation.nonnegative_float("delta0", delta0)
    k = _steps(k)
    with np.errstate(divide="ignore"):
        return np.where(k >= 1, 2.0 * L * delta0 / np.maximum(k, 1.0), np.inf)


# -- checking a run against a bound -----------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BoundCheck:
    """A measured seed mean against a bound at every logged k.

    ``holds_at[t]``: the whole confidence interval mean +/- z stderr lies under the bound (plus
    ``atol``). ``violated_at[t]``: even its lower end is above, a significant violation. The
    mean is over all seeds: a diverged seed makes it non-finite, and the check fails there.
    """

    name: str
    steps: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    bound: np.ndarray
    z: float
    atol: float
    num_seeds: int

    @property
    def lower(self) -> np.ndarray:
        with np.errstate(over="ignore"):  # a stderr near 1e308: -inf, without NumPy's warning
            return self.mean - self.z * self.stderr

    @property
    def upper(self) -> np.ndarray:
        with np.errstate(over="ignore"):
            return self.mean + self.z * self.stderr

    @property
    def holds_at(self) -> np.ndarray:
        return np.isfinite(self.mean) & (self.upper <= self.bound + self.atol)

    @property
    def violated_at(self) -> np.ndarray:
        return ~np.isfinite(self.mean) | (self.lower > self.bound + self.atol)

    @property
    def holds(self) -> bool:
        """True when the bound holds at every logged k."""
        return bool(np.all(self.holds_at))

    @property
    def first_failure(self) -> int | None:
        """The index of the first logged k where the bound does not hold, or ``None``."""
        bad = np.flatnonzero(~self.holds_at)
        return int(bad[0]) if bad.size else None

    @property
    def tightness(self) -> float:
        """The largest ratio mean / bound over the logged k with a finite bound (1 = tight)."""
        finite = np.isfinite(self.bound) & (self.bound > 0)
        if not np.any(finite):
            return float("nan")
        return float(np.max(self.mean[finite] / self.bound[finite]))

    def summary(self) -> str:
        """"holds at every logged k", or the first k where it fails and by how much."""
        level = f"{100 * _coverage(self.z):.1f}% CI"
        if self.holds:  # an infinite bound everywhere said "largest mean/bound = nan"
            tight = (f"largest mean/bound = {self.tightness:.3g}" if math.isfinite(self.tightness)
                     else "no finite bound above 0 to take mean/bound at")
            return (f"{self.name}: holds at every logged k ({len(self.steps)} points, {self.num_seeds} "
                    f"seeds, {level}; {tight})")
        t = self.first_failure
        k, m, b = int(self.steps[t]), self.mean[t], self.bound[t]
        if not np.isfinite(m):
            return f"{self.name}: fails at k = {k}: the seed mean is not finite (a seed diverged)"
        kind = "significantly " if self.violated_at[t] else ""
        if m <= b + self.atol:  # said "mean ... exceeds the bound ... by -1.000e+00 (x0)"
            return (f"{self.name}: fails first at k = {k}: mean {m:.3e} is under the bound {b:.3e}, but its {level} "
                    f"[{self.lower[t]:.3e}, {self.upper[t]:.3e}] reaches above it; fails at "
                    f"{int(np.sum(~self.holds_at))} of {len(self.steps)} logged k")
        return (f"{self.name}: {kind}fails first at k = {k}: mean {m:.3e} ({level} [{self.lower[t]:.3e}, "
                f"{self.upper[t]:.3e}]) exceeds the bound {b:.3e} by {m - b:.3e}"
                + (f" (x{m / b:.3g})" if b > 0 else "") + "; "  # a zero bound was "(xinf)" and NumPy's warning
                f"fails at {int(np.sum(~self.holds_at))} of {len(self.steps)} logged k")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready record for ``checks.json``."""
        t = self.first_failure
        return {"claim": f"{self.name} holds at every logged k", "holds": self.holds,
                "summary": self.summary(),
                "measured": {"num_points": len(self.steps), "num_seeds": self.num_seeds, "z": self.z,
                             # NaN (no positive finite bound) or inf was invalid strict JSON
                             "largest_mean_over_bound": self.tightness if math.isfinite(self.tightness) else None,
                             "first_failure_k": None if t is None else int(self.steps[t])}}


def _coverage(z: float) -> float:
    return math.erf(z / math.sqrt(2.0))


def check(steps, values, bound, *, name: str = "bound", z: float = 1.96, atol: float = 0.0) -> BoundCheck:
    """Checks the seed mean of ``values`` against ``bound`` at every logged k.

    **Arguments:**

    - ``steps``: the logged k, shape (T,).
    - ``values``: the measured quantity per seed, shape (S, T) (for example f(x_k) - f*), or
      (T,) for a deterministic run.
    - ``bound``: the bound at ``steps``, shape (T,), or a callable ``k -> bound``.
    - ``name``: what is checked, for the summary.
    - ``z``: the confidence interval is mean +/- z stderr (1.96: 95%).
    - ``atol``: slack for rounding (for example a few ulps of f* when f(x_k) - f* reaches the
      float64 floor).
    """
    steps = validation.real_array("steps", steps)
    if steps.ndim != 1 or steps.size == 0:  # no points "held at every logged k", vacuously
        raise ValueError(f"steps must be a 1-D array of at least one logged k, got shape {steps.shape}")
    validation.instance("name", name, str, "a string, a label for the summary")  # None was 'None'
    values = validation.real_array("values", values, nan=True)  # a NaN is a diverged seed: said below
    if values.ndim == 1:
        values = values[None]
    if values.ndim != 2 or values.shape[1] != steps.shape[0]:
        raise ValueError(f"values must have shape (seeds, {steps.shape[0]}), got {values.shape}")
    b = validation.real_array("bound", bound(steps) if callable(bound) else bound)
    if b.shape != steps.shape:
        raise ValueError(f"bound must have shape {steps.shape}, got {b.shape}")
    if np.any(np.diff(steps) <= 0):  # [2, 1] said "fails first at k = 2" of a bound failing at k = 1 too
        raise ValueError(f"steps must increase strictly (the logged k in order), got {steps.tolist()[:8]}")
    z = validation.positive_float("z", z)
    atol = validation.nonnegative_float("atol", atol)
    seeds = values.shape[0]
    with np.errstate(invalid="ignore", over="ignore"):
        mean = values.mean(axis=0)
        se = values.std(axis=0, ddof=1) / np.sqrt(seeds) if seeds > 1 else np.zeros_like(mean)
        # finite values near 1e308 overflowed the sum: "a seed diverged". Scaled by the largest |value|
        # the mean is finite (the stderr may still overflow: then the check fails, with its numbers)
        redo = np.all(np.isfinite(values), axis=0) & ~(np.isfinite(mean) & np.isfinite(se))
        if np.any(redo):
            top = np.max(np.abs(values[:, redo]), axis=0)
            mean[redo] = top * (values[:, redo] / top).mean(axis=0)
            if seeds > 1:
                se[redo] = top * ((values[:, redo] / top).std(axis=0, ddof=1) / np.sqrt(seeds))
    return BoundCheck(str(name), steps, mean, np.nan_to_num(se), b, z, atol, seeds)

