"""FiniteSum: every derived quantity (full loss and gradient, streamed reductions, per-sample and
mini-batch gradients, Hessian-vector products) against independent computations."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import helpers
import problems
from sgd_bench import FiniteSum, L2

LOCAL = helpers.LOCAL_PROBLEMS
build = helpers.problem


def random_x(problem, seed=0):
    rng = np.random.default_rng(seed)
    if problem.x_shape is None:
        return helpers.custom_x(rng)
    return jnp.asarray(0.3 * rng.standard_normal(problem.x_shape))


def odd_block_rows(n):
    """A block size that leaves a tail (n % b != 0) and gives at least two full blocks."""
    for b in (5, 7, 11, 3):
        if n % b and n // b >= 2:
            return b
    raise AssertionError(f"no odd block size for n={n}")


# libsvm needs a file; tests/test_libsvm.py checks its loss against NumPy on one it writes.
ALL = tuple(n for n in problems.names() if n != "libsvm") + LOCAL
# Problems built on problems.logistic_loss / squared_loss, which helpers.np_reference writes
# out in NumPy; the other losses have NumPy references in their own test files
# (test_problem_classes.py, test_landscapes.py).
LINEAR = tuple(name for name in problems.names() if name in {
    "lecture-logreg", "logreg", "least-squares", "breast-cancer", "digits",
    "rank-deficient-ls", "nonseparable-logistic"}) + LOCAL

# Jitted wrappers taking the problem as an argument: one compile per problem, no eager dispatch.
_per_sample_and_full = jax.jit(
    lambda p, x: (p.per_sample_grads(x), p.per_sample_losses(x), p.value_and_grad(x)))


@jax.jit
def _streamed_and_whole(streamed, whole, x):
    return streamed.value_and_grad(x), streamed.loss(x), streamed.grad(x), whole.value_and_grad(x)


def test_registry_is_covered():
    assert {"lecture-logreg", "logreg", "least-squares", "breast-cancer", "digits"} <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_mean_of_per_sample_grads_is_full_grad(name):
    problem = build(name)
    x = random_x(problem)
    per_sample, losses, (f, full) = _per_sample_and_full(problem, x)
    for leaf in jax.tree_util.tree_leaves(per_sample):
        assert leaf.shape[0] == problem.n
    mean = jax.tree_util.tree_map(lambda g: np.mean(np.asarray(g), axis=0), per_sample)
    helpers.assert_trees_close(mean, full, rtol=1e-10, atol=1e-13)
    # per-sample losses average to the full loss
    assert losses.shape == (problem.n,)
    np.testing.assert_allclose(np.mean(np.asarray(losses)), float(f), rtol=1e-12)


@pytest.mark.parametrize("name", LINEAR)
def test_loss_and_grad_match_numpy_formula(name):
    problem = build(name)
    x = random_x(problem)
    if name == "custom":
        mu = helpers.HUBER_MU
        x_np = jax.tree_util.tree_map(np.asarray, x)
        want_f = helpers.np_huber_loss(problem.data, mu, x_np)
        want_g = helpers.np_huber_grad(jax.tree_util.tree_map(np.asarray, problem.data), mu, x_np)
    else:
        f_np, g_np = helpers.np_reference(problem)
        want_f, want_g = f_np(np.asarray(x)), g_np(np.asarray(x))
    _, _, (f, g) = _per_sample_and_full(problem, x)  # compiled by the test above
    np.testing.assert_allclose(float(f), want_f, rtol=1e-12)
    helpers.assert_trees_close(g, want_g, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", ALL)
def test_streamed_reductions_match_one_block(name):
    problem = build(name)
    x = random_x(problem, seed=1)
    b = odd_block_rows(problem.n)
    streamed = problem.replace(block_rows=b)
    whole = problem.replace(block_rows=problem.n)
    assert streamed.block_rows == b and whole.block_rows == problem.n
    (f_s, g_s), loss_s, grad_s, (f_w, g_w) = _streamed_and_whole(streamed, whole, x)
    np.testing.assert_allclose(float(f_s), float(f_w), rtol=1e-13)
    helpers.assert_trees_close(g_s, g_w, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(float(loss_s), float(f_w), rtol=1e-13)
    helpers.assert_trees_close(grad_s, g_w, rtol=1e-11, atol=1e-14)


def _small(name, n=6):
    if name == "tiny-logistic":
        return helpers.tiny_logistic(n=n)
    if name == "tiny-least-squares":
        return helpers.tiny_least_squares(n=n)
    return helpers.custom_problem(n=n)


@pytest.mark.parametrize("batch_size", [2, 3])
@pytest.mark.parametrize("name", LOCAL)
def test_batch_grad_is_unbiased_over_all_subsets(name, batch_size):
    problem = _small(name)
    assert problem.n == 6
    x = random_x(problem, seed=2)
    subsets = jnp.asarray(list(itertools.combinations(range(problem.n), batch_size)), jnp.int32)
    values, grads, per, (f, g) = _all_subsets(problem, x, subsets)
    mean_g = jax.tree_util.tree_map(lambda a: np.mean(np.asarray(a), axis=0), grads)
    helpers.assert_trees_close(mean_g, g, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.mean(np.asarray(values)), float(f), rtol=1e-12)
    # each batch gradient is the mean of its per-sample gradients
    per_mean = jax.tree_util.tree_map(lambda a: np.mean(np.asarray(a), axis=1), per)
    helpers.assert_trees_close(grads, per_mean, rtol=1e-12, atol=1e-15)


@jax.jit
def _all_subsets(p, x, subsets):
    values, grads = jax.vmap(p.batch_value_and_grad, in_axes=(None, 0))(x, subsets)
    per = jax.vmap(p.per_sample_grads, in_axes=(None, 0))(x, subsets)
    return values, grads, per, p.value_and_grad(x)


def test_batch_grad_single_and_repeated_index(tiny_logistic):
    A, y = (np.asarray(a) for a in tiny_logistic.data)
    x = np.array([0.2, -0.4, 0.1])
    idx = jnp.asarray([[0, 0], [5, 5], [12, 12]])
    got = jax.jit(jax.vmap(lambda p, z, i: p.batch_grad(z, i), in_axes=(None, None, 0)))(
        tiny_logistic, jnp.asarray(x), idx)
    for row, i in enumerate((0, 5, 12)):
        want = helpers.np_logistic_grad(A, y, helpers.LOGISTIC_MU, x, [i])
        np.testing.assert_allclose(np.asarray(got[row]), want, rtol=1e-12)


@pytest.mark.parametrize("name", LOCAL + ("lecture-logreg",))
def test_hvp_matches_dense_hessian(name):
    problem = build(name)
    x = random_x(problem, seed=4)
    rng = np.random.default_rng(5)
    flat_x, unravel = ravel_pytree(x)
    v = unravel(jnp.asarray(rng.standard_normal(flat_x.size)))
    got, hess = _hvp_and_hessian(problem, x, v)
    want = np.asarray(hess) @ np.asarray(ravel_pytree(v)[0])
    np.testing.assert_allclose(np.asarray(ravel_pytree(got)[0]), want, rtol=1e-10, atol=1e-13)


@jax.jit
def _hvp_and_hessian(p, x, v):
    flat_x, unravel = ravel_pytree(x)
    return p.hvp(x, v), jax.hessian(lambda z: p.loss(unravel(z)))(flat_x)


def test_least_squares_hessian_is_gram_matrix(tiny_least_squares):
    A = np.asarray(tiny_least_squares.data[0])
    want = A.T @ A / A.shape[0] + helpers.LS_MU * np.eye(A.shape[1])
    x = jnp.zeros(3)
    got = np.asarray(jax.jit(jax.vmap(lambda p, e: p.hvp(x, e), in_axes=(None, 0)))(
        tiny_least_squares, jnp.eye(3))).T
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_finite_sum_is_a_pytree_whose_leaves_are_its_values(custom_problem):
    leaves, treedef = jax.tree_util.tree_flatten(custom_problem)
    assert len(leaves) == 3  # data["a"], data["t"] and the regularizer's mu
    assert leaves[2] == helpers.HUBER_MU
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert rebuilt.n == custom_problem.n and rebuilt.name == custom_problem.name
    # the data is traced, not baked in: new data of the same shape reuses the compiled function
    traces = []

    @jax.jit
    def f(p, x):
        traces.append(1)  # runs once per trace, not per call
        return p.loss(x)

    x = helpers.custom_x(np.random.default_rng(0))
    f(custom_problem, x)
    doubled = jax.tree_util.tree_map(lambda a: 2.0 * a, custom_problem.data)
    other = custom_problem.replace(data=doubled)
    got = f(other, x)
    assert len(traces) == 1
    want = helpers.np_huber_loss(jax.tree_util.tree_map(np.asarray, other.data), helpers.HUBER_MU,
                                 jax.tree_util.tree_map(np.asarray, x))
    np.testing.assert_allclose(float(got), want, rtol=1e-12)


def test_finite_sum_static_facts():
    data = {"a": np.ones((5, 2)), "t": np.arange(5.0)}
    p = FiniteSum(helpers.huber_loss_i, data, regularizer=L2(0.5), info={"mu": 0.5},
                  problem_class="strongly_convex", x_shape=None)
    assert p.n == 5
    assert p.info == {"mu": 0.5}
    assert p.dtype == jnp.float64
    with pytest.raises(ValueError, match="x_shape"):
        p.zeros()
    q = problems.least_squares(np.ones((4, 3)), np.zeros(4))
    assert q.zeros().shape == (3,) and q.zeros().dtype == jnp.float64
    assert L2(0.5) == L2(0.5) and hash(L2(0.5)) == hash(L2(0.5))
