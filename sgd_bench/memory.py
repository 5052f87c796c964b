"""Memory estimates and a guard that refuses oversized allocations with the numbers, before
they happen, instead of an out-of-memory crash."""

from __future__ import annotations

import os

import jax

from sgd_bench import _checks

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
    """The host's free memory (MemAvailable), or None if unknown."""
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


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.2f} GiB"


def check_fits(nbytes: int, what: str, device=None) -> None:
    """Raises MemoryError naming ``what``, its size and the free memory if it cannot fit.

    The check passes when the free memory is unknown.
    """
    nbytes = _checks.integer("nbytes", int(nbytes), low=0)
    free = available_bytes(device)
    if free is not None and nbytes > _USABLE_FRACTION * free:
        device = device or jax.devices()[0]
        raise MemoryError(
            f"{what} needs {_gib(nbytes)}, but {device.platform} device {device.id} has "
            f"{_gib(free)} free (at most {_USABLE_FRACTION:.0%} of it is used); "
            "use a smaller n or d, float32, or more devices with sgd_bench.shard")


def check_host_fits(host_bytes: int, device_bytes: int, what: str) -> None:
    """For data generated with NumPy on the host and then copied to the device: raises
    MemoryError naming ``what`` unless ``host_bytes`` fit in the host's free memory and
    ``device_bytes`` in the device's (on the CPU backend both live in host memory, so their sum
    is checked).
    """
    host_bytes = _checks.integer("host_bytes", int(host_bytes), low=0)
    device_bytes = _checks.integer("device_bytes", int(device_bytes), low=0)
    device = jax.devices()[0]
    if device.platform == "cpu":
        check_fits(host_bytes + device_bytes, what, device)
        return
    free = _host_available_bytes()
    if free is not None and host_bytes > _USABLE_FRACTION * free:
        raise MemoryError(
            f"{what} needs {_gib(host_bytes)} of host memory to generate, but the host has "
            f"{_gib(free)} free (at most {_USABLE_FRACTION:.0%} of it is used); "
            "use a smaller n or d")
    check_fits(device_bytes, what, device)
