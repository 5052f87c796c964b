"""Large against small batches on real data: sharpness, train loss and test loss after equal epochs.

The experiment of Keskar et al. (2017), "On large-batch training for deep learning: generalization
gap and sharp minima", in small: a 64-32-10 tanh MLP (``problems.mlp.digits_mlp``) on
scikit-learn's digits with a fixed train/test split (1300 / 497 images), trained by plain SGD
with random reshuffling at one step size, with a small and a large batch for the same number of
epochs. Each of ``seeds`` seeds starts from its own random network (``mlp_init``); the two batch
sizes share the starts (paired comparisons). All seeds of one batch size run in one compiled
program (``vmap`` of the engine's ``init_state`` / ``advance_state``), and the end points are
taken at a list of checkpoints (in epochs).

At every checkpoint we measure, per seed:

- the sharpness: the largest eigenvalue of the training loss's Hessian, by Lanczos on
  Hessian-vector products (``sgd_bench.curvature.top_eigenvalue``, with its residual bound);
- the train loss and accuracy, the test loss and accuracy (on the held-out images).

Checks (``checks.json``), each with a 95% interval of the paired difference over seeds:

- large batches end sharper than small ones after equal epochs;
- the comparison is confounded: large batches also end at a higher train loss (they took
  fewer steps);
- every sharpness is an eigenvalue to within its Lanczos residual.

Readings (computed, reported whichever way they come out): the test-loss and test-accuracy
gap between the batch sizes, and the matched-train-loss control: the large batch's end
point against the small batch at its checkpoint whose mean train loss is nearest.

Where the time goes (issue 16; full size, compilation cache off, under a load of 11-15 on the
shared 2-core machine, CPU seconds of the process, readings): 83 CPU s in all (661 s wall).
``measure`` ~53 CPU s: 20 Lanczos steps (Hessian-vector products over the 1300 training images)
for 64 seeds x 11 checkpoints x 2 batch sizes, ~23 CPU s per batch size, plus its one compile;
``train`` ~10 CPU s per batch size, about half of it compiling; 23 compiles in all (121 s wall
under that load: train 2 x 31 s, since the batch is a shape; measure 50 s once; the rest small
op-by-op programs), the report ~2 CPU s. Nothing compiles twice for the same shapes. Tried and
dropped: Lanczos on ``jax.linearize`` of the gradient (the primal pass once per point instead of
once per product) was no faster here (0.95 against 0.88 CPU s, 16 seeds x 2 points) and
not bit-identical.

    python scripts/sharp_minima.py [--quick] [--seeds S] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import sgd_bench as sb
from problems.mlp import accuracy, digits_mlp, mlp_init
from sgd_bench.curvature import top_eigenvalue
from sgd_bench.methods import sgd
from sgd_bench.solver import advance_state, init_state
from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.toolkit import Check

NAME = "sharp_minima"
DESCRIPTION = ("large vs small batch SGD on a digits MLP at equal epochs: sharpness (top Hessian "
               "eigenvalue), train and test loss, over 64 seeds")

# Batch 256 is ~20% of the training set (Keskar et al. call 10% large); at 40 epochs it takes
# 203 steps against the small batch's 3250. The step is the same for both, as in the paper.
FULL = dict(seeds=64, hidden=32, step_size=1.0, small_batch=16, large_batch=256, epochs=40,
            checkpoints=(0.25, 0.5, 1, 2, 3, 5, 8, 12, 20, 30, 40), lanczos_iters=20, key=0, dpi=150)
QUICK = dict(seeds=8, hidden=8, step_size=1.0, small_batch=16, large_batch=256, epochs=4,
             checkpoints=(0.5, 1, 2, 4), lanczos_iters=20, key=0, dpi=60)

Z = 1.96  # two-sided 95% normal interval of a mean over seeds


def steps_for(epochs: float, n: int, batch: int) -> int:
    """The number of steps that makes ``epochs`` passes over n samples with batches of ``batch``
    (rounded; reshuffling uses every sample once per epoch)."""
    return max(1, int(round(epochs * n / batch)))


@functools.partial(jax.jit, static_argnames=("batch_size", "chunk"))
def train(problem, step_size, x0s, keys, increments, *, batch_size, chunk):
    """SGD (random reshuffling, constant ``step_size``) from ``x0s[s]`` with key ``keys[s]``
    for every seed s; the iterate after each of the consecutive runs of ``increments`` steps:
    an array (seed, checkpoint, d). Seed s ends where ``sgd_bench.run(problem, sgd(step_size,
    batch_size, "reshuffle"), x0s[s], keys[s], steps=sum(increments))`` does. ``increments``
    is a traced int32 array: one loop over the checkpoints, so the program does not grow with
    their number and other checkpoints reuse it."""
    method = sgd(1.0, batch_size, "reshuffle").replace(step_size=step_size)

    def one_seed(x0, key):
        def piece(state, t):
            state = advance_state(problem, method, state, t, chunk=chunk)
            return state, state.x

        _, xs = jax.lax.scan(piece, init_state(problem, method, x0, key, chunk=chunk), increments)
        return xs

    return jax.vmap(one_seed)(x0s, keys)


@functools.partial(jax.jit, static_argnames=("iters",))
def measure(train_problem, test_problem, xs, keys, *, iters):
    """For end points ``xs`` (seed, checkpoint, d): a dict of (seed, checkpoint) arrays with
    the top Hessian eigenvalue of the train loss and its residual bound, the train and test
    losses and accuracies. Seeds are vmapped, checkpoints mapped one after another (the
    Lanczos basis of every seed is in memory at once)."""
    def one(x, key):
        lam, res = top_eigenvalue(train_problem, x, key, iters=iters)
        return dict(sharpness=lam, residual=res, train_loss=train_problem.loss(x),
                    test_loss=test_problem.loss(x), train_acc=accuracy(train_problem, x),
                    test_acc=accuracy(test_problem, x))

    per_checkpoint = jax.lax.map(lambda x_c: jax.vmap(one)(x_c, keys), jax.numpy.swapaxes(xs, 0, 1))
    return jax.tree_util.tree_map(lambda a: jax.numpy.swapaxes(a, 0, 1), per_checkpoint)


def paired(a, b) -> dict:
    """Mean of the paired difference a - b over seeds, its standard error and 95% interval."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    m, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))
    return dict(mean=m, se=se, low=m - Z * se, high=m + Z * se)


def run(config: dict, out: Path) -> dict:
    """Trains both batch sizes, measures every checkpoint, stores records, meta and checks in
    ``out``, then writes the figures and summary from them (``report``)."""
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    train_p = digits_mlp(config["hidden"], dtype=jnp.float64)
    test_p = digits_mlp(config["hidden"], split="test", dtype=jnp.float64)
    n, seeds = train_p.n, config["seeds"]
    keys = sb.seed_keys(config["key"], seeds)
    init_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    lanczos_keys = jax.vmap(lambda k: jax.random.fold_in(k, 2))(keys)
    x0s = jax.vmap(lambda k: mlp_init(train_p, k))(init_keys)
    epochs = tuple(float(e) for e in config["checkpoints"])
    if epochs[-1] != config["epochs"]:
        raise ValueError(f"the last checkpoint must be the run's length, {config['epochs']} epochs")

    rows, timings, steps_run = [], {}, {}
    for label, batch in (("small", config["small_batch"]), ("large", config["large_batch"])):
        total = [steps_for(e, n, batch) for e in epochs]
        increments = tuple(b - a for a, b in zip([0] + total, total))
        t = time.perf_counter()
        xs = train(train_p, jnp.asarray(config["step_size"], jnp.float64), x0s, keys,
                   jnp.asarray(increments, jnp.int32), batch_size=batch, chunk=min(256, max(increments)))
        m = {k: np.asarray(v) for k, v in measure(train_p, test_p, xs, lanczos_keys,
                                                  iters=config["lanczos_iters"]).items()}
        timings[label] = round(time.perf_counter() - t, 2)
        steps_run[label] = total
        for s in range(seeds):
            for c, e in enumerate(epochs):
                rows.append(dict(experiment=NAME, batch_label=label, batch=batch, seed=s, epoch=e,
                                 steps=total[c], **{k: float(v[s, c]) for k, v in m.items()}))

    checks = _checks(rows, epochs)
    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, {**config, "sampling": "reshuffle"}, dtype="float64",
                                   wall_seconds=round(wall, 2))
    meta["timings_seconds"] = timings
    meta["steps"] = steps_run
    meta["problem"] = {"name": train_p.name, "n_train": n, "n_test": test_p.n,
                       "parameters": int(train_p.x_shape[0])}
    experiment.save(out, rows=rows, meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def _column(rows, label, key, epoch):
    picked = sorted((r for r in rows if r["batch_label"] == label and r["epoch"] == epoch),
                    key=lambda r: r["seed"])
    return np.array([r[key] for r in picked])


def matched_checkpoint(rows, epochs) -> float:
    """The small batch's checkpoint whose mean train loss is nearest the large batch's final
    mean train loss (on a log scale)."""
    target = np.log(_column(rows, "large", "train_loss", epochs[-1]).mean())
    return min(epochs, key=lambda e: abs(np.log(_column(rows, "small", "train_loss", e).mean()) - target))


def _checks(rows, epochs) -> list[Check]:
    end = epochs[-1]

    def col(label, key, epoch=end):
        return _column(rows, label, key, epoch)

    sharp = paired(col("large", "sharpness"), col("small", "sharpness"))
    loss = paired(col("large", "train_loss"), col("small", "train_loss"))
    rel_res = max(float(np.max(np.array([r["residual"] for r in rows])
                               / np.abs(np.array([r["sharpness"] for r in rows])))), 0.0)
    checks = [
        Check(claim=f"Large batches end sharper: after {end:g} epochs the top Hessian eigenvalue of "
                    "the large-batch end point exceeds the small-batch one (paired over seeds, the "
                    "95% interval of the difference lies above 0)",
              measured={"large": float(col("large", "sharpness").mean()),
                        "small": float(col("small", "sharpness").mean()), "difference": sharp},
              holds=bool(sharp["low"] > 0)),
        Check(claim=f"The equal-epoch comparison is confounded: the large batch (fewer steps) also "
                    "ends at a higher train loss (95% interval of the paired difference above 0)",
              measured={"large": float(col("large", "train_loss").mean()),
                        "small": float(col("small", "train_loss").mean()), "difference": loss},
              holds=bool(loss["low"] > 0)),
        Check(claim="Every sharpness is an eigenvalue of the Hessian to within 1e-3 of its size "
                    "(Lanczos residual bound)",
              measured={"largest residual / eigenvalue": rel_res}, holds=bool(rel_res < 1e-3)),
    ]
    return checks


def readings(rows, epochs) -> dict:
    """The computed numbers behind the summary's readings (reported whichever way they go)."""
    end = epochs[-1]
    e_m = matched_checkpoint(rows, epochs)

    def col(label, key, epoch=end):
        return _column(rows, label, key, epoch)

    return dict(
        test_loss=paired(col("large", "test_loss"), col("small", "test_loss")),
        test_acc=paired(col("large", "test_acc"), col("small", "test_acc")),
        gap=paired(col("large", "test_loss") - col("large", "train_loss"),
                   col("small", "test_loss") - col("small", "train_loss")),
        matched_epoch=e_m,
        matched_train=(float(col("large", "train_loss").mean()), float(col("small", "train_loss", e_m).mean())),
        matched_sharpness=paired(col("large", "sharpness"), col("small", "sharpness", e_m)),
        matched_test_loss=paired(col("large", "test_loss"), col("small", "test_loss", e_m)),
    )


def report(out: Path, echo: bool = False) -> dict:
    """Draws the figures and writes ``summary.md`` from the stored records, meta and checks
    alone (``sgd-bench report`` calls it without re-running anything)."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)
    config = meta["config"]
    epochs = tuple(float(e) for e in config["checkpoints"])
    read = readings(rows, epochs)
    _figures(out, config, rows, epochs)

    def cell(label, key, epoch):
        v = _column(rows, label, key, epoch)
        return f"{v.mean():.4g} ± {v.std(ddof=1) / np.sqrt(len(v)):.2g}"

    table = []
    for label, e in (("small", epochs[-1]), ("large", epochs[-1]), ("small", read["matched_epoch"])):
        batch = config[f"{label}_batch"]
        table.append({"batch": batch, "epochs": f"{e:g}",
                      "steps": meta["steps"][label][epochs.index(e)],
                      "sharpness λ_max": cell(label, "sharpness", e),
                      "train loss": cell(label, "train_loss", e), "test loss": cell(label, "test_loss", e),
                      "train acc": cell(label, "train_acc", e), "test acc": cell(label, "test_acc", e)})

    def iv(d, digits=3):
        return f"{d['mean']:+.{digits}g} [{d['low']:+.{digits}g}, {d['high']:+.{digits}g}]"

    p = meta["problem"]
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Sharp minima and large batches on real data (digits MLP, {config['seeds']} seeds)

A {64}-{config['hidden']}-10 tanh MLP ({p['parameters']} parameters), softmax cross-entropy, on
scikit-learn's digits: {p['n_train']} training images and {p['n_test']} held-out test images (a
fixed split). SGD with random reshuffling and step {config['step_size']:g}, batch
{config['small_batch']} against batch {config['large_batch']}, {config['epochs']:g} epochs each,
from the same {config['seeds']} random starts. Sharpness = the largest eigenvalue of the
training loss's Hessian ({config['lanczos_iters']} Lanczos steps on Hessian-vector products).
Entries are means ± standard errors over seeds; intervals are 95% intervals of the paired
difference large − small.

![curves](sharp_minima.png)

![end points](sharp_minima_scatter.png)

{results.markdown_table(table, list(table[0]))}

## Checks

{experiment.check_lines(checks)}

## Readings (computed; reported whichever way they come out)

- Test loss, large − small after {epochs[-1]:g} epochs: {iv(read['test_loss'])}; test accuracy:
  {iv(read['test_acc'])}; generalization gap (test − train loss): {iv(read['gap'])}.
- Matched-train-loss control: the small batch at {read['matched_epoch']:g} epochs has mean train
  loss {read['matched_train'][1]:.4g}, the large batch at the end {read['matched_train'][0]:.4g}.
  There, sharpness large − small: {iv(read['matched_sharpness'])}; test loss large − small:
  {iv(read['matched_test_loss'])}.

Wall time {wall:.1f} s (compilation included); device {meta['devices'][0]}; float64.
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, tables=[(table, list(table[0]))],
                     header=f"{NAME}: {config['seeds']} seeds, {config['epochs']:g} epochs")
    return {"summary": table, "checks": checks, "readings": read}


def _figures(out, config, rows, epochs):
    colors = {"small": plots.COLORS[0], "large": plots.COLORS[1]}
    keys = [("sharpness", "sharpness λ_max (train Hessian)"), ("train_loss", "train loss"),
            ("test_loss", "test loss"), ("test_acc", "test accuracy")]
    fig, axes = plt.subplots(1, len(keys), figsize=(15, 3.8))
    for ax, (key, label) in zip(axes, keys):
        for b in ("small", "large"):
            cols = [_column(rows, b, key, e) for e in epochs]
            plots.band(ax, np.array(epochs), [c.mean() for c in cols],
                       [c.std(ddof=1) / np.sqrt(len(c)) for c in cols],
                       label=f"batch {config[f'{b}_batch']}", color=colors[b], marker="o", ms=3)
        ax.set_xscale("log")
        ax.set_xlabel("epochs")
        ax.set_title(label)
        if key.endswith("loss"):
            ax.set_yscale("log")
    fig.suptitle(f"SGD, step {config['step_size']:g}, {config['seeds']} seeds, 95% bands")
    plots.legend_below(fig, axes, ncol=2)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    results.save_figure(fig, out / "sharp_minima.png", dpi=config["dpi"])
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for b in ("small", "large"):
        s = _column(rows, b, "sharpness", epochs[-1])
        for ax, key in zip(axes, ("train_loss", "test_loss")):
            ax.scatter(s, _column(rows, b, key, epochs[-1]), s=14, alpha=0.7, color=colors[b],
                       label=f"batch {config[f'{b}_batch']}")
    for ax, key in zip(axes, ("train loss", "test loss")):
        ax.set_xlabel("sharpness λ_max")
        ax.set_ylabel(key)
        ax.legend(fontsize=8)
    fig.suptitle(f"End points after {epochs[-1]:g} epochs, one dot per seed")
    toolkit.save(fig, out / "sharp_minima_scatter.png", dpi=config["dpi"])
    plt.close(fig)


def main(argv=None) -> int:
    seeds = experiment.at_least("seeds", 4, "the intervals over seeds need them")
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds})


if __name__ == "__main__":
    sys.exit(main())
