"""Bad input: a ValueError or TypeError raised by sgd-bench's own Python code, naming the
argument, before any compiled code runs."""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import sgd_bench
from sgd_bench import FiniteSum, L2, schedules, stats


def raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match) as excinfo:
        fn(*args, **kwargs)
    helpers.assert_raised_in_package(excinfo)
    return excinfo


X0 = jnp.zeros(3)
# Built here, at import: making a JAX array compiles a small program, which the ``no_compile``
# fixture would count against the check under test.
X0_LONG, X0_COLUMN, X_STAR_SHORT = jnp.zeros(4), jnp.zeros((3, 1)), jnp.zeros(2)
X0_NAN = jnp.array([0.0, jnp.nan, 0.0])
X0_DICT_LONG, X0_DICT_PART = {"w": jnp.zeros(4), "c": jnp.zeros(())}, {"w": jnp.zeros(3)}
TWO_KEYS = sgd_bench.seed_keys(0, 2)


# -- problem construction ----------------------------------------------------------------------
def test_zero_one_labels_are_refused():
    A, y = helpers.logistic_data()
    info = raises(ValueError, r"labels y must be in \{-1, \+1\}", problems.logistic_regression,
                  A, (y + 1) / 2)
    assert "2*y - 1" in str(info.value)  # the hint for the {0, 1} mistake
    raises(ValueError, "labels y", problems.logistic_regression, A, 2 * y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_data_is_refused(bad):
    A, y = helpers.logistic_data()
    A_bad = A.copy()
    A_bad[4, 1] = bad
    raises(ValueError, "A contains 1 NaN or Inf", problems.logistic_regression, A_bad, y)
    raises(ValueError, "A contains", problems.least_squares, A_bad, y)
    b_bad = y.copy()
    b_bad[2] = bad
    raises(ValueError, "b contains", problems.least_squares, A, b_bad)
    raises(ValueError, "y contains", problems.logistic_regression, A, b_bad)
    data = helpers.custom_data()
    data["t"] = data["t"].copy()
    data["t"][0] = bad
    raises(ValueError, re.escape("data['t'] contains"), FiniteSum, helpers.huber_loss_i, data)


def test_mismatched_lengths_are_refused():
    A, y = helpers.logistic_data()
    raises(ValueError, "A and y must have the same length", problems.logistic_regression, A, y[:-1])
    raises(ValueError, "A and b must have the same length", problems.least_squares, A[:-2], y)
    data = {"a": np.ones((5, 2)), "t": np.ones(4)}
    raises(ValueError, "leading axis n", FiniteSum, helpers.huber_loss_i, data)


def test_bad_problem_arguments():
    A, y = helpers.logistic_data()
    raises(ValueError, "mu", problems.logistic_regression, A, y, -0.1)
    raises(ValueError, "A must be a 2-D", problems.least_squares, A[0], y)
    raises(ValueError, "problem_class", FiniteSum, helpers.huber_loss_i, helpers.custom_data(),
           problem_class="convexish")
    raises(TypeError, "loss_i", FiniteSum, "not callable", helpers.custom_data())
    raises(ValueError, "block_rows", FiniteSum, helpers.huber_loss_i, helpers.custom_data(),
           block_rows=0)


def test_unknown_problem_lists_known_names():
    info = raises(ValueError, "unknown problem 'lecture-logregg'", problems.get, "lecture-logregg")
    for name in problems.names():
        assert name in str(info.value)


# -- methods and schedules -----------------------------------------------------------------------
def test_batch_size_below_one():
    raises(ValueError, "batch_size", sgd_bench.sgd, 0.1, 0)
    raises(ValueError, "batch_size", sgd_bench.from_optax, __import__("optax").sgd(0.1), 0)
    raises(TypeError, "batch_size", sgd_bench.sgd, 0.1, 2.5)


@pytest.mark.parametrize("step", [0.0, -0.5, np.nan, np.inf])
def test_non_positive_step_is_refused(step):
    raises(ValueError, "step_size", sgd_bench.sgd, step)
    raises(ValueError, "step_size", sgd_bench.gd, step)


@pytest.mark.parametrize("schedule", [lambda k: 0.0, lambda k: -0.1 * (k + 1), lambda k: jnp.nan])
def test_schedule_non_positive_at_zero_is_refused(schedule):
    raises(ValueError, "step_size must give a step size > 0", sgd_bench.sgd, schedule)
    raises(ValueError, "step_size", sgd_bench.gd, schedule)


def test_schedule_that_fails_is_reported():
    def broken(k):
        raise RuntimeError("boom")

    info = raises(TypeError, "step_size", sgd_bench.sgd, broken)
    assert "boom" in str(info.value)


def test_non_number_step_is_refused():
    raises(TypeError, "step_size", sgd_bench.sgd, "0.1")
    raises(TypeError, "step_size", sgd_bench.sgd, True)


def test_unknown_sampling_mode():
    info = raises(ValueError, "sampling", sgd_bench.sgd, 0.1, 1, "shuffle")
    for mode in sgd_bench.SAMPLINGS:
        assert mode in str(info.value)
    raises(ValueError, "sampling", sgd_bench.from_optax, __import__("optax").adam(0.1), 1, "random")


def test_from_optax_needs_a_transformation():
    raises(TypeError, "transformation", sgd_bench.from_optax, lambda g: g)


# -- run ---------------------------------------------------------------------------------------
SGD = sgd_bench.sgd(0.1, 2)


@pytest.mark.usefixtures("no_compile")
class TestRunArguments:
    def test_batch_size_above_n(self, tiny_logistic):
        big = sgd_bench.sgd(0.1, tiny_logistic.n + 1)
        raises(ValueError, r"batch_size must be in \[1, n\] = \[1, 13\]", sgd_bench.run,
               tiny_logistic, big, X0, 0, steps=5)
        raises(ValueError, "batch_size", sgd_bench.run_seeds, tiny_logistic, big, X0, 0,
               seeds=2, steps=5)

    @pytest.mark.parametrize("steps", [-1, -3])
    def test_steps_must_not_be_negative(self, tiny_logistic, steps):
        raises(ValueError, "steps", sgd_bench.run, tiny_logistic, SGD, X0, 0, steps=steps)
        raises(ValueError, "steps", sgd_bench.run_seeds, tiny_logistic, SGD, X0, 0, seeds=2,
               steps=steps)

    def test_steps_must_be_an_integer(self, tiny_logistic):
        raises(TypeError, "steps", sgd_bench.run, tiny_logistic, SGD, X0, 0, steps=10.0)

    @pytest.mark.parametrize("log_every", [0, 11])
    def test_log_every_in_range(self, tiny_logistic, log_every):
        raises(ValueError, "log_every", sgd_bench.run, tiny_logistic, SGD, X0, 0, steps=10,
               log_every=log_every)

    def test_x0_of_the_wrong_shape(self, tiny_logistic, custom_problem):
        raises(ValueError, r"x0 must have shape \(3,\)", sgd_bench.run, tiny_logistic, SGD,
               X0_LONG, 0, steps=5)
        raises(ValueError, "x0 must have shape", sgd_bench.run, tiny_logistic, SGD,
               X0_COLUMN, 0, steps=5)
        raises(ValueError, "x0 does not fit", sgd_bench.run, custom_problem, SGD,
               X0_DICT_LONG, 0, steps=5)
        raises(ValueError, "x0 does not fit", sgd_bench.run, custom_problem, SGD,
               X0_DICT_PART, 0, steps=5)

    def test_x0_not_finite(self, tiny_logistic):
        raises(ValueError, "x0 contains", sgd_bench.run, tiny_logistic, SGD,
               X0_NAN, 0, steps=5)

    def test_x_star_of_the_wrong_shape(self, tiny_logistic):
        raises(ValueError, "x_star", sgd_bench.run, tiny_logistic, SGD, X0, 0, steps=5,
               x_star=X_STAR_SHORT)

    def test_bad_key(self, tiny_logistic):
        raises(TypeError, "key", sgd_bench.run, tiny_logistic, SGD, X0, "seed", steps=5)
        raises(ValueError, "key", sgd_bench.run, tiny_logistic, SGD, X0,
               TWO_KEYS, steps=5)

    def test_bad_seeds(self, tiny_logistic):
        raises(ValueError, "seeds", sgd_bench.run_seeds, tiny_logistic, SGD, X0, 0, seeds=0,
               steps=5)

    def test_wrong_types(self, tiny_logistic):
        raises(TypeError, "problem", sgd_bench.run, "tiny", SGD, X0, 0, steps=5)
        raises(TypeError, "method", sgd_bench.run, tiny_logistic, "sgd", X0, 0, steps=5)


# -- the guard itself ---------------------------------------------------------------------------
def test_the_no_compile_guard_stops_a_good_run_and_a_fresh_compile(monkeypatch, tiny_logistic):
    sgd_bench.run(tiny_logistic, SGD, X0, 0, steps=5)  # compiled before the guard: still refused
    with pytest.raises(AssertionError, match="compiled code ran"):
        with helpers.forbid_compiled_code(monkeypatch):
            sgd_bench.run(tiny_logistic, SGD, X0, 0, steps=5)
    with pytest.raises(AssertionError, match="XLA compiled"):
        with helpers.forbid_compiled_code(monkeypatch):
            jnp.arange(7.0) * 3.0 + 1.0


def test_the_no_compile_guard_fails_when_what_it_patches_is_gone(monkeypatch):
    monkeypatch.setitem(helpers.COMPILED_PROGRAMS, "sgd_bench.runner", ("_renamed_jit",))
    with pytest.raises(AssertionError, match="sgd_bench.runner._renamed_jit is gone"):
        with helpers.forbid_compiled_code(monkeypatch):
            pass


# -- schedules and stats -------------------------------------------------------------------------
@pytest.mark.parametrize("factory, args, name", [
    (schedules.constant, (0.0,), "a"),
    (schedules.constant, (-1.0,), "a"),
    (schedules.constant, (np.nan,), "a"),
    (schedules.lecture_decreasing, (0.0,), "mu"),
    (schedules.lecture_decreasing, (-2.0,), "mu"),
    (schedules.inverse_time, (-1.0, 10.0), "a"),
    (schedules.inverse_time, (1.0, 0.0), "k0"),
    (schedules.inverse_sqrt, (0.0,), "a"),
])
def test_schedule_factories_check_arguments(factory, args, name):
    raises(ValueError, f"^{name} must be", factory, *args)


def test_stats_check_the_mask():
    raises(ValueError, "diverged", stats.mean, np.ones((3, 4)), np.array([True, False]))
    raises(ValueError, "seed axis", stats.mean, np.float64(1.0))


def test_l2_is_a_value():
    assert L2(0.1)(jnp.array([3.0, 4.0])) == pytest.approx(0.5 * 0.1 * 25.0)
