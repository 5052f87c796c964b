"""Value semantics for the pytrees that configure a run (methods, schedules, problems).

Their numeric fields are pytree leaves, so ``jit`` traces them and a new value reuses the
compiled program; their structural fields are static and compared by value. Two helpers make
that work: ``Label`` is a name that never changes a program (it compares equal to every other
label), and ``leaves_equal`` / ``leaves_hash`` compare concrete leaves by value.
"""

from __future__ import annotations

import numbers
from typing import Any

import jax
import numpy as np


class Label(str):
    """A display name kept in a pytree's static part without entering the program's identity.

    JAX compares static parts to find a compiled program; a renamed method or problem computes
    the same thing, so every ``Label`` equals every other one (and hashes alike) there. Use
    ``str(label)`` or ``label.text`` to compare names.
    """

    __slots__ = ()

    @property
    def text(self) -> str:
        return str.__str__(self)

    def __eq__(self, other):
        return isinstance(other, Label)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return 0x5EED

    def __str__(self):
        return str.__str__(self)

    def __repr__(self):
        return repr(str.__str__(self))


def replacement(change: tuple[Any, Any]) -> tuple[str, Any]:
    """One ``Method.replace`` change, (flat name, value): a name that is not text is refused by name
    (was "'int' object has no attribute 'split'"), and a Fraction becomes a float (an int when whole), as the
    constructors take it (it reached ``jit`` as a Python object: JAX's "Error interpreting ...")."""
    flat, new = change
    if not isinstance(flat, str):
        raise TypeError(f"hyperparameter names must be text (flat names, as Method.values() gives them), got {flat!r}")
    if isinstance(new, jax.Array) and jax.dtypes.issubdtype(new.dtype, jax.dtypes.prng_key):  # NumPy's asarray of it
        raise TypeError(f"{flat} must be a number (or a schedule or a Method where one goes), got {shown(new)}")  # raised JAX's error
    if isinstance(new, numbers.Real) and not isinstance(new, (numbers.Integral, float, np.generic)):
        whole = isinstance(new, numbers.Rational) and new.denominator == 1  # Fraction(4): a loop length
        return flat, int(new) if whole else float(new)
    return flat, new


def like_current(current: Any, new: Any) -> Any:
    """``new`` for a ``Method.replace`` slot that holds ``current``: a host number in a slot the
    constructor keeps as a Python float becomes a float (an integer count, in an int slot, an
    int), as the constructors make it. ``replace(step_size=1)`` or ``np.float32(0.3)`` kept an int
    or a NumPy scalar leaf, whose other abstract type compiled the run's programs again, where
    ``sgd(1)`` and ``sgd(np.float32(0.3))`` share ``sgd(0.1)``'s. Anything else is left as it is."""
    if type(current) not in (int, float) or isinstance(new, (bool, np.bool_, jax.core.Tracer)):
        return new
    if isinstance(new, jax.Array) and new.is_deleted():
        return new  # refused by name where the method runs
    if isinstance(new, (numbers.Real, np.generic, np.ndarray, jax.Array)) and np.ndim(new) == 0:
        kind = "f" if jax.numpy.issubdtype(np.asarray(new).dtype, jax.numpy.floating) else np.asarray(new).dtype.kind  # bfloat16: "V"
        try:
            if type(current) is float and kind in "iuf":
                return float(new)
            if type(current) is int and kind in "iu":
                return int(new)
        except OverflowError:  # an int beyond float64: refused as inf by the method's check
            return new
    return new


def shifted_info(info: dict, old, new, problem_class: str) -> dict:
    """A problem's ``info`` after its ridge strength changes from ``old`` to ``new`` (0 without a
    regularizer, None for one that is not an L2): the Hessian moves by (new - old) I, so L, L_max
    and mu do too; unknown (dropped) when either is not an L2. A class that needs mu > 0 refuses a
    concrete mu it no longer has: ``replace(regularizer=L2(0.5))`` kept the old L (0.27 where the
    Hessian's norm is 0.77) and L2(0) on a strongly convex problem its mu, silently."""
    out = dict(info)
    for key in ("L", "L_max", "mu"):
        if key in out:
            out[key] = None if old is None or new is None else out[key] + (new - old)
    out = {k: v for k, v in out.items() if v is not None}
    mu = out.get("mu")
    if ("mu" in info and problem_class in ("strongly_convex", "pl") and not _is_tracer(mu)
            and not (mu is not None and mu > 0)):
        raise ValueError(f"the new regularizer leaves problem_class {problem_class!r} without mu > 0 (info's mu = "
                         f"{info['mu']:g} becomes {'unknown' if mu is None else format(mu, 'g')}); pass problem_class= "
                         "(and info=) as well")
    return out


def _is_tracer(value) -> bool:
    return isinstance(value, jax.core.Tracer)


def leaves_equal(a: Any, b: Any, *, equal_nan: bool = False) -> bool:
    """True when two lists of leaves hold the same values (tracers only equal themselves; with
    ``equal_nan``, NaNs in the same places of floating leaves are equal)."""
    if len(a) != len(b):
        return False
    for u, v in zip(a, b):
        if u is v:
            continue
        if _is_tracer(u) or _is_tracer(v):
            return False
        u, v = np.asarray(u), np.asarray(v)
        nan = equal_nan and u.dtype.kind in "fc" and v.dtype.kind in "fc"
        if u.shape != v.shape or u.dtype.kind != v.dtype.kind or not np.array_equal(u, v, equal_nan=nan):
            return False
    return True


def holds_cast_of(new: Any, old: Any) -> bool:
    """True when the pytree ``new`` holds ``old``'s values, each leaf cast to the dtype of new's
    leaf: the same data cast or placed on other devices (tracers only equal themselves)."""
    (ln, tn), (lo, to) = jax.tree_util.tree_flatten(new), jax.tree_util.tree_flatten(old)

    def cast(o, n):
        if o is n or _is_tracer(o) or _is_tracer(n) or np.shape(o) != np.shape(n) or not hasattr(n, "dtype"):
            return o
        return np.asarray(o).astype(n.dtype)

    return tn == to and leaves_equal([cast(o, n) for o, n in zip(lo, ln)], ln, equal_nan=True)


def check_replaced_data(name: str, keys: list, new: Any, old: Any) -> None:
    """``FiniteSum.replace(data=new)`` without ``info=``, on a problem whose info (``keys``) describes
    ``old``: refused unless ``new`` holds old's values (cast or placed). Traced data (inside a user's
    ``jit``) is refused too, with what to pass: whether it is the old data cannot be seen on the host,
    and L or mu cannot be computed there; ``info=`` may hold traced values."""
    if any(_is_tracer(leaf) for leaf in jax.tree_util.tree_leaves(new)):
        raise ValueError(
            f"replace(data=...) got traced data (inside jax.jit, vmap or grad) for problem {name!r}, whose info "
            f"{keys} describes its own data: whether the new data is the same, and its L or mu, cannot be known "
            "on the host; pass info= as well: problem.info for the same data, the new data's facts (traced values "
            "are taken), or info={} to drop them")
    if not holds_cast_of(new, old):
        raise ValueError(
            f"replace(data=...) got other data than problem {name!r} holds (another n or other values), and its "
            f"info {keys} describes the old data: pass info= with the new data's facts, or info={{}} to drop them "
            "(theory.constants then estimates what it needs)")


def leaves_hash(leaves: Any) -> int:
    """A hash of concrete leaves by value (tracers by identity)."""
    parts = []
    for leaf in leaves:
        if _is_tracer(leaf):
            parts.append(id(leaf))
        else:
            arr = np.asarray(leaf)
            parts.append((arr.shape, arr.dtype.kind, arr.tobytes() if arr.size < 4096 else arr.size))
    return hash(tuple(parts))


def trees_equal(a: Any, b: Any) -> bool:
    """True when two pytrees (results: a Trace, a Sweep) have one structure and the same values;
    NaNs in the same places are equal (a diverged run equals its copy), tracers only themselves."""
    (la, ta), (lb, tb) = jax.tree_util.tree_flatten(a), jax.tree_util.tree_flatten(b)
    return ta == tb and leaves_equal(la, lb, equal_nan=True)


def tree_hash(tree: Any) -> int:
    """A hash agreeing with ``trees_equal`` (structure and leaf values)."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return hash((treedef, leaves_hash(leaves)))


def show_value(value) -> str:
    """A leaf for a repr: a number as ``%g``, an array by its shape, a tracer as ``<traced>``."""
    if _is_tracer(value):
        return "<traced>"
    arr = np.asarray(value)
    if arr.dtype == object:  # a dict or ragged tuple of numbers (a user's Method): format code 'g' failed
        return f"<{type(value).__name__}>"
    if arr.ndim:
        return f"<array {arr.shape}>"
    # an integer as typed: max_trials=10**7 showed as 1e+07 (leftovers34b)
    return str(arr.item()) if arr.dtype.kind in "iub" else f"{arr.item():g}"


def shown(value) -> str:
    """``repr(value)`` on one line, for a message: a PRNG key's repr spans two ("Array((),
    dtype=key<fry>) overlaying:\n[0 0]"), so a key is named as one; other reprs lose their line breaks."""
    dtype = getattr(value, "dtype", None)
    try:
        key = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    except TypeError:
        key = False
    if key:
        return f"a PRNG key ({dtype})" if np.ndim(value) == 0 else f"an array of PRNG keys, shape {np.shape(value)} ({dtype})"
    text = " ".join(repr(value).split())
    if len(text) > SHOWN_MAX:  # a 1000-element array's repr filled a line with ~6,000 characters
        shape = getattr(value, "shape", None)
        what = f"an array of shape {tuple(shape)} ({dtype})" if shape is not None and dtype is not None else type(value).__name__
        text = f"{what}: {text[:SHOWN_MAX // 2]} ... ({len(text):,} characters)"
    return text


SHOWN_MAX = 200  # characters of a value in a one-line message
