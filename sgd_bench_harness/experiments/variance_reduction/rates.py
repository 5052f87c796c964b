"""variance_reduction's fitted linear rates: per epoch, and the growing batch's per step with the
bootstrap standard error of its R^2 and its linearity verdict."""

from __future__ import annotations

import numpy as np

from sgd_bench import stats

FIT_FLOOR = 1e-12          # fits of linear rates stop above the rounding floor
GB_R2_MIN = 0.8            # the growing batch's log-linear fit while |B_k| grows
R2_BOOTSTRAP = 400         # resamples of the seeds for the standard error of that R^2


def fit_rate(x, gap, top):
    """exp(slope) of log(gap) against x, over the points with FIT_FLOOR < gap < top, with R^2."""
    keep = (gap > FIT_FLOOR) & (gap < top)
    if keep.sum() < 3:
        return float("nan"), float("nan")
    slope, icpt = np.polyfit(x[keep], np.log(gap[keep]), 1)
    resid = np.log(gap[keep]) - (slope * x[keep] + icpt)
    total = np.sum((np.log(gap[keep]) - np.log(gap[keep]).mean()) ** 2)
    return float(np.exp(slope)), float(1 - np.sum(resid**2) / total) if total > 0 else 1.0


def epoch_rate(cv):
    """The fitted rate per epoch of a stored curve and its R^2, from a tenth of its first gap on."""
    mean = cv[("mean", "f_gap")]
    return fit_rate(cv["epochs"], mean, top=mean[0] / 10)


def growing_rate(cv, sizes):
    """The growing batch's rate per step, its R^2, and its rate once the batch is full (|B_k| = n
    from k = len(sizes) - 1 on)."""
    k, mean = cv["step"].astype(float), cv[("mean", "f_gap")]
    growing = k < len(sizes) - 1
    rate_k, r2_k = fit_rate(k[growing], mean[growing], top=mean[0] / 10)
    rate_full, _ = fit_rate(k[~growing], mean[~growing], top=1e-3)
    return rate_k, r2_k, rate_full


def growing_r2_se(k, gap, diverged, sizes, resamples=R2_BOOTSTRAP, seed=0):
    """The standard error of the growing batch's R^2 (``growing_rate`` on the mean over seeds of
    ``gap``, shape (seeds, len(k))): the spread of that R^2 over bootstrap resamples of the seeds,
    drawn by a fixed NumPy generator so that a run's verdict is reproducible."""
    rng = np.random.default_rng(seed)
    gap, diverged = np.asarray(gap), np.asarray(diverged)
    r2 = []
    for _ in range(resamples):
        pick = rng.integers(0, len(gap), len(gap))
        mean = stats.mean(gap[pick], diverged[pick])
        r2.append(growing_rate({"step": np.asarray(k), ("mean", "f_gap"): mean}, sizes)[1])
    r2 = np.asarray(r2)
    r2 = r2[np.isfinite(r2)]
    return float(r2.std(ddof=1)) if len(r2) > 1 else float("nan")


def growing_r2_holds(r2, se, z):
    """The growing batch's linearity claim: R^2 >= GB_R2_MIN, less z standard errors (z = 0 in
    the full run: the plain bound). A NaN R^2 or a NaN standard error under z > 0 fails."""
    allowed = GB_R2_MIN - (z * se if z else 0.0)
    return bool(np.isfinite(r2) and np.isfinite(allowed) and r2 >= allowed), float(allowed)
