"""The overflow-free evaluation counter (``sgd_bench.Count``): exact past 2**32, under jit and scan, with x64 off."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sgd_bench import Count
from sgd_bench.compat import enable_x64

U32 = 2**32


def test_count_carries_past_2_to_the_32():
    c = Count.zero().add(U32 - 1).add(2)
    assert int(c) == U32 + 1
    assert int(c.hi) == 1 and int(c.lo) == 1
    assert np.asarray(c).dtype == np.int64 and int(np.asarray(c)) == U32 + 1


def test_count_carry_on_uint32_arrays():
    c = Count.from_parts(jnp.array([0, 0, 5, 7], jnp.uint32), jnp.array([U32 - 1, 5, U32 - 2, 0], jnp.uint32))
    out = c.add(jnp.array([1, 3, 3, U32 - 1], jnp.uint32))
    want = np.array([U32, 8, 6 * U32 + 1, 7 * U32 + U32 - 1], dtype=np.int64)
    np.testing.assert_array_equal(out.to_numpy(), want)
    np.testing.assert_array_equal(np.asarray(out.hi), [1, 0, 6, 7])
    with pytest.raises(TypeError, match="scalar"):
        int(out)


def test_count_is_exact_under_jit_and_scan_with_x64_off():
    # 50 full gradients at n = 10^8 pass 2^32 (and 2^31, where int32 would wrap)
    n, steps = 10**8, 50
    with enable_x64(False):
        @jax.jit
        def count(c):
            def body(c, _):
                return c.add(n), None
            return jax.lax.scan(body, c, None, length=steps)[0]

        c = count(Count.zero())
        assert c.hi.dtype == jnp.uint32 and c.lo.dtype == jnp.uint32
        assert int(c) == n * steps
        # the same under vmap
        many = jax.vmap(lambda k: Count.zero().add(k).add(k))(
            jnp.array([U32 // 2, U32 - 1, 3], jnp.uint32))
        np.testing.assert_array_equal(np.asarray(many), [U32, 2 * U32 - 2, 6])


def test_count_of_a_python_int_above_int32():
    assert int(Count.zero().add(3_000_000_000).add(3_000_000_000)) == 6_000_000_000
