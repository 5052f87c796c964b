"""Shared fixtures for the sgd-bench test suite.

Every test runs in float64 (``jax_enable_x64``) on whatever backend ``JAX_PLATFORMS`` selects
(CPU in CI). The fixtures are tiny problems whose data is written here with NumPy, so the
reference computations in the tests do not depend on the code under test.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402


@pytest.fixture(scope="session")
def tiny_logistic():
    """Logistic regression, n = 13, d = 3, mu = 0.1 (strongly convex)."""
    return helpers.tiny_logistic()


@pytest.fixture(scope="session")
def tiny_least_squares():
    """Ridge least squares, n = 13, d = 3, mu = 0.05."""
    return helpers.tiny_least_squares()


@pytest.fixture(scope="session")
def custom_problem():
    """A user-written FiniteSum: pseudo-Huber regression with dict data and a dict iterate."""
    return helpers.custom_problem()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
