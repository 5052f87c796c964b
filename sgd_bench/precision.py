"""What 64-bit input becomes while ``jax_enable_x64`` is off, where JAX computes in float32.

One rule for a problem's data (``FiniteSum``, the catalog's ``check_design``) and for a run's
``x0`` / ``x_star`` (``solver.cast_x``):

- a NumPy float64 array is cast to float32 with a ``PrecisionWarning`` (``warn_if_downcast``);
  entries that float32 cannot hold are not cast silently (``downcast_range``): finite entries
  beyond the largest float32 (3.4e38, inf there) are refused; nonzero entries below its smallest
  normal number (1.2e-38, 0 there: XLA flushes subnormals) are named in the warning with their
  fraction, and data is refused when they are more than half of an array's nonzero entries (it is
  then mostly zeros: another problem, as benchopt's ``logreg_l2`` refuses such features; an
  iterate is only warned);
- a NumPy int64 (uint64) array is held as int32 (uint32), exactly when its entries fit, and
  refused when one does not (it would wrap around: ``int_range``);
- a JAX float64 (or int64) array, which exists only if it was made while x64 was on, is refused
  (``x64_arrays``): it would run in float32 under a dtype that says float64.

The checks stream over blocks of rows, so they never hold a float64 copy of the data. ``is_real``
tells real dtypes (bfloat16 among the floats, which NumPy's ``kind`` misses) from others.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np

# Entries per block of the range checks (8 MiB of float64).
_BLOCK = 2**20
_F32 = np.finfo(np.float32)


class PrecisionWarning(UserWarning):
    """float64 input was cast to float32 because ``jax_enable_x64`` is off."""


def downcast_range(name: str, leaf, *, data: bool = True) -> str:
    """For a float64 NumPy ``leaf`` about to become float32: raises ValueError when a finite entry
    is beyond float32 (inf there) or, for ``data``, when more than half of its nonzero entries are
    below float32's smallest normal (0 there); returns a sentence naming the fraction of such
    entries ("" when there are none) for the caller's warning. An iterate (``data=False``) is
    only warned: a start 1e-50 away from 0 starts at 0, the same run to float32's precision."""
    arr = np.asarray(leaf)
    flat = arr.reshape(-1)
    nonzero = tiny = huge = 0
    top = 0.0
    for start in range(0, flat.size, _BLOCK):
        block = np.abs(flat[start:start + _BLOCK])
        finite = np.isfinite(block)
        nonzero += int(np.count_nonzero(block))
        tiny += int(np.count_nonzero((block > 0) & (block < _F32.tiny)))
        over = finite & (block > _F32.max)
        if over.any():
            huge += int(np.count_nonzero(over))
            top = max(top, float(block[over].max()))
    if huge:
        raise ValueError(f"{name} has {huge} entr{'y' if huge == 1 else 'ies'} beyond the largest float32 "
                         f"({float(_F32.max):.3g}), up to {top:.3g}: jax_enable_x64 is off, so JAX computes in "
                         "float32, where they are inf. Rescale it, or turn x64 on "
                         "(jax.config.update('jax_enable_x64', True)) before creating arrays")
    if not tiny:
        return ""
    said = (f"{tiny} of {name}'s {nonzero} nonzero entries ({tiny / nonzero:.1%}) are below the smallest normal "
            f"float32 ({float(_F32.tiny):.3g}), so in float32 they are 0")
    if data and 2 * tiny > nonzero:
        raise ValueError(f"{said}: {name} would be mostly zeros. Rescale it, or turn x64 on "
                         "(jax.config.update('jax_enable_x64', True)) before creating arrays")
    return said


def int_range(name: str, leaf) -> None:
    """Refuses a NumPy int64 / uint64 ``leaf`` with an entry outside int32 / uint32, which JAX holds
    while x64 is off: there it wraps around, silently (2**40 became 0). In range, the cast is exact."""
    arr = np.asarray(leaf)
    narrow = np.iinfo(np.int32 if arr.dtype.kind == "i" else np.uint32)
    flat, outside, low, high = arr.reshape(-1), 0, 0, 0
    for start in range(0, flat.size, _BLOCK):
        block = flat[start:start + _BLOCK]
        bad = (block < narrow.min) | (block > narrow.max)
        if bad.any():
            outside += int(np.count_nonzero(bad))
            low, high = min(low, int(block[bad].min())), max(high, int(block[bad].max()))
    if outside:
        shown = ", ".join(([f"down to {low}"] if low < narrow.min else []) + ([f"up to {high}"] if high > narrow.max else []))
        raise ValueError(f"{name} has {outside} entr{'y' if outside == 1 else 'ies'} outside {narrow.dtype} "
                         f"([{narrow.min}, {narrow.max}]), {shown}: jax_enable_x64 is off, so JAX holds "
                         f"{arr.dtype} as {narrow.dtype}, where such entries wrap around. Turn x64 on "
                         "(jax.config.update('jax_enable_x64', True)) before creating arrays")


def warn_if_downcast(leaves) -> None:
    """float64 input while JAX computes in float32 (x64 off) is said, never done silently; entries
    float32 cannot hold are refused or named (``downcast_range``), and int64 entries beyond int32
    refused (``int_range``)."""
    if jax.config.jax_enable_x64:
        return
    for name, leaf in leaves:
        if getattr(leaf, "dtype", None) in (np.int64, np.uint64) and not isinstance(leaf, jax.Array):
            int_range(name, leaf)
    wide = [(name, leaf) for name, leaf in leaves
            if getattr(leaf, "dtype", None) == np.float64 and not isinstance(leaf, jax.Array)]
    if wide:
        lost = [said for said in (downcast_range(name, leaf) for name, leaf in wide) if said]
        warnings.warn(
            f"{', '.join(name for name, _ in wide)} is float64 but jax_enable_x64 is off, so JAX computes in float32. "
            "To keep float64, set jax.config.update('jax_enable_x64', True) (or the environment "
            "variable JAX_ENABLE_X64=1) before creating arrays; to silence this, pass float32 data."
            + "".join(f" {said}." for said in lost), PrecisionWarning, stacklevel=3)


def x64_arrays(name: str, tree, owner: str, remedy: str = "or build the problem again with it off") -> None:
    """Refuses a 64-bit JAX array in ``tree`` while ``jax_enable_x64`` is off: made while it was on,
    it ran in float32 (int32) with only JAX's truncation warning, as a problem whose arrays say float64."""
    if jax.config.jax_enable_x64:
        return
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if (isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer)
                and leaf.dtype.itemsize == 8 and leaf.dtype.kind in "fiu"):
            raise ValueError(
                f"{name}{jax.tree_util.keystr(path)} is {leaf.dtype} (made while jax_enable_x64 was on), but "
                f"jax_enable_x64 is off now, so {owner} would run in {str(leaf.dtype)[:-2]}32: turn it on again "
                f"(jax.config.update('jax_enable_x64', True)), {remedy}")


def is_real(dtype) -> bool:
    """Whether ``dtype`` holds real numbers (bool, integers or floats): NumPy's kind of bfloat16 is
    "V", so a ``kind in "biuf"`` test refused a bfloat16 step or matrix as "not a real number"."""
    dtype = np.dtype(dtype)
    return dtype.kind in "biuf" or jax.numpy.issubdtype(dtype, jax.numpy.floating)


def requested_dtype(name: str, dtype):
    """A problem factory's ``dtype`` (``validation.floating_dtype``), refused when it asks for float64 while
    jax_enable_x64 is off: ``lecture_logreg(dtype="float64")`` built float32 data under its float64 label,
    with only JAX's "requested in zeros is not available, and will be truncated" warnings."""
    from sgd_bench.validation import floating_dtype

    dt = floating_dtype(name, dtype)
    if dtype is not None and dt.itemsize == 8 and not jax.config.jax_enable_x64:
        raise ValueError(f"{name}={dt.name!r} needs jax_enable_x64, which is off (JAX would compute in float32): "
                         f"call jax.config.update('jax_enable_x64', True) first, or pass {name}='float32'")
    return dt
