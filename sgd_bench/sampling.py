"""Index samplers: with replacement, random reshuffling, cyclic.

A sampler hands a method a block of indices of shape (T, B) for T consecutive steps in one
vectorized call; methods never sample. The index stream is a function of the key and the step
counter only, so it does not depend on how the run is cut into logging chunks:

- ``with_replacement``: step k draws B indices uniformly from {0, ..., n-1} with the key
  ``fold_in(key, k)``.
- ``reshuffle``: the samples form one stream, epoch e being the permutation
  ``permutation(fold_in(key, e), n)``; step k takes stream positions kB, ..., kB + B - 1.
  When B does not divide n, a batch at an epoch boundary takes the end of one permutation
  and the start of the next, so every sample is used exactly once per epoch.
- ``cyclic``: the same stream with the identity permutation, i.e. (kB + j) mod n.

Stream positions are tracked as (epoch, offset) with offset < n, so no product k*B is ever
formed and int32 cannot overflow in long runs.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sgd_bench import validation

SAMPLINGS = ("with_replacement", "reshuffle", "cyclic")

# Keep stream arithmetic inside int32: offset < n and a chunk holds T*B positions.
_MAX_POSITIONS = 2**30


class StreamState(NamedTuple):
    """Where the sample stream stands: ``epoch``, ``offset`` in [0, n), and for reshuffling
    with short chunks the permutations of the current and the next epoch."""

    epoch: jax.Array
    offset: jax.Array
    perms: Any


class Sampler(NamedTuple):
    """``init(key) -> state``; ``sample(state, key, k0, T) -> (idx[T, B], state)`` draws the
    next T steps' indices and the state after them; ``skip(state, key, t) -> state`` is the
    state after a traced number t <= ``chunk`` of steps (a run that stops inside a block)."""

    init: Callable[[jax.Array], Any]
    sample: Callable[[Any, jax.Array, Any, int], tuple[jax.Array, Any]]
    batch_size: int
    skip: Callable[[Any, jax.Array, Any], Any] = None


def permutation(key, epoch, n):
    """The order of epoch ``epoch`` of a reshuffled stream: a permutation of {0..n-1} (int32) that
    depends on the key and the epoch only, so any epoch can be drawn again without the others."""
    return jax.random.permutation(jax.random.fold_in(key, epoch), n).astype(jnp.int32)


def make_sampler(sampling: str, n: int, batch_size: int, chunk: int) -> Sampler:
    """A sampler of ``batch_size`` indices per step from {0..n-1}, for chunks of <= ``chunk`` steps."""
    validation.choice("sampling", sampling, SAMPLINGS)
    n = validation.integer("n", n, low=1)
    chunk = validation.integer("chunk", chunk, low=1)
    b = validation.integer("batch_size", batch_size, low=1, high=n)
    if n >= _MAX_POSITIONS or chunk * b >= _MAX_POSITIONS:
        raise ValueError(f"log_every * batch_size = {chunk * b} and n = {n} must both stay "
                         f"below 2**30; log more often")

    if sampling == "with_replacement":
        def init(key):
            del key
            return ()

        def sample(state, key, k0, t):
            ks = k0 + jnp.arange(t, dtype=jnp.int32)
            keys = jax.vmap(jax.random.fold_in, in_axes=(None, 0))(key, ks)
            idx = jax.vmap(lambda kk: jax.random.randint(kk, (b,), 0, n, dtype=jnp.int32))(keys)
            return idx, state

        def skip(state, key, t):
            del key, t
            return state

        return Sampler(init, sample, b, skip)

    # Short chunks (T*B <= n) touch at most two epochs: carry the two permutations and
    # compute each epoch's permutation once. The branch depends only on the step counter,
    # never on the key, so under vmap over seeds it stays a real cond.
    carry_perms = sampling == "reshuffle" and chunk * b <= n

    def init(key):
        zero = jnp.zeros((), jnp.int32)
        perms = ()
        if carry_perms:
            perms = (permutation(key, 0, n), permutation(key, 1, n))
        return StreamState(zero, zero, perms)

    def sample(state, key, k0, t):
        del k0
        pos = state.offset + jnp.arange(t * b, dtype=jnp.int32)
        epoch_rel = pos // n
        row = pos - epoch_rel * n
        if sampling == "cyclic":
            idx = row
        elif carry_perms:
            cur, nxt = state.perms
            idx = jnp.where(epoch_rel == 0, cur[row], nxt[row])
        else:
            num = (t * b + n - 1) // n + 1  # epochs a chunk can touch
            perms = jax.vmap(lambda e: permutation(key, state.epoch + e, n))(
                jnp.arange(num, dtype=jnp.int32))
            idx = perms[epoch_rel, row]
        return idx.reshape(t, b), skip(state, key, t)

    def skip(state, key, t):
        # t <= chunk steps, so with carried permutations at most one epoch boundary is crossed.
        end = state.offset + t * b
        step_epochs = end // n
        new_state = StreamState(state.epoch + step_epochs, end - step_epochs * n, state.perms)
        if carry_perms:
            new_state = new_state._replace(perms=lax.cond(
                step_epochs > 0,
                lambda p: (p[1], permutation(key, new_state.epoch + 1, n)),
                lambda p: p,
                state.perms,
            ))
        return new_state

    return Sampler(init, sample, b, skip)


def indices(sampling: str, key: jax.Array, n: int, batch_size: int, steps: int) -> np.ndarray:
    """All indices a run of ``steps`` steps uses, shape (steps, batch_size), as NumPy.

    The runner draws the same stream chunk by chunk; this one-shot form is for references
    and tests.
    """
    steps = validation.integer("steps", steps, low=1)
    sampler = make_sampler(sampling, n, batch_size, steps)
    idx, _ = sampler.sample(sampler.init(key), key, jnp.zeros((), jnp.int32), steps)
    return np.asarray(idx)
