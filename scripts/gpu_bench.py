"""The accelerator benchmark: the scaling experiment and the peer ratios on whatever device JAX
finds, written to ``results/gpu/`` with the device named.

On an H100 (n = 10^8, d = 100, float32) the targets are a full-gradient GD step within 1.5x of
one read of the data from HBM, and 1024 seeds of batch-1 SGD costing at most 2x one seed per
step. On a machine with the project's JAX already installed with CUDA, install sgd-bench with
``pip install --no-deps -e .`` so that JAX stays as it is.

    python scripts/gpu_bench.py [--quick] [--n N] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax

NAME = "gpu_bench"
DESCRIPTION = "scaling and peer ratios on the accelerator JAX finds (results/gpu/)"

FULL = dict(n=10**8, d=100, seeds=1024, repeats=5, sizes=(10**5, 10**6, 10**7, 10**8), dtype="float32")
QUICK = dict(n=20_000, d=20, seeds=16, repeats=2, sizes=(2_000, 8_000), dtype="float32")


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
    results.write_records(out / "records.csv", [dict(device=device, dtype=config["dtype"], n=config["n"],
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long run (for tests)")
    parser.add_argument("--n", type=int, help="samples for the peer ratios (default 1e8)")
    parser.add_argument("--seeds", type=int, help="seeds in the many-seeds ratio (default 1024)")
    parser.add_argument("--out", type=Path, help="output folder (default results/gpu)")
    args = parser.parse_args(argv)
    config = dict(QUICK if args.quick else FULL)
    if args.n:
        config["n"] = args.n
    if args.seeds:
        config["seeds"] = args.seeds
    root = Path(__file__).resolve().parents[1] / "results"
    run(config, args.out or (root / "_quick" / "gpu" if args.quick else root / "gpu"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
