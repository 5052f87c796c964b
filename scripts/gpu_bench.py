"""The accelerator benchmark: the scaling experiment and the peer ratios on whatever device JAX
finds, written to ``results/gpu/`` with the device named.

On an H100 (n = 10^8, d = 100, float32) the targets are a full-gradient GD step within 1.5x of
one read of the data from HBM, and 1024 seeds of batch-1 SGD costing at most 2x one seed per
step. On a machine with the project's JAX already installed with CUDA, install sgd-bench with
``pip install --no-deps -e .`` so that JAX stays as it is.

The records hold the timings themselves, as ``peers`` stores them (one row per timed call, with
``device`` and ``dtype``); the scaling experiment's result is in ``scaling/``.

    python scripts/gpu_bench.py [--quick] [--n N] [--seeds S] [--dtype T] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

from sgd_bench import experiment

NAME = "gpu_bench"
DESCRIPTION = "scaling and peer ratios on the accelerator JAX finds"

FULL = dict(n=10**8, d=100, seeds=1024, repeats=5, sizes=(10**5, 10**6, 10**7, 10**8), dtype="float32")
# The quick run is a smoke test of the layout: one size for the scaling part, a few seeds.
QUICK = dict(n=20_000, d=20, seeds=4, repeats=2, sizes=(2_000,), dtype="float32")

# Both targets bound a cost ratio: a GD step over one read of the data, and a step of all the
# seeds together over a step of one seed.
TARGETS = {"read": 1.5, "seeds": 2.0}


def run(config: dict, out: Path) -> dict:
    """Runs the scaling experiment into ``out/scaling``, times the peer ratios with ``config``,
    stores the timings in ``out``, then writes the table from them (``report``)."""
    import jax.numpy as jnp

    import problems
    from sgd_bench import cli, results

    started = time.perf_counter()
    peers = cli.load("peers")
    scaling = cli.load("gd_vs_sgd_large_n")
    count = len(jax.devices())

    scale_config = dict(scaling.QUICK if config["n"] < 10**6 else scaling.FULL)
    scale_config.update(sizes=config["sizes"], dtype=config["dtype"])
    scaling.run(scale_config, out / "scaling")

    dtype = jnp.dtype(config["dtype"])
    problem = problems.synthetic_logreg(config["n"], config["d"], seed=0, mu=1e-3, dtype=dtype)
    if count > 1 and config["n"] % count == 0:
        import sgd_bench as sb

        problem = sb.shard(problem)
    rows = peers.measure_gd_vs_read(problem, 0.01, config["repeats"])
    rows += peers.measure_seeds(problem, 0.01, config["seeds"], config["repeats"])
    checks = [dict(claim=f"{r['measure']}: {r['target']}", measured=r["ratio"], holds=r["met"] == "yes")
              for r in _table(rows, config, TARGETS)]
    device = results.device_label()
    wall = time.perf_counter() - started
    meta = results.metadata_record(NAME, config, dtype=config["dtype"], wall_seconds=round(wall, 1))
    meta["targets"] = TARGETS
    experiment.save(out, rows=[dict(device=device, dtype=config["dtype"], n=config["n"], d=config["d"], **r)
                               for r in rows], meta=meta, checks=checks)
    return report(out, echo=True)


def _table(rows, config: dict, targets: dict) -> list[dict]:
    """The two ratios from the timing records: display strings, the ratio and whether it is met."""
    from sgd_bench import cli

    cost = cli.load("peers").costs(rows)
    (gd, _), (read, kind) = cost["read", "ours"], cost["read", "baseline"]
    nbytes = next(r["bytes_read"] for r in rows if r["comparison"] == "read" and r["timing"] == kind)
    seeds = config["seeds"]
    all_seeds, one = cost["seeds", "ours"][0] * seeds, cost["seeds", "baseline"][0]
    gd_ratio, seed_ratio = gd / read, all_seeds / one
    return [
        dict(measure="one GD step / one read of the data", ours=f"{gd * 1e3:.2f} ms",
             baseline=f"{read * 1e3:.2f} ms ({nbytes / read / 1e9:.0f} GB/s, {kind})",
             ratio=gd_ratio, target=f"<= {targets['read']:g}x", met="yes" if gd_ratio <= targets["read"] else "MISSED"),
        dict(measure=f"{seeds} seeds of SGD batch 1 / one seed, per step", ours=f"{all_seeds * 1e6:.2f} us/step",
             baseline=f"{one * 1e6:.2f} us/step", ratio=seed_ratio, target=f"<= {targets['seeds']:g}x",
             met="yes" if seed_ratio <= targets["seeds"] else "MISSED"),
    ]


def report(out: Path, echo: bool = False) -> dict:
    """Writes ``summary.md`` from the stored timings alone, and rebuilds ``scaling/`` likewise."""
    from sgd_bench import cli, results

    out = Path(out)
    rows, meta, checks = experiment.load(out)
    config = meta["config"]
    cli.load("gd_vs_sgd_large_n").report(out / "scaling")
    table = [{**r, "ratio": f"{r['ratio']:.2f}"} for r in _table(rows, config, meta["targets"])]
    device, wall = rows[0]["device"], meta.get("wall_seconds") or 0.0
    columns = ["measure", "ours", "baseline", "ratio", "target", "met"]
    text = f"""# Accelerator benchmark on {device}

{meta['device_count']} device(s), n = {config['n']:,}, d = {config['d']}, {config['dtype']}, jax {meta['versions']['jax']}.

{results.markdown_table(table, columns)}

The scaling experiment on this device is in [scaling/summary.md](scaling/summary.md).

Wall time {wall:.0f} s.
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall,
                     header=f"{NAME}: n = {config['n']:,}, d = {config['d']}, {config['dtype']} on {device}",
                     tables=[(table, columns)])
    return {"rows": table, "checks": checks}


def main(argv=None) -> int:
    # --seeds is the seed count of the many-seeds ratio and --dtype the dtype of every timing
    # (the scaling part enables x64 first); no --steps: the timed loops are sized for the timings.
    seeds = experiment.at_least("seeds", 2, "the many-seeds ratio compares S seeds against one")
    n = dict(type=experiment.positive_int, help="samples for the peer ratios (default 1e8, quick 20000)")
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": seeds, "dtype": "dtype", "n": "n"}, options={"n": n},
                           folder="gpu")


if __name__ == "__main__":
    sys.exit(main())
