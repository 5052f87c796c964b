"""Memory estimates and a guard that refuses oversized allocations with the numbers, before
they happen, instead of an out-of-memory crash.

``estimate_run_bytes`` estimates the peak of a seed-batched run before anything is compiled:
the problem's data (shared by all seeds) plus, for every seed, the method's state, the logged
metrics, the sampler's index block and the per-step gradients. It is an estimate, not a
measurement: XLA's temporaries are covered only by the share of free memory the guard leaves
unused (``_USABLE_FRACTION``). ``check_run_fits`` refuses with the breakdown.
"""

from __future__ import annotations

import math
import os
from typing import Callable, NamedTuple

import jax
import numpy as np

from sgd_bench import validation

# Leave room for XLA's temporaries, the OS and other processes.
_USABLE_FRACTION = 0.8


def available_bytes(device=None) -> int | None:
    """Free memory of ``device`` (default: the first JAX device), or None if unknown.

    Accelerators report ``bytes_limit - bytes_in_use`` from ``memory_stats()``; the CPU backend
    reports the host's MemAvailable.
    """
    device = device or jax.devices()[0]
    stats = None
    try:
        stats = device.memory_stats()
    except Exception:  # some backends do not implement memory_stats
        stats = None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    return _host_available_bytes()


def _host_available_bytes() -> int | None:
    """The host's free memory (MemAvailable), or None if unknown; at most what is left under the
    process's address-space limit (``ulimit -v``) and under its cgroup's memory limit."""
    known = [room for room in (_meminfo_available(), _address_space_room(), _cgroup_room())
             if room is not None]
    return min(known) if known else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _address_space_room() -> int | None:
    """Bytes left under ``ulimit -v`` (RLIMIT_AS), or None without a limit: past it XLA aborted
    the process ("Check failed: buffer_.IsConcrete()", exit 134) where the guard had passed."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return max(0, limit - int(line.split()[1]) * 1024)
    except (ImportError, ValueError, OSError):
        pass
    return None


_CGROUP_FS = "/sys/fs/cgroup"  # where the cgroup file systems are mounted (tests point it elsewhere)
_CGROUP_SELF = "/proc/self/cgroup"
_NO_LIMIT = 2**60  # cgroup v1 writes "no limit" as a huge number (9223372036854771712)


def _cgroup_room() -> int | None:
    """Bytes left under this process's cgroup memory limit (a container's ``--memory``, a batch
    scheduler's job limit), or None without one: MemAvailable is the whole host's, so the guard
    passed where the kernel's OOM killer then ended the run with SIGKILL. The tightest limit of
    the cgroup and its ancestors counts; reclaimable page cache (inactive files) counts as free,
    as ``docker stats`` does."""
    try:
        with open(_CGROUP_SELF) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    rooms = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: one unified hierarchy
            rooms += _cgroup_rooms(_CGROUP_FS, path, "memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):
            rooms += _cgroup_rooms(os.path.join(_CGROUP_FS, "memory"), path, "memory.limit_in_bytes",
                                   "memory.usage_in_bytes", "total_inactive_file")
    return min(rooms) if rooms else None


def _cgroup_rooms(mount: str, path: str, limit_file: str, usage_file: str, cache_key: str) -> list[int]:
    """limit - usage (+ inactive page cache) of the cgroup at ``path`` and of each ancestor that
    is visible; inside a container's cgroup namespace its own cgroup is the mount's root."""
    rooms = []
    parts = [p for p in path.split("/") if p]
    for depth in range(len(parts), -1, -1):
        folder = os.path.join(mount, *parts[:depth])
        try:
            with open(os.path.join(folder, limit_file)) as handle:
                text = handle.read().strip()
            if text == "max" or int(text) >= _NO_LIMIT:
                continue
            with open(os.path.join(folder, usage_file)) as handle:
                usage = int(handle.read().strip())
        except (OSError, ValueError):
            continue
        cache = 0
        try:
            with open(os.path.join(folder, "memory.stat")) as handle:
                for stat in handle:
                    key, _, value = stat.partition(" ")
                    if key == cache_key:
                        cache = int(value)
        except (OSError, ValueError):
            pass
        rooms.append(max(0, int(text) - usage + min(cache, usage)))
    return rooms


def _gib(nbytes: float) -> str:
    if nbytes > 2**1000:  # an int count such as --seeds 10**400: the division overflowed a float
        return f"about 10^{_digits(int(nbytes)) - 10} GiB"
    return f"{nbytes / 2**30:.2f} GiB"


def _digits(n: int) -> int:
    """The decimal digits of a positive int, also past the 4300 that str() converts (which raised
    "Exceeds the limit (4300 digits) for integer string conversion" for a grid's --seeds 1e4299)."""
    return math.floor(math.log10(n)) + 1


def shown_count(n: int) -> str:
    """A count for a message: with thousands separators, or "about 10^K" past 100 digits (a grid's
    --seeds 1e400 filled a line with a 400-digit number of record rows)."""
    return f"{n:,}" if n < 10**100 else f"about 10^{_digits(n) - 1}"


def _default_hint(what: str) -> str:
    # Suggest float32 only where it would help: not to data that is float32 (or narrower) already.
    narrow = any(name in what for name in ("float32", "float16", "bfloat16"))
    return ("use a smaller n or d" + ("" if narrow else ", float32") +
            ", or more devices with sgd_bench.shard")


def check_fits(nbytes: int, what: str, device=None, *, hint: str | None = None) -> None:
    """Raises MemoryError naming ``what``, its size and the free memory if it cannot fit;
    ``hint`` says what to change (default: smaller n or d, float32 unless ``what`` names a
    32-bit or narrower dtype, more devices).

    The check passes when the free memory is unknown.
    """
    nbytes = validation.integer("nbytes", int(nbytes), low=0)
    _refuse_above_free(nbytes, device, f"{what} needs {_gib(nbytes)}",
                       lambda: hint or _default_hint(what))


def _refuse_above_free(need: int, device, needs: str, hint: Callable[[], str]) -> None:
    """Raises MemoryError "``needs``, but the device has ... free ...; ``hint()``" when ``need``
    bytes pass the usable part of the device's free memory (unknown free memory passes)."""
    free = available_bytes(device)
    if free is not None and need > _USABLE_FRACTION * free:
        device = device or jax.devices()[0]
        raise MemoryError(
            f"{needs}, but {device.platform} device {device.id} has {_gib(free)} free "
            f"(at most {_USABLE_FRACTION:.0%} of it is used); {hint()}")


def zeros(shape: tuple, dtype, what: str) -> jax.Array:
    """``jnp.zeros(shape, dtype)`` once ``check_fits`` passed: a FiniteSum's x_shape of (10**12,) made
    ``problem.zeros()``, ``reference_solution`` and ``theory.constants`` XLA's RESOURCE_EXHAUSTED
    ("Out of memory allocating 8000000000000 bytes") from inside JAX."""
    shown = " x ".join(map(str, shape)) or "one number"
    check_fits(math.prod(shape) * _itemsize(dtype), f"{what} ({shown}, {np.dtype(dtype).name})",
               hint="use a smaller x_shape")
    return jax.numpy.zeros(shape, dtype)


def check_host_fits(host_bytes: int, device_bytes: int, what: str, *, hint: str | None = None) -> None:
    """For data generated with NumPy on the host and then copied to the device: raises
    MemoryError naming ``what`` unless ``host_bytes`` fit in the host's free memory and
    ``device_bytes`` in the device's (on the CPU backend both live in host memory, so their sum
    is checked).
    """
    host_bytes = validation.integer("host_bytes", int(host_bytes), low=0)
    device_bytes = validation.integer("device_bytes", int(device_bytes), low=0)
    device = jax.devices()[0]
    if device.platform == "cpu":
        check_fits(host_bytes + device_bytes, what, device, hint=hint)
        return
    check_host_memory(host_bytes, f"{what} (to generate)", hint=hint or "use a smaller n or d")
    check_fits(device_bytes, what, device, hint=hint)


def check_host_memory(nbytes: int, what: str, *, hint: str) -> None:
    """Raises MemoryError "``what`` needs ... of host memory, but the host has ... free ...;
    ``hint``" when ``nbytes`` of NumPy arrays cannot fit in the host's free memory (unknown free
    memory passes). Starts no JAX backend: for host-side work such as a bootstrap."""
    free = _host_available_bytes()
    if free is not None and nbytes > _USABLE_FRACTION * free:
        raise MemoryError(f"{what} needs {_gib(nbytes)} of host memory, but the host has {_gib(free)} "
                          f"free (at most {_USABLE_FRACTION:.0%} of it is used); {hint}")


# Bytes per logged point of one seed: the step (int32), the exact gradient count (two 32-bit
# words), and f, ||grad f||^2 and ||x - x*|| in at most float64.
_LOG_BYTES = 4 + 8 + 3 * 8
KEY_BYTES = 8  # a threefry key's data: two uint32


def _itemsize(dtype) -> int:
    # A PRNG key leaf (a method's own key) has no NumPy dtype: np.dtype failed on it, and the
    # whole state estimate fell back to four iterates (stochastic_lbfgs(memory_size=10**9) passed)
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return KEY_BYTES
    return np.dtype(dtype).itemsize


def _tree_bytes(tree) -> int:
    return int(sum(math.prod(np.shape(leaf)) * _itemsize(leaf.dtype)
                   for leaf in jax.tree_util.tree_leaves(tree) if hasattr(leaf, "dtype")))


def _structure(tree):
    """What selects a compiled program for ``tree``: its tree structure (static parts included)
    and the shape and dtype of every leaf; values do not count."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef, tuple((tuple(jax.numpy.shape(a)), str(jax.numpy.result_type(a))) for a in leaves)


# _state_bytes by (method, problem, x0) structure: tracing a method's init (L-BFGS's optax state
# takes ~0.1 s on a 2-core CPU) on every call of run or Solver.init would cost more than the call.
_STATE_BYTES: dict = {}


def _state_bytes(method, problem, x0) -> int:
    """The method's state for one seed, from ``jax.eval_shape`` of its ``init`` (nothing is
    computed or compiled), cached by the structures and leaf shapes of the method, the problem
    and x0 (new values never trace again). ``init`` is tried as ``init(x0, problem)`` and as
    ``init(x0, problem, key)``; when neither traces, the estimate is four iterates, plus an
    n-row gradient table for the SAG family, whose state holds one."""
    try:
        cache_key = (_structure(method), _structure(problem), _structure(x0))
        hash(cache_key)
    except Exception:  # an unhashable static part: estimate without the cache
        cache_key = None
    if cache_key is not None and cache_key in _STATE_BYTES:
        return _STATE_BYTES[cache_key]
    size = _state_bytes_traced(method, problem, x0)
    if cache_key is not None:
        if len(_STATE_BYTES) > 256:  # many distinct programs: start over rather than grow
            _STATE_BYTES.clear()
        _STATE_BYTES[cache_key] = size
    return size


def _state_bytes_traced(method, problem, x0) -> int:
    key = jax.eval_shape(lambda: jax.random.key(0))  # a shape only: nothing runs or compiles
    for args in ((x0, problem), (x0, problem, key)):
        try:
            return _tree_bytes(jax.eval_shape(method.init, *args))
        except Exception:  # a signature or a trace this estimate cannot use: try the next
            continue
    x_bytes = _tree_bytes(x0)
    table = problem.n * x_bytes if str(getattr(method, "name", "")).upper().startswith("SAG") else 0
    return 4 * x_bytes + table


class RunBytes(NamedTuple):
    """The estimated peak memory of a seed-batched run, in bytes, by part."""

    data: int      # the problem's data, shared by every seed
    state: int     # per seed: the method's state and one step's per-sample gradients
    logs: int      # per seed: the metrics at every logged step
    sampler: int   # per seed: one chunk's index block, its keys, and permutations if any
    seeds: int

    @property
    def per_seed(self) -> int:
        return self.state + self.logs + self.sampler

    @property
    def total(self) -> int:
        return self.data + self.seeds * self.per_seed

    def describe(self) -> str:
        """The breakdown in words, for a refusal."""
        return (f"data {_fmt_bytes(self.data)} + {shown_count(self.seeds)} seeds x (state {_fmt_bytes(self.state)} + "
                f"logs {_fmt_bytes(self.logs)} + sampler {_fmt_bytes(self.sampler)}) = {_fmt_bytes(self.total)}")


def _fmt_bytes(nbytes: float) -> str:
    if nbytes > 2**1000:  # --seeds 1e400 --block 1e400: "OverflowError: integer division result too large for a float"
        return _gib(nbytes)
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{int(nbytes)} B"


def estimate_run_bytes(problem, method, seeds: int, steps: int, log_every: int | None = None,
                       *, x0=None, log_iterates: bool = False) -> RunBytes:
    """The estimated peak memory of ``run_seeds(problem, method, x0, key, seeds=seeds,
    steps=steps, log_every=log_every)``, before anything is allocated or compiled.

    ``x0`` defaults to the problem's zero iterate (only its shape and dtype are used). The
    runner draws one chunk of ``log_every`` steps of indices at a time, so the sampler's part
    grows with ``log_every x batch``; the logs grow with ``steps / log_every``.
    """
    seeds = validation.integer("seeds", seeds, low=1)
    steps = validation.integer("steps", steps, low=1)
    log_every = steps if log_every is None else validation.integer("log_every", log_every, low=1)
    if x0 is None:
        x0 = jax.eval_shape(problem.zeros)
    data = _tree_bytes(problem.data)
    x_bytes = _tree_bytes(x0)
    batch = getattr(method, "batch_size", None)
    state = _state_bytes(method, problem, x0) + max(batch or 1, _hessian_batch(method)) * x_bytes
    logged = steps // log_every + 1 + (1 if steps % log_every else 0)
    logs = logged * _LOG_BYTES + x_bytes  # and the final iterate
    if log_iterates:  # Trace.xs: one iterate per log point, allocated up front
        logs += logged * x_bytes
    chunk = min(log_every, steps)
    sampler = 0
    if batch is not None:
        sampler = chunk * (batch * 4 + KEY_BYTES)
        if getattr(method, "sampling", "with_replacement") != "with_replacement":
            sampler += 2 * problem.n * 4  # the current and the next epoch's permutation
    return RunBytes(data, state, logs, sampler, seeds)


def _hessian_batch(method) -> int:
    """stochastic_lbfgs' Hessian sample (its own or an averaged method's): per-row vectors like a
    gradient batch's, which a huge ``hessian_batch`` made an allocation failure inside the run."""
    found = method.options.get("hessian_batch", 0) if isinstance(getattr(method, "options", None), dict) else 0
    inner = getattr(method, "hyperparams", {}).get("inner")
    return max(found, _hessian_batch(inner)) if inner is not None else found


def check_run_fits(estimate: RunBytes, what: str, device=None, *, data_resident: bool = True) -> None:
    """Raises MemoryError with ``estimate``'s breakdown when the run cannot fit; with
    ``data_resident`` (the problem already exists) the data does not count against the free
    memory, which it is already outside of."""
    need = estimate.total - (estimate.data if data_resident else 0)
    _refuse_above_free(need, device, f"{what} needs about {estimate.describe()}", lambda: (
        "the method's state is most of it: a method with a smaller state (lbfgs' memory) "
        "or a smaller problem" if estimate.state > estimate.logs + estimate.sampler
        and estimate.seeds <= 8 else
        "use fewer seeds per block, fewer steps or a larger log interval"))
