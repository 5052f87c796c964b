"""GD with Armijo backtracking: f never increases, the trials and counts match a NumPy loop
written from the rule, and it converges."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import zoo_helpers
from sgd_bench.line_search import gd_armijo

# A first trial far too long for these problems (L ~ 0.4 and 1.7), so every search backtracks.
BIG = gd_armijo(initial_step=40.0, shrink=0.5, c=0.3, grow=2.0)
RESTART = gd_armijo(initial_step=40.0, shrink=0.7, c=0.3, grow=None)


def np_armijo(loss, grad, x0, steps, t0, shrink, c, grow, max_trials=60):
    """The backtracking rule written out: iterates, values and the trials of each step."""
    x, t_first = np.array(x0, dtype=np.float64), t0
    xs, trials = [x.copy()], []
    for _ in range(steps):
        f, g = loss(x), grad(x)
        t, count, accepted = t_first, 0, False
        while not accepted and count < max_trials:
            count += 1
            accepted = loss(x - t * g) <= f - c * t * (g @ g)
            if not accepted:
                t *= shrink
        if accepted:
            x = x - t * g
        trials.append(count)
        t_first = t0 if grow is None else t * grow
        xs.append(x.copy())
    return np.array(xs), np.array(trials)


@pytest.mark.parametrize("problem_name, method, grow, shrink", [
    ("tiny-logistic", BIG, 2.0, 0.5), ("tiny-least-squares", RESTART, None, 0.7),
])
def test_matches_numpy_and_counts_every_evaluation(problem_name, method, grow, shrink):
    problem = helpers.problem(problem_name)
    loss, grad = helpers.np_reference(problem)
    x0 = np.array([0.5, -1.0, 0.25])
    steps = 12
    states = zoo_helpers.drive(method, problem, jnp.asarray(x0), steps=steps)
    xs, trials = np_armijo(loss, grad, x0, steps, 40.0, shrink, 0.3, grow)
    assert trials[0] > 3  # the long first trial is rejected several times
    np.testing.assert_allclose(np.array([np.asarray(s.x) for s in states]), xs, rtol=1e-10,
                               atol=1e-13)
    n = problem.n
    np.testing.assert_array_equal([int(s.trials) for s in states[1:]], trials)
    np.testing.assert_array_equal(zoo_helpers.counts(states), n * np.arange(steps + 1))
    # f(x_0) in init, then one f per trial
    np.testing.assert_array_equal(zoo_helpers.counts(states, "loss_evals"),
                                  n * (1 + np.concatenate([[0], np.cumsum(trials)])))


@pytest.mark.parametrize("problem_name, method", [
    ("tiny-logistic", BIG), ("tiny-least-squares", RESTART), ("custom", gd_armijo()),
])
def test_never_increases_f_and_converges(problem_name, method):
    problem = helpers.problem(problem_name)
    rng = np.random.default_rng(0)
    x0 = helpers.custom_x(rng) if problem_name == "custom" else jnp.asarray(rng.standard_normal(3))
    states = zoo_helpers.drive(method, problem, x0, steps=60)
    carried = np.array([float(s.f) for s in states])  # the method's own f: exactly monotone
    assert np.all(np.diff(carried) <= 0.0), np.max(np.diff(carried))
    values = zoo_helpers.losses(problem, states)
    np.testing.assert_allclose(carried, values, rtol=1e-15)
    # f evaluated separately (another compiled program) may round differently: a few ulps
    assert np.all(np.diff(values) <= 4 * np.finfo(float).eps * np.abs(values[1:]))
    # converged: ||grad f||^2 < 1e-12, so f - f* <= ||grad f||^2 / (2 mu) < 1e-10
    g = jax.tree_util.tree_leaves(problem.grad(states[-1].x))
    assert sum(float(jnp.sum(leaf**2)) for leaf in g) < 1e-12


def test_a_failed_search_keeps_the_iterate():
    """One trial of a step far too long: rejected, so x stays and f does not move."""
    problem = helpers.problem("tiny-least-squares")
    method = gd_armijo(initial_step=1e3, max_trials=1, grow=None)
    x0 = jnp.array([0.5, -1.0, 0.25])
    states = zoo_helpers.drive(method, problem, x0, steps=3)
    for s in states:
        np.testing.assert_array_equal(np.asarray(s.x), np.asarray(x0))
    np.testing.assert_array_equal(zoo_helpers.counts(states, "loss_evals"),
                                  problem.n * np.arange(1, 5))
    assert float(states[-1].f) == float(states[0].f)


def test_argument_errors():
    with pytest.raises(ValueError, match="initial_step"):
        gd_armijo(0.0)
    with pytest.raises(ValueError, match="shrink"):
        gd_armijo(shrink=1.0)
    with pytest.raises(ValueError, match="c must"):
        gd_armijo(c=1.5)
    with pytest.raises(ValueError, match="grow"):
        gd_armijo(grow=0.5)
    with pytest.raises(ValueError, match="max_trials"):
        gd_armijo(max_trials=0)
