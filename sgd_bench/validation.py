"""Argument checks shared by the public API: each raises in Python, before any compiled code runs,
and names the argument and the allowed range.

Public (``sgd_bench.validation``), not private: the problem catalog (``problems/``), the harness
and code that builds its own ``FiniteSum`` validate their arguments with the same functions, so
that every error message follows one convention ("validate" is a problem constructor keyword).

Conventions: a value of the wrong kind (a string for a number, a float for a count, a sparse
matrix for an array) raises ``TypeError``; a value of the right kind outside the allowed range or
set (a step size <= 0, an unknown sampling name) raises ``ValueError``. A ``dtype`` argument that
is not a floating type raises ``ValueError`` whatever it is (as ``problems.libsvm`` does). Every
message starts with the argument's name. Checks run on values as given, before a device or XLA.

The last section checks a ``FiniteSum``'s data leaves, ``x_shape`` and ``info``. What float64
input becomes while x64 is off (``PrecisionWarning``, ``warn_if_downcast``, ``x64_arrays``) lives in
``sgd_bench.precision`` and is importable from here too.
"""

from __future__ import annotations

import collections.abc
import math
import numbers
from typing import Any, Iterable

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench._values import shown  # a value on one line (a PRNG key's repr spans two)
from sgd_bench.precision import PrecisionWarning, requested_dtype, warn_if_downcast, x64_arrays  # noqa: F401  (public here too)


# The largest step count of a run: the step counter is int32 (solver.MAX_STEPS).
MAX_STEPS = 2**31 - 2


def _real(name: str, value: Any, expected: str) -> float:
    """``value`` as a float if it is a real number (or a 0-d real array); TypeError otherwise."""
    if isinstance(value, (bool, np.bool_)) or live(name, value):  # live(): a deleted array is named, not JAX's
        raise TypeError(f"{name} must be {expected}, got {shown(value)}")
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:  # an int beyond float64 (10**400): as a float it is infinite, and the
            return math.inf if value > 0 else -math.inf  # callers refuse that by name (was a traceback)
    try:
        arr = np.asarray(value)
        if arr.ndim != 0 or arr.dtype == bool or not (
                np.issubdtype(arr.dtype, np.integer) or jnp.issubdtype(arr.dtype, jnp.floating)):  # bfloat16 too
            raise TypeError  # True, "0.1", [0.1, 0.2], 1j: not a real number
        return float(arr)
    except (TypeError, ValueError):
        got = f"an array of shape {np.shape(value)}" if hasattr(value, "shape") and np.ndim(value) else shown(value)
        raise TypeError(f"{name} must be {expected}, got {got}") from None


def boolean(name: str, value: Any) -> bool:
    """``value`` if it is True or False (a NumPy bool too); TypeError otherwise: a string such as
    "no" is truthy, so ``bool(value)`` would read it as yes."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {shown(value)}")
    return bool(value)


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


def integer(name: str, value: Any, *, low: int | None = None, high: int | None = None, why: str = "") -> int:
    """Returns ``value`` as an int in [low, high], or raises naming the argument and the range
    (``why``, when given, says where a range taken from other arguments comes from). A concrete
    0-d integer array (``np.array(3)``, ``jnp.int32(6)``) is that int; a traced one is refused."""
    if isinstance(value, jax.core.Tracer):  # "must be an integer, got JitTracer(~int32[])" said not why
        raise TypeError(f"{name} must be a Python int (static), got a traced {value.aval.str_short()} (inside "
                        f"jax.jit / vmap): {name} is checked on the host before anything runs, where a traced "
                        f"value has no number; pass it as a static argument (jax.jit(..., static_argnums=...))")
    if (isinstance(value, (np.ndarray, np.generic, jax.Array)) and np.ndim(value) == 0
            and jnp.issubdtype(value.dtype, jnp.integer)):  # a key's dtype is no NumPy dtype  # np.array(3) was refused, replace(loop_length=...) took it
        live(name, value)
        value = int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {shown(value)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]{why}, got {value}")
    return value


def bound_from(name: str, value: Any, default: Any, source: str) -> str:
    """``why`` for ``integer`` when another argument bounds ``name``: says so, and when the value
    is ``name``'s default, that the caller may not have passed it and what to pass instead."""
    if value == default and not isinstance(value, bool):
        return f" ({source}; {default} is {name}'s default: pass a smaller {name}=...)"
    return f" ({source})"


def each(name: str, value: Any, check, *, optional: bool = False) -> None:
    """Runs the scalar ``check(name, v)`` on ``value``, or on every entry of a column of values
    (``sweep`` replaces a hyperparameter by its grid, ``Method.replace`` by anything): a method's
    host check sees what its constructor refused. Traced values have nothing to check; None only
    where it means a default (``optional``)."""
    if isinstance(value, jax.core.Tracer) or (value is None and optional):
        return
    # None checked: replace(noise_std=None) was JAX's "None is not a valid value for jnp.array"
    if value is None or isinstance(value, (numbers.Number, np.generic)):
        check(name, value)
        return
    column = np.ravel(np.asarray(value))
    if column.dtype.kind in "biuf":  # each distinct value once, in order: a sweep's product repeats
        # every value many times, and 10**6 configurations took minutes of host checks
        column = column[np.sort(np.unique(column, return_index=True)[1])]
    for v in column:
        check(name, v.item())


def float_leaves(x: Any, dtype) -> Any:
    """``x`` with its integer and boolean array leaves as ``dtype`` NumPy arrays, as a list of
    numbers is taken: a point to differentiate at (jax.grad refuses integer inputs, from inside)."""
    def cast(leaf):
        if isinstance(leaf, jax.core.Tracer) or not (hasattr(leaf, "dtype") or isinstance(leaf, numbers.Number)):
            return leaf  # the checks after this one name what is wrong with the rest
        try:
            kind = np.dtype(leaf.dtype).kind if hasattr(leaf, "dtype") else np.asarray(leaf).dtype.kind
        except TypeError:  # a PRNG key's dtype
            return leaf
        return np.asarray(leaf, dtype) if kind in ("b", "i", "u") else leaf
    return jax.tree_util.tree_map(cast, x)


def choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Returns ``value`` if it is one of ``allowed``; otherwise raises listing them."""
    allowed = tuple(allowed)
    # Only strings are compared: `in` on an array would compare elementwise.
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {shown(value)}")
    return value


def instance(name: str, value: Any, cls: type | tuple, what: str) -> Any:
    """Returns ``value`` if it is an instance of ``cls``; otherwise TypeError saying ``what``."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


# The largest int seed, for a problem's data as for a run's key (sgd-bench run --key): JAX takes a
# signed 64-bit seed (99999999999999999999 was an OverflowError from inside JAX).
MAX_SEED = 2**63 - 1


def jax_seed(name: str, seed: Any) -> int:
    """``seed`` as an int for ``jax.random.key``: in [0, 2**63 - 1], and below 2**32 while
    ``jax_enable_x64`` is off, where JAX keeps only a seed's low 32 bits (2**32 would silently
    draw seed 0's numbers)."""
    seed = integer(name, seed, low=0, high=MAX_SEED)
    if seed >= 2**32 and not jax.config.jax_enable_x64:
        raise ValueError(f"{name} {seed} is >= 2**32, and with jax_enable_x64 off JAX keeps only a seed's "
                         f"low 32 bits (it would draw seed {seed % 2**32}'s numbers); use a seed below "
                         "2**32 or jax.config.update('jax_enable_x64', True)")
    return seed


FLOATING_DTYPES = "'float32' or 'float64'"


def floating_dtype(name: str, dtype: Any):
    """``dtype`` as a JAX dtype (None: JAX's default float), or ValueError unless it is floating.

    The message matches ``problems.libsvm``'s: "dtype must be a floating type such as ...".
    """
    if dtype is None:  # jnp knows bfloat16 and friends, which plain NumPy may not
        return jnp.dtype(jnp.result_type(float))
    try:
        dt = jnp.dtype(dtype)
    except (TypeError, ValueError):
        dt = None
    if dt is None or not jnp.issubdtype(dt, jnp.floating) or dt.itemsize > 8:
        shown = repr(dtype) if dt is None else dt.name
        raise ValueError(f"{name} must be a floating type such as {FLOATING_DTYPES} "
                         f"(or None for JAX's default float), got {shown}")
    # ">f4" is float32 in the other byte order, which JAX cannot create (its TypeError named nothing)
    return dt.newbyteorder("=") if not dt.isnative else dt


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


def dense_array(name: str, value: Any, *, real: bool = False, owner: str = "FiniteSum") -> Any:
    """``value`` if it is a dense array of numbers (NumPy, JAX, or anything ``np.asarray`` takes),
    returned as an array; TypeError naming ``name`` for sparse matrices, strings, objects.

    ``real`` refuses complex numbers too. ``owner`` is what the messages say needs the array.
    Arrays are not copied (JAX arrays stay on device), except a NumPy array in the other byte
    order (big-endian here), which JAX cannot hold: it comes back in native order, same values.
    """
    unmasked(name, value, owner)  # JAX refused it from inside, not naming the argument
    sparse = sparse_kind(value)
    if sparse is not None:
        what, densify = sparse
        raise TypeError(f"{name} is {what}; {owner} needs dense arrays: densify it first, "
                        f"e.g. {name}{densify}")
    if not (hasattr(value, "dtype") and hasattr(value, "shape")):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError) as err:  # ragged lists and the like
            raise TypeError(f"{name} must be an array of numbers, got a {type(value).__name__} "
                            f"that is not one ({err})") from None
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
    return native_order(value)


def unmasked(name: str, value: Any, owner: str = "sgd-bench") -> None:
    """Refuses a NumPy masked array by name: ``np.asarray`` drops its mask, so the masked entries
    would be used as if they were not masked."""
    if isinstance(value, np.ma.MaskedArray):
        rows = " or a row selection" if owner == "FiniteSum" else ""
        raise TypeError(f"{name} is a NumPy masked array; {owner} needs plain arrays: fill or drop "
                        f"the masked entries first, e.g. {name}.filled(0.0){rows}")


def native_order(value: Any) -> Any:
    """``value``, or a NumPy array in the other byte order (``np.frombuffer(..., ">f8")``, some
    file formats) as a native copy with the same values: JAX cannot hold it, and said so from
    inside ("Error interpreting argument to stage as a JAX value"), naming nothing."""
    if isinstance(value, np.ndarray) and not value.dtype.isnative:
        return value.astype(value.dtype.newbyteorder("="))
    return value


def real_array(name: str, value: Any, *, nan: bool = False) -> np.ndarray:
    """``value`` as a float64 NumPy array, refused by name when text, objects, complex (its imaginary part lost) or traced."""
    if isinstance(value, jax.core.Tracer):  # jit(stats.summarize) was JAX's TracerArrayConversionError from NumPy
        raise TypeError(f"{name} is traced (inside jit / vmap / grad), but this works on host NumPy arrays: call it outside")
    arr = np.asarray(dense_array(name, value, real=True, owner="sgd-bench"), dtype=np.float64)
    if not nan and np.isnan(arr).any():
        where = f" (first at index {np.argwhere(np.isnan(arr))[0].tolist()})" if arr.ndim else ""
        raise ValueError(f"{name} holds NaN{where}")
    return arr


def finite_array(name: str, value: Any, hint: str = "clean the data first") -> None:
    """Raises ValueError if a concrete floating array holds NaN or Inf (tracers are skipped)."""
    try:
        arr = np.asarray(value)
    except Exception:  # a tracer inside a user's jit: nothing concrete to check
        return
    if np.issubdtype(arr.dtype, np.inexact) and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or Inf value(s); {hint}")


def live(name: str, tree) -> None:
    """Raises ValueError if a leaf of ``tree`` is a JAX array that was deleted (donated to a
    ``jax.jit(..., donate_argnums=...)``, or ``.delete()``d): JAX's "Array has been deleted with
    shape=float32[3]" came from inside, naming no argument."""
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer) and leaf.is_deleted():
            raise ValueError(f"{name}{jax.tree_util.keystr(path)} is a deleted JAX array (donated to a "
                             "jax.jit with donate_argnums, or .delete()d): pass one that is still alive")


# -- the data, shape and facts of a FiniteSum -------------------------------------------------------
def data_leaves(data) -> tuple[list[tuple[str, Any]], Any]:
    """The leaves of ``data`` as (name, dense array) pairs, with the tree structure; sparse
    matrices, strings and objects are refused with a TypeError naming the leaf (``data``,
    ``data[0]``, ``data['a']``, ...). Nothing is converted or moved yet."""
    # Sparse matrices are leaves here: jax.experimental.sparse arrays are pytrees themselves,
    # and flattening them would give their index arrays as data.
    leaves, treedef = jax.tree_util.tree_flatten_with_path(
        data, is_leaf=lambda v: sparse_kind(v) is not None)
    named = []
    for path, leaf in leaves:
        name = f"data{jax.tree_util.keystr(path)}"
        named.append((name, dense_array(name, leaf)))
    return named, treedef


def jax_array(name: str, leaf) -> jax.Array:
    """``leaf`` as a JAX array, or a TypeError naming it when JAX has no such dtype."""
    try:
        return jnp.asarray(leaf)
    except TypeError as err:  # a dtype NumPy has and JAX lacks
        raise TypeError(f"{name} has dtype {leaf.dtype}, which JAX cannot hold; convert it to "
                        f"float32 or float64 ({err})") from None


def x_shape(x_shape) -> tuple[int, ...] | None:
    """A problem's iterate shape as a tuple of ints >= 0 (or None)."""
    if x_shape is not None and (isinstance(x_shape, (str, bytes, collections.abc.Mapping, collections.abc.Set)) or not hasattr(
            x_shape, "__iter__") or getattr(x_shape, "ndim", 1) == 0):  # a dict said "x_shape[0] ... got 'w'", a key JAX's words
        raise TypeError(f"x_shape must be a tuple of integers >= 0 (an array iterate's shape) or None (any pytree iterate, "
                        f"shaped by x0: a dict of arrays too), got {shown(x_shape)}")
    return None if x_shape is None else tuple(integer(f"x_shape[{i}]", s, low=0) for i, s in enumerate(x_shape))


def problem_info(info) -> tuple[tuple[str, float], ...]:
    """A problem's ``info`` as sorted (name, float) pairs (traced values kept); L, L_max and mu
    must be >= 0."""
    if info is None:
        return ()
    if not isinstance(info, collections.abc.Mapping):
        raise TypeError(f"info must be a mapping of names to numbers (such as {{'mu': 1.0}}) "
                        f"or None, got {info!r}")
    out = []
    for key, value in info.items():
        if isinstance(value, jax.core.Tracer):
            out.append((str(key), value))
            continue
        # _real, as every numeric argument: float() read the str "1" as 1.0 and True as 1.0
        out.append((str(key), _real(f"info[{key!r}]", value, "a number")))
        if key in ("L", "L_max", "mu") and not out[-1][1] >= 0:
            # the theory's constants: L = -1 gave a default step 1/L < 0, bounds of the wrong sign
            raise ValueError(f"info[{key!r}] must be a number >= 0 (a smoothness or strong convexity "
                             f"constant), got {value!r}")
    facts = {k: v for k, v in out if not isinstance(v, jax.core.Tracer)}
    if facts.get("mu", 0.0) > facts.get("L", np.inf) * (1 + 1e-9):
        # mu <= (true curvature) <= L always: mu = 5, L = 1 gave theory's GD bound
        # (1 - mu/L)^k = 1, -4, 16, -64, a "bound" of alternating sign, silently
        raise ValueError(f"info['mu'] = {facts['mu']!r} exceeds info['L'] = {facts['L']!r}: a strong "
                         f"convexity constant is at most the smoothness constant (swapped?)")
    return tuple(sorted(out))


def within_dtype(pairs, dtype, owner: str) -> None:
    """Raises ValueError when a concrete number of ``pairs`` ((name, value)) is finite but beyond
    the largest ``dtype`` number (there it is inf), or nonzero but below its smallest normal (there
    it is 0: XLA flushes subnormals; one such number is all of its entries, which ``precision``
    refuses in data). Traced values pass."""
    big, (tiny, smallest) = float(jnp.finfo(dtype).max), zero_below(dtype)
    for name, value in pairs:
        if isinstance(value, jax.core.Tracer):
            continue
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            continue  # not a number: its own checks speak for it
        if np.all(np.isfinite(arr)) and np.any(np.abs(arr) > big):
            # mu = 1e39 on float32 data was inf inside the run (every run flagged diverged at step
            # 0) while theory.constants reported mu = 1e39: one problem, two values
            raise ValueError(f"{name} = {np.max(np.abs(arr)).item():g} is beyond the largest "
                             f"{jnp.dtype(dtype).name} ({big:.3g}), the dtype of {owner}: there it is "
                             "inf. Pass a smaller value, or float64 data (with jax_enable_x64)")
        small = np.abs(arr)[(arr != 0) & (np.abs(arr) < tiny)]
        if small.size:  # mu = 1e-40 on float32 data ran as mu = 0 while theory used 1e-40
            raise ValueError(f"{name} = {small.min().item():g} is below {smallest} ({tiny:.3g}), the dtype of "
                             f"{owner}: there it is 0. Pass 0 or a larger value" + (
                                 "" if jnp.dtype(dtype) == jnp.float64 else ", or float64 data (with jax_enable_x64)"))


def zero_below(dtype) -> tuple[float, str]:
    """(t, its name): a nonzero number below t is 0 in ``dtype``: its smallest normal, as XLA flushes
    subnormals (float64, float32, bfloat16); for float16, computed in float32, half its smallest subnormal."""
    info, name = jnp.finfo(dtype), jnp.dtype(dtype).name
    if jnp.dtype(dtype) == jnp.float16:
        return float(info.smallest_subnormal) / 2, "half the smallest (subnormal) float16"
    return float(info.tiny), f"the smallest normal {name}"


def derived_within_dtype(name: str, value: float, derived: float, what: str, dtype, *,
                         positive: bool = False) -> None:
    """Raises ValueError naming ``name`` when a number it makes (``derived``, described by
    ``what``) is beyond the largest ``dtype`` number (inf there) or below its smallest normal
    (0 there: XLA on CPU flushes float32/bfloat16/float64 subnormals, but keeps float16's, so
    there the bound is the smallest subnormal); with ``positive``, a derived 0 is a number that
    underflowed on the host too."""
    info = jnp.finfo(dtype)
    half = jnp.dtype(dtype) == jnp.float16
    tiny, kind = (float(info.smallest_subnormal), "subnormal") if half else (float(info.tiny), "normal")
    if not derived <= float(info.max):  # NaN (an inf times 0 on the host) fails too
        where = f"beyond the largest {jnp.dtype(dtype).name} ({float(info.max):.3g}): there it is inf"
    elif (0 < derived or positive) and derived < tiny:
        where = f"below the smallest {kind} {jnp.dtype(dtype).name} ({tiny:.3g}): there it is 0"
    else:
        return
    raise ValueError(f"{name} = {value:g} makes {what} {derived:.3g}, {where}. Pass another {name}"
                     + ("" if jnp.dtype(dtype) == jnp.float64 else ", or float64 data (with jax_enable_x64)"))


def squares_within_dtype(name: str, value: float, residuals, what: str, dtype) -> None:
    """``derived_within_dtype`` for a least-squares loss: half the largest square of ``residuals``
    (host numbers that ``name`` made) must fit ``dtype``; computed without a NumPy warning."""
    with np.errstate(over="ignore"):  # inf: refused by the check
        worst = float(np.max(np.square(np.asarray(residuals, dtype=np.float64)))) / 2
    derived_within_dtype(name, value, worst, what, dtype)
