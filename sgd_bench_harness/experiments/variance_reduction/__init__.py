"""Variance reduction and growing batches converge linearly where SGD stalls.

Two ways out of SGD's variance problem, on logistic regression (the lecture's problem,
breast_cancer and synthetic data with n = 10^5): growing-batch SGD, |B_{k+1}| = ceil(1.1 |B_k|) + 1
(the lecture's "Approach 1: control the sample size"), and SAG, SAGA, SVRG and SARAH with their
default steps (variance reduction: not in our copy of the lecture, which stops after Approach 1;
from Le Roux, Schmidt & Bach 2012, Defazio, Bach & Lacoste-Julien 2014, Johnson & Zhang 2013 and
Nguyen et al. 2017), against constant-step SGD, with GD (step 1/L), GD with
Armijo line search and L-BFGS (memory 10, zoom line search) as deterministic references: a
comparison against GD at a fixed step alone would flatter the stochastic methods. Figures: f - f* against epochs (gradient
evaluations / n; for the line searches, gradient plus function evaluations / n), against
wall-clock (compilation excluded), and the growing batch against iterations. The fitted linear
rates and every claim go in ``checks.json`` and ``summary.md``.

    python scripts/variance_reduction.py [--quick] [--seeds S] [--out DIR] [--overwrite]

The package: ``methods`` (the problems and methods), ``runs`` (one problem's runs and records),
``timing`` (seed 0 timed), ``rates`` (the fitted linear rates), ``claims`` (one problem's
checks), ``wallclock`` (the wall-clock claims), ``figures`` and ``summary`` (the report).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench_harness import experiment, results

from . import figures, summary, wallclock
from .runs import run_problem

NAME = "variance_reduction"
DESCRIPTION = ("SAG, SAGA, SVRG, SARAH and growing batches converge linearly on logistic "
               "regression; SGD stalls")

FULL = dict(
    key=0, logs_per_epoch=2, timing_repeats=3,
    problems=(
        dict(problem="lecture", epochs=30, seeds=20, gb_seeds=200, target=1e-10),
        dict(problem="breast_cancer", mu=0.1, epochs=250, seeds=20, gb_seeds=200, target=1e-10),
        dict(problem="synthetic", n=100_000, d=20, mu=1e-4, epochs=50, seeds=3, gb_seeds=32,
             target=1e-10, timing_repeats=1, wallclock=True),
    ),
)
# The quick run's growing-batch R^2 is the R^2 of a mean over few seeds whose early steps are
# single samples: its value moves with the random stream (64 seeds, key 0: 0.67 under jax
# 0.4.30's stream, 0.91 under jax 0.10's; below 0.8 for 4 of 20 keys on 0.4.30). So the quick run
# has 128 seeds and its claim allows `gb_r2_z` standard errors of R^2 (a bootstrap over seeds,
# R2_BOOTSTRAP resamples with a fixed generator); the full run, with gb_r2_z absent, keeps the
# plain R^2 >= GB_R2_MIN.
QUICK = dict(
    key=0, logs_per_epoch=1, timing_repeats=1,
    problems=(dict(problem="lecture", epochs=30, seeds=4, gb_seeds=128, gb_r2_z=1.96,
                   target=1e-10, wallclock=True),),
)


def run(config: dict, out: Path) -> dict:
    """Runs the experiment with ``config`` (each problem a resumable ``experiment.part``), stores
    records, meta and checks in ``out``, then draws the figures and the summary from them
    (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    key = jax.random.key(config["key"])
    rows, checks, infos = [], [], {}
    for spec in config["problems"]:
        done = experiment.part(out, f"problem={spec['problem']}", lambda spec=spec: run_problem(
            config, spec, key, tags=dict(experiment=NAME)))
        rows += done["rows"]
        checks += done["checks"]
        infos[done["name"]] = done["info"]

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, dict(config), dtype="float64", wall_seconds=round(wall, 2))
    meta["problems"] = infos
    meta["timing"] = ("seed 0 of each stochastic method, timed chunk by chunk with "
                      "block_until_ready, compiled ahead of time, f evaluated outside the clock; "
                      f"median of {config['timing_repeats']} repeat(s) (1 for n = 10^5)")
    experiment.save(out, rows=rows, meta=meta, checks=checks)
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the epochs, wall-clock and growing-batch figures and writes ``summary.md`` from the
    stored curves (the rates are refitted on them), ``meta.json`` and the checks; ``sgd-bench
    report`` calls it without re-running anything."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    infos = meta["problems"]
    curves = {pname: results.curves(rows, problem=pname) for pname in infos}
    figures.draw(out, curves, infos, meta["devices"][0])
    # The wall-clock checks follow from the stored curves: recomputed here (replacing any stored
    # ones), so that `sgd-bench report` brings checks.json up to date without re-running.
    checks = [c for c in checks if not c.get("wallclock")] + wallclock.checks(curves, infos)
    results.write_json(out / "checks.json", checks)
    text, table = summary.text(meta, curves, checks)
    wall = meta.get("wall_seconds") or 0.0
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, header=NAME,
                     tables=[(table, list(table[0]))])
    return {"summary": table, "checks": checks}


def main(argv=None) -> int:
    # --seeds applies to every stochastic method on every problem (the growing-batch figure keeps
    # its gb_seeds). No --steps: runs are measured in epochs, set per problem; float64 only.
    seeds = experiment.at_least("seeds", 2, "standard errors need two seeds", then=experiment.in_each("problems", "seeds"))
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds})


if __name__ == "__main__":
    sys.exit(main())
