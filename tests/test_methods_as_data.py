"""Methods and problems as values: names of values for ``replace``, sweeps equal to separate runs
(one program for any grid of the same size), zero steps, optax factories' traced numbers, the
float32 warning, and losses refused before compiling. What every method keeps (equal by value,
no compile for new values or data, a state that resumes) is tests/test_method_contract.py."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import helpers
import problems
import sgd_bench as sb
from problems.linear import logistic_loss
from sgd_bench import schedules


@pytest.fixture(scope="module")
def problem():
    return helpers.tiny_logistic()


def test_replace_and_values_name_schedule_and_inner_parameters():
    m = sb.averaged(sb.sgd(schedules.inverse_time(0.5, 10.0), 4), start=2)
    assert m.values() == {"inner.step_size.a": 0.5, "inner.step_size.k0": 10.0, "start": 2}
    other = m.replace({"inner.step_size.k0": 20.0, "start": 5})
    assert other == sb.averaged(sb.sgd(schedules.inverse_time(0.5, 20.0), 4), start=5)
    with pytest.raises(ValueError, match="no hyperparameter 'step'.*inner.step_size.a"):
        m.replace(step=0.1)
    # A label never selects a program: a renamed method is the same structure.
    assert sb.sgd(0.1).with_name("mine").structure() == sb.sgd(0.1).structure()


def test_zero_steps(problem):
    x0 = jnp.full(problem.x_shape, 0.2)
    trace = sb.run(problem, sb.sgd(0.1, 2), x0, 0, steps=0)
    assert trace.step.tolist() == [0]
    np.testing.assert_allclose(trace.loss, [problem.loss(x0)], rtol=1e-14)
    np.testing.assert_array_equal(trace.x, x0)
    solver = sb.Solver(problem, sb.saga(0.1, 2))
    state = solver.init(x0, 0)
    after = solver.advance(state, 0)
    np.testing.assert_array_equal(after.x, x0)
    assert int(after.k) == 0 and sb.Solver.grad_evals(after) == problem.n  # SAGA's table at x0


def test_sweep_equals_separate_runs(problem):
    """A product grid over a schedule parameter and an integer start, with the same seed keys
    for every configuration; each row equals ``run_seeds`` of that configuration."""
    method = sb.averaged(sb.sgd(schedules.inverse_sqrt(0.5), 2, "reshuffle"), start=0)
    x0 = jnp.zeros(problem.x_shape)
    grid = {"inner.step_size.a": [0.2, 0.5, 1.0], "start": [0, 4]}
    out = sb.sweep(problem, method, x0, 11, over=grid, seeds=5, steps=30, log_every=10)
    assert out.trace.loss.shape == (6, 5, 4)
    assert out.config(3) == {"inner.step_size.a": 0.5, "start": 4}
    exact = True
    for c in range(6):
        ref = sb.run_seeds(problem, out.method_at(c), x0, 11, seeds=5, steps=30, log_every=10)
        np.testing.assert_allclose(out.trace.x[c], ref.x, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out.trace.loss[c], ref.loss, rtol=1e-12)
        np.testing.assert_array_equal(np.asarray(out.trace.grad_evals)[c], np.asarray(ref.grad_evals))
        exact &= bool(np.array_equal(out.trace.x[c], ref.x))
    # distinct configurations give distinct runs
    assert not np.allclose(out.trace.x[0], out.trace.x[5])
    # Another grid of the same size: the same programs, nothing compiles.
    with helpers.compiles_nothing():
        other = sb.sweep(problem, method, x0, 11, over={"inner.step_size.a": [0.3, 0.6, 0.9],
                                                        "start": [1, 2]},
                         seeds=5, steps=30, log_every=10)
        jax.block_until_ready(other.trace)
    # In blocks of 4 configurations (the last block repeats its end): the same rows.
    blocked = sb.sweep(problem, method, x0, 11, over=grid, seeds=5, steps=30, log_every=10, block=4)
    np.testing.assert_allclose(blocked.trace.x, out.trace.x, rtol=1e-12, atol=1e-15)
    print("sweep rows bitwise equal to separate runs:", exact)


def test_sweep_refuses_unknown_names_and_bad_grids(problem):
    x0 = jnp.zeros(problem.x_shape)
    with pytest.raises(ValueError, match="no hyperparameter 'lr'.*step_size"):
        sb.sweep(problem, sb.sgd(0.1), x0, 0, over={"lr": [0.1]}, seeds=2, steps=3)
    with pytest.raises(ValueError, match="finite numbers"):
        sb.sweep(problem, sb.sgd(0.1), x0, 0, over={"step_size": [0.1, np.nan]}, seeds=2, steps=3)
    with pytest.raises(ValueError, match="integers"):
        sb.sweep(problem, sb.averaged(sb.sgd(0.1)), x0, 0, over={"start": [0.5]}, seeds=2, steps=3)


def test_optax_factory_form_traces_its_numbers_and_matches_optax():
    p = helpers.tiny_least_squares()
    x0 = jnp.ones(p.x_shape)
    by_factory = sb.from_optax(optax.adam, learning_rate=0.05, b1=0.8, batch_size=None)
    assert by_factory.values() == {"b1": 0.8, "learning_rate": 0.05}
    ready = sb.from_optax(optax.adam(0.05, b1=0.8), batch_size=None)
    a = sb.run(p, by_factory, x0, 0, steps=15)
    b = sb.run(p, ready, x0, 0, steps=15)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-12)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        sb.from_optax(optax.sgd, learning_rate=-1.0)


def test_float64_input_under_float32_warns_with_what_to_set():
    A_, y_ = helpers.logistic_data()
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.warns(sb.PrecisionWarning, match="jax_enable_x64"):
            problems.logistic_regression(A_, y_)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            p = problems.logistic_regression(A_.astype(np.float32), y_.astype(np.float32))
        assert p.dtype == jnp.float32
        with pytest.warns(sb.PrecisionWarning, match="x0 is float64"):
            sb.Solver(p, sb.sgd(0.1)).init(np.zeros(3), 0)
    finally:
        jax.config.update("jax_enable_x64", True)


def _branching_sgd(learning_rate):
    if learning_rate > 1.0:  # a Python branch on the number: it cannot be traced
        learning_rate = 1.0
    return optax.sgd(learning_rate)


def test_optax_factories_trace_their_learning_rate_and_a_branching_one_gets_static_numbers():
    for factory in (optax.adam, optax.sgd, optax.rmsprop, optax.adamw, optax.lion):
        assert not sb.from_optax(factory, learning_rate=0.01).options["static_numbers"], factory
    branching = sb.from_optax(_branching_sgd, learning_rate=0.01)
    assert branching.options["static_numbers"] and branching.values() == {}
    # optax.lbfgs (the earlier example of static numbers) needs the loss in its update, which a
    # plain optax step does not pass: refused when built (sb.lbfgs runs it with its line search)
    with pytest.raises(TypeError, match=r"^transformation optax.lbfgs: its update needs more arguments"):
        sb.from_optax(optax.lbfgs, learning_rate=0.01, batch_size=None)


def _vector_loss(x, datum):
    return x * datum[1]


def _int_loss(x, datum):
    return jnp.round(jnp.dot(datum[0], x)).astype(jnp.int32)


def _complex_loss(x, datum):
    return jnp.dot(datum[0], x) * 1j


def _branching_loss(x, datum):
    if jnp.dot(datum[0], x) > 0:  # a Python branch on a traced value
        return jnp.dot(datum[0], x)
    return -jnp.dot(datum[0], x)


def _one_argument_loss(x):
    return jnp.sum(x)


@pytest.mark.parametrize("loss_i, regularizer, match", [
    (_vector_loss, None, "must return a scalar; with x0 it returns shape \\(3,\\)"),
    (_int_loss, None, "real floating scalar, got dtype int32"),
    (_complex_loss, None, "real floating scalar, got dtype complex"),
    (_branching_loss, None, "loss_i\\(x, datum\\) failed with TracerBoolConversionError"),
    (_one_argument_loss, None, "loss_i\\(x, datum\\) failed with TypeError"),
    (logistic_loss, lambda x: x ** 2, "the regularizer r\\(x\\) of problem .* must return a scalar"),
])
def test_a_loss_that_is_not_a_real_scalar_is_refused_before_compiling(loss_i, regularizer, match):
    A_, y_ = helpers.logistic_data()
    with helpers.compiles_nothing():  # with an x_shape, its constructor traces loss_i there (leftovers34b)
        with pytest.raises(ValueError, match=match.replace("with x0", "with x_shape")):
            sb.FiniteSum(loss_i, (A_, y_), regularizer=regularizer, x_shape=(3,), name="bad")
    problem = sb.FiniteSum(loss_i, (A_, y_), regularizer=regularizer, name="bad")  # no x_shape: x0 checks
    with helpers.compiles_nothing():
        with pytest.raises(ValueError, match=match):
            sb.run(problem, sb.sgd(0.1, 2), np.zeros(3), 0, steps=3)
        with pytest.raises(ValueError, match=match):
            sb.Solver(problem, sb.saga(0.1)).init(np.zeros(3), 0)
