"""momentum_stochastic's statistics of the gap curves: plateau, jackknife slope, end gap, the
first k below a level with a bootstrap interval, a linear rate and a ratio with its error."""

from __future__ import annotations

import numpy as np

GAP_FLOOR = 1e-16  # below float64 rounding of f*
Z95 = 1.96


def plateau(gap, steps):
    """Per-seed mean of the gap over the second half of the run; mean and stderr over seeds."""
    per_seed = gap[:, steps >= steps[-1] / 2].mean(axis=1)
    return float(per_seed.mean()), float(per_seed.std(ddof=1) / np.sqrt(len(per_seed)))


def slope_jackknife(k, k0, gap):
    """Log-log slope of the seed-mean gap against k + k0 (the decreasing step's own clock) over
    the last decade of k, and its leave-one-seed-out values (for paired intervals)."""
    keep = (k >= k[-1] / 10) & (k > 0)
    logk = np.log(k[keep] + k0)
    g = gap[:, keep]

    def fit(mean):
        return float(np.polyfit(logk, np.log(np.maximum(mean, GAP_FLOOR)), 1)[0])

    s = len(g)
    total = g.sum(axis=0)
    loo = np.array([fit((total - g[i]) / (s - 1)) for i in range(s)])
    return fit(total / s), loo


def jackknife_se(loo):
    s = len(loo)
    return float(np.sqrt((s - 1) / s * np.sum((loo - loo.mean()) ** 2)))


def end_gap(k, gap):
    """Per-seed mean of the gap over the last decade of k: mean and stderr over seeds."""
    per_seed = gap[:, (k >= k[-1] / 10) & (k > 0)].mean(axis=1)
    return float(per_seed.mean()), float(per_seed.std(ddof=1) / np.sqrt(len(per_seed)))


def first_below(k, gap, level, draws=400, seed=0):
    """First logged k where the seed-mean gap is <= level, and a 95% bootstrap interval over
    seeds (None where the mean never gets there)."""
    def first(means):
        below = means <= level
        return np.where(below.any(axis=-1), k[np.argmax(below, axis=-1)], np.nan)

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(gap), (draws, len(gap)))
    boot = first(gap[idx].mean(axis=1))
    # a draw whose mean never gets there counts as k = inf (so it widens the interval)
    lo, hi = np.percentile(np.where(np.isnan(boot), np.inf, boot), (2.5, 97.5))
    never = float(np.mean(np.isnan(boot)))
    point = float(first(gap.mean(axis=0)))
    as_json = lambda v: None if not np.isfinite(v) else float(v)   # meta.json holds no NaN, inf
    return as_json(point), as_json(lo), as_json(hi), never


def linear_rate(k, gap, lo=1e-12):
    """Per-iteration contraction of the gap: exp of the slope of log(gap) against k, fitted
    where the gap is below gap[0]/10 and above ``lo`` (the transient and the floor left out)."""
    keep = (gap < gap[0] / 10) & (gap > lo)
    if keep.sum() < 3:
        keep = gap > lo
    return float(np.exp(np.polyfit(k[keep], np.log(gap[keep]), 1)[0]))


def ratio(a, sa, b, sb):
    r = a / b
    return r, r * float(np.hypot(sa / a, sb / b))

