"""local_minima's measurement: one compiled sweep over (step, noise) cells and seeds, and what
the end points of one cell say (basin fractions with standard errors, sharpness, losses)."""

from __future__ import annotations

import functools

import jax
import numpy as np

from sgd_bench.noise import noisy_sgd
from sgd_bench.solver import advance_state, init_state

# A run "converged" to a minimum when it ends this close to it (GD reaches 1e-12 in 400 steps
# at the small steps; a period-2 bounce at alpha > 2/h stays ~0.1-1 away).
CONVERGED = 1e-6


@functools.partial(jax.jit, static_argnames=("batch_size", "sampling", "noisy", "steps"))
def sweep(problem, alphas, noise_stds, x0s, keys, *, batch_size, sampling="with_replacement",
          noisy=False, steps):
    """The end points of ``noisy_sgd(alpha_c, noise_c, batch_size, sampling)`` for each cell c
    of the paired arrays ``alphas`` and ``noise_stds``, from ``x0s[s]`` with key ``keys[s]`` for
    every seed s: an array (cell, seed, d).

    With ``noisy=False`` the noise levels are ignored and no noise is drawn (plain GD or SGD).
    The hyperparameters are traced values of one method (``Method.replace``), stepped by the
    engine's public ``init_state`` / ``advance_state``; seed s of cell c ends where
    ``sgd_bench.run(problem, method, x0s[s], keys[s], steps=steps)`` does for the same method.
    """
    base = noisy_sgd(1.0, 1.0 if noisy else 0.0, batch_size, sampling)

    def one_cell(hyper):
        alpha, sigma = hyper
        method = base.replace(step_size=alpha, **({"noise_std": sigma} if noisy else {}))

        def one_seed(x0, key):
            state = init_state(problem, method, x0, key, chunk=steps)
            return advance_state(problem, method, state, steps, chunk=steps).x

        return jax.vmap(one_seed)(x0s, keys)

    return jax.lax.map(one_cell, (alphas, noise_stds))


def endpoint_stats(landscape, xs) -> dict:
    """Where the end points ``xs`` (S, d) are and what the landscape is like there."""
    xs = np.asarray(xs, np.float64).reshape(len(xs), -1)
    s = len(xs)
    basin = landscape.basin(xs)
    train, test = landscape.losses(xs)
    sharp = landscape.sharpness(xs)
    gap = test - train
    narrow, wide = landscape.minimum("narrow"), landscape.minimum("wide")
    out = {}
    for label, code in (("narrow", 0), ("wide", 1), ("plateau", -1)):
        p = float(np.mean(basin == code))
        out[f"p_{label}"] = p
        out[f"se_{label}"] = float(np.sqrt(max(p * (1 - p), 0.25 / s) / s))
    in_n, in_w = basin == 0, basin == 1

    def mean_of(v, mask):
        return float(v[mask].mean()) if mask.any() else float("nan")

    out.update(
        conv_narrow=float(np.mean(np.linalg.norm(xs - narrow.x, axis=1) < CONVERGED)),
        # The closest end point to the narrow minimum: > 0 for a run that bounces around it.
        dist_narrow_min=float(np.min(np.linalg.norm(xs - narrow.x, axis=1))),
        sharpness=float(sharp.mean()), sharpness_narrow=mean_of(sharp, in_n),
        sharpness_wide=mean_of(sharp, in_w),
        train=float(train.mean()), train_se=float(train.std(ddof=1) / np.sqrt(s)),
        test=float(test.mean()),
        gap=float(gap.mean()), gap_se=float(gap.std(ddof=1) / np.sqrt(s)),
        gap_narrow=mean_of(gap, in_n), gap_wide=mean_of(gap, in_w),
        # The spread of the end points around the wide minimum: sqrt E||x - x_wide||^2.
        spread_wide=(float(np.sqrt(np.mean(np.sum((xs[in_w] - wide.x) ** 2, axis=1))))
                     if in_w.any() else float("nan")),
    )
    return out


def cells_of(cells, landscape, method, batch):
    """The cells of one row of the sweep: one landscape, method and batch, in step order."""
    return [c for c in cells if c["landscape"] == landscape and c["method"] == method
            and c["batch"] == batch]
