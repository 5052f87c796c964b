"""peers' rows 5-7, methods as values: a second call with new values and data against the first,
a sweep's marginal step against one run's, and the first call with a warm persistent cache
against the cache off (each in a fresh process)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

import problems
import sgd_bench as sb

from .timing import interleaved_best, timing

# The first-call measurement of rows 5 and 7, run in a fresh process (``python -c``).
FIRST_CALL = """
import sys, time
import jax
import numpy as np
from sgd_bench_harness import compile_cache
if sys.argv[1] != "off":
    compile_cache.enable(sys.argv[1])
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp, problems, sgd_bench as sb
def call(seed, alpha):
    p = problems.synthetic_logreg(20_000, 50, seed=seed, mu=1e-3, dtype=jnp.float64)
    t0 = time.perf_counter()
    jax.block_until_ready(sb.run_seeds(p, sb.sgd(alpha, 8), jnp.zeros(50), 0, seeds=4, steps=2000,
                                       log_every=100))
    return time.perf_counter() - t0
first = call(0, 0.05)
second = call(1, 0.02)
print(f"RESULT {first!r} {second!r}")
"""


def first_calls(cache_dir) -> tuple[float, float]:
    """(first call, second call) seconds of ``FIRST_CALL`` in a fresh process, with the
    persistent cache in ``cache_dir`` ("off": none)."""
    env = dict(os.environ, SGD_BENCH_COMPILATION_CACHE="0")
    done = subprocess.run([sys.executable, "-c", FIRST_CALL, str(cache_dir)], env=env,
                          capture_output=True, text=True, timeout=1800)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not line:
        raise RuntimeError(f"the first-call subprocess failed: {done.stderr[-500:]}")
    first, second = line[-1].split()[1:]
    return float(first), float(second)


def measure_values_and_cache() -> list[dict]:
    """Rows 5 and 7: first and second call in one fresh process; then the first call of a fresh
    process with the cache off, and with a cache that a previous process filled."""
    records = []
    with tempfile.TemporaryDirectory() as folder:
        first, second = first_calls("off")
        records += [timing("second", "baseline", "first call", first, 1),
                    timing("second", "ours", "second call, new values and data", second, 1)]
        first_calls(folder)                       # fills the cache
        warm, _ = first_calls(folder)
        cold, _ = first_calls("off")
        records += [timing("cache", "baseline", "first call, cache off", cold, 1),
                    timing("cache", "ours", "first call, warm cache", warm, 1)]
    return records


def measure_sweep(config, repeats, dtype="float64") -> list[dict]:
    """Row 6: a sweep of ``sweep_configs`` step sizes x ``sweep_seeds`` seeds of batch-1 SGD and
    one single run, each at two run lengths (marginal costs)."""
    n, d = config["sweep_n"], config["sweep_d"]
    problem = problems.synthetic_logreg(n, d, seed=config["data_seed"], mu=config["mu"],
                                        dtype=jnp.dtype(dtype))
    x0 = jnp.zeros(d, jnp.dtype(dtype))
    grid = np.geomspace(1e-3, 1e-1, config["sweep_configs"])
    method = sb.sgd(0.01, 1)
    short, long = config["sweep_steps"]

    def swept(steps):
        def go():
            return sb.sweep(problem, method, x0, 0, over={"step_size": grid},
                            seeds=config["sweep_seeds"], steps=steps, log_every=steps).trace.x
        return go

    def single(steps):
        def go():
            return sb.run(problem, method, x0, 0, steps=steps, log_every=steps).x
        return go

    # Each side at its own two run lengths, long enough that the marginal steps outweigh the
    # noise of the fixed part (the log points evaluate f on the whole data, for every run).
    fns = {("ours", s): swept(s) for s in (short, long)}
    fns.update({("baseline", s): single(s) for s in config["single_steps"]})
    for fn in fns.values():
        jax.block_until_ready(fn())  # compile outside the clock
    t = interleaved_best(fns, repeats)
    runs = config["sweep_configs"] * config["sweep_seeds"]
    return [timing("sweep", side, f"sweep {config['sweep_configs']} x {config['sweep_seeds']}"
                    if side == "ours" else "one run", seconds, steps, runs if side == "ours" else 1)
            for (side, steps), seconds in t.items()]
