"""momentum_stochastic's statistics of the gap curves beyond the toolkit's plateau and jackknife
slope: the end gap, the first k below a level with a bootstrap interval, a linear rate and a
ratio with its error."""

from __future__ import annotations

import numpy as np

from sgd_bench_harness import toolkit


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
    return float(np.exp(toolkit.slope(k[keep], np.log(gap[keep]))))


def ratio(a, sa, b, sb):
    r = a / b
    return r, r * float(np.hypot(sa / a, sb / b))

