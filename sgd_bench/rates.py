"""Empirical convergence rates of seed-averaged traces, and the lecture's table of rates.

A fit takes a measured quantity per seed (f(x_k) - f*, or ||grad f(x_k)||^2), averages it over
the seeds, and fits one of two orders by least squares on the log of the mean:

- linear:  log E[gap_k] = log C + k log(rho)     (rho < 1: linear convergence);
- power:   log E[gap_k] = log C - p log(k)       (gap ~ C k^{-p}).

The confidence interval comes from a bootstrap over the seeds (resample the seeds with
replacement, average, refit; percentile interval), so it reflects the seed-to-seed spread of
the run. A single deterministic trace (GD) gets the least-squares interval of the slope instead.

The lecture's table gives iteration complexities O(log 1/eps), O(1/eps), O(1/eps^2): for a
rate gap ~ k^{-p} they are p = 1 and p = 1/2, and O(log 1/eps) is a linear rate. ``compare``
gives a two-sided verdict of a fit against a cell (match, faster with its reason, or slower,
which fails); ``schedule_power`` reads the rate a step schedule induces, to report beside the
table's worst case; ``loglog_slope`` fits a cost-against-size slope over all points with its
least-squares interval.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import numpy as np

from sgd_bench import memory, validation

KINDS = ("linear", "power")


@dataclasses.dataclass(frozen=True)
class RateFit:
    """A fitted convergence order with its confidence interval.

    - ``kind``: ``"linear"`` (``value`` = rho) or ``"power"`` (``value`` = p in C k^{-p});
    - ``lo``, ``hi``: the confidence interval of ``value``; ``interval`` says how it was made;
    - ``log_c``: the fitted log C;
    - ``k_min``, ``k_max``, ``num_points``: the window the fit used;
    - ``rmse``: the root-mean-square residual of the log of the mean (0 = exactly this order);
    - ``num_seeds``: seeds averaged.
    """

    kind: str
    value: float
    lo: float
    hi: float
    log_c: float
    k_min: int
    k_max: int
    num_points: int
    rmse: float
    num_seeds: int
    interval: str

    def predict(self, k) -> np.ndarray:
        """The fitted curve C rho^k or C k^{-p} at ``k``."""
        k = np.asarray(k, dtype=np.float64)
        if self.kind == "linear":
            return np.exp(self.log_c + k * np.log(self.value))
        with np.errstate(divide="ignore"):
            return np.exp(self.log_c - self.value * np.log(k))

    def describe(self) -> str:
        symbol = "rho" if self.kind == "linear" else "p"
        digits = 4 if self.kind == "linear" else 3
        flat = " (flat: the mean does not change)" if self.lo == self.hi == float(self.kind == "linear") else ""
        return f"{symbol} = {self.value:.{digits}f} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]{flat}"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _window(steps, mean, *, kind, start, stop, floor):
    keep = (steps >= start) & (steps <= stop) & np.isfinite(mean)
    if kind == "power":
        keep &= steps >= 1
    # Once the mean reaches the floor (rounding noise) nothing after it measures the rate.
    below = np.flatnonzero((mean <= floor) & (steps >= start))
    if below.size:
        keep &= np.arange(len(steps)) < below[0]
    return keep


def _design(steps, kind):
    k = np.asarray(steps, dtype=np.float64)
    x = k if kind == "linear" else np.log(k)
    return np.stack([np.ones_like(x), x], axis=1)


def _level(level) -> float:
    level = validation.finite_float("level", level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return level


def _prepare(steps, values, running_min):
    steps = validation.real_array("steps", steps)
    values = validation.real_array("values", values, nan=True)  # complex lost its imaginary part
    if steps.ndim != 1 or steps.shape[0] < 3 or not np.all(np.isfinite(steps)):  # [] was an IndexError
        raise ValueError(f"steps must be a 1-D array of at least 3 finite logged k (a fit needs 3 points), "
                         f"got shape {steps.shape}")
    if np.any(np.diff(steps) <= 0):  # [5, 5, 5] fitted a "rate" to one k; unsorted k cut the window
        raise ValueError(f"steps must increase strictly (the logged k in order), got {steps.tolist()[:8]}"
                         f"{' ...' if len(steps) > 8 else ''}")
    if values.ndim == 1:
        values = values[None]
    if values.ndim != 2 or values.shape[1] != steps.shape[0] or values.shape[0] == 0:
        raise ValueError(f"values must have shape (seeds, {steps.shape[0]}) or ({steps.shape[0]},), "
                         f"got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("values hold NaN or Inf (a diverged seed?): leave those seeds out first")
    mean = values.mean(axis=0)
    if running_min:
        mean = np.minimum.accumulate(mean)
    return steps, values, mean


def fit(steps, values, kind: str, *, start: float | None = None, stop: float | None = None,
        floor: float = 0.0, running_min: bool = False, level: float = 0.95, n_boot: int = 1000,
        seed: int = 0) -> RateFit:
    """Fits a linear rate rho or a power p to the seed mean of ``values`` against ``steps``.

    **Arguments:**

    - ``steps``: the logged k, shape (T,).
    - ``values``: the measured quantity per seed, shape (S, T), or (T,) for one trace.
    - ``kind``: ``"linear"`` (log mean against k) or ``"power"`` (log mean against log k).
    - ``start``, ``stop``: the window of k (default: all k for linear; the last decade,
      k >= k_last / 10, for power).
    - ``floor``: the mean is rounding noise once it is at or below ``floor``; the window ends
      there.
    - ``running_min``: fit min_{j <= k} of the seed mean (the non-convex rows measure
      min_j E ||grad f(x_j)||^2).
    - ``level``: the confidence level of the interval.
    - ``n_boot``: bootstrap resamples of the seeds.
    - ``seed``: the bootstrap's NumPy seed (fixed, so fits are reproducible).
    """
    validation.choice("kind", kind, KINDS)
    steps, values, mean = _prepare(steps, values, validation.boolean("running_min", running_min))
    level = _level(level)
    n_boot = validation.integer("n_boot", n_boot, low=10)
    seed = validation.integer("seed", seed, low=0)
    floor = validation.finite_float("floor", floor)
    k_last = float(steps[-1])
    start = (0.0 if kind == "linear" else k_last / 10.0) if start is None else _k("start", start)
    stop = k_last if stop is None else _k("stop", stop)
    keep = _window(steps, mean, kind=kind, start=start, stop=stop, floor=floor)
    if np.sum(keep) < 3:
        raise ValueError(f"only {int(np.sum(keep))} logged points with {start:g} <= k <= {stop:g} and "
                         f"mean above the floor {floor:g}; a fit needs at least 3")
    X = _design(steps[keep], kind)
    y = np.log(mean[keep])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    rmse = float(np.sqrt(np.mean(resid**2)))
    slope = coef[1] if np.ptp(y) else 0.0  # a flat mean: exactly 0, not rounding's 9e-17 (leftovers34b)
    seeds = values.shape[0]
    if seeds > 1:
        # The resample counts (n_boot x S), the resampled means (n_boot x T) and their logs and
        # slopes: n_boot = 10**12 was NumPy's "Unable to allocate 21.8 TiB", naming no argument
        need = 8 * n_boot * (seeds + len(steps) + 2 * int(np.sum(keep)) + 2)
        memory.check_host_memory(need, f"n_boot={n_boot} (bootstrap resamples of {seeds} seeds over "
                                 f"{len(steps)} logged steps)",
                                 hint="use a smaller n_boot (default 1000)")
        rng = np.random.default_rng(seed)
        # Resampled means as counts @ values: never materializes n_boot x S x T.
        counts = rng.multinomial(seeds, np.full(seeds, 1.0 / seeds), size=n_boot)
        boot = counts @ values / seeds
        if running_min:
            boot = np.minimum.accumulate(boot, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(np.maximum(boot[:, keep], np.finfo(np.float64).tiny))
        slopes = np.where(np.ptp(logs, axis=1) == 0, 0.0, logs @ np.linalg.pinv(X).T[:, 1])  # a flat resample: 0
        lo, hi = np.quantile(slopes, [(1 - level) / 2, (1 + level) / 2])
        interval = f"{100 * level:g}% bootstrap over {seeds} seeds ({n_boot} resamples)"
    else:
        dof = max(len(y) - 2, 1)
        cov = np.linalg.inv(X.T @ X) * (resid @ resid) / dof
        half = _t_quantile(level, dof) * np.sqrt(cov[1, 1]) if np.ptp(y) else 0.0
        lo, hi = slope - half, slope + half
        interval = f"{100 * level:g}% least-squares interval (one trace)"
    if kind == "linear":
        value, lo, hi = np.exp(slope), np.exp(lo), np.exp(hi)
    else:
        value, lo, hi = 0.0 - slope, 0.0 - hi, 0.0 - lo  # 0.0 - 0.0 is 0.0, where -0.0 showed as "-0.000"
    k_fit = steps[keep]
    return RateFit(kind, float(value), float(lo), float(hi), float(coef[0]), int(k_fit[0]), int(k_fit[-1]),
                   int(len(k_fit)), rmse, seeds, interval)


def _k(name: str, value) -> float:
    """An end of the window of k: a number, not NaN (an infinite end means no limit)."""
    if isinstance(value, numbers.Real) and not isinstance(value, (numbers.Integral, float)):
        # a Fraction (as a step size takes) was "must be an array of numbers, got dtype object"
        try:
            value = float(value)
        except OverflowError:  # beyond float64: an infinite end, no limit
            value = math.inf if value > 0 else -math.inf
    value = validation.real_array(name, value)
    if value.ndim:
        raise TypeError(f"{name} must be a number (a step k), got an array of shape {value.shape}")
    return float(value)


def fit_linear_rate(steps, values, **kwargs) -> RateFit:
    """``fit(steps, values, "linear", ...)``: rho = exp(slope of log gap against k)."""
    return fit(steps, values, "linear", **kwargs)


def fit_power_rate(steps, values, **kwargs) -> RateFit:
    """``fit(steps, values, "power", ...)``: p = -(slope of log gap against log k)."""
    return fit(steps, values, "power", **kwargs)


def fit_order(steps, values, **kwargs) -> RateFit:
    """Fits both orders on the same window (default: the last decade) and returns the one whose
    log residuals are smaller: the measured order of convergence."""
    kwargs = dict(kwargs)
    if kwargs.get("start") is None:  # steps[-1] of [] was an IndexError: checked first
        kwargs["start"] = float(_prepare(steps, values, False)[0][-1]) / 10.0
    fits = [fit(steps, values, kind, **kwargs) for kind in KINDS]
    return min(fits, key=lambda f: f.rmse)


@dataclasses.dataclass(frozen=True)
class Slope:
    """A least-squares slope with its t interval: ``value`` in [``lo``, ``hi``] at ``level``,
    from ``num_points`` points (``dof`` = num_points - 2 degrees of freedom)."""

    value: float
    lo: float
    hi: float
    num_points: int
    level: float

    def describe(self) -> str:
        flat = ", flat: y does not change" if self.lo == self.hi == 0.0 else ""
        return f"{self.value:.3f} [{self.lo:.3f}, {self.hi:.3f}] ({self.num_points} points{flat})"


def loglog_slope(x, y, *, level: float = 0.95) -> Slope:
    """The slope of log y against log x over all the points, with its least-squares t interval
    (which needs at least 3 points: two points give a slope but no interval).

    For cost-against-size claims (seconds per step against n or B): the interval says whether
    the points agree with one power law, not only the two ends.
    """
    x, y = validation.real_array("x", x), validation.real_array("y", y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of one length, got {x.shape} and {y.shape}")
    if len(x) < 3:
        raise ValueError(f"a slope with an interval needs at least 3 points, got {len(x)}")
    if np.any(x <= 0) or np.any(y <= 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        # inf was a LinAlgError from inside LAPACK (with its messages on stderr)
        raise ValueError("x and y must be positive and finite (their logs are fitted)")
    if np.unique(x).size < 2:  # one x has no slope: it gave an arbitrary value
        raise ValueError(f"x must hold at least two distinct values, got {x.tolist()}")
    level = _level(level)
    X = np.stack([np.ones_like(x), np.log(x)], axis=1)
    # equal y: exactly 0 (lstsq gave 1.8e-16 [-4.3e-16, 8.0e-16]; leftovers34b)
    coef, *_ = np.linalg.lstsq(X, np.log(y), rcond=None) if np.ptp(y) else (np.array([np.log(y[0]), 0.0]),)
    resid = np.log(y) - X @ coef
    dof = len(x) - 2
    cov = np.linalg.inv(X.T @ X) * (resid @ resid) / dof
    half = _t_quantile(level, dof) * float(np.sqrt(cov[1, 1]))
    return Slope(float(coef[1]), float(coef[1] - half), float(coef[1] + half), len(x), level)


def _t_quantile(level: float, dof: int) -> float:
    from scipy import stats as scipy_stats  # scipy ships with jax

    return float(scipy_stats.t.ppf((1 + level) / 2, dof))


# -- the lecture's table ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TheoryRate:
    """One cell of the rates table: the iteration complexity and the order it means for a fit.

    ``kind`` is ``"linear"`` or ``"power"``; for ``"power"``, the accuracy after k steps is
    C k^{-p}. ``measure`` is the accuracy the lecture uses for the row.
    """

    row: str
    method: str
    complexity: str
    kind: str
    p: float | None
    measure: str

    def describe(self) -> str:
        return self.complexity + ("" if self.p is None else f" (p = {self.p:g})")


_GAP = "f(x_k) - f*"
_GRAD = "min_j ||grad f(x_j)||^2"

LECTURE_TABLE = (
    TheoryRate("PL", "GD", "O(log(1/eps))", "linear", None, _GAP),
    TheoryRate("PL", "SGD", "O(1/eps)", "power", 1.0, _GAP),
    TheoryRate("convex", "GD", "O(1/eps)", "power", 1.0, _GAP),
    TheoryRate("convex", "SGD", "O(1/eps^2)", "power", 0.5, _GAP),
    TheoryRate("non-convex", "GD", "O(1/eps)", "power", 1.0, _GRAD),
    TheoryRate("non-convex", "SGD", "O(1/eps^2)", "power", 0.5, _GRAD),
)
# Not in the lecture's table: the subgradient method on non-smooth convex problems.
NONSMOOTH_ROW = (
    TheoryRate("non-smooth convex", "GD", "O(1/eps^2)", "power", 0.5, _GAP),
    TheoryRate("non-smooth convex", "SGD", "O(1/eps^2)", "power", 0.5, _GAP),
)

CLASS_ROWS = {"strongly_convex": "PL", "pl": "PL", "convex": "convex", "nonconvex": "non-convex",
              "nonsmooth": "non-smooth convex"}


def theory_rate(problem_class: str, method: str) -> TheoryRate:
    """The table's cell for a problem class and ``"GD"`` or ``"SGD"``."""
    row = CLASS_ROWS.get(problem_class) if isinstance(problem_class, str) else None  # a list: unhashable
    if row is None:
        raise ValueError(f"problem_class must be one of {', '.join(CLASS_ROWS)}; got {validation.shown(problem_class)}")
    validation.choice("method", method, ("GD", "SGD"))
    for cell in LECTURE_TABLE + NONSMOOTH_ROW:
        if cell.row == row and cell.method == method:
            return cell
    raise AssertionError("unreachable")


# Half-width of the band around the table's p that counts as the same order. A last-decade fit
# of an exact k^-p curve gives p; the log factors of the bounds (the non-convex SGD bound is
# log k / sqrt k) and the onset of the asymptotic regime move it by a few hundredths, hence
# 0.05. The fit's own interval is added on top, so a cell matches when its interval meets the band.
MATCH_TOL = 0.05
# The widest interval of p that can match, the distance between the table's p = 1 and 1/2: a wider
MAX_WIDTH = 0.5  # one cannot tell them apart ([-5, 5] met any band: it was a match by default)

OUTCOMES = ("match", "faster", "slower", "unclear")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A measured order against a cell of the table.

    - ``outcome``: ``"match"`` (the interval meets [p - tol, p + tol], or linear where the table
      says linear), ``"faster"`` (the whole interval beats the band) or ``"slower"`` (the whole
      interval lies below it, or no convergence); ``"unclear"``: it meets the band but is wider
      than ``MAX_WIDTH``, too wide to tell (not ok);
    - ``ok``: match, or faster with a stated reason; slower is always a failure, and so is
      faster without a reason (an unexplained gap to a worst case is a question, not a pass);
    - ``text``: the verdict in words, with the reason.
    """

    outcome: str
    ok: bool
    text: str

    def __iter__(self):  # ``ok, text = compare(...)``
        return iter((self.ok, self.text))


def compare(measured: RateFit, theory: TheoryRate, *, tol: float = MATCH_TOL,
            why: str | None = None) -> Verdict:
    """A two-sided verdict of a measured order against the table's worst case for its class.

    **Arguments:**

    - ``measured``: the fitted order (``fit`` / ``fit_order``).
    - ``theory``: the table's cell (``theory_rate``).
    - ``tol``: the half-width of the band [p - tol, p + tol] that counts as the table's order
      (met by an interval at most ``MAX_WIDTH`` wide; a wider one is ``"unclear"``).
    - ``why``: the reason a problem beats the worst case (a structure the problem has beyond
      its class, or that the row is only an upper bound this problem beats). A faster order
      without it is not ok.

    The table's rates are upper bounds over a class: a given problem may converge faster, and
    then the verdict says why; it never converges slower if the assumptions hold.
    """
    validation.instance("measured", measured, RateFit, "a RateFit (rates.fit or fit_order)")
    validation.instance("theory", theory, TheoryRate, "a TheoryRate (rates.theory_rate)")
    tol = validation.nonnegative_float("tol", tol)

    def faster(what: str) -> Verdict:
        if why:
            return Verdict("faster", True, f"faster than the worst case ({what}): {why}")
        return Verdict("faster", False, f"faster than the worst case ({what}), and no reason given")

    if theory.kind == "linear":
        if measured.kind == "linear" and measured.hi < 1.0:
            return Verdict("match", True, "linear, as the table says")
        return Verdict("slower", False, "slower than the table: not linear")
    if measured.kind == "linear":
        if measured.hi < 1.0:
            return faster("linear")
        return Verdict("slower", False, "slower than the table: no convergence measured (rho >= 1)")
    p = theory.p
    if measured.hi < p - tol:
        return Verdict("slower", False, f"slower than the table: p < {p:g} - {tol:g}")
    if measured.lo > p + tol:
        return faster(f"p > {p:g} + {tol:g}")
    if not measured.hi - measured.lo <= MAX_WIDTH:  # NaN too: was "an interval nan wide"
        width = measured.hi - measured.lo
        said = f"an interval {width:.3g} wide, above {MAX_WIDTH:g}" if width == width else \
            f"the fit gave no interval (its bounds are {measured.lo:g} and {measured.hi:g})"
        return Verdict("unclear", False, f"too wide to tell: {said}")
    return Verdict("match", True, f"matches p = {p:g}")


def schedule_power(schedule, k_lo: float, k_hi: float) -> float:
    """The decay exponent a of a step schedule alpha_k ~ k^-a between ``k_lo`` and ``k_hi``
    (0 for a constant step).

    Where the gradient noise dominates, E[f(x_k) - f*] tracks the step (the constant-step
    plateau is linear in alpha), so a schedule alpha_k ~ k^-a caps SGD at p = a whatever the
    class's worst case: the schedule-induced rate, reported beside the table's.
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be a callable k -> step size, got {type(schedule).__name__}")
    k_lo, k_hi = validation.finite_float("k_lo", k_lo), validation.finite_float("k_hi", k_hi)
    if not 0 < k_lo < k_hi:
        raise ValueError(f"need 0 < k_lo < k_hi, got {k_lo!r} and {k_hi!r}")
    from sgd_bench.schedules import number_at  # here: rates imports no JAX
    a_lo, a_hi = number_at(schedule, k_lo), number_at(schedule, k_hi)
    if not (np.isfinite(a_lo) and np.isfinite(a_hi) and a_lo > 0 and a_hi > 0):
        raise ValueError(f"schedule must give finite steps > 0 at k_lo and k_hi, got {a_lo!r} and {a_hi!r}")
    return float(np.log(a_lo / a_hi) / np.log(k_hi / k_lo))
