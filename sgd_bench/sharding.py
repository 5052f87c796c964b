"""Data parallelism on JAX's own engine: a problem's data sharded along n over a 1-D mesh.

``shard(problem)`` places each data leaf with ``NamedSharding(Mesh(devices, ("data",)),
P("data"))`` and records the shard count on the problem. Nothing else changes: the runner and the
methods run unchanged, and XLA inserts the communication.

- Full gradients: every device streams its own rows; the per-shard partial sums are added
  across devices (one all-reduce of a gradient-sized vector per full gradient). On a CPU host,
  one CPU device per core is how a full gradient uses every core: each device's stream runs
  on its own thread, where on one device it runs on one (peers' row 1 times both). Iterates equal
  the single-device ones up to floating-point reduction order.
- Mini-batches use global indices, drawn exactly as on one device, so the iterates match the
  single-device run. Each step gathers the B rows from whichever device holds them: XLA
  gathers locally and combines with an all-reduce of the B x d batch, so the communication per
  step is O(B d), independent of n. (Drawing per-shard batches would avoid that traffic but
  changes the sampling distribution; it is not done here.)

Several processes (``python -m sgd_bench_harness.launch``, or ``jax.distributed.initialize`` in every
process): ``jax.devices()`` lists the devices of all processes and ``shard`` spans them. Every
process holds the same full data and contributes the rows that fall on its own devices
(``jax.make_array_from_callback``); the runner's outputs are replicated, so each process reads
the whole result.
"""

from __future__ import annotations

from typing import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from sgd_bench.finite_sum import FiniteSum

AXIS = "data"


def mesh(devices: Sequence | None = None) -> Mesh:
    """A 1-D mesh named ``"data"`` over ``devices`` (default: all visible devices)."""
    if devices is None:
        devices = jax.devices()
    elif isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__"):
        raise TypeError(f"devices must be a sequence of jax devices (such as jax.devices()), "
                        f"got {devices!r}")
    devices = list(devices)
    if not devices:
        raise ValueError("devices must name at least one device")
    for d in devices:
        if not isinstance(d, jax.Device):
            raise TypeError(f"devices must be a sequence of jax devices (such as jax.devices()), "
                            f"got an element {d!r}")
    if len(set(devices)) != len(devices):
        raise ValueError(f"devices must not repeat a device, got {devices}")
    return Mesh(np.array(devices), (AXIS,))


def shard(problem: FiniteSum, devices: Sequence | None = None) -> FiniteSum:
    """``problem`` with its data sharded along n over ``devices`` (default: all visible).

    **Arguments:**

    - ``problem``: a ``FiniteSum``.
    - ``devices``: the devices to spread the rows over; n must be divisible by their number.

    **Returns:** the same problem, data placed across the devices, ``shards`` = number of
    devices. With one device it returns the problem unchanged.
    """
    if not isinstance(problem, FiniteSum):
        raise TypeError(f"problem must be a sgd_bench.FiniteSum, got {type(problem).__name__}")
    the_mesh = mesh(devices)
    count = the_mesh.devices.size
    if count == 1:
        return problem
    if problem.n % count:  # fewer rows than devices: "drop 1 rows" of n = 1 left none
        fix = f"drop {problem.n % count} rows or choose" if problem.n > count else f"choose at most {problem.n}"
        raise ValueError(f"n = {problem.n} must be divisible by the {count} devices to shard "
                         f"evenly; {fix} devices=")
    sharding = NamedSharding(the_mesh, PartitionSpec(AXIS))
    data = jax.tree_util.tree_map(lambda a: _place(a, sharding), problem.data)
    return problem.replace(data=data, shards=count, info=problem.info)  # the same values: no comparison


def _place(a, sharding: NamedSharding):
    """``a`` laid out by ``sharding``; across processes, each process places only its own part."""
    if sharding.is_fully_addressable:
        return jax.device_put(a, sharding)
    # Other processes' devices cannot be written from here: every process builds its local
    # shards from its own copy of ``a`` (the same in every process) and JAX joins them.
    a = a if hasattr(a, "shape") else np.asarray(a)
    return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])


def check_placement(name: str, x, problem: FiniteSum) -> None:
    """Refuses an iterate committed to other devices than those ``problem``'s data is sharded
    over: ``Solver.init`` took it and only ``advance`` failed, with JAX's "Received incompatible
    devices for jitted computation". An uncommitted iterate (JAX places it) passes."""
    on = set()
    for leaf in jax.tree_util.tree_leaves(problem.data):
        if isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer):
            on |= set(leaf.sharding.device_set)
    if len(on) < 2:  # one device: JAX moves a committed iterate itself (that ran, and still does)
        return
    for leaf in jax.tree_util.tree_leaves(x):
        if (isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer) and leaf.committed
                and set(leaf.sharding.device_set) != on):
            raise ValueError(
                f"{name} is committed to {_show(leaf.sharding.device_set)} but problem {problem.name!r} "
                f"is sharded over {_show(on)}: pass {name} as a host array (JAX places it), or "
                f"jax.device_put it onto the problem's devices")


def _show(devices) -> str:
    return "[" + ", ".join(str(d) for d in sorted(devices, key=lambda d: d.id)) + "]"
