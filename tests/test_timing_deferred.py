"""The timing harness's deferred loss (``timed_run(..., defer_loss=True)``): the same losses as
one evaluation per log point, evaluated once after the clock stops; and L-BFGS's streamed loss,
whose derivative is the problem's own streamed gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import sgd_bench as sb
from sgd_bench.lbfgs import _streamed_loss
from sgd_bench.timing import timed_run


@pytest.mark.parametrize("method", [sb.gd(0.3), sb.sgd(0.3, 4)], ids=["gd", "sgd4"])
def test_deferred_loss_equals_one_loss_per_log_point(method):
    # block_rows=4 makes the loss a streamed scan over blocks (with a tail), the vmapped case
    problem = helpers.tiny_logistic().replace(block_rows=4)
    x0 = jnp.ones(problem.x_shape)
    events = []
    deferred = timed_run(problem, method, x0, jax.random.key(2), steps=10, log_every=4,
                         on_event=events.append, defer_loss=True)
    each = timed_run(problem, method, x0, jax.random.key(2), steps=10, log_every=4)
    np.testing.assert_allclose(deferred.loss, each.loss, rtol=1e-13)
    np.testing.assert_array_equal(deferred.grad_evals, each.grad_evals)
    np.testing.assert_array_equal(deferred.x, each.x)
    reference = sb.run(problem, method, x0, jax.random.key(2), steps=10, log_every=4)
    np.testing.assert_allclose(deferred.x, reference.x, rtol=1e-13)
    # one metric evaluation, after the last stop of the clock
    assert events.count("metrics") == 1 and events[-1] == "metrics" and events.count("start") == 3


def test_lbfgs_streamed_loss_differentiates_to_the_streamed_gradient():
    problem = problems.synthetic_logreg(50, 4, seed=1, mu=0.1).replace(block_rows=8)
    x = jnp.linspace(-1.0, 1.0, 4)
    value, grad = jax.jit(lambda p, x: jax.value_and_grad(_streamed_loss(p))(x))(problem, x)
    want_value, want_grad = problem.value_and_grad(x)
    np.testing.assert_allclose(value, want_value, rtol=1e-13)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12)
    np.testing.assert_allclose(grad, jax.grad(problem.loss)(x), rtol=1e-12)
