"""Polyak-Ruppert averaging against a NumPy reference written from the definition."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import sgd_bench as sb
from sgd_bench.averaging import averaged
from sgd_bench.sampling import indices


@pytest.mark.parametrize("start", [0, 4])
def test_averaged_sgd_matches_numpy(start):
    problem = helpers.tiny_least_squares()
    A, b = (np.asarray(a) for a in problem.data)
    mu = helpers.LS_MU
    key = jax.random.key(5)
    steps, batch, alpha = 11, 2, 0.05
    x0 = np.linspace(-1.0, 1.0, problem.x_shape[0])
    trace = sb.run(problem, averaged(sb.sgd(alpha, batch), start=start), jnp.asarray(x0), key,
                   steps=steps, log_every=3)

    idx = indices("with_replacement", key, problem.n, batch, steps)
    iterates = [x0]
    x = x0.copy()
    for k in range(steps):
        rows = idx[k]
        grad = A[rows].T @ (A[rows] @ x - b[rows]) / batch + mu * x
        x = x - alpha * grad
        iterates.append(x)
    iterates = np.array(iterates)

    def mean_at(k):  # x̄_k over x_start..x_k, or x_k before start
        return iterates[k] if k < start else iterates[start:k + 1].mean(axis=0)

    np.testing.assert_allclose(trace.x, mean_at(steps), rtol=1e-12, atol=1e-14)
    expected_losses = [float(problem.loss(jnp.asarray(mean_at(int(k))))) for k in trace.step]
    np.testing.assert_allclose(trace.loss, expected_losses, rtol=1e-12)
    assert int(np.asarray(trace.grad_evals)[-1]) == steps * batch


def test_averaging_rejects_non_methods():
    with pytest.raises(TypeError, match="method"):
        averaged(lambda x: x)
    with pytest.raises(ValueError, match="start"):
        averaged(sb.sgd(0.1), start=-1)
