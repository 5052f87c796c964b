"""Additive Gaussian gradient noise (``sgd_bench.noise.noisy_sgd``): without noise it is GD or
SGD, with noise each step adds alpha * sigma * N(0, I), independently per seed and per step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import sgd_bench as sb
from sgd_bench.noise import noisy_sgd


@pytest.fixture(scope="module")
def problem():
    return helpers.tiny_least_squares()


def test_without_noise_it_is_gd_and_sgd(problem):
    """Step for step: from the same state, batch and step counter, noisy_sgd with sigma = 0 takes
    exactly the step of gd / sgd (the runner's loop around it is the same for every method)."""
    x = jnp.asarray(np.linspace(-1.0, 1.0, problem.x_shape[0]))
    idx, k = jnp.array([4, 0, 9]), jnp.asarray(5, jnp.int32)
    for noisy, plain, batch in ((noisy_sgd(0.2, 0.0), sb.gd(0.2), jnp.zeros(0, jnp.int32)),
                                (noisy_sgd(0.2, 0.0, 3, "reshuffle"), sb.sgd(0.2, 3, "reshuffle"), idx)):
        assert (noisy.batch_size, noisy.sampling) == (plain.batch_size, plain.sampling)
        key = jax.random.key(0)
        a = jax.jit(noisy.step)(noisy.init(x, problem, key), problem, batch, k)
        b = jax.jit(plain.step)(plain.init(x, problem, key), problem, batch, k)
        np.testing.assert_allclose(a.x, b.x, rtol=1e-15)
        assert int(a.grad_evals) == int(b.grad_evals)


def test_noise_is_gaussian_with_the_given_scale_and_independent(problem):
    """Two steps of GD + noise over 2000 seeds: each step's noise xi_k = (x_k - alpha grad f(x_k)
    - x_{k+1}) / (alpha sigma) is N(0, I), independent across coordinates, steps and seeds."""
    alpha, sigma, seeds = 0.1, 0.7, 2000
    method = noisy_sgd(alpha, sigma)
    x0 = jnp.zeros(problem.x_shape)
    trace = sb.run_seeds(problem, method, x0, jax.random.key(11), seeds=seeds, steps=2,
                         log_every=1, log_iterates=True)
    xs = np.asarray(trace.xs)                                      # (seeds, 3, d)
    grads = np.asarray(jax.jit(jax.vmap(jax.vmap(problem.grad)))(jnp.asarray(xs[:, :2])))
    xi = (xs[:, :2] - alpha * grads - xs[:, 1:]) / (alpha * sigma)  # (seeds, 2, d)
    xi = xi.reshape(seeds, -1)
    se = 1 / np.sqrt(seeds)
    assert np.all(np.abs(xi.mean(0)) < 5 * se)
    assert np.all(np.abs(xi.std(0) - 1) < 5 * se / np.sqrt(2))    # sd of a sample sd: ~1/sqrt(2S)
    corr = np.corrcoef(xi.T)
    assert np.all(np.abs(corr[np.triu_indices(xi.shape[1], 1)]) < 5 * se)
    # Seed s is the single run with the seed's key: the noise comes from that key, and not from
    # how the run is cut into logging chunks (two chunks there, one here).
    keys = sb.seed_keys(jax.random.key(11), seeds)
    single = sb.run(problem, method, x0, keys[7], steps=2, log_every=2)
    np.testing.assert_allclose(single.x, trace.x[7], rtol=1e-14)


def test_traced_step_size_and_noise_give_the_float_steps(problem):
    """Inside jit, vmapped over (alpha, sigma) as a one-program sweep does, a step equals the
    step of the method built from floats (the whole sweep against ``sgd_bench.run`` is checked
    in test_local_minima)."""
    x = jnp.ones(problem.x_shape)
    idx, k = jnp.array([1, 2]), jnp.asarray(3, jnp.int32)
    key = jax.random.key(2)

    def step(alpha, sigma):
        method = noisy_sgd(alpha, sigma, 2)
        return method.step(method.init(x, problem, key), problem, idx, k).x

    xs = np.asarray(jax.jit(jax.vmap(step))(jnp.array([0.05, 0.2]), jnp.array([0.3, 0.0])))
    for j, (alpha, sigma) in enumerate([(0.05, 0.3), (0.2, 0.0)]):
        method = noisy_sgd(alpha, sigma, 2)
        ref = jax.jit(method.step)(method.init(x, problem, key), problem, idx, k).x
        np.testing.assert_allclose(xs[j], ref, rtol=1e-14)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="noise_std"):
        noisy_sgd(0.1, -1.0)
    with pytest.raises(ValueError, match="step_size"):
        noisy_sgd(0.0, 1.0)
    with pytest.raises(ValueError, match="batch_size"):
        noisy_sgd(0.1, 1.0, batch_size=0)
    with pytest.raises(ValueError, match="sampling"):
        noisy_sgd(0.1, 1.0, batch_size=2, sampling="shuffle")
    assert noisy_sgd(0.1, 0.0).name == "GD"
    assert noisy_sgd(0.1, 0.5, 4).name == "SGD batch 4 + N(0, sigma^2) noise"
