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

The package: ``sweep`` (the compiled sweep and the end-point statistics), ``claims`` (the
checks), ``figures`` and ``summary`` (the report, from the stored records alone).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np

import problems.landscapes as landscapes
import sgd_bench as sb
from sgd_bench_harness import experiment, results, toolkit

from . import claims, figures, summary
from .sweep import cells_of, endpoint_stats, sweep

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


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config``, stores records, meta and checks in ``out``, then
    draws the figures and the summary from them (``report``); returns the summary and checks."""
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    land = landscapes.landscape_1d()
    problem = land.problem
    narrow, wide = land.minimum("narrow"), land.minimum("wide")
    seeds, steps = config["seeds"], config["steps"]
    alphas = tuple(float(a) for a in config["alphas"])
    # Starting points from NumPy (seeded by the key), run keys from the engine's seed_keys.
    # The keys first: seed_keys refuses a --seeds that cannot fit with the numbers (NumPy's own
    # "array is too big" named no option); the two streams are independent.
    keys = sb.seed_keys(config["key"], seeds)
    rng = np.random.default_rng(config["key"])
    x0s = jnp.asarray(rng.uniform(config["x0_low"], config["x0_high"], (seeds, 1)), problem.dtype)
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

    checks = claims.checks(config, land, land2, cells, ends, eq_seeds=eq_s, eq_diff=eq_diff,
                           sigma1=sigma1, g_wide=g_wide)

    # ---- records: the cells, and what the figures draw beyond them ----------------------------
    # batch holds sizes and "n" (full gradients): stored as they are (the records read such a
    # column cell by cell); str() would make "1" a text the records keep as text.
    records = [{**c, "figure": "sweep"} for c in cells]

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
    b2, h2 = config["batches_2d"][0], n2.sharpness
    sgd2 = cells_of(cells, "2d", "SGD", b2)
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
                         batch=batch, alpha=alpha, seed=s,
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
    experiment.save(out, rows=records, meta=meta, checks=toolkit.records(checks))
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
    figures.draw(out, config, land, land2, cells, rows)
    text, transitions, table = summary.text(config, land, land2, cells, checks, meta)
    experiment.close(out, text, checks=checks, echo=echo, wall=meta.get("wall_seconds") or 0.0,
                     tables=[(transitions, list(transitions[0]))],
                     header=f"{NAME}: {config['seeds']} seeds, {config['steps']} steps")
    return {"summary": table, "checks": checks}


def main(argv=None) -> int:
    # --steps is every run's length (1-D and 2-D sweeps alike); the landscapes are float64 only.
    seeds = experiment.at_least("seeds", 16, "the equality check and standard errors need them")
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds, "steps": "steps"})


if __name__ == "__main__":
    sys.exit(main())
