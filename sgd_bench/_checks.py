"""Argument checks shared by the public API: each raises in Python, before any compiled code runs,
and names the argument and the allowed range."""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np


def positive_float(name: str, value: Any) -> float:
    """Returns ``value`` as a float, or raises ValueError unless it is finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:
            arr = np.asarray(value)
            if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
                raise TypeError  # True, "0.1": not a step size
            value = float(arr)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a positive number, got {value!r}") from None
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def nonnegative_float(name: str, value: Any) -> float:
    """Returns ``value`` as a float, or raises ValueError unless it is finite and >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number >= 0, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def integer(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Returns ``value`` as an int in [low, high], or raises naming the argument and the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
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
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
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
