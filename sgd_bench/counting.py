"""An exact counter of gradient evaluations that cannot overflow with x64 off.

At n = 10^8 a GD run passes 2^31 per-sample gradient evaluations after 22 steps, and JAX's
default integers are int32. ``Count`` keeps the value as two uint32 words, ``hi * 2**32 + lo``,
stacked in one array (last axis), so it stays exact up to 2^64 under jit, scan and vmap without
``jax_enable_x64``. One array rather than two keeps the per-step update a single fused kernel:
on XLA:CPU two separate scalar words cost several hundred nanoseconds per scan step.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench._values import leaves_equal, leaves_hash


class Count(NamedTuple):
    """A non-negative integer held as uint32 ``words[..., 0] * 2**32 + words[..., 1]``.

    Make one with ``Count.zero()`` or ``Count.from_parts(hi, lo)``, which check their parts.
    ``Count(words)`` itself takes anything: it is also how JAX rebuilds a Count from its leaves,
    and those may be tracers, None, axis numbers (``in_axes``) or JAX's own placeholders."""

    words: Any

    @classmethod
    def zero(cls) -> "Count":
        return cls(jnp.zeros((2,), jnp.uint32))

    @classmethod
    def from_parts(cls, hi, lo) -> "Count":
        """The count ``hi * 2**32 + lo`` from two uint32 arrays of the same shape; host parts
        must be integers in [0, 2**32) (traced parts are taken as they are)."""
        # -1 was JAX's OverflowError naming neither part; 1.5 was cut to 1 without a word
        hi, lo = _word("hi", hi), _word("lo", lo)
        if jnp.shape(hi) != jnp.shape(lo):  # static, so traced parts too: was JAX's stack error
            raise ValueError(f"hi and lo must have the same shape, got {jnp.shape(hi)} and {jnp.shape(lo)}")
        return cls(jnp.stack([jnp.asarray(hi, jnp.uint32), jnp.asarray(lo, jnp.uint32)], axis=-1))

    @property
    def hi(self):
        return self.words[..., 0]

    @property
    def lo(self):
        return self.words[..., 1]

    def add(self, k) -> "Count":
        """Returns self + k for 0 <= k < 2**32, carrying into the high word."""
        # a host k out of range was wrapped or cut without a word (np.int64(-1) added
        # 4294967295, 1.5 added 1) or raised NumPy's "out of bounds for uint32"
        k = _word("k", k)
        k = jnp.asarray(k).astype(jnp.uint32)
        lo = self.lo + k  # wraps modulo 2**32
        carry = (lo < self.lo).astype(jnp.uint32)
        if not isinstance(carry, jax.core.Tracer) and np.any(np.asarray(carry) & (np.asarray(self.hi) == 2**32 - 1)):
            # on the host, past 2**64 - 1 wrapped to 0 without a word (traced, it still wraps)
            raise OverflowError(f"Count.add({int(np.max(np.asarray(k)))}) passes 2**64 - 1, the largest count")
        return Count(jnp.stack([self.hi + carry, lo], axis=-1))

    def to_numpy(self) -> np.ndarray:
        """The exact value as an int64 NumPy array (host side); OverflowError from 2**63 on."""
        words = np.asarray(self.words).astype(np.int64)
        if words.size and words[..., 0].max() >= 2**31:  # hi * 2**32 wrapped: 2**64 - 1 read as -1
            raise OverflowError(f"a count of 2**63 or more does not fit int64 (high word "
                                f"{int(words[..., 0].max())}); int(count) gives it exactly")
        return np.asarray(words[..., 0] * (1 << 32) + words[..., 1])

    def __array__(self, dtype=None, copy=None):
        value = self.to_numpy()
        return value if dtype is None else value.astype(dtype)

    # A NamedTuple compares its words with ``==``: an array, so ``a == b`` raised "The truth value
    # of an array with more than one element is ambiguous". Counts compare by value (shape and
    # words); a traced count equals only itself, as Schedule's leaves do.
    def __eq__(self, other):
        if isinstance(other, numbers.Real) and not isinstance(other, (bool, np.bool_)):
            # count == 4294967301 was False for that count (int's == of a tuple) while < and > compared values
            return self._scalar("compares with ==", "np.asarray(count) == ...") == other
        if not isinstance(other, Count):  # a plain tuple's own == would compare the words again
            return False if isinstance(other, tuple) else NotImplemented
        return leaves_equal([self.words], [other.words])

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):  # a scalar host count hashes as its int, which it equals
        scalar = not isinstance(self.words, jax.core.Tracer) and np.ndim(self.words) == 1
        return hash(self._scalar("hashes", "")) if scalar else leaves_hash([self.words])

    # A NamedTuple's + and * are a tuple's: count + count gave a pair of word arrays and count * 2
    # a 4-tuple, silently. Counts add exactly (with the carry); they do not multiply.
    def __add__(self, other):
        if isinstance(other, Count):
            lo = self.lo + other.lo  # wraps modulo 2**32
            carry = (lo < self.lo).astype(jnp.uint32)
            return Count(jnp.stack([self.hi + other.hi + carry, lo], axis=-1))
        return self.add(other)

    __radd__ = __add__

    def __mul__(self, other):
        raise TypeError(f"a Count does not multiply (it would repeat the tuple); use int(count) * "
                        f"{other!r} or np.asarray(count) * {other!r}")

    __rmul__ = __mul__

    # A NamedTuple indexes its one field: trace.grad_evals[-1] was the whole words array,
    # grad_evals[1:3] an empty tuple and grad_evals[2] "tuple index out of range", silently or
    # not. A Count indexes like the array of counts it holds (NumPy's bounds: JAX would clamp).
    def __getitem__(self, index):
        shape = np.shape(self.words)[:-1]
        idx = index if isinstance(index, tuple) else (index,)
        if not any(isinstance(i, jax.Array) for i in idx):
            try:
                np.broadcast_to(np.zeros((), bool), shape)[idx]
            except IndexError as err:
                raise IndexError(f"index {index!r} does not fit a Count of shape {shape}: {err}") from None
        if any(i is Ellipsis for i in idx):
            idx = idx + (slice(None),)  # the word axis is the last: an Ellipsis must not reach it
        return Count(self.words[idx])

    # A NamedTuple has one field: len(count) was 1 whatever its shape, a for loop (list, sorted)
    # gave its word array, and jnp.asarray(count) stacked the words, shape (1, ..., 2), silently.
    # A Count has the length and the rows of the array of counts it holds, as np.asarray gives it.
    def __len__(self) -> int:
        shape = np.shape(self.words)[:-1]
        if not shape:
            raise TypeError("len() of a scalar Count")
        return shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __jax_array__(self):
        """``jnp.asarray(count)``, ``jnp.sum(count)``: the exact values as JAX's default integers
        (int64; with jax_enable_x64 off int32, where the values fit)."""
        if jax.dtypes.canonicalize_dtype(np.int64) == np.int64:
            return self.hi.astype(jnp.int64) * (1 << 32) + self.lo.astype(jnp.int64)
        if isinstance(self.words, jax.core.Tracer):
            raise TypeError("with jax_enable_x64 off a Count inside jit / vmap / scan (jnp functions trace "
                            "their arguments) has no exact JAX integer: use np.asarray(count) on the host, "
                            "or its words count.hi and count.lo (value = hi * 2**32 + lo)")
        value = self.to_numpy()
        if value.size and value.max() > np.iinfo(np.int32).max:
            raise OverflowError(f"a count of {int(value.max())} does not fit int32 (jax_enable_x64 is off); "
                                "np.asarray(count) gives int64 on the host")
        return jnp.asarray(value, jnp.int32)

    def __int__(self) -> int:
        return self._scalar("converts to int", "np.asarray(count)")

    def __float__(self) -> float:  # a tuple has no float(): was "float() argument must be ... not 'Count'"
        return float(self._scalar("converts to float", "np.asarray(count, float)"))

    # A NamedTuple orders as a tuple of its words: count < 10 and sorted / max of counts raised
    # JAX's ambiguous-truth error. A scalar host count orders by its value; others are refused.
    def __lt__(self, other):
        return self._order(other, "<", lambda a, b: a < b)

    def __le__(self, other):
        return self._order(other, "<=", lambda a, b: a <= b)

    def __gt__(self, other):
        return self._order(other, ">", lambda a, b: a > b)

    def __ge__(self, other):
        return self._order(other, ">=", lambda a, b: a >= b)

    def _order(self, other, op, compare):
        if isinstance(other, Count):
            other = other._scalar(f"orders with {op}", f"np.asarray(a) {op} np.asarray(b)")
        elif isinstance(other, (bool, np.bool_)) or not isinstance(other, numbers.Real):
            return NotImplemented  # an array: NumPy / JAX compare it with np.asarray(count)
        return compare(self._scalar(f"orders with {op}", f"np.asarray(count) {op} ..."), other)

    def _scalar(self, what: str, instead: str) -> int:
        """The exact value of a scalar host count (Python int: exact up to 2**64)."""
        if isinstance(self.words, jax.core.Tracer):
            raise TypeError(f"a traced Count (inside jit / vmap / scan) has no host value: only a "
                            f"concrete scalar Count {what}")
        words = np.asarray(self.words)
        if words.ndim > 1:
            raise TypeError(f"only a scalar Count {what}, this one has shape {words.shape[:-1]}; use {instead}")
        return int(words[0]) * (1 << 32) + int(words[1])


# NamedTuple refuses these two in a class body; both went through the tuple's iteration, which
# gives the rows now: copy and pickle rebuild a Count from its words, and so does _replace
Count.__getnewargs__ = lambda self: (self.words,)
Count._replace = lambda self, **changes: Count(changes.pop("words", self.words), **changes)


def _word(name: str, value):
    """``value`` for a uint32 word: checked on the host to be integers in [0, 2**32) (a traced
    value is returned as it is, so the compiled path is unchanged)."""
    if isinstance(value, jax.core.Tracer):
        return value
    host = np.asarray(value)
    if host.dtype == bool or not np.issubdtype(host.dtype, np.integer):
        raise TypeError(f"{name} must be an integer count in [0, 2**32), got {value!r}")
    if host.size and not (host.min() >= 0 and host.max() < 2**32):
        raise ValueError(f"{name} must be an integer count in [0, 2**32), got {value!r}")
    if isinstance(value, int):  # Python ints above 2**31 do not fit JAX's default int32
        return np.uint32(value)
    return value
