"""Helpers for the method-zoo tests: step a method by hand (one compiled step, no runner), so
that NumPy references can be compared step by step and every state field (evaluation counters
included) can be read."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


@jax.jit
def _step(method, state, problem, idx, k):
    return method.step(state, problem, idx, k)


def drive(method, problem, x0, idx=None, *, steps=None, key=None):
    """The states x_0, ..., x_K of ``method`` run by hand: step k gets the indices ``idx[k]``
    (or none, for ``steps`` steps of a method with ``batch_size=None``); ``init`` gets the
    method key ``key``, as the runner would give it one."""
    state = method.init(x0, problem, jax.random.key(0) if key is None else key)
    if idx is None:
        idx = np.zeros((steps, 0), np.int32)
    states = [state]
    for k, rows in enumerate(np.asarray(idx)):
        state = _step(method, state, problem, jnp.asarray(rows, jnp.int32), jnp.asarray(k, jnp.int32))
        states.append(state)
    return states


def counts(states, field="grad_evals"):
    """The exact values of a ``Count`` field along a list of states, as int64."""
    return np.array([int(getattr(s, field)) for s in states])


@jax.jit
def _loss(problem, x):
    return problem.loss(x)


def losses(problem, states):
    """f at the iterate of each state (one compiled loss, the data as an argument)."""
    return np.array([float(_loss(problem, s.x)) for s in states])


@functools.lru_cache(maxsize=None)
def _scan(method, every):
    def run(problem, state, idx):
        def chunk(s, block):
            ks, rows = block
            s, _ = lax.scan(lambda t, a: (method.step(t, problem, a[1], a[0]), None), s, (ks, rows))
            return s, s
        ks = jnp.arange(idx.shape[0] * every, dtype=jnp.int32).reshape(idx.shape[0], every)
        return lax.scan(chunk, state, (ks, idx))[1]
    return jax.jit(run)


def scan(method, problem, x0, idx=None, *, every, steps=None, key=None):
    """Like ``drive`` for long runs, compiled as one scan: the states after every ``every``
    steps (the initial state first), stacked along a leading axis."""
    state = method.init(x0, problem, jax.random.key(0) if key is None else key)
    if idx is None:
        idx = np.zeros((steps, 0), np.int32)
    idx = jnp.asarray(idx, jnp.int32)
    chunks = idx.shape[0] // every
    logged = _scan(method, every)(problem, state, idx[: chunks * every].reshape(chunks, every, -1))
    return jax.tree_util.tree_map(lambda first, rest: jnp.concatenate([first[None], rest]),
                                  state, logged)
