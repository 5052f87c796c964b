"""Seeds advance in lockstep: the step count stays one scalar under ``vmap`` over seeds.

Batched, the count turned SVRG's ``lax.cond`` on k into a select that computed a full gradient on
every step (about 150x slower with 32 seeds), and a reshuffling sampler's index into a gather.
These tests read the traced program, so they fail if the count becomes batched again."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sgd_bench as sb

import helpers


@pytest.mark.parametrize("make", [sb.svrg, sb.sarah], ids=["svrg", "sarah"])
def test_a_branch_on_the_step_count_stays_a_branch_across_seeds(make):
    problem = helpers.tiny_logistic()
    text = helpers.segment_jaxpr(problem, make(0.1, 1), seeds=4)
    assert "cond[" in text


def test_a_swept_grid_keeps_one_count_too():
    problem = helpers.tiny_logistic()
    method = sb.svrg(0.1, 1)
    leaves = jax.tree_util.tree_leaves(method)
    swept = (0,)
    values = (jnp.asarray([0.05, 0.1], jnp.asarray(leaves[0]).dtype),)
    assert "cond[" in helpers.segment_jaxpr(problem, method, seeds=3, mode="sweep", values=values, swept=swept)


@pytest.mark.parametrize("method", [sb.svrg(0.2, 2), sb.sgd(0.2, 3, "reshuffle")], ids=["svrg", "sgd-reshuffle"])
def test_seeds_together_equal_seeds_one_by_one(method):
    problem = helpers.tiny_logistic()
    x0 = jnp.zeros(problem.x_shape, problem.dtype)
    keys = sb.seed_keys(jax.random.key(3), 3)
    together = sb.run_keys(problem, method, x0, keys, steps=40, log_every=10)
    for s in range(3):
        alone = sb.run(problem, method, x0, keys[s], steps=40, log_every=10)
        np.testing.assert_allclose(together.loss[s], alone.loss, rtol=1e-12, atol=0)
        np.testing.assert_allclose(together.x[s], alone.x, rtol=1e-12, atol=1e-15)
