"""sgd_bench.validation: a seed for jax.random.key must not alias another seed's numbers."""

import numpy as np
import pytest

import problems
from sgd_bench import compat, validation


def test_seeds_of_32_bits_or_more_are_refused_while_x64_is_off():
    with compat.enable_x64(False):
        _refused_while_x64_is_off()


def _refused_while_x64_is_off():
    assert validation.jax_seed("seed", 2**32 - 1) == 2**32 - 1
    with pytest.raises(ValueError, match=r"seed 4294967296 is >= 2\*\*32.*seed 0's numbers"):
        validation.jax_seed("seed", 2**32)
    for make in (lambda s: problems.synthetic_logreg(n=8, d=2, seed=s),
                 lambda s: problems.get("sparse-logreg", n=8, d=16, row_nnz=2, seed=s)):
        with pytest.raises(ValueError, match="with jax_enable_x64 off JAX keeps only"):
            make(2**32 + 3)


def test_under_x64_a_large_seed_draws_its_own_data():
    with compat.enable_x64(True):
        small = problems.synthetic_logreg(n=8, d=2, seed=3)
        large = problems.synthetic_logreg(n=8, d=2, seed=2**32 + 3)
        assert not np.array_equal(np.asarray(small.data[0]), np.asarray(large.data[0]))
