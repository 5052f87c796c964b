"""The seed statistics (``sgd_bench.stats``): diverged seeds are left out, and the edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from sgd_bench import stats


@pytest.fixture
def seeds():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((6, 4)) + 3.0
    diverged = np.array([False, True, False, False, True, False])
    values[1] = np.inf
    values[4, 2] = np.nan
    values[4, 0] = 1e300
    return values, diverged


def test_stats_leave_diverged_seeds_out(seeds):
    values, diverged = seeds
    kept = values[[0, 2, 3, 5]]
    m = kept.sum(axis=0) / 4
    np.testing.assert_allclose(stats.mean(values, diverged), m, rtol=1e-15)
    se = np.sqrt(((kept - m) ** 2).sum(axis=0) / 3) / 2
    np.testing.assert_allclose(stats.stderr(values, diverged), se, rtol=1e-12)
    q = stats.quantiles(values, (0.0, 0.5, 1.0), diverged)
    srt = np.sort(kept, axis=0)
    np.testing.assert_allclose(q[0.0], srt[0])
    np.testing.assert_allclose(q[0.5], (srt[1] + srt[2]) / 2, rtol=1e-15)
    np.testing.assert_allclose(q[1.0], srt[-1])
    summary = stats.summarize(values, diverged, qs=(0.5,))
    assert summary.num_seeds == 6 and summary.num_diverged == 2
    np.testing.assert_allclose(summary.mean, m, rtol=1e-15)
    lo, hi = summary.band(2.0)
    np.testing.assert_allclose(lo, m - 2 * se, rtol=1e-12)
    np.testing.assert_allclose(hi, m + 2 * se, rtol=1e-12)
    # without the mask the blown-up seeds poison the mean
    assert not np.all(np.isfinite(stats.mean(values)))


def test_stats_without_mask_and_edge_cases():
    values = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_array_equal(stats.mean(values), [2.0, 4.0])
    np.testing.assert_allclose(stats.stderr(values), [1.0, 2.0])  # s / sqrt(2)
    assert np.all(np.isnan(stats.mean(values, np.array([True, True]))))
    assert np.all(np.isnan(stats.stderr(values, np.array([False, True]))))
    assert np.all(np.isnan(stats.quantiles(values, (0.5,), np.array([True, True]))[0.5]))
