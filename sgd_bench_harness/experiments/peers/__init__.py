"""Speed against what a user would otherwise pick, as ratios measured in the same run.

On logistic regression (n = 10^6, d = 100, float64 unless stated), each row times sgd-bench and
a baseline on the same data and device, interleaving the two and keeping the best of several
repeats:

1. one full-gradient GD step against the fastest single read of the data (``jnp.sum(A)`` or
   ``A @ v``); target <= 1.5x. The step is timed on one device and with the data sharded over
   one CPU device per core (the faster counts; the note names it), in a fresh process that has
   those devices, with the reads (``cores``: XLA:CPU runs the one-device step on one thread);
2. the marginal cost of an epoch of batch-1 SGD in cyclic order (3 epochs minus 1) against
   scikit-learn's ``SGDClassifier`` doing the same updates; target >= 1.5x its samples per
   second, and the same iterates to 1e-10;
3. the marginal per-seed step cost of 256 seeds of batch-1 SGD in one ``run_seeds`` against one
   seed; target <= 0.3x;
4. the jitted scan against a Python loop calling a jitted optax step; target >= 20x;
5. a second ``run_seeds`` with a fresh method of the same structure but another step size, on
   new data of the same shapes, against the first call (compilation included; logistic
   regression 20,000 x 50, SGD batch 8, 2,000 steps, 4 seeds); target <= 0.05x;
6. the marginal cost per (config, seed) step of a ``sweep`` of 16 step sizes x 64 seeds of
   batch-1 SGD (n = 200,000, d = 100 in the full run) against one single run's marginal step;
   target <= 0.3x;
7. the first call in a new process with a warm persistent compilation cache against the same
   first call with the cache off (each in a fresh subprocess, the call of row 5); target <= 0.3x;
8. the marginal cost of an epoch of batch-1 SAGA against scikit-learn's
   ``LogisticRegression(solver="saga")`` (``max_iter`` 3 minus 1) on L2 logistic regression in
   the sum scale of benchopt's benchmark, sum_i log(1 + exp(-y_i <a_i, x>)) + lambda/2 ||x||^2
   with lambda = 1 (our mean scale: mu = lambda / n), with scikit-learn's own SAGA step
   1 / (2 L + min(2 n mu, L)), L = max_i ||a_i||^2 / 4 + mu; target <= 1.0x;
9. the time to reach 1e-6 suboptimality on that sum scale (f - f* <= 1e-6 / n on ours), on
   2,000 x 50 and 10,000 x 100: our SAGA against scikit-learn's ``saga`` (target <= 1.0x), with
   our L-BFGS, our GD at 1/L and scikit-learn's ``lbfgs`` beside them. Our times run init and
   steps as compiled programs (compilation timed apart and reported beside); scikit-learn's
   are whole ``fit`` calls with ``max_iter`` just large enough (``tol=0``, a fixed
   ``random_state``). f* is the float64 Newton reference.

Sparse rows (``problems.sparse``, padded rows; the synthetic stand-ins of rcv1 and news20 from
``problems.sparse_data``, n and d shrunk by ``sparse_rcv1_scale`` / ``sparse_news20_scale`` with
the row length kept; L2 logistic regression on benchopt's sum scale, lambda = 1; float64; the
same CSR matrix goes to scikit-learn):

10. one GD step on rcv1-like data against the fastest single read of the nonzeros, values and
    column indices (candidates: a jitted sum of the padded value and index arrays, the same sum
    of the CSR arrays, which hold no padding, and the gathered row products of A @ v); target
    <= 2x;
11. and 12. the marginal cost of a batch-1 SAGA epoch on rcv1-like and on news20-like data
    against scikit-learn's ``LogisticRegression(solver="saga")`` (``max_iter`` 3 minus 1, as
    row 8, at scikit-learn's own step); ours is the faster of the eager step
    (``saga(linear=True)``, O(d) per step) and the lazy one (``lazy_saga``, O(row) per step),
    both timed, and the row names it; target <= 1.0x. The iterates are not equal to 1e-8: the
    index streams differ, and scikit-learn starts its table at zero and divides by the samples
    seen so far in its first epoch, where ours starts the table at the gradients at x0; the note
    gives ||x - x*|| of both after 3 epochs, and a check holds lazy and eager SAGA to the same
    iterates (1e-10);
13. the marginal cost of a batch-1 SGD epoch on rcv1-like data in cyclic order against
    scikit-learn's ``SGDClassifier`` on the CSR matrix (as row 2); ours is ``lazy_sgd`` (the
    iterate kept as a scale times a vector, O(row) per step, as scikit-learn does); target
    >= 1.0x its samples per second, and the same iterates to 1e-10.

A NumPy loop (and a PyTorch loop when torch is installed) are timed for reference. A missed
target is reported as missed, with its ratio.

What a first look found behind the sparse rows (three readings on a shared 2-core CPU under
load 7-10, at the full run's scales: rcv1-like 5,060 x 11,809 with 377 k nonzeros, news20-like
1,000 x 67,760 with 463 k; not the published numbers):

- GD step against a read (8-19x the read of the CSR arrays): the padded rows store every row
  at the longest row's width (298 slots for a mean of 74.5 nonzeros: 4x the bytes), and a GD
  step reads them twice (the gather of the margins, and the scatter-add of A^T r, which
  XLA:CPU runs element by element). No cheap fix: a layout without the padding (CSR with
  segment sums, or rows bucketed by length) would be one.
- SGD against ``SGDClassifier`` (8-64x fewer samples/s): our batch-1 ``sgd`` step on sparse
  rows is O(d) (the ridge shrinks all of x, and the gradient is scattered into a dense vector),
  while scikit-learn keeps w as a scale times a vector and touches only the row's nonzeros.
  ``sgd_bench.lazy_sgd`` does the same (the same iterates as ``sgd`` to 1e-15); in one
  interleaved reading under load ~6 on rcv1-like x 0.25 it took 3.9 us a step against ``sgd``'s
  13.2 us and ``SGDClassifier``'s 3.9 us a sample (whole ``fit`` of one epoch). Row 13 times it.
- SAGA (eager 8-17x scikit-learn's step on rcv1-like; lazy 23x on news20-like before the
  fixes below, 8.5x after them): the eager step is O(d). The lazy step is meant to be O(row),
  but its HLO showed XLA copying all of z and, twice, all of ``last`` every step: the margins
  read z back after the caught-up entries were written into it, and the write of k + 1 into
  ``last`` did not depend on the read of ``last``, so XLA could not update it in place. Fixed
  in ``sgd_bench.lazy_saga`` (the same iterates to 2e-16; no O(d) copy left in the step's
  HLO): news20-like step 195 -> 64 us in an interleaved A/B of the two versions, eager 210
  us, where scikit-learn's saga (lazy updates of its own) costs 5-9 us a step.

What a look at the dense batch-1 loops found (HLO of the scan bodies; readings under load 10-17
on the shared 2-core CPU, CPU time, not the published numbers): XLA:CPU runs a loop body's
kernels one after the other only while there are at most 8 of them, and as a dataflow graph
(~0.4 us more a step) beyond. Batch-1 SAGA had 18 kernels and now has 8 (see
``sgd_bench.gradient_table``): 1.37 -> 0.46 us a step at 10,000 x 100, against 0.97 us a sample
for scikit-learn's saga. Batch-1 SGD went from 8 kernels to 6 (``gradient_table.row_grad``):
206 -> 171 ns a step, SGDClassifier 245 ns. With 256 seeds the SGD body has 10 kernels as
before, so the per-seed ratio of row 3 is likely to rise: its denominator, one seed, got faster.

The records hold the timings themselves, one row per timed call (``comparison``, ``side``,
``timing``, the ``steps`` and ``seeds`` it ran, its best ``seconds``, ``device``, ``dtype``);
``report`` derives every cost and ratio from them (``costs``).

    python scripts/peers.py [--quick] [--seeds S] [--out DIR] [--overwrite]

The package: ``timing`` (the timings and the costs derived from them), ``comparisons`` (the
rows and their targets), ``dense`` (rows 1-4 and the reference loops), ``cores`` (row 1 on
every core, and where a GD step's time went), ``values`` (rows 5-7),
``saga`` (row 8), ``race`` (row 9), ``sparse`` (rows 10-13) and ``summary`` (the report).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import problems
from sgd_bench_harness import experiment, results, toolkit
from sgd_bench_harness.toolkit import Check

from . import summary
from .comparisons import COMPARISONS, compare
from .cores import measure_gd_on_cores
from .dense import measure_gd_vs_read as measure_gd_vs_read  # used by gpu_bench
from .dense import measure_loop, measure_references, measure_seeds, measure_sgd_vs_sklearn
from .race import measure_race, race_checks
from .saga import measure_saga_epoch
from .sparse import SPARSE_SETS, measure_sparse
from .timing import costs as costs  # re-exported: gpu_bench derives its costs as peers does
from .values import measure_sweep, measure_values_and_cache

NAME = "peers"
DESCRIPTION = "speed ratios against a plain read of the data, scikit-learn, single seeds and a Python loop of optax steps"

FULL = dict(n=1_000_000, d=100, seeds=256, repeats=5, numpy_steps=100_000, loop_steps=20_000,
            alpha=0.01, mu=1e-3, data_seed=0, sweep_n=200_000, sweep_d=100, sweep_configs=16,
            sweep_seeds=64, sweep_steps=(2000, 12000), single_steps=(5000, 105000), first_calls=True,
            saga_n=10_000, saga_d=100, race_sizes=((2_000, 50), (10_000, 100)), race_lambda=1.0,
            race_eps=1e-6, race_max_epochs=300, race_max_iters=100_000, sparse_rcv1_scale=0.25,
            sparse_news20_scale=0.05, sparse_alpha=0.5)
QUICK = dict(n=20_000, d=20, seeds=8, repeats=2, numpy_steps=2_000, loop_steps=500,
             alpha=0.01, mu=1e-3, data_seed=0, sweep_n=5_000, sweep_d=20, sweep_configs=4,
             sweep_seeds=4, sweep_steps=(50, 250), single_steps=(500, 2500), first_calls=False,
             saga_n=1_000, saga_d=10, race_sizes=((500, 10),), race_lambda=1.0, race_eps=1e-6,
             race_max_epochs=300, race_max_iters=20_000, sparse_rcv1_scale=0.01,
             sparse_news20_scale=0.004, sparse_alpha=0.5)


def run(config: dict, out: Path) -> dict:
    """Times every comparison with ``config``, stores the timings in ``out``, then writes the
    table from them (``report``); returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    started = time.perf_counter()
    n, d, alpha, mu, reps = config["n"], config["d"], config["alpha"], config["mu"], config["repeats"]
    problem = problems.synthetic_logreg(n, d, seed=config["data_seed"], mu=mu, dtype=jnp.float64)
    A, y = problem.data

    # 1. A full-gradient step against one read of the data, on one device and on every core.
    rows = measure_gd_on_cores(config, reps)

    # 2. Marginal epoch of cyclic batch-1 SGD against scikit-learn's SGDClassifier.
    A_np, y_np = np.asarray(A), np.asarray(y)
    sgd_rows, same = measure_sgd_vs_sklearn("sklearn", problem, A_np, y_np, alpha, mu, max(2, reps // 2))
    rows += sgd_rows

    # 3. Marginal per-seed step cost with many seeds against one seed.
    rows += measure_seeds(problem, alpha, config["seeds"], reps)

    # 4. The jitted scan against a Python loop calling a jitted optax step.
    rows += measure_loop(problem, alpha, config["loop_steps"], max(2, reps // 2))

    # References: NumPy and (when installed) PyTorch loops of batch-1 SGD.
    rows += measure_references(A_np, y_np, alpha, mu, config["numpy_steps"])

    # 5-7. Methods as values: the second call, a sweep, the persistent compilation cache.
    rows += measure_sweep(config, max(2, reps // 2))
    if config["first_calls"]:
        rows += measure_values_and_cache()

    # 8-9. Against scikit-learn's SAGA and L-BFGS on benchopt's L2 logistic regression.
    saga_rows, saga_info = measure_saga_epoch(config, max(2, reps // 2))
    rows += saga_rows
    race = measure_race(config, max(2, reps // 2))

    # 10-13. Sparse rows: rcv1- and news20-like data.
    sparse_rows, sparse_info = measure_sparse(config, reps)
    rows += sparse_rows

    targets = {key: target for key, (_, target) in COMPARISONS.items()}
    checks = [Check(claim=f"{c['measure']}: {c['target']}", measured=float(c["ratio"]), holds=c["holds"])
              for c in compare(rows, config, targets)]
    checks.insert(2, Check(claim="SGD batch 1 (cyclic) gives scikit-learn's iterates to 1e-10",
                          measured=same, holds=bool(same <= 1e-10)))
    checks.insert(3, Check(claim="sparse rows: SGD batch 1 (cyclic) gives scikit-learn's iterates to 1e-10",
                          measured=sparse_info["sparse_sgd_max_abs_diff"],
                          holds=bool(sparse_info["sparse_sgd_max_abs_diff"] <= 1e-10)))
    checks += race_checks(race, config)
    for preset in SPARSE_SETS:
        among = sparse_info[f"saga_{preset}"]["among"]
        checks.append(Check(claim=f"sparse rows, {preset}-like: lazy SAGA gives eager SAGA's iterates "
                                 "(same index stream) to 1e-10 after 3 epochs", measured=among, holds=bool(among <= 1e-10)))
    device = results.device_label()
    wall = time.perf_counter() - started
    meta = results.metadata_record(NAME, config, dtype="float64", wall_seconds=round(wall, 2))
    meta.update(targets=targets, sklearn_max_abs_diff=same, **saga_info, **sparse_info)
    # The sparse rows carry their own n and d.
    experiment.save(out, rows=[{**dict(device=device, dtype="float64", n=n, d=d), **r} for r in rows + race],
                    meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Writes ``summary.md`` (the ratio table) from the stored timings alone."""
    out = Path(out)
    rows, meta, checks = experiment.load(out)
    config = meta["config"]
    text, tables = summary.text(rows, meta)
    experiment.close(out, text, checks=checks, echo=echo, wall=meta.get("wall_seconds") or 0.0,
                     header=f"{NAME}: n = {config['n']:,}, d = {config['d']}, float64 on {rows[0]['device']}",
                     tables=tables)
    return {"rows": tables[0][0], "checks": checks}


def main(argv=None) -> int:
    # --seeds is the seed count of the many-seeds row. No --steps (the timed loops are sized for
    # the timings) and no --dtype (every row is float64: the scikit-learn row compares iterates).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least(
                               "seeds", 2, "the many-seeds row compares S seeds against one")})


if __name__ == "__main__":
    sys.exit(main())
