"""Runner hooks: iterates logged on request, and a key for methods with randomness of their own."""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import sgd_bench as sb
from sgd_bench.counting import Count
import helpers


def test_logged_iterates_reproduce_the_logged_losses():
    problem = helpers.tiny_logistic()
    method = sb.sgd(0.2, batch_size=2)
    x0 = jnp.ones(problem.x_shape)
    trace = sb.run(problem, method, x0, jax.random.key(3), steps=9, log_every=4, log_iterates=True)
    assert trace.xs.shape == (4, problem.x_shape[0])  # steps 0, 4, 8, 9
    np.testing.assert_array_equal(trace.xs[0], x0)
    np.testing.assert_array_equal(trace.xs[-1], trace.x)
    losses = jax.vmap(problem.loss)(trace.xs)
    np.testing.assert_allclose(losses, trace.loss, rtol=1e-13)
    plain = sb.run(problem, method, x0, jax.random.key(3), steps=9, log_every=4)
    assert plain.xs is None
    np.testing.assert_array_equal(plain.x, trace.x)


class NoisyState(NamedTuple):
    """State of GD with Gaussian noise added to each gradient."""

    x: Any
    grad_evals: Count
    key: Any


def _noisy_init(p, x0, problem, key):
    del p, problem
    return NoisyState(x0, Count.zero(), key)  # the method's own key, from the runner


def _noisy_step(p, state, problem, idx, k):
    del idx
    noise = p.scale * jax.random.normal(jax.random.fold_in(state.key, k), state.x.shape, state.x.dtype)
    x = state.x - p.step * (problem.grad(state.x) + noise)
    return NoisyState(x, state.grad_evals.add(problem.n), state.key)


def noisy_gd(step, scale):
    return sb.Method(_noisy_init, _noisy_step, hyperparams={"step": step, "scale": scale},
                     name="noisy GD")


def test_methods_with_a_key_get_one_per_seed():
    problem = helpers.tiny_least_squares()
    x0 = jnp.zeros(problem.x_shape)
    method = noisy_gd(0.1, 0.5)
    traces = sb.run_seeds(problem, method, x0, jax.random.key(1), seeds=3, steps=5, log_every=5)
    finals = np.asarray(traces.x)
    assert not np.allclose(finals[0], finals[1]) and not np.allclose(finals[1], finals[2])
    # Seed s equals a single run with the seed's key: the key comes from the run key.
    keys = sb.seed_keys(jax.random.key(1), 3)
    single = sb.run(problem, method, x0, keys[2], steps=5, log_every=5)
    np.testing.assert_allclose(single.x, finals[2], rtol=1e-14)
    # Without noise the method is plain GD.
    quiet = sb.run(problem, noisy_gd(0.1, 0.0), x0, 0, steps=5, log_every=5)
    np.testing.assert_allclose(quiet.x, sb.run(problem, sb.gd(0.1), x0, 0, steps=5).x, rtol=1e-14)
