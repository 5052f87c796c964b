"""Speed against what a user would otherwise pick, as ratios measured in the same run.

On logistic regression (n = 10^6, d = 100, float64 unless stated), each row times sgd-bench and
a baseline on the same data and device, interleaving the two and keeping the best of several
repeats:

1. one full-gradient GD step against the fastest single read of the data (``jnp.sum(A)`` or
   ``A @ v``); target <= 1.5x;
2. the marginal cost of an epoch of batch-1 SGD in cyclic order (3 epochs minus 1) against
   scikit-learn's ``SGDClassifier`` doing the same updates; target >= 1.5x its samples per
   second, and the same iterates to 1e-10;
3. the marginal per-seed step cost of 256 seeds of batch-1 SGD in one ``run_seeds`` against one
   seed; target <= 0.3x;
4. the jitted scan against a Python loop calling a jitted optax step; target >= 20x.

A NumPy loop (and a PyTorch loop when torch is installed) are timed for reference. A missed
target is reported as missed, with its ratio.

    python scripts/peers.py [--quick] [--seeds S] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import jax

from sgd_bench import experiment

NAME = "peers"
DESCRIPTION = "speed ratios against a plain read of the data, scikit-learn, single seeds and a Python loop of optax steps"

FULL = dict(n=1_000_000, d=100, seeds=256, repeats=5, numpy_steps=100_000, loop_steps=20_000,
            alpha=0.01, mu=1e-3, data_seed=0)
QUICK = dict(n=20_000, d=20, seeds=8, repeats=2, numpy_steps=2_000, loop_steps=500,
             alpha=0.01, mu=1e-3, data_seed=0)


def _interleaved_best(fns: dict, repeats: int) -> dict:
    """Times each callable ``repeats`` times, alternating between them; returns the best times."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            began = time.perf_counter()
            jax.block_until_ready(fn())
            best[name] = min(best[name], time.perf_counter() - began)
    return best


def compiled_steps(problem, method, x0, key, steps):
    """A zero-argument callable running ``steps`` steps of ``method`` (compiled ahead of time)."""
    import jax.numpy as jnp

    from sgd_bench import runner

    st = runner.stepper(method, problem.n, steps)
    carry = jax.jit(st.init)(problem, x0, key)
    k0 = jnp.zeros((), jnp.int32)
    fn = jax.jit(st.advance, static_argnums=4).lower(problem, key, carry, k0, steps).compile()
    return lambda: fn(problem, key, carry, k0)


def measure_gd_vs_read(problem, alpha, repeats):
    """Seconds of one GD step (mean of 10) and of the fastest single read of the features."""
    import jax.numpy as jnp

    import sgd_bench as sb

    A = problem.data[0]
    x0 = jnp.zeros(problem.x_shape, A.dtype)
    read_sum = jax.jit(jnp.sum).lower(A).compile()
    read_mv = jax.jit(lambda a, v: a @ v).lower(A, x0).compile()
    gd10 = compiled_steps(problem, sb.gd(alpha), x0, jax.random.key(0), 10)
    t = _interleaved_best({"sum": lambda: read_sum(A), "matvec": lambda: read_mv(A, x0), "gd": gd10}, repeats)
    return dict(gd_step=t["gd"] / 10, read=min(t["sum"], t["matvec"]),
                read_kind="sum" if t["sum"] <= t["matvec"] else "A @ v", nbytes=A.nbytes)


def measure_seeds(problem, alpha, seeds, repeats, short=5_000, long=25_000):
    """Marginal seconds per step of batch-1 SGD for one seed and per seed with ``seeds`` seeds."""
    import jax.numpy as jnp

    import sgd_bench as sb
    from sgd_bench import runner

    method = sb.sgd(alpha, 1)
    x0 = jnp.zeros(problem.x_shape, problem.dtype)

    def seeds_fn(count, steps):
        keys = sb.seed_keys(jax.random.key(0), count)
        fn = runner._run_seeds_jit.lower(problem, x0, keys, None, method=method, steps=steps,
                                         log_every=steps).compile()
        return lambda: fn(problem, x0, keys, None)

    fns = {"1s": seeds_fn(1, short), "1l": seeds_fn(1, long),
           "Ss": seeds_fn(seeds, short), "Sl": seeds_fn(seeds, long)}
    t = _interleaved_best(fns, repeats)
    one = (t["1l"] - t["1s"]) / (long - short)
    many = (t["Sl"] - t["Ss"]) / (long - short) / seeds
    if one <= 0 or many <= 0:  # the machine was too noisy to difference the two run lengths
        one = many = float("nan")
    return dict(one=one, per_seed=many)


def run(config: dict, out: Path) -> dict:
    """Measures every ratio with ``config`` and writes ``out``; returns the summary rows."""
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import optax

    import problems
    import sgd_bench as sb
    from sgd_bench import results

    started = time.perf_counter()
    n, d, alpha, mu, reps = config["n"], config["d"], config["alpha"], config["mu"], config["repeats"]
    problem = problems.synthetic_logreg(n, d, seed=config["data_seed"], mu=mu, dtype=jnp.float64)
    A, y = problem.data
    x0 = jnp.zeros(d)
    key = jax.random.key(0)
    device = f"{jax.devices()[0].platform}:{jax.devices()[0].device_kind}"
    rows, checks = [], []

    def add(measure, ours, baseline, ratio, target, holds, note=""):
        rows.append(dict(measure=measure, ours=ours, baseline=baseline, ratio=f"{ratio:.2f}",
                         target=target, met="yes" if holds else "MISSED", note=note))
        checks.append(dict(claim=f"{measure}: {target}", measured=float(ratio), holds=bool(holds)))

    # 1. A full-gradient step against one read of the data.
    m = measure_gd_vs_read(problem, alpha, reps)
    ratio = m["gd_step"] / m["read"]
    add("one GD step / fastest read of A", f"{m['gd_step'] * 1e3:.1f} ms",
        f"{m['read'] * 1e3:.1f} ms ({m['nbytes'] / m['read'] / 1e9:.1f} GB/s, {m['read_kind']})",
        ratio, "<= 1.5x", ratio <= 1.5)

    # 2. Marginal epoch of cyclic batch-1 SGD against scikit-learn's SGDClassifier.
    from sklearn.linear_model import SGDClassifier

    sgd_cyclic = sb.sgd(alpha, 1, "cyclic")
    ours1 = compiled_steps(problem, sgd_cyclic, x0, key, n)
    ours3 = compiled_steps(problem, sgd_cyclic, x0, key, 3 * n)
    A_np, y_np = np.asarray(A), np.asarray(y)

    def sklearn_epochs(epochs):
        clf = SGDClassifier(loss="log_loss", alpha=mu, learning_rate="constant", eta0=alpha,
                            shuffle=False, fit_intercept=False, max_iter=epochs, tol=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as intended
            clf.fit(A_np, y_np)
        return clf.coef_

    t = _interleaved_best({"ours1": ours1, "ours3": ours3, "sk1": lambda: sklearn_epochs(1),
                           "sk3": lambda: sklearn_epochs(3)}, max(2, reps // 2))
    ours_epoch = (t["ours3"] - t["ours1"]) / 2
    sk_epoch = (t["sk3"] - t["sk1"]) / 2
    ratio = sk_epoch / ours_epoch
    x_ours = np.asarray(ours1()[0].x)
    x_sk = sklearn_epochs(1)[0]
    same = float(np.max(np.abs(x_ours - x_sk)))
    add("SGD batch 1 epoch, samples/s vs scikit-learn SGDClassifier", f"{n / ours_epoch / 1e6:.2f} M/s",
        f"{n / sk_epoch / 1e6:.2f} M/s", ratio, ">= 1.5x", ratio >= 1.5,
        f"max |x_ours - x_sklearn| after 1 epoch = {same:.1e}")
    checks.append(dict(claim="SGD batch 1 (cyclic) gives scikit-learn's iterates to 1e-10",
                       measured=same, holds=bool(same <= 1e-10)))

    # 3. Marginal per-seed step cost with many seeds against one seed.
    S = config["seeds"]
    m = measure_seeds(problem, alpha, S, reps)
    ratio = m["per_seed"] / m["one"]
    add(f"per-seed SGD step with {S} seeds / one seed", f"{m['per_seed'] * 1e9:.0f} ns/seed/step",
        f"{m['one'] * 1e9:.0f} ns/step", ratio, "<= 0.3x", ratio <= 0.3,
        "" if ratio == ratio else "not measurable: long minus short run was not positive (noisy machine)")

    # 4. The jitted scan against a Python loop calling a jitted optax step.
    tx = optax.sgd(alpha)
    steps = config["loop_steps"]
    scan = compiled_steps(problem, sb.from_optax(tx, 1, "cyclic"), x0, key, steps)

    @jax.jit
    def optax_step(x, opt_state, problem, i):
        g = problem.batch_grad(x, i[None])
        updates, opt_state = tx.update(g, opt_state, x)
        return optax.apply_updates(x, updates), opt_state

    def python_loop():
        x, s = x0, tx.init(x0)
        for i in range(steps):
            x, s = optax_step(x, s, problem, jnp.int32(i % n))
        return x

    jax.block_until_ready(python_loop())
    t = _interleaved_best({"scan": scan, "loop": python_loop}, max(2, reps // 2))
    ratio = t["loop"] / t["scan"]
    add("jitted scan vs Python loop of jitted optax steps", f"{t['scan'] / steps * 1e6:.2f} us/step",
        f"{t['loop'] / steps * 1e6:.1f} us/step", ratio, ">= 20x", ratio >= 20)

    # References: NumPy and (when installed) PyTorch loops of batch-1 SGD.
    m = config["numpy_steps"]

    def numpy_loop():
        x = np.zeros(d)
        for i in range(m):
            a, yi = A_np[i % n], y_np[i % n]
            x = (1 - alpha * mu) * x + alpha * yi * a / (1.0 + np.exp(yi * (a @ x)))
        return x

    t_np = _interleaved_best({"np": numpy_loop}, 1)["np"]
    references = [dict(measure="NumPy loop, batch-1 SGD", per_step=f"{t_np / m * 1e6:.2f} us",
                       vs_ours=f"{(t_np / m) / (ours_epoch / n):.0f}x slower")]
    try:
        import torch

        At, yt = torch.from_numpy(A_np), torch.from_numpy(y_np)

        def torch_loop():
            x = torch.zeros(d, dtype=torch.float64)
            for i in range(m):
                a, yi = At[i % n], yt[i % n]
                x = (1 - alpha * mu) * x + alpha * yi * a * torch.sigmoid(-yi * (a @ x))
            return x

        t_torch = _interleaved_best({"t": torch_loop}, 1)["t"]
        references.append(dict(measure="PyTorch CPU loop, batch-1 SGD", per_step=f"{t_torch / m * 1e6:.2f} us",
                               vs_ours=f"{(t_torch / m) / (ours_epoch / n):.0f}x slower"))
    except ImportError:
        references.append(dict(measure="PyTorch CPU loop", per_step="not run",
                               vs_ours="torch is not installed (pip install -e '.[peers]')"))

    wall = time.perf_counter() - started
    meta = results.metadata_record(NAME, config, dtype="float64", wall_seconds=round(wall, 2))
    results.write_json(out / "meta.json", meta)
    results.write_json(out / "checks.json", checks)
    results.write_records(out / "records", [dict(device=device, dtype="float64", n=n, d=d, **r)
                                             for r in rows])
    columns = ["measure", "ours", "baseline", "ratio", "target", "met", "note"]
    missed = [r for r in rows if r["met"] != "yes"]
    verdict = ("Every target is met." if not missed else
               "Missed: " + "; ".join(f"{r['measure']} at {r['ratio']}x (target {r['target']})" for r in missed) + ".")
    text = f"""# Speed against peers

Logistic regression, n = {n:,}, d = {d}, float64, device {device} ({meta['cpu_count']} CPU cores
visible), jax {meta['versions']['jax']}, scikit-learn {meta['versions']['scikit-learn']}. Every ratio
compares two timings taken in the same run on the same data, interleaved, best of {reps}.

{results.markdown_table(rows, columns)}

{verdict}

References (not targets):

{results.markdown_table(references, ['measure', 'per_step', 'vs_ours'])}

Wall time {wall:.0f} s.
"""
    results.write_text(out / "summary.md", text)
    print(f"\n{NAME}: n = {n:,}, d = {d}, float64 on {device}")
    print(results.text_table(rows, columns))
    print(results.text_table(references, ["measure", "per_step", "vs_ours"]))
    print(verdict)
    print(f"wrote {out}/ in {wall:.0f} s")
    return {"rows": rows, "checks": checks}


def _seeds(config: dict, seeds: int) -> dict:
    if seeds < 2:
        raise ValueError("--seeds must be >= 2 (the many-seeds row compares S seeds against one)")
    return {**config, "seeds": seeds}


def main(argv=None) -> int:
    # --seeds is the seed count of the many-seeds row. No --steps (the timed loops are sized for
    # the timings) and no --dtype (every row is float64: the scikit-learn row compares iterates).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": _seeds})


if __name__ == "__main__":
    sys.exit(main())
