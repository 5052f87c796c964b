"""Index samplers: reshuffling uses each sample once per epoch, sampling with replacement is
uniform and independent, cyclic order is exact, and the stream does not depend on how it is
cut into chunks."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sgd_bench import sampling
from sgd_bench.sampling import indices, make_sampler

try:
    from scipy.stats import chi2
except ImportError:  # pragma: no cover - scipy comes with scikit-learn in the test extra
    chi2 = None

# Two-sided chi-square bounds at p = 1e-6 per tail. Fallbacks are scipy.stats.chi2.ppf(1e-6, df)
# and chi2.isf(1e-6, df) for df = 9 and 99, written out in case scipy is missing.
_CHI2_FALLBACK = {9: (0.2283848, 44.810938), 99: (45.834424, 180.792015)}


def chi2_bounds(df):
    if chi2 is None:
        return _CHI2_FALLBACK[df]
    return chi2.ppf(1e-6, df), chi2.isf(1e-6, df)


def chi2_stat(observed, expected):
    observed = np.asarray(observed, np.float64)
    return float(np.sum((observed - expected) ** 2 / expected))


def chunked_stream(mode, key, n, batch_size, chunk, steps):
    """The index stream drawn the way the runner draws it: ``chunk`` steps per call, with a
    shorter last chunk, the sampler state carried between calls (one compiled program)."""
    idx, state = _chunked_stream(key, mode=mode, n=n, batch_size=batch_size, chunk=chunk,
                                 steps=steps)
    return np.asarray(idx), state


@functools.partial(jax.jit, static_argnames=("mode", "n", "batch_size", "chunk", "steps"))
def _chunked_stream(key, *, mode, n, batch_size, chunk, steps):
    sampler = make_sampler(mode, n, batch_size, chunk)
    num_chunks, rem = divmod(steps, chunk)

    def body(state, c):
        idx, state = sampler.sample(state, key, c * chunk, chunk)
        return state, idx

    state, idx = jax.lax.scan(body, sampler.init(key), jnp.arange(num_chunks, dtype=jnp.int32))
    idx = idx.reshape(num_chunks * chunk, batch_size)
    if rem:
        last, state = sampler.sample(state, key, jnp.asarray(num_chunks * chunk, jnp.int32), rem)
        idx = jnp.concatenate([idx, last])
    return idx, state


KEY = jax.random.key(3)

# (n, batch size, chunk, whether the sampler carries the permutations between chunks, steps);
# every case draws 42 = 6 n positions, so the one-shot streams share their eager compiles.
RESHUFFLE_REGIMES = [
    (7, 3, 2, True, 14),    # chunk * B = 6 <= n; B does not divide n: batches straddle epochs
    (7, 3, 4, False, 14),   # chunk * B = 12 > n: permutations drawn per chunk; a short last chunk
    (7, 7, 1, True, 6),     # B = n: every step is one epoch
]


@pytest.mark.parametrize("n, batch_size, chunk, carries, steps", RESHUFFLE_REGIMES)
def test_reshuffle_epochs_are_permutations(n, batch_size, chunk, carries, steps):
    stream, state = chunked_stream("reshuffle", KEY, n, batch_size, chunk, steps)
    assert (state.perms != ()) == carries  # both sampler regimes are exercised
    flat = stream.reshape(-1)
    full_epochs = len(flat) // n
    assert full_epochs * n == len(flat) == 6 * n
    epochs = flat[: full_epochs * n].reshape(full_epochs, n)
    for e, perm in enumerate(epochs):
        np.testing.assert_array_equal(np.sort(perm), np.arange(n), err_msg=f"epoch {e}")
    # reshuffled: the epochs are not all the same order, and not the identity
    assert len({tuple(p) for p in epochs}) > 1
    assert any(not np.array_equal(p, np.arange(n)) for p in epochs)
    # the chunked stream is the one-shot stream
    np.testing.assert_array_equal(stream, indices("reshuffle", KEY, n, batch_size, steps))
    # the epoch counter has advanced past every full epoch
    assert int(state.epoch) == full_epochs and int(state.offset) == 0


def test_reshuffle_one_shot_in_the_short_regime():
    # steps * B <= n: indices() itself uses the carried-permutation sampler
    idx = indices("reshuffle", KEY, 7, 3, 2)
    assert idx.shape == (2, 3)
    assert len(np.unique(idx)) == 6  # an unfinished epoch repeats nothing
    longer = indices("reshuffle", KEY, 7, 3, 14)  # the other regime, same stream
    np.testing.assert_array_equal(longer[:2], idx)


def test_reshuffle_depends_on_the_key_only():
    a = indices("reshuffle", jax.random.key(0), 7, 3, 14)
    b = indices("reshuffle", jax.random.key(0), 7, 3, 14)
    c = indices("reshuffle", jax.random.key(1), 7, 3, 14)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# One stream serves the uniformity, independence and chunking tests (one set of compiles).
WR_KEY, WR_N, WR_B, WR_STEPS = jax.random.key(0), 10, 2, 5000


def test_with_replacement_is_uniform():
    n, b, steps = WR_N, WR_B, WR_STEPS
    idx = indices("with_replacement", WR_KEY, n, b, steps)
    assert idx.shape == (steps, b)
    assert idx.min() >= 0 and idx.max() < n
    counts = np.bincount(idx.reshape(-1), minlength=n)
    expected = steps * b / n
    lo, hi = chi2_bounds(n - 1)
    assert lo < chi2_stat(counts, expected) < hi


@pytest.mark.parametrize("pairs", ["within_batch", "consecutive_steps"])
def test_with_replacement_draws_are_independent(pairs):
    # Independence of two draws: the 10 x 10 table of pairs is uniform. Sampling without
    # replacement inside a batch would leave the diagonal empty and fail this test.
    n, b, steps = WR_N, WR_B, WR_STEPS
    idx = indices("with_replacement", WR_KEY, n, b, steps)
    if pairs == "within_batch":
        first, second = idx[:, 0], idx[:, 1]
    else:
        first, second = idx[:-1, 0], idx[1:, 0]
    table = np.zeros((n, n))
    np.add.at(table, (first, second), 1)
    lo, hi = chi2_bounds(n * n - 1)
    assert lo < chi2_stat(table, len(first) / n**2) < hi
    if pairs == "within_batch":
        assert np.trace(table) > 0  # repeats inside a batch do happen


def test_with_replacement_stream_is_chunk_invariant():
    # step k's draw depends on (key, k) only: a short chunked run is a prefix of the long one
    steps = 11
    stream, _ = chunked_stream("with_replacement", WR_KEY, WR_N, WR_B, 4, steps)
    long = indices("with_replacement", WR_KEY, WR_N, WR_B, WR_STEPS)
    np.testing.assert_array_equal(stream, long[:steps])


@pytest.mark.parametrize("chunk", [2, 5])
def test_cyclic_order_is_exact(chunk):
    n, b, steps = 7, 3, 11
    want = np.array([[(k * b + j) % n for j in range(b)] for k in range(steps)])
    np.testing.assert_array_equal(indices("cyclic", KEY, n, b, steps), want)
    stream, _ = chunked_stream("cyclic", KEY, n, b, chunk, steps)
    np.testing.assert_array_equal(stream, want)


def test_sampler_argument_checks():
    with pytest.raises(ValueError, match="sampling"):
        make_sampler("shuffle", 7, 2, 3)
    with pytest.raises(ValueError, match="batch_size"):
        make_sampler("reshuffle", 7, 8, 3)
    with pytest.raises(ValueError, match="steps"):
        indices("cyclic", KEY, 7, 2, 0)
    assert sampling.SAMPLINGS == ("with_replacement", "reshuffle", "cyclic")
