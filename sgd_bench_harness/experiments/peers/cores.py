"""peers' row 1 on every core: the GD step is also timed with the data sharded over one CPU
device per core (``sgd_bench.shard``), beside the same step on one device and the reads of A.
Those devices exist only in a process started with ``--xla_force_host_platform_device_count``,
so the row runs in a fresh process that has them (in this one when it already has them).

Where the time of a GD step went on XLA:CPU (n = 4e5, d = 100, float64, the 2-core CPU at a load
of 10-14: wall times meant nothing there, so these are CPU seconds of a call and the split of a
call's CPU time over the process's threads, from ``/proc/self/task/*/schedstat``):

- The streamed gradient's loop body (compiled HLO) is a copy of the 256 KiB row block (the
  dynamic-slice fusion), the dot A_b x, the sigmoid fusion, the dot r_b A_b and the add: one read
  of the block from memory, the two dots from the L2 cache. It costs 1.6-1.8x the CPU time of
  ``jnp.sum(A)``, so the step is near one read in work.
- But 94-99% of a step's CPU time ran on one thread, where ``jnp.sum(A)`` splits ~50/50 over two:
  XLA:CPU runs a dot inside a loop on the calling thread. Two independent scans over the two
  halves in one program, and two or four blocks per loop body, stayed on one thread (94-98%).
- Sharded over two CPU devices, each device streams its own half on its own thread (51/48 split)
  at the same CPU time: the only way found to put both cores on the step. In a full peers run at
  a load of 14 (best of 5, a reading): 447 ms a step on one device, 318 ms sharded.
- Block sizes: 64-256 KiB cost the same CPU time; 384 KiB and more 40-60% more (a core's L2 is
  512 KiB). Multiply-and-reduce in place of the two dots cost 2-4x more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp

import problems
import sgd_bench as sb

from .dense import measure_gd_vs_read


def core_count() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def measure_here(config: dict, repeats: int) -> list[dict]:
    """Row 1's records in this process: GD on one device and, with several devices that divide
    n, on the data sharded over them; against the reads of A."""
    problem = problems.synthetic_logreg(config["n"], config["d"], seed=config["data_seed"],
                                        mu=config["mu"], dtype=jnp.float64)
    count = len(jax.devices())
    sharded = sb.shard(problem) if count > 1 and problem.n % count == 0 else None
    return measure_gd_vs_read(problem, config["alpha"], repeats, sharded=sharded)


def measure_gd_on_cores(config: dict, repeats: int) -> list[dict]:
    """Row 1's records, in a fresh process with one CPU device per core unless this process is
    already so (or runs on another backend, or has one core)."""
    cores = core_count()
    if jax.default_backend() != "cpu" or cores == 1 or len(jax.devices()) >= cores:
        return measure_here(config, repeats)
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={cores}"
    env = dict(os.environ, XLA_FLAGS=flags.strip(), JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-m", __name__, json.dumps([config, repeats])], env=env,
                          capture_output=True, text=True, timeout=1800)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not line:
        raise RuntimeError(f"the GD-on-every-core subprocess failed: {done.stderr[-800:]}")
    return json.loads(line[-1][len("RESULT "):])


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    print("RESULT " + json.dumps(measure_here(*json.loads(sys.argv[1]))))
