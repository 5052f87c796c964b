"""Narrow against wide minima: where GD, SGD and Gaussian-noise GD end, over 4096 seeds.

On the 1-D landscape of ``problems.landscapes`` (a narrow well at 0, sharpness ~0.54, and a
wide one at 13, sharpness ~0.016, written as a finite sum over 64 shifted copies) every run
starts in the narrow basin, x0 ~ U(-2, 2), and takes ``steps`` steps. For each step size alpha
and batch size B we count where the runs end: in the narrow basin, in the wide basin, or on
the flat plateau (``Landscape.basin``), with binomial standard errors, and we measure the
sharpness f'' at the end points.

The lecture's pictures become measured statements (``checks.json``):

- GD with a small step (alpha < 2/h_narrow) converges into the narrow minimum from every start;
- GD with a step above 2/h_narrow does not converge to the narrow minimum, but up to alpha = 10
  it does not leave its basin either: it bounces inside it (one more step still moves every end
  point); only at the largest steps do the bounces throw every run into the wide basin;
- SGD's sampling noise escapes the narrow minimum at steps where GD stays: P(wide) rises with
  the step and falls with the batch size;
- the end points in the wide basin are more than 10x flatter.

The landscape's "test loss" (``Landscape.losses``) is the training loss shifted by a constant,
the lecture's ``sam_c.png`` picture: a flat minimum loses less under the shift by construction.
It is drawn for intuition only; no check rests on it. Whether flatter end points generalize
better on real data is measured by ``scripts/sharp_minima.py`` (a digits MLP, held-out images).

Additive Gaussian gradient noise (``sgd_bench.noise.noisy_sgd``), of the same size as SGD's
noise at the narrow minimum, is run next to SGD: it escapes too, but it does not die down in
the flat basin, where SGD's noise (proportional to the curvature) nearly vanishes. The 2-D
landscape (a narrow dimple on the flank of a wide bowl) repeats the GD-against-SGD comparison.

How the sweep is compiled: step sizes and noise levels are traced hyperparameters of one
``noisy_sgd`` method (``Method.replace`` inside the traced function), stepped by the engine's
public ``init_state`` / ``advance_state`` vmapped over seeds (each seed starts at its own x0,
which ``sgd_bench.sweep`` does not do), with ``lax.map`` over the cells: one compiled program per
batch size (GD and GD + noise share one), the same sampler streams as ``run_seeds``, and the
same keys for every alpha (common random numbers). Each run is one block, so the sampler draws
a (steps, B) index block per seed at once: 210 MB for 4096 seeds x 400 steps x B = 32, which
keeps the per-step index draws vectorized.

    python scripts/local_minima.py [--quick] [--seeds S] [--steps K] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import jax

from sgd_bench_harness import experiment

NAME = "local_minima"
DESCRIPTION = ("narrow vs wide minima: P(end in the wide basin) against step and batch for GD, "
               "SGD and Gaussian-noise GD, sharpness of the end points (4096 seeds)")

FULL = dict(seeds=4096, steps=400, key=0,
            alphas=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0),
            batches=(1, 2, 4, 8, 16, 32), noise_batches=(1, 4),
            x0_low=-2.0, x0_high=2.0, show=(3.0, 3.0, 12.0),
            equality_seeds=256, equality_alphas=(1.0, 3.0),
            alphas_2d=(1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0), batches_2d=(1, 4), x0_radius_2d=1.5,
            dpi=150)
QUICK = dict(seeds=256, steps=200, key=0,
             alphas=(2.0, 3.0, 4.0, 12.0), batches=(1,), noise_batches=(1,),
             x0_low=-2.0, x0_high=2.0, show=(3.0, 3.0, 12.0),
             equality_seeds=16, equality_alphas=(2.0, 3.0),
             alphas_2d=(2.0, 3.0, 16.0), batches_2d=(1,), x0_radius_2d=1.5, dpi=60)

# A run "converged" to a minimum when it ends this close to it (GD reaches 1e-12 in 400 steps
# at the small steps; a period-2 bounce at alpha > 2/h stays ~0.1-1 away).
CONVERGED = 1e-6
# z for the one-sided statistical claims: 5 standard errors, so a fixed-key check never flips.
Z = 5.0


# ---- the sweep: one compiled program per batch size ---------------------------------------------
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
    from sgd_bench.noise import noisy_sgd
    from sgd_bench.solver import advance_state, init_state

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
    import numpy as np

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


def _transition(alphas, p):
    """The step where P(wide) first reaches 1/2, linearly interpolated (inf if never)."""
    import numpy as np

    for j in range(len(p)):
        if p[j] >= 0.5:
            if j == 0:
                return float(alphas[0])
            a0, a1, p0, p1 = alphas[j - 1], alphas[j], p[j - 1], p[j]
            return float(a0 + (0.5 - p0) * (a1 - a0) / (p1 - p0))
    return float(np.inf)


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary and checks."""
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    import problems.landscapes as landscapes
    import sgd_bench as sb
    from sgd_bench_harness import results

    start = time.perf_counter()
    land = landscapes.landscape_1d()
    problem = land.problem
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    h_narrow = narrow.sharpness
    seeds, steps = config["seeds"], config["steps"]
    alphas = tuple(float(a) for a in config["alphas"])
    # Starting points from NumPy (seeded by the key), run keys from the engine's seed_keys.
    rng = np.random.default_rng(config["key"])
    x0s = jnp.asarray(rng.uniform(config["x0_low"], config["x0_high"], (seeds, 1)), problem.dtype)
    keys = sb.seed_keys(config["key"], seeds)
    # SGD's noise at the narrow minimum: the spread of the per-sample gradients there. A
    # with-replacement batch of B has variance sigma^2 / B; the Gaussian noise gets the same.
    per_sample = jax.jit(lambda p, x: p.per_sample_grads(x))
    g_narrow = np.asarray(per_sample(problem, jnp.asarray(narrow.x)))[:, 0]
    g_wide = np.asarray(per_sample(problem, jnp.asarray(wide.x)))[:, 0]
    sigma1 = float(g_narrow.std())

    cells, ends, timings = [], {}, {}

    def measure(tag, land_name, lscape, x0, batch, specs, **kwargs):
        """Runs the cells ``specs`` = [(method label, batch label, alpha, sigma), ...] in one
        program (``batch`` is the batch size run, None for full gradients) and records each."""
        t = time.perf_counter()
        a = jnp.asarray([sp[2] for sp in specs], lscape.problem.dtype)
        sig = jnp.asarray([sp[3] for sp in specs], lscape.problem.dtype)
        xs = np.asarray(sweep(lscape.problem, a, sig, x0, keys, batch_size=batch, steps=steps,
                              **kwargs))
        timings[tag] = round(time.perf_counter() - t, 2)
        for j, (method, batch_label, alpha, sigma) in enumerate(specs):
            cells.append(dict(experiment=NAME, landscape=land_name, method=method,
                              batch=batch_label, noise_std=sigma, alpha=alpha, seeds=seeds,
                              steps=steps, **endpoint_stats(lscape, xs[j])))
        return xs

    # GD and GD with Gaussian noise share one program (noise 0 is exactly GD). The noise runs
    # are labelled by the batch whose sampling noise at the narrow minimum they match.
    specs = [("GD", "n", a, 0.0) for a in alphas]
    specs += [("GD + Gaussian noise", b, a, sigma1 / np.sqrt(b))
              for b in config["noise_batches"] for a in alphas]
    ends["GD"] = measure("GD and GD + noise", "1d", land, x0s, None, specs, noisy=True)[:len(alphas)]
    for b in config["batches"]:
        ends[f"SGD {b}"] = measure(f"SGD batch {b}", "1d", land, x0s, b,
                                   [("SGD", b, a, 0.0) for a in alphas])

    # SGD with B = n drawn without replacement sees every sample once per step: it is GD. The
    # comparison uses steps below 2/h_narrow, where GD contracts; above it, GD's bounce
    # amplifies the last-bit differences of the two summation orders.
    eq_s = min(config["equality_seeds"], seeds)
    eq_alphas = list(config["equality_alphas"])
    eq = sweep(problem, jnp.asarray(eq_alphas, problem.dtype), jnp.zeros(len(eq_alphas), problem.dtype),
               x0s[:eq_s], keys[:eq_s], batch_size=problem.n, sampling="reshuffle", steps=steps)
    eq_ref = ends["GD"][[alphas.index(a) for a in eq_alphas], :eq_s]
    eq_diff = float(np.max(np.abs(np.asarray(eq) - eq_ref)))

    # ---- 2-D ------------------------------------------------------------------------------
    land2 = landscapes.landscape_2d()
    n2 = land2.minimum("narrow")
    alphas2 = tuple(float(a) for a in config["alphas_2d"])
    radius = config["x0_radius_2d"] * np.sqrt(rng.uniform(size=seeds))  # uniform in the disc
    theta = 2 * np.pi * rng.uniform(size=seeds)
    x0s2 = jnp.asarray(n2.x + np.stack([radius * np.cos(theta), radius * np.sin(theta)], 1),
                       land2.problem.dtype)
    ends["2d GD"] = measure("2-D GD", "2d", land2, x0s2, None, [("GD", "n", a, 0.0) for a in alphas2])
    for b in config["batches_2d"]:
        ends[f"2d SGD {b}"] = measure(f"2-D SGD batch {b}", "2d", land2, x0s2, b,
                                      [("SGD", b, a, 0.0) for a in alphas2])

    # ---- checks ----------------------------------------------------------------------------
    def rows(land_name, method, batch):
        return [c for c in cells if c["landscape"] == land_name and c["method"] == method
                and c["batch"] == batch]

    checks = []
    gd = rows("1d", "GD", "n")
    small = [c for c in gd if c["alpha"] < 2 / h_narrow]
    checks.append(dict(
        claim=f"GD with a small step (alpha < 2/h_narrow = {2 / h_narrow:.2f}) converges into the "
              f"narrow minimum from every start (|x_K - x_narrow| < {CONVERGED:g})",
        measured={f"alpha={c['alpha']:g}": c["conv_narrow"] for c in small},
        holds=bool(small) and all(c["conv_narrow"] == 1.0 for c in small)))

    # Above 2/h_narrow GD cannot converge to the narrow minimum (the linearized step x -> (1 -
    # alpha h) x expands), but that does not make it leave the basin: up to some step every run
    # stays in it, away from the minimum, and one more GD step from its end point still moves it
    # (it bounces; it has not converged to any point). Only the largest steps throw every run
    # into the wide basin.
    large = [c for c in gd if c["alpha"] > 2 / h_narrow]
    trapped = [c for c in large if c["p_narrow"] == 1.0]
    top = gd[-1]
    grad = jax.jit(jax.vmap(problem.grad))
    moves = {}
    for c in trapped:
        xs_end = ends["GD"][alphas.index(c["alpha"])]
        moves[c["alpha"]] = float(np.min(np.abs(c["alpha"] * np.asarray(grad(jnp.asarray(xs_end))))))
    checks.append(dict(
        claim=f"GD with a step above 2/h_narrow = {2 / h_narrow:.2f} does not converge to the narrow "
              "minimum, but it does not leave its basin either: at every such step up to "
              f"alpha = {max((c['alpha'] for c in trapped), default=float('nan')):g} every run ends in "
              "the narrow basin, none within 1e-6 of the minimum, and one more GD step moves every "
              "end point by more than 1e-3 (it bounces inside the basin, at alpha >= 8 chaotically, "
              "passing near the minimum now and then); only at the "
              f"largest step (alpha = {top['alpha']:g}) does every run end in the wide basin",
        measured={"alphas above 2/h with P(narrow) = 1": [c["alpha"] for c in trapped],
                  "converged to the minimum above 2/h": max((c["conv_narrow"] for c in large), default=None),
                  "closest end point to the minimum": {f"alpha={c['alpha']:g}": c["dist_narrow_min"]
                                                       for c in trapped},
                  "smallest move of one more step": {f"alpha={a:g}": v for a, v in moves.items()},
                  f"P(wide), GD alpha={top['alpha']:g}": top["p_wide"]},
        holds=bool(trapped) and max(c["conv_narrow"] for c in large) == 0.0
        and min(moves.values()) > 1e-3
        and top["p_wide"] == 1.0))

    sgd1 = rows("1d", "SGD", 1)
    escape = [(s, g) for s, g in zip(sgd1, gd) if s["alpha"] < 2 / h_narrow]
    best = max(escape, key=lambda sg: sg[0]["p_wide"] - sg[1]["p_wide"])
    checks.append(dict(
        claim="SGD noise escapes the narrow minimum: at a step where GD converges into it "
              f"(alpha < 2/h_narrow), SGD (batch 1) ends in the wide basin {Z:g} standard errors "
              "more often",
        measured={"alpha": best[0]["alpha"], "P(wide) SGD": best[0]["p_wide"],
                  "P(wide) GD": best[1]["p_wide"], "se": best[0]["se_wide"]},
        holds=bool(best[0]["p_wide"] - best[1]["p_wide"] > Z * np.hypot(best[0]["se_wide"], best[1]["se_wide"]))))

    # P(wide) increases with the step: along every row, up to the step where it is largest, no
    # drop beyond noise, and a rise from below 0.1 to at least 0.5. Past that step large noisy
    # steps throw some runs over the far edge of the narrow well onto the plateau: what P(wide)
    # loses there goes to the plateau, not back to the narrow minimum.
    mono, rises, back = {}, {}, {}
    row_keys = [("SGD", b) for b in config["batches"]] + [("GD", "n")]
    for method, b in row_keys:
        r = rows("1d", method, b)
        p = np.array([c["p_wide"] for c in r])
        se = np.array([c["se_wide"] for c in r])
        top = int(np.argmax(p))
        drops = [p[j] - p[j + 1] - Z * np.hypot(se[j], se[j + 1]) for j in range(top)]
        label = "GD" if method == "GD" else f"SGD batch {b}"
        mono[label] = float(max(drops, default=-1.0))
        rises[label] = (float(p[0]), float(p[top]))
        back[label] = float(max((c["p_narrow"] for c in r[top + 1:]), default=0.0))
    checks.append(dict(
        claim="The fraction of runs ending in the wide basin increases with the step size, for GD "
              f"and for every batch size: up to its maximum no drop beyond {Z:g} standard errors, a "
              "rise from < 0.1 to >= 0.5, and past the maximum < 5% of runs fall back to the narrow "
              "minimum (the rest of the loss goes to the plateau)",
        measured={"largest drop minus noise": mono, "P(wide) at the smallest step, at the maximum": rises,
                  "P(narrow) past the maximum": back},
        holds=all(v <= 0 for v in mono.values()) and all(a < 0.1 and b_ >= 0.5 for a, b_ in rises.values())
        and all(v < 0.05 for v in back.values())))

    # Batch size: at every step where batch 1 has lost no more than 1% of its runs to the
    # plateau, P(wide) does not grow with the batch (beyond noise), and at some step batch 1
    # beats GD clearly. The step where P(wide) first reaches 1/2 is reported per batch.
    grid = {b: rows("1d", m, b) for m, b in row_keys}
    order = [b for _, b in row_keys]
    clean = [j for j, c in enumerate(grid[order[0]]) if c["p_plateau"] <= 0.01]
    worst, best_gain = -1.0, 0.0
    for j in clean:
        for b_lo, b_hi in zip(order, order[1:]):
            lo, hi = grid[b_lo][j], grid[b_hi][j]
            worst = max(worst, hi["p_wide"] - lo["p_wide"] - Z * np.hypot(lo["se_wide"], hi["se_wide"]))
        first, last = grid[order[0]][j], grid[order[-1]][j]
        best_gain = max(best_gain, (first["p_wide"] - last["p_wide"]) / np.hypot(first["se_wide"], last["se_wide"]))
    trans = {("GD" if b == "n" else f"SGD batch {b}"): _transition(alphas, [c["p_wide"] for c in grid[b]])
             for b in order}
    checks.append(dict(
        claim="The batch size works against escaping: at every step where batch 1 loses <= 1% of "
              f"runs to the plateau, P(wide) does not grow with the batch beyond {Z:g} standard errors, "
              f"and somewhere batch 1 beats GD by more than {Z:g}",
        measured={"largest growth minus noise": float(worst), "best batch-1 lead over GD (se)": float(best_gain),
                  "steps checked": [alphas[j] for j in clean], "step where P(wide) reaches 1/2": trans},
        holds=bool(clean) and worst <= 0 and best_gain > Z))

    # Sharpness and generalization, over all 1-D cells: end points in the wide basin against
    # end points in the narrow one.
    one_d = [c for c in cells if c["landscape"] == "1d"]

    def pooled(key, basin):
        w = np.array([c[f"p_{basin}"] for c in one_d])
        v = np.array([c[f"{key}_{basin}"] for c in one_d])
        keep = w > 0
        return float(np.sum(w[keep] * v[keep]) / np.sum(w[keep]))

    sharp_n, sharp_w = pooled("sharpness", "narrow"), pooled("sharpness", "wide")
    checks.append(dict(
        claim="End points in the wide basin are flat: their mean sharpness f'' is below 1/10 of "
              "that of end points in the narrow basin",
        measured={"narrow": sharp_n, "wide": sharp_w, "minima": [h_narrow, wide.sharpness]},
        holds=bool(sharp_w < sharp_n / 10)))
    checks.append(dict(
        claim="SGD with batch size n drawn without replacement equals GD step for step "
              f"(end points after {steps} steps, {eq_s} seeds, alpha in {list(config['equality_alphas'])})",
        measured={"max |x_SGD - x_GD|": eq_diff}, holds=bool(eq_diff <= 1e-12)))

    # Sampling noise against additive Gaussian noise of the same size at the narrow minimum.
    nb = config["noise_batches"][0]
    nz, sg = rows("1d", "GD + Gaussian noise", nb), rows("1d", "SGD", nb)
    esc_n = max(1.0 - c["p_narrow"] for c in nz if c["alpha"] < 2 / h_narrow)
    settled = [(a, b_) for a, b_ in zip(sg, nz) if a["p_wide"] > 0.5]
    plateau_lead = min(((b_["p_plateau"] - a["p_plateau"]) / np.hypot(a["se_plateau"], b_["se_plateau"])
                        for a, b_ in settled), default=float("nan"))
    train_lead = min(((b_["train"] - a["train"]) / np.hypot(a["train_se"], b_["train_se"])
                      for a, b_ in settled), default=float("nan"))
    checks.append(dict(
        claim=f"Additive Gaussian noise as large as SGD's (batch {nb}) at the narrow minimum escapes "
              "it too, but it does not die down where the landscape is flat, as SGD's noise "
              "(~ curvature x shift) does: at every step where SGD ends mostly in the wide basin, "
              f"the Gaussian-noise runs end on the plateau more often and at a higher train loss "
              f"(each by more than {Z:g} standard errors)",
        measured={"noise std at the narrow / wide minimum": [sigma1 / np.sqrt(nb), float(g_wide.std() / np.sqrt(nb))],
                  "P(left narrow basin) Gaussian, alpha < 2/h": esc_n,
                  "steps compared": [a["alpha"] for a, _ in settled],
                  "min plateau lead (se)": plateau_lead, "min train-loss lead (se)": train_lead},
        holds=bool(esc_n > 0.5 and settled and plateau_lead > Z and train_lead > Z)))

    gd2 = rows("2d", "GD", "n")
    sgd2 = rows("2d", "SGD", config["batches_2d"][0])
    h2 = n2.sharpness
    small2 = [(g, s) for g, s in zip(gd2, sgd2) if g["alpha"] < 2 / h2]
    best2 = max(small2, key=lambda gs: gs[1]["p_wide"])
    checks.append(dict(
        claim=f"In 2-D too: GD with alpha < 2/h_narrow = {2 / h2:.2f} converges into the narrow "
              "minimum, SGD (batch 1) at such a step ends mostly in the wide basin, and GD with the "
              "largest step ends there",
        measured={"GD converged, alpha < 2/h": min(g["conv_narrow"] for g, _ in small2),
                  f"P(wide) SGD alpha={best2[1]['alpha']:g}": best2[1]["p_wide"],
                  f"P(wide) GD alpha={gd2[-1]['alpha']:g}": gd2[-1]["p_wide"]},
        holds=bool(min(g["conv_narrow"] for g, _ in small2) == 1.0 and best2[1]["p_wide"] > 0.5
                   and gd2[-1]["p_wide"] == 1.0)))

    # ---- records: the cells, and what the figures draw beyond them ----------------------------
    # batch holds sizes and "n" (full gradients): one Parquet column needs one type, so text.
    records = [{**c, "figure": "sweep", "batch": str(c["batch"])} for c in cells]

    def drawn(v):  # the landscapes are only drawn: 6 digits keep the stored grid small
        return float(f"{v:.6g}")

    w = np.linspace(-5, 30, 1401)[:, None]
    records += [dict(experiment=NAME, figure="landscape", landscape="1d", w1=drawn(p[0]), f=drawn(f),
                     f_test=drawn(t))
                for p, f, t in zip(w, landscapes.numpy_losses(land, w),
                                   landscapes.numpy_losses(land, w, test=True))]
    U, V = np.meshgrid(np.linspace(-3.5, 13.5, 181), np.linspace(-6.5, 6.5, 139))
    grid2 = np.stack([U.ravel(), V.ravel()], 1)
    records += [dict(experiment=NAME, figure="landscape", landscape="2d", w1=drawn(p[0]), w2=drawn(p[1]),
                     f=drawn(f)) for p, f in zip(grid2, landscapes.numpy_losses(land2, grid2))]
    # The 2-D figure shows GD and SGD at one step: the smallest below 2/h_narrow at which SGD
    # ends in the wide basin in at least half of the runs.
    b2 = config["batches_2d"][0]
    candidates = [c["alpha"] for c in sgd2 if c["alpha"] < 2 / h2 and c["p_wide"] >= 0.5]
    a2_show = min(candidates) if candidates else max(a for a in alphas2 if a < 2 / h2)
    j2 = alphas2.index(a2_show)
    a_small, a_sgd, a_large = config["show"]
    shown = [("1d", "GD", "n", a_small, ends["GD"][alphas.index(a_small)]),
             ("1d", "SGD", 1, a_sgd, ends["SGD 1"][alphas.index(a_sgd)]),
             ("1d", "GD", "n", a_large, ends["GD"][alphas.index(a_large)]),
             ("2d", "GD", "n", a2_show, ends["2d GD"][j2]),
             ("2d", "SGD", b2, a2_show, ends[f"2d SGD {b2}"][j2])]
    for land_name, method, batch, alpha, xs in shown:
        records += [dict(experiment=NAME, figure="endpoints", landscape=land_name, method=method,
                         batch=str(batch), alpha=alpha, seed=s,
                         **{f"w{i + 1}": float(v) for i, v in enumerate(x)})
                    for s, x in enumerate(np.asarray(xs))]

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "sampling": "with_replacement"}, dtype="float64",
                                   wall_seconds=round(wall, 2))
    meta["timings_seconds"] = timings
    meta["problem"] = {"1d": land.problem.info, "2d": land2.problem.info,
                       "n": problem.n, "n_2d": land2.problem.n}
    meta["landscapes"] = {"1d": _describe(land), "2d": _describe(land2)}
    meta["noise_at_narrow_minimum"] = sigma1
    experiment.save(out, rows=records, meta=meta, checks=checks)
    return report(out, echo=True)


def _describe(land) -> dict:
    """What the report needs to know about a landscape, as plain numbers for ``meta.json``."""
    return dict(n=land.problem.n, shift_std=land.shift_std, test_shift=land.test_shift,
                saddle=land.saddle, saddle_value=land.saddle_value, plateau_level=land.plateau_level,
                max_dev_from_F=land.problem.info["max_dev_from_F"],
                minima=[dict(name=m.name, x=m.x, value=m.value, test_value=m.test_value,
                             hessian_eigenvalues=m.hessian_eigenvalues) for m in land.minima])


def _landscape(described: dict):
    """``_describe``'s numbers back as an object with the attributes of a ``Landscape``
    (``minima`` with the ``sharpness`` and ``gap`` of a ``Minimum``)."""
    from types import SimpleNamespace

    import numpy as np

    minima = [SimpleNamespace(**{**m, "x": np.asarray(m["x"])}, sharpness=max(m["hessian_eigenvalues"]),
                              gap=m["test_value"] - m["value"]) for m in described["minima"]]
    return SimpleNamespace(**{**described, "minima": minima, "saddle": np.asarray(described["saddle"])},
                           minimum={m.name: m for m in minima}.__getitem__)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the figures and writes ``summary.md`` from the stored records, meta and checks
    alone (``sgd-bench report`` calls it without re-running anything)."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    config = meta["config"]
    land, land2 = (_landscape(meta["landscapes"][k]) for k in ("1d", "2d"))
    cells = [r for r in rows if r["figure"] == "sweep"]
    _figures(out, config, land, land2, cells, rows)
    text, transitions, table = _summary(config, land, land2, cells, checks, meta)
    experiment.close(out, text, checks=checks, echo=echo, wall=meta.get("wall_seconds") or 0.0,
                     tables=[(transitions, list(transitions[0]))],
                     header=f"{NAME}: {config['seeds']} seeds, {config['steps']} steps")
    return {"summary": table, "checks": checks}


def _method_label(c):
    if c["method"] == "GD":
        return "GD"
    if c["method"] == "SGD":
        return "SGD" if c["batch"] == 1 else f"SGD batch {c['batch']}"
    return f"GD + N(0, {c['noise_std']:.2f}²)"


def _endpoints(rows, landscape, method, batch, alpha):
    """The stored end points of one cell, (seeds, d), in seed order."""
    import numpy as np

    from sgd_bench_harness import results

    c = results.curves(rows, x="seed", figure="endpoints", landscape=landscape, method=method,
                       batch=batch, alpha=alpha)[method]
    return np.stack([c[k] for k in ("w1", "w2") if k in c], axis=1)


def _figures(out, config, land, land2, cells, rows):
    import matplotlib.pyplot as plt
    import numpy as np

    from sgd_bench_harness import plots, results

    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    h_narrow = narrow.sharpness
    alphas = config["alphas"]
    seeds = config["seeds"]
    c_train, c_test = plots.COLORS[0], "#d62728"
    c_gd, c_sgd, c_large = plots.COLORS[2], plots.COLORS[1], plots.COLORS[4]

    def row(landscape, method, batch):
        return [c for c in cells if c["landscape"] == landscape and c["method"] == method
                and c["batch"] == batch]

    def p_wide(landscape, method, batch, alpha):
        return next(c["p_wide"] for c in row(landscape, method, batch) if c["alpha"] == alpha)

    # Figure 1: the landscape (train and shifted test) and where the runs end.
    a_small, a_sgd, a_large = config["show"]
    shown = [(f"GD, α = {a_small:g}", ("GD", "n", a_small), c_gd),
             (f"SGD (batch 1), α = {a_sgd:g}", ("SGD", 1, a_sgd), c_sgd),
             (f"GD, α = {a_large:g}", ("GD", "n", a_large), c_large)]
    curve = results.curves(rows, by="landscape", x="w1", figure="landscape", landscape="1d")["1d"]
    w, f_train, f_test = curve["w1"], curve["f"], curve["f_test"]
    fig, axes = plt.subplots(1 + len(shown), 1, figsize=(7.5, 7.4), sharex=True,
                             gridspec_kw={"height_ratios": [3.2] + [1] * len(shown), "hspace": 0.14})
    ax = axes[0]
    ax.axvspan(config["x0_low"], config["x0_high"], color="0.88", lw=0,
               label=f"starts, x0 ~ U({config['x0_low']:g}, {config['x0_high']:g})")
    ax.plot(w, f_train, color=c_train, lw=2, label="train  f(w)")
    ax.plot(w, f_test, color=c_test, lw=1.6, ls="--", label=f"\"test\"  f(w − {land.test_shift[0]:g}): illustration only")
    for m in (narrow, wide):
        x = m.x[0]
        ax.plot([x, x], [m.value, m.test_value], color="0.3", lw=1, ls=":")
        ax.plot(x, m.value, "o", color=c_train, ms=7, zorder=5)
        ax.plot(x, m.test_value, "o", color=c_test, ms=7, zorder=5)
    ax.annotate(f"narrow: f'' = {narrow.sharpness:.3f}\ntest − train = {narrow.gap:.3f}",
                (narrow.x[0], 0.5 * (narrow.value + narrow.test_value)), xytext=(3.2, 0.12),
                fontsize=9, va="center", arrowprops=dict(arrowstyle="-", color="0.4", lw=0.8))
    ax.annotate(f"wide: f'' = {wide.sharpness:.3f}, test − train = {wide.gap:.3f}",
                (wide.x[0], wide.value), xytext=(wide.x[0], 0.015), ha="center", fontsize=9)
    ax.set_ylabel("loss")
    ax.set_ylim(-0.01, 0.56)
    ax.legend(loc="center right", fontsize=9)
    ax.set_title(f"Narrow and wide minima: where {seeds} runs end after {config['steps']} steps")
    bins = np.arange(-5, 30.01, 0.5)
    for axh, (label, cell_key, color) in zip(axes[1:], shown):
        xs = _endpoints(rows, "1d", *cell_key)[:, 0]
        frac = np.histogram(np.clip(xs, -5, 30), bins=bins)[0] / len(xs)
        axh.bar(bins[:-1], frac, width=np.diff(bins), align="edge", color=color, lw=0)
        axh.text(0.99, 0.88, f"{label}:  P(wide) = {p_wide('1d', *cell_key):.2f}", transform=axh.transAxes,
                 ha="right", va="top", fontsize=9)
        axh.set_ylim(0, 1.05)
        axh.set_yticks([0, 0.5, 1])
        axh.set_ylabel("fraction", fontsize=8)
    axes[-1].set_xlabel("w (end point; bins of 0.5)")
    results.save_figure(fig, out / "local_minima.png", dpi=config["dpi"])
    plt.close(fig)
    # Figure 2: P(wide) and the train-test gap against the step, for a few batch sizes.
    palette = plt.get_cmap("viridis")
    few = [b for b in config["batches"] if b in (1, 4, 16)] or list(config["batches"])[:3]
    lines = [("GD", "n", "GD", "k", "-")]
    lines += [("SGD", b, "SGD" if b == 1 else f"SGD batch {b}", palette(0.8 * i / max(len(few) - 1, 1)), "-")
              for i, b in enumerate(few)]
    nb = config["noise_batches"][0]
    lines.append(("GD + Gaussian noise", nb, f"GD + Gaussian noise (as batch {nb})", "0.55", "--"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for method, b, label, color, ls in lines:
        r = row("1d", method, b)
        a = np.array([c["alpha"] for c in r])
        plots.band(axes[0], a, [c["p_wide"] for c in r], [c["se_wide"] for c in r], label=label,
                   color=color, ls=ls, marker="o", ms=3)
        axes[1].plot(a, [c["sharpness"] for c in r], label=label, color=color, ls=ls, marker="o", ms=3)
    for ax in axes:
        ax.axvline(2 / h_narrow, color="0.3", lw=1, ls=":")
        ax.text(2 / h_narrow, 0.98, " α = 2/h", transform=ax.get_xaxis_transform(), fontsize=8,
                color="0.3", va="top")
        ax.set_xscale("log")
        ax.set_xticks(alphas)
        ax.set_xticklabels([f"{a:g}" for a in alphas])
        ax.minorticks_off()
        ax.set_xlabel("step size α")
    axes[0].set_ylabel("P(run ends in the wide basin)")
    axes[0].set_ylim(-0.03, 1.03)
    axes[0].set_title("Escaping the narrow minimum")
    axes[1].set_ylabel("mean f'' at the end point")
    axes[1].set_title("Sharpness of the end points")
    for m in (narrow, wide):
        axes[1].axhline(m.sharpness, color=c_test, lw=0.8, ls=":")
        axes[1].text(alphas[0], m.sharpness, f" at the {m.name} minimum", va="bottom", fontsize=8,
                     color=c_test)
    fig.suptitle(f"{seeds} runs per point from x0 ~ U({config['x0_low']:g}, {config['x0_high']:g}), "
                 f"{config['steps']} steps, 95% bands on P(wide); h = f''(narrow minimum) = {h_narrow:.3f}", y=1.02)
    plots.legend_below(fig, axes, ncol=len(lines))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    results.save_figure(fig, out / "local_minima_pwide.png", dpi=config["dpi"])
    plt.close(fig)

    # Figure 3: the heatmap of P(wide) over (step, batch).
    batches = list(config["batches"])
    row_labels = [f"{b}" for b in batches] + [f"GD (n = {land.n})"]
    grid = np.array([[c["p_wide"] for c in row("1d", "SGD", b)] for b in batches]
                    + [[c["p_wide"] for c in row("1d", "GD", "n")]])
    fig, ax = plt.subplots(figsize=(1.4 + 0.62 * len(alphas), 1.0 + 0.45 * len(row_labels)))
    im = ax.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto", origin="lower")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if grid[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(alphas)))
    ax.set_xticklabels([f"{a:g}" for a in alphas])
    ax.set_yticks(range(len(row_labels)))
    ax.set_yticklabels(row_labels)
    ax.grid(False)
    ax.set_xlabel("step size α")
    ax.set_ylabel("batch size B (with replacement)")
    ax.set_title(f"P(run ends in the wide basin), {seeds} runs per cell")
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    fig.tight_layout()
    results.save_figure(fig, out / "local_minima_heatmap.png", dpi=config["dpi"])
    plt.close(fig)

    # Figure 4: the 2-D landscape and where GD and SGD end at the same step.
    n2, w2 = land2.minimum("narrow"), land2.minimum("wide")
    b2 = config["batches_2d"][0]
    a2_show = next(r["alpha"] for r in rows if r["figure"] == "endpoints" and r["landscape"] == "2d")
    grid = sorted((r for r in rows if r["figure"] == "landscape" and r["landscape"] == "2d"),
                  key=lambda r: (r["w2"], r["w1"]))
    u, v = np.unique([r["w1"] for r in grid]), np.unique([r["w2"] for r in grid])
    U, V = np.meshgrid(u, v)
    F = np.array([r["f"] for r in grid]).reshape(U.shape)
    levels = np.linspace(F.min(), 0.5, 14)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
    shown2 = [(f"GD, α = {a2_show:g}", ("GD", "n", a2_show), c_gd),
              (f"SGD (batch {b2}), α = {a2_show:g}", ("SGD", b2, a2_show), c_sgd)]
    for ax, (label, cell_key, color) in zip(axes, shown2):
        cs = ax.contourf(U, V, F, levels=levels, cmap="Greys_r")
        ax.contour(U, V, F, levels=levels, colors="0.35", linewidths=0.4)
        ax.add_patch(plt.Circle(tuple(n2.x), config["x0_radius_2d"], fill=False, ls="--",
                                color="w", lw=1))
        xs = _endpoints(rows, "2d", *cell_key)
        for m in land2.minima:
            ax.plot(*m.x, "+", color="w", ms=9, mew=1)
        ax.plot(*land2.saddle, "x", color="w", ms=7)
        ax.scatter(xs[:, 0], xs[:, 1], s=12, color=color, alpha=0.35, lw=0, zorder=3)
        ax.set_title(f"{label}:  P(wide) = {p_wide('2d', *cell_key):.2f}")
        ax.set_xlabel("w₁")
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0].set_ylabel("w₂")
    axes[0].text(n2.x[0], -config["x0_radius_2d"] - 0.4, "starts", color="w", ha="center", va="top",
                 fontsize=8)
    fig.suptitle("2-D: a narrow dimple (Hessian eigenvalues "
                 f"{n2.hessian_eigenvalues[0]:.2f}, {n2.hessian_eigenvalues[1]:.2f}) on a wide bowl "
                 f"({w2.hessian_eigenvalues[0]:.3f}, {w2.hessian_eigenvalues[1]:.3f}); "
                 f"{seeds} end points, {config['steps']} steps")
    cbar = fig.colorbar(cs, ax=axes, fraction=0.025, pad=0.02, label="train loss")
    cbar.ax.yaxis.set_major_formatter(plt.FormatStrFormatter("%.2f"))
    results.save_figure(fig, out / "local_minima_2d.png", dpi=config["dpi"])
    plt.close(fig)


def _summary(config, land, land2, cells, checks, meta):
    """The text of ``summary.md``, its table of transition steps and its table of 1-D cells."""
    import numpy as np

    from sgd_bench_harness import results

    def vec(v, digits):
        return "(" + ", ".join(f"{x:.{digits}f}" for x in np.round(np.asarray(v), digits) + 0.0) + ")"

    mins = [{"landscape": name, "minimum": m.name, "x": vec(m.x, 3), "f": f"{m.value:.4f}",
             "f_test (shifted f)": f"{m.test_value:.4f}",
             "Hessian eigenvalues": vec(m.hessian_eigenvalues, 4)}
            for name, lscape in (("1-D", land), ("2-D", land2)) for m in lscape.minima]
    trans = next(c["measured"]["step where P(wide) reaches 1/2"] for c in checks
                 if "step where P(wide) reaches 1/2" in c["measured"])
    trans_rows = [{"": "α where P(wide) = 1/2", **{k: f"{v:.2f}" for k, v in trans.items()}}]
    table = []
    for c in cells:
        if c["landscape"] != "1d":
            continue
        table.append({"method": _method_label(c), "α": f"{c['alpha']:g}",
                      "P(narrow)": f"{c['p_narrow']:.3f}", "P(wide) ± se": f"{c['p_wide']:.3f} ± {c['se_wide']:.3f}",
                      "P(plateau)": f"{c['p_plateau']:.3f}", "mean f''": f"{c['sharpness']:.3f}",
                      "train": f"{c['train']:.3f}"})
    table2 = [{"method": _method_label(c), "α": f"{c['alpha']:g}", "P(narrow)": f"{c['p_narrow']:.3f}",
               "P(wide) ± se": f"{c['p_wide']:.3f} ± {c['se_wide']:.3f}", "P(plateau)": f"{c['p_plateau']:.3f}",
               "mean sharpness": f"{c['sharpness']:.3f}"}
              for c in cells if c["landscape"] == "2d"]
    sigma1 = meta["noise_at_narrow_minimum"]
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Narrow against wide minima (1-D and 2-D landscapes, {config['seeds']} seeds)

The 1-D landscape is f(w) = 1/n Σ_i G(w − s_i), n = {land.n} shifted copies (shift std
{land.shift_std:g}) of a level 0.5 minus a narrow well at 0 (width 0.9) and a wide one at 13 (width 5);
its mean is within {land.max_dev_from_F:.1e} of 0.5 − 0.45 e^(−w²/(2·0.9²)) − 0.4 e^(−(w−13)²/(2·5²)).
The "test" loss f_test is f shifted by {land.test_shift[0]:g}: an illustration (the lecture's sam_c.png),
under which a flat minimum loses less by construction, so no check rests on it; held-out data is
measured in `sharp_minima`. Every run starts at x0 ~ U({config['x0_low']:g}, {config['x0_high']:g}),
inside the narrow basin, and takes {config['steps']} steps; SGD samples with replacement; the saddle
between the basins is at w = {land.saddle[0]:.3f} (f = {land.saddle_value:.3f}); "plateau" means f > {land.plateau_level:g}.
SGD's gradient noise (per-sample spread) is {sigma1:.3f} at the narrow minimum; the Gaussian-noise runs
add N(0, σ²) with σ = {sigma1:.3f}/√B to the full gradient.

{results.markdown_table(mins, list(mins[0]))}

![landscape and end points](local_minima.png)

![P(wide) and sharpness against the step](local_minima_pwide.png)

![heatmap](local_minima_heatmap.png)

{results.markdown_table(trans_rows, list(trans_rows[0]))}

{results.markdown_table(table, list(table[0]))}

## 2-D

![2-D](local_minima_2d.png)

{results.markdown_table(table2, list(table2[0]))}

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included); device {meta['devices'][0]}; float64.
"""
    return text, trans_rows, table


def main(argv=None) -> int:
    # --steps is every run's length (1-D and 2-D sweeps alike); the landscapes are float64 only.
    seeds = experiment.at_least("seeds", 16, "the equality check and standard errors need them")
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds, "steps": "steps"})


if __name__ == "__main__":
    sys.exit(main())
