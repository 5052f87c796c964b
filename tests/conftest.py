"""Shared fixtures for the sgd-bench test suite.

Every test runs in float64 (``jax_enable_x64``) on whatever backend ``JAX_PLATFORMS`` selects
(CPU in CI), with XLA's backend optimization level 0 unless ``SGD_BENCH_TEST_XLA_OPT=1``, and
compiles through the command line's persistent compilation cache. The fixtures are tiny problems
whose data is written here with NumPy, so the reference computations in the tests do not depend
on the code under test.
"""

from __future__ import annotations

import os

# The suite's time is mostly XLA compiling small programs; backend optimization level 0 cuts it
# by about a third and changes no result the tests check (speed is measured by scripts/, not
# here). Set before the backend starts; SGD_BENCH_TEST_XLA_OPT=1 keeps XLA's default.
if os.environ.get("SGD_BENCH_TEST_XLA_OPT") != "1" and "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

# The suite compiles a few thousand small programs, the same ones on every run: they go through
# the command line's persistent compilation cache (``SGD_BENCH_COMPILATION_CACHE``: 0 turns it
# off, a path moves it), so a second run loads them from disk. Set before anything compiles: JAX
# reads the folder once per process, and an in-process ``cli.main`` turned the cache on half-way
# through a worker's tests before. A program loaded from the cache still counts as a compile
# (``helpers.count_compiles``; tests/test_compile_cache.py), so the no-recompile checks keep
# their force; the one test that needs a fresh compile turns the cache off around it.
from sgd_bench_harness import compile_cache  # noqa: E402

compile_cache.enable()

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


@pytest.fixture
def no_compile(monkeypatch):
    """Fails the test if XLA compiles anything or the engine's compiled programs are reached
    while it runs (``helpers.forbid_compiled_code``): for checks of bad input."""
    with helpers.forbid_compiled_code(monkeypatch):
        yield
