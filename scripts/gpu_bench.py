"""The accelerator benchmark: the scaling experiment and the peer ratios on whatever device JAX
finds, written to ``results/gpu/`` with the device named.

On an H100 (n = 10^8, d = 100, float32) the targets are a full-gradient GD step within 1.5x of
one read of the data from HBM, and 1024 seeds of batch-1 SGD costing at most 2x one seed per
step. On a machine with the project's JAX already installed with CUDA, install sgd-bench with
``pip install --no-deps -e .`` so that JAX stays as it is.

    python scripts/gpu_bench.py [--quick] [--n N] [--seeds S] [--dtype T] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import argparse
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


def run(config: dict, out: Path) -> dict:
    """Runs the accelerator benchmark with ``config`` and writes ``out``."""
    import jax.numpy as jnp

    import problems
    from sgd_bench import cli, results

    started = time.perf_counter()
    peers = cli.load("peers")
    scaling = cli.load("gd_vs_sgd_large_n")
    device = f"{jax.devices()[0].platform}:{jax.devices()[0].device_kind}"
    count = len(jax.devices())

    scale_config = dict(scaling.QUICK if config["n"] < 10**6 else scaling.FULL)
    scale_config.update(sizes=config["sizes"], dtype=config["dtype"])
    scaling.run(scale_config, out / "scaling")

    dtype = jnp.dtype(config["dtype"])
    problem = problems.synthetic_logreg(config["n"], config["d"], seed=0, mu=1e-3, dtype=dtype)
    if count > 1 and config["n"] % count == 0:
        import sgd_bench as sb

        problem = sb.shard(problem)
    read = peers.measure_gd_vs_read(problem, 0.01, config["repeats"])
    seeds = peers.measure_seeds(problem, 0.01, config["seeds"], config["repeats"])
    gd_ratio = read["gd_step"] / read["read"]
    seed_ratio = seeds["per_seed"] * config["seeds"] / seeds["one"]
    rows = [
        dict(measure="one GD step / one read of the data", ours=f"{read['gd_step'] * 1e3:.2f} ms",
             baseline=f"{read['read'] * 1e3:.2f} ms ({read['nbytes'] / read['read'] / 1e9:.0f} GB/s, {read['read_kind']})",
             ratio=f"{gd_ratio:.2f}", target="<= 1.5x", met="yes" if gd_ratio <= 1.5 else "MISSED"),
        dict(measure=f"{config['seeds']} seeds of SGD batch 1 / one seed, per step",
             ours=f"{seeds['per_seed'] * config['seeds'] * 1e6:.2f} us/step",
             baseline=f"{seeds['one'] * 1e6:.2f} us/step", ratio=f"{seed_ratio:.2f}", target="<= 2x",
             met="yes" if seed_ratio <= 2 else "MISSED"),
    ]
    checks = [dict(claim=f"{r['measure']}: {r['target']}", measured=float(r["ratio"]), holds=r["met"] == "yes")
              for r in rows]
    wall = time.perf_counter() - started
    meta = results.metadata_record(NAME, config, dtype=config["dtype"], wall_seconds=round(wall, 1))
    results.write_json(out / "meta.json", meta)
    results.write_json(out / "checks.json", checks)
    results.write_records(out / "records", [dict(device=device, dtype=config["dtype"], n=config["n"],
                                                 d=config["d"], **r) for r in rows])
    columns = ["measure", "ours", "baseline", "ratio", "target", "met"]
    results.write_text(out / "summary.md", f"""# Accelerator benchmark on {device}

{count} device(s), n = {config['n']:,}, d = {config['d']}, {config['dtype']}, jax {meta['versions']['jax']}.

{results.markdown_table(rows, columns)}

The scaling experiment on this device is in [scaling/summary.md](scaling/summary.md).

Wall time {wall:.0f} s.
""")
    print(results.text_table(rows, columns))
    print(f"wrote {out}/ in {wall:.0f} s")
    return {"rows": rows, "checks": checks}


def _own_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--n", type=experiment.positive_int, help="samples for the peer ratios (default 1e8, quick 20000)")
    return parser


def _seeds(config: dict, seeds: int) -> dict:
    if seeds < 2:
        raise ValueError("--seeds must be >= 2 (the many-seeds ratio compares S seeds against one)")
    return {**config, "seeds": seeds}


def main(argv=None) -> int:
    # experiment.main takes no options of a script's own: --n is parsed here (with the shared
    # options, so --help lists it and bad values exit 2), then the rest goes on to experiment.main.
    argv = sys.argv[1:] if argv is None else list(argv)
    _own_options(experiment.parser(NAME, __doc__)).parse_args(argv)
    own, rest = _own_options(argparse.ArgumentParser(add_help=False)).parse_known_args(argv)
    full, quick = dict(FULL), dict(QUICK)
    if own.n:
        full["n"] = quick["n"] = own.n
    # --seeds is the seed count of the many-seeds ratio and --dtype the dtype of every timing
    # (the scaling part enables x64 first); no --steps: the timed loops are sized for the timings.
    return experiment.main(rest, name=NAME, doc=__doc__, full=full, quick=quick, run=run,
                           overrides={"seeds": _seeds, "dtype": "dtype"}, folder="gpu")


if __name__ == "__main__":
    sys.exit(main())
