"""Argument checks shared by the public API: each raises in Python, before any compiled code runs,
and names the argument and the allowed range.

Public (``sgd_bench.validation``), not private: the problem catalog (``problems/``), the harness
and code that builds its own ``FiniteSum`` validate their arguments with the same functions, so
that every error message follows one convention. Named for what it does; "validate" alone is
already a keyword argument of the problem constructors.

Conventions: a value of the wrong kind (a string for a number, a float for a count, a sparse
matrix for an array) raises ``TypeError``; a value of the right kind outside the allowed range or
set (a step size <= 0, an unknown sampling name) raises ``ValueError``. A ``dtype`` argument that
is not a floating type raises ``ValueError`` whatever it is (as ``problems.libsvm`` does). Every
message starts with the argument's name. Checks run on the values as given, before anything is
moved to a device or compiled.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np


def _real(name: str, value: Any, expected: str) -> float:
    """``value`` as a float if it is a real number (or a 0-d real array); TypeError otherwise."""
    if isinstance(value, bool) or isinstance(value, np.bool_):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        arr = np.asarray(value)
        if arr.ndim != 0 or arr.dtype == bool or not (
                np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise TypeError  # True, "0.1", [0.1, 0.2], 1j: not a real number
        return float(arr)
    except (TypeError, ValueError):
        shown = f"an array of shape {np.shape(value)}" if hasattr(value, "shape") and np.ndim(value) else repr(value)
        raise TypeError(f"{name} must be {expected}, got {shown}") from None


def finite_float(name: str, value: Any) -> float:
    """Returns ``value`` as a float, or raises unless it is a finite real number."""
    value = _real(name, value, "a finite number")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def positive_float(name: str, value: Any) -> float:
    """Returns ``value`` as a float, or raises ValueError unless it is finite and > 0."""
    value = _real(name, value, "a positive number")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def nonnegative_float(name: str, value: Any) -> float:
    """Returns ``value`` as a float, or raises ValueError unless it is finite and >= 0."""
    value = _real(name, value, "a number >= 0")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def integer(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Returns ``value`` as an int in [low, high], or raises naming the argument and the range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value}")
    return value


def choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Returns ``value`` if it is one of ``allowed``; otherwise raises listing them."""
    allowed = tuple(allowed)
    # Only strings are compared: `in` on an array would compare elementwise.
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def instance(name: str, value: Any, cls: type | tuple, what: str) -> Any:
    """Returns ``value`` if it is an instance of ``cls``; otherwise TypeError saying ``what``."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


# The largest int seed, for a problem's data as for a run's key (sgd-bench run --key): JAX takes a
# signed 64-bit seed (99999999999999999999 was an OverflowError from inside JAX).
MAX_SEED = 2**63 - 1

FLOATING_DTYPES = "'float32' or 'float64'"


def floating_dtype(name: str, dtype: Any):
    """``dtype`` as a JAX dtype (None: JAX's default float), or ValueError unless it is floating.

    The message matches ``problems.libsvm``'s: "dtype must be a floating type such as ...".
    """
    import jax.numpy as jnp  # knows bfloat16 and friends, which plain NumPy may not

    if dtype is None:
        return jnp.dtype(jnp.result_type(float))
    try:
        dt = jnp.dtype(dtype)
    except (TypeError, ValueError):
        dt = None
    if dt is None or not jnp.issubdtype(dt, jnp.floating) or dt.itemsize > 8:
        shown = repr(dtype) if dt is None else dt.name
        raise ValueError(f"{name} must be a floating type such as {FLOATING_DTYPES} "
                         f"(or None for JAX's default float), got {shown}")
    return dt


def sparse_kind(value: Any) -> tuple[str, str] | None:
    """(description, densify call) if ``value`` is a sparse matrix or array, else None."""
    module = getattr(type(value), "__module__", "") or ""
    kind = type(value).__name__
    if module.startswith("scipy.sparse"):
        return f"a scipy.sparse {kind}", ".toarray()"
    if module.startswith("jax.experimental.sparse"):
        return f"a jax.experimental.sparse {kind}", ".todense()"
    if module.split(".")[0] == "sparse":  # pydata/sparse
        return f"a sparse.{kind}", ".todense()"
    return None


def dense_array(name: str, value: Any, *, real: bool = False) -> Any:
    """``value`` if it is a dense array of numbers (NumPy, JAX, or anything ``np.asarray`` takes),
    returned as an array; TypeError naming ``name`` for sparse matrices, strings, objects.

    ``real`` refuses complex numbers too. Arrays are not copied (JAX arrays stay on device).
    """
    sparse = sparse_kind(value)
    if sparse is not None:
        what, densify = sparse
        raise TypeError(f"{name} is {what}; FiniteSum needs dense arrays: densify it first, "
                        f"e.g. {name}{densify}")
    if not (hasattr(value, "dtype") and hasattr(value, "shape")):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError) as err:  # ragged lists and the like
            raise TypeError(f"{name} must be an array of numbers, got a {type(value).__name__} "
                            f"that is not one ({err})") from None
    import jax
    import jax.numpy as jnp

    try:
        dtype = jnp.dtype(value.dtype)
    except TypeError:
        dtype = None
    allowed = (jnp.bool_, jnp.integer, jnp.floating) + (() if real else (jnp.complexfloating,))
    if dtype is None or not (any(jnp.issubdtype(dtype, kind) for kind in allowed)
                             or (not real and jnp.issubdtype(dtype, jax.dtypes.prng_key))):
        kinds = "bool, integer or floating" + ("" if real else " (or complex)")
        raise TypeError(f"{name} must be an array of numbers ({kinds} dtype), got dtype "
                        f"{getattr(value, 'dtype', None)}")
    if ((jnp.issubdtype(dtype, jnp.floating) and dtype.itemsize > 8)
            or (jnp.issubdtype(dtype, jnp.complexfloating) and dtype.itemsize > 16)):
        raise TypeError(f"{name} has dtype {dtype}, which JAX cannot hold; convert it first, "
                        f"e.g. {name}.astype(np.float64)")
    return value


def finite_array(name: str, value: Any) -> None:
    """Raises ValueError if a concrete floating array holds NaN or Inf (tracers are skipped)."""
    try:
        arr = np.asarray(value)
    except Exception:  # a tracer inside a user's jit: nothing concrete to check
        return
    if np.issubdtype(arr.dtype, np.inexact) and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or Inf value(s); clean the data first")
