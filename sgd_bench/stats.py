"""Statistics over the seed axis of traces: mean, standard error, quantiles, confidence bands.

These are host-side NumPy functions of arrays whose first axis is the seed. Seeds that
diverged are left out (and counted), so one blown-up seed cannot poison a mean.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from sgd_bench import validation


class SeedSummary(NamedTuple):
    """Per-log-point statistics across the seeds that did not diverge."""

    mean: np.ndarray
    stderr: np.ndarray
    quantiles: dict[float, np.ndarray]
    num_seeds: int
    num_diverged: int

    def band(self, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) of the normal-approximation confidence interval of the mean."""
        z = validation.nonnegative_float("z", z)
        return self.mean - z * self.stderr, self.mean + z * self.stderr


def _kept(values, diverged) -> np.ndarray:
    # complex values lost their imaginary part and [None, 1.0] became NaN, silently
    validation.live("values", values)  # a donated array: was JAX's "Array has been deleted"
    values = validation.real_array("values", values, nan=True)
    if values.ndim < 1:
        raise ValueError("values must have a leading seed axis")
    if diverged is None:
        return values
    validation.unmasked("diverged", diverged)  # its mask was dropped: a masked True still left a seed out
    raw = np.asarray(diverged)
    if raw.dtype != bool and not (np.issubdtype(raw.dtype, np.integer) and np.isin(raw, (0, 1)).all()):
        # a float mask (0.5 was read as True) is not a Trace.diverged: refused, not guessed
        raise TypeError(f"diverged must be a boolean mask such as Trace.diverged, got dtype {raw.dtype}")
    diverged = raw.astype(bool)
    if diverged.shape != values.shape[:1]:
        raise ValueError(f"diverged must have shape ({values.shape[0]},), got {diverged.shape}")
    return values[~diverged]


def _check_quantiles(qs) -> list[float]:
    try:
        out = [float(q) for q in np.atleast_1d(np.asarray(qs, dtype=np.float64))]
    except (TypeError, ValueError):
        raise TypeError(f"qs must be a sequence of numbers in [0, 1], got {qs!r}") from None
    bad = [q for q in out if not 0.0 <= q <= 1.0]
    if bad:
        raise ValueError(f"qs must be in [0, 1], got {bad}")
    return out


def _without_overflow(statistic, kept: np.ndarray) -> np.ndarray:
    """``statistic(kept)`` over axis 0; where it overflowed from finite values (a mean of values
    near 1e308, a standard deviation of 1e200: inf with NumPy's RuntimeWarning), computed again on
    values scaled by their largest magnitude and scaled back. Elsewhere it is NumPy's result,
    unchanged; no NumPy warning escapes (inf or NaN values give inf or NaN, as before)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = statistic(kept)
        redo = ~np.isfinite(out) & np.all(np.isfinite(kept), axis=0)
        if not np.any(redo):
            return out  # NumPy's own result and type
        scale = np.max(np.abs(kept), axis=0)
        scale = np.where(redo & (scale > 0), scale, 1).astype(kept.dtype)
        return np.where(redo, statistic(kept / scale) * scale, out)


def mean(values, diverged=None) -> np.ndarray:
    """Mean over seeds (axis 0), leaving out diverged seeds."""
    kept = _kept(values, diverged)
    if not len(kept):
        return np.full(np.shape(values)[1:], np.nan)
    return _without_overflow(lambda v: v.mean(axis=0), kept)


def stderr(values, diverged=None) -> np.ndarray:
    """Standard error of the mean over seeds, s / sqrt(S), leaving out diverged seeds."""
    kept = _kept(values, diverged)
    if len(kept) < 2:
        return np.full(np.shape(values)[1:], np.nan)
    return _without_overflow(lambda v: v.std(axis=0, ddof=1) / np.sqrt(len(v)), kept)


def quantiles(values, qs: Sequence[float] = (0.05, 0.5, 0.95), diverged=None) -> dict[float, np.ndarray]:
    """Quantiles over seeds, leaving out diverged seeds, as {q: array}."""
    qs = _check_quantiles(qs)
    kept = _kept(values, diverged)
    if not len(kept):
        return {float(q): np.full(np.shape(values)[1:], np.nan) for q in qs}
    return {float(q): _without_overflow(lambda v: np.quantile(v, q, axis=0), kept) for q in qs}


def summarize(values, diverged=None, qs: Sequence[float] = (0.05, 0.5, 0.95)) -> SeedSummary:
    """Mean, standard error and quantiles over the seed axis in one record."""
    avg = mean(values, diverged)  # checks values and diverged first
    num = int(np.shape(values)[0])
    num_div = 0 if diverged is None else int(np.sum(np.asarray(diverged, dtype=bool)))
    return SeedSummary(avg, stderr(values, diverged), quantiles(values, qs, diverged), num, num_div)
