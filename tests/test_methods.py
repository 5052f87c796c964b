"""The scan runner and the methods against loops written separately in NumPy (and optax's own
loop): same iterates, same logged losses, same counts, independent of how the run is chunked."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import helpers
import problems
import sgd_bench
from helpers import ALPHA, STEPS
from sgd_bench import sampling, schedules

KEY = jax.random.key(7)


@pytest.fixture(scope="module")
def logistic():
    problem = helpers.tiny_logistic()
    A, y = (np.asarray(a) for a in problem.data)
    mu = helpers.LOGISTIC_MU
    return problem, A, y, mu


def expected_log_steps(steps, log_every):
    logged = list(range(0, steps + 1, log_every))
    return logged if logged[-1] == steps else logged + [steps]


def cyclic_indices(n, batch_size, steps):
    """Cyclic order written out: step k uses samples (kB + j) mod n."""
    return np.array([[(k * batch_size + j) % n for j in range(batch_size)] for k in range(steps)])


def numpy_loop(loss, grad, x0, alphas, idx, steps, log_every):
    """x_{k+1} = x_k - alpha_k grad_{B_k}(x_k); returns the final x and (loss, ||grad||^2) at
    the logged steps. ``idx`` None means full gradients."""
    logged = set(expected_log_steps(steps, log_every))
    x = np.array(x0, dtype=np.float64)
    losses, gnorms = [], []
    for k in range(steps + 1):
        if k in logged:
            g_full = grad(x)
            losses.append(loss(x))
            gnorms.append(g_full @ g_full)
        if k == steps:
            break
        g = grad(x) if idx is None else grad(x, idx[k])
        x = x - alphas[k] * g
    return x, np.array(losses), np.array(gnorms)


def assert_trace_matches(trace, x, losses, gnorms, steps, log_every, per_step_evals):
    logged = expected_log_steps(steps, log_every)
    np.testing.assert_array_equal(np.asarray(trace.step), logged)
    np.testing.assert_array_equal(np.asarray(trace.grad_evals), np.array(logged) * per_step_evals)
    np.testing.assert_allclose(np.asarray(trace.loss), losses, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(trace.grad_norm_sq), gnorms, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(trace.x), x, rtol=1e-11, atol=1e-14)
    assert trace.dist is None
    assert not bool(trace.diverged) and int(trace.diverged_step) == -1


LOG_EVERY = 7  # does not divide STEPS = 20; with B = 3 a chunk (21 samples) spans > n = 13


def test_gd_matches_numpy(logistic):
    problem, A, y, mu = logistic
    x0 = np.array([0.5, -1.0, 0.25])
    trace = sgd_bench.run(problem, helpers.gd_method(), x0, KEY, steps=STEPS, log_every=LOG_EVERY)
    want = numpy_loop(lambda x: helpers.np_logistic_loss(A, y, mu, x),
                      lambda x: helpers.np_logistic_grad(A, y, mu, x),
                      x0, [ALPHA] * STEPS, None, STEPS, LOG_EVERY)
    assert_trace_matches(trace, *want, STEPS, LOG_EVERY, per_step_evals=problem.n)


@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("mode", sgd_bench.SAMPLINGS)
def test_sgd_matches_numpy(logistic, mode, batch_size):
    problem, A, y, mu = logistic
    n = problem.n
    assert n % 3 != 0
    x0 = np.array([0.5, -1.0, 0.25])
    if mode == "cyclic":
        idx = cyclic_indices(n, batch_size, STEPS)
    else:
        idx = sampling.indices(mode, KEY, n, batch_size, STEPS)
    assert idx.shape == (STEPS, batch_size)
    method = helpers.sgd_method(mode, batch_size)
    trace = sgd_bench.run(problem, method, x0, KEY, steps=STEPS, log_every=LOG_EVERY)
    want = numpy_loop(lambda x: helpers.np_logistic_loss(A, y, mu, x),
                      lambda x, i=None: helpers.np_logistic_grad(A, y, mu, x, i),
                      x0, [ALPHA] * STEPS, idx, STEPS, LOG_EVERY)
    assert_trace_matches(trace, *want, STEPS, LOG_EVERY, per_step_evals=batch_size)


@pytest.mark.parametrize("mode, log_every", [
    ("reshuffle", 4),           # 4 * 3 <= n: the sampler carries permutations between chunks
    ("reshuffle", 20),          # one chunk
    ("with_replacement", 4),    # step k's draw must not depend on where its chunk starts
])
def test_chunking_does_not_change_the_run(logistic, mode, log_every):
    problem = logistic[0]
    method = helpers.sgd_method(mode, 3)
    x0 = jnp.array([0.5, -1.0, 0.25])
    ref = sgd_bench.run(problem, method, x0, KEY, steps=STEPS, log_every=LOG_EVERY)
    other = sgd_bench.run(problem, method, x0, KEY, steps=STEPS, log_every=log_every)
    np.testing.assert_allclose(np.asarray(other.x), np.asarray(ref.x), rtol=1e-13, atol=1e-15)
    # losses at the steps both runs logged agree
    common = sorted(set(expected_log_steps(STEPS, LOG_EVERY))
                    & set(expected_log_steps(STEPS, log_every)))
    assert common[0] == 0 and common[-1] == STEPS
    pick = lambda t: np.asarray(t.loss)[np.isin(np.asarray(t.step), common)]
    np.testing.assert_allclose(pick(other), pick(ref), rtol=1e-13)


def test_pytree_iterate_matches_numpy(custom_problem):
    n, b, steps, log_every, alpha = custom_problem.n, 3, STEPS, LOG_EVERY, ALPHA
    method = helpers.sgd_method("reshuffle", b)
    x0 = {"w": jnp.array([0.1, -0.2, 0.3]), "c": jnp.array(0.0)}
    trace = sgd_bench.run(custom_problem, method, x0, KEY, steps=steps, log_every=log_every)
    idx = sampling.indices("reshuffle", KEY, n, b, steps)
    data = jax.tree_util.tree_map(np.asarray, custom_problem.data)
    x = jax.tree_util.tree_map(np.asarray, x0)
    losses = []
    for k in range(steps + 1):
        if k in expected_log_steps(steps, log_every):
            losses.append(helpers.np_huber_loss(data, helpers.HUBER_MU, x))
        if k < steps:
            g = helpers.np_huber_grad(data, helpers.HUBER_MU, x, idx[k])
            x = {key: x[key] - alpha * g[key] for key in x}
    helpers.assert_trees_close(trace.x, x, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(trace.loss), losses, rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(trace.grad_evals),
                                  b * np.array(expected_log_steps(steps, log_every)))


# -- optax -------------------------------------------------------------------------------------
OPTAX_BATCH = 4  # does not divide n = 13
TRANSFORMS = {
    "momentum": optax.sgd(0.1, momentum=0.9),
    "nesterov": optax.sgd(0.1, momentum=0.9, nesterov=True),
    "adam": optax.adam(0.05),
    "adamw": optax.adamw(0.05, weight_decay=0.5),  # uses the params passed to update
}
FROM_OPTAX = {name: sgd_bench.from_optax(tx, OPTAX_BATCH, "reshuffle")
              for name, tx in TRANSFORMS.items()}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_from_optax_matches_optax_loop(logistic, name):
    problem, A, y, mu = logistic
    steps, log_every = 15, 6
    tx = TRANSFORMS[name]
    x0 = jnp.array([0.5, -1.0, 0.25])
    trace = sgd_bench.run(problem, FROM_OPTAX[name], x0, KEY, steps=steps, log_every=log_every)
    idx = sampling.indices("reshuffle", KEY, problem.n, OPTAX_BATCH, steps)

    @jax.jit  # optax's own loop, one compiled update per step
    def optax_step(g, state, params):
        updates, state = tx.update(g, state, params)
        return optax.apply_updates(params, updates), state

    params, state = x0, tx.init(x0)
    for k in range(steps):
        g = jnp.asarray(helpers.np_logistic_grad(A, y, mu, np.asarray(params), idx[k]))
        params, state = optax_step(g, state, params)
    np.testing.assert_allclose(np.asarray(trace.x), np.asarray(params), rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(float(trace.loss[-1]),
                               helpers.np_logistic_loss(A, y, mu, np.asarray(params)), rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(trace.grad_evals),
                                  OPTAX_BATCH * np.array([0, 6, 12, 15]))


def assert_traces_close(a, b, rtol=1e-13):
    assert a._fields == b._fields
    for field in a._fields:
        u, v = getattr(a, field), getattr(b, field)
        if u is None or v is None:
            assert u is None and v is None, field
            continue
        if field in ("step", "grad_evals", "diverged", "diverged_step"):
            for uu, vv in zip(jax.tree_util.tree_leaves(u), jax.tree_util.tree_leaves(v)):
                np.testing.assert_array_equal(np.asarray(uu), np.asarray(vv), err_msg=field)
        else:
            helpers.assert_trees_close(u, v, rtol=rtol, atol=1e-15)


def test_from_optax_sgd_equals_sgd(logistic):
    problem = logistic[0]
    x0 = jnp.array([0.5, -1.0, 0.25])
    ours = sgd_bench.run(problem, helpers.sgd_method("reshuffle", 3), x0, KEY, steps=STEPS,
                         log_every=LOG_EVERY)
    theirs = sgd_bench.run(problem, sgd_bench.from_optax(optax.sgd(ALPHA), 3, "reshuffle"), x0, KEY,
                           steps=STEPS, log_every=LOG_EVERY)
    assert_traces_close(theirs, ours)


def test_from_optax_full_batch_equals_gd(logistic):
    problem = logistic[0]
    x0 = jnp.array([0.5, -1.0, 0.25])
    ours = sgd_bench.run(problem, helpers.gd_method(), x0, KEY, steps=STEPS, log_every=LOG_EVERY)
    method = sgd_bench.from_optax(optax.sgd(ALPHA), batch_size=None)
    assert method.batch_size is None
    theirs = sgd_bench.run(problem, method, x0, KEY, steps=STEPS, log_every=LOG_EVERY)
    assert_traces_close(theirs, ours)


# -- step-size schedules inside the runner -----------------------------------------------------
def test_optax_schedule_as_step_size(logistic):
    problem, A, y, mu = logistic
    steps, b = 12, 2
    schedule = optax.exponential_decay(0.5, transition_steps=1, decay_rate=0.9)
    method = sgd_bench.sgd(schedule, b, "cyclic")
    x0 = np.array([0.5, -1.0, 0.25])
    trace = sgd_bench.run(problem, method, x0, KEY, steps=steps, log_every=5)
    # The runner's step counter is int32, for which optax computes the schedule in float32:
    # the reference loop uses optax's float32 values, checked against the formula first.
    alphas = [float(schedule(jnp.int32(k))) for k in range(steps)]
    np.testing.assert_allclose(alphas, [0.5 * 0.9**k for k in range(steps)], rtol=1e-6)
    want = numpy_loop(lambda x: helpers.np_logistic_loss(A, y, mu, x),
                      lambda x, i=None: helpers.np_logistic_grad(A, y, mu, x, i),
                      x0, alphas, cyclic_indices(problem.n, b, steps), steps, 5)
    assert_trace_matches(trace, *want, steps, 5, per_step_evals=b)


def test_gd_with_decreasing_schedule(logistic):
    problem, A, y, mu = logistic
    steps = 9
    trace = sgd_bench.run(problem, sgd_bench.gd(schedules.inverse_time(2.0, 3.0)), np.zeros(3), KEY,
                          steps=steps, log_every=4)
    alphas = [2.0 / (1.0 + k / 3.0) for k in range(steps)]
    want = numpy_loop(lambda x: helpers.np_logistic_loss(A, y, mu, x),
                      lambda x: helpers.np_logistic_grad(A, y, mu, x),
                      np.zeros(3), alphas, None, steps, 4)
    assert_trace_matches(trace, *want, steps, 4, per_step_evals=problem.n)


# -- seeds -------------------------------------------------------------------------------------
def test_run_seeds_equals_separate_runs(logistic):
    problem = logistic[0]
    seeds, steps, log_every = 3, 10, 4
    method = helpers.sgd_method("with_replacement", 3)
    x0 = jnp.array([0.5, -1.0, 0.25])
    x_star = jnp.array([0.1, 0.2, -0.3])
    many = sgd_bench.run_seeds(problem, method, x0, KEY, seeds=seeds, steps=steps,
                               log_every=log_every, x_star=x_star)
    keys = sgd_bench.seed_keys(KEY, seeds)
    assert keys.shape == (seeds,)
    # documented: the keys are jax.random.split(key, seeds)
    np.testing.assert_array_equal(jax.random.key_data(keys),
                                  jax.random.key_data(jax.random.split(KEY, seeds)))
    for s in range(seeds):
        one = sgd_bench.run(problem, method, x0, keys[s], steps=steps, log_every=log_every,
                            x_star=x_star)
        assert_traces_close(jax.tree_util.tree_map(lambda a, s=s: a[s], many), one, rtol=1e-12)
        np.testing.assert_allclose(float(one.dist[-1]), np.linalg.norm(np.asarray(one.x - x_star)),
                                   rtol=1e-12)
    # the seeds really are different runs
    assert not np.allclose(np.asarray(many.x[0]), np.asarray(many.x[1]))


def test_same_key_gives_a_bitwise_identical_trace_after_recompiling(logistic):
    problem = logistic[0]
    method = helpers.sgd_method("with_replacement", 3)
    x0 = jnp.array([0.5, -1.0, 0.25])

    def trace(key):
        t = sgd_bench.run_seeds(problem, method, x0, key, seeds=4, steps=12, log_every=3)
        return [np.asarray(leaf).tobytes() for leaf in jax.tree_util.tree_leaves(t)]

    first = trace(KEY)
    jax.clear_caches()  # a fresh compile, as in a new process
    with helpers.without_persistent_cache():  # not the same program loaded from disk
        assert trace(KEY) == first
    assert trace(jax.random.key(8)) != first


# -- theory: GD with alpha = 1/L is linear at rate 1 - mu/L ----------------------------------
@pytest.mark.parametrize("name", ["lecture-logreg", "least-squares", "tiny-least-squares"])
def test_gd_linear_rate(name):
    problem = helpers.problem(name)
    assert problem.problem_class == "strongly_convex"
    L, mu = problem.info["L"], problem.info["mu"]
    assert 0 < mu < L
    steps = 30
    x0 = jnp.full(problem.x_shape, 0.7)
    x_star, f_star = helpers.reference(name)
    trace = sgd_bench.run(problem, sgd_bench.gd(1.0 / L), x0, 0, steps=steps, log_every=1,
                          x_star=x_star)
    gap = np.asarray(trace.loss) - f_star
    k = np.asarray(trace.step)
    np.testing.assert_array_equal(k, np.arange(steps + 1))
    bound = (1.0 - mu / L) ** k * gap[0]
    assert gap[0] > 1e-3
    assert np.all(gap <= bound + 1e-12), np.max(gap - bound)
    assert np.all(np.diff(np.asarray(trace.loss)) <= 1e-15)  # GD with 1/L is monotone
    # the iterates contract too: ||x_k - x*||^2 <= (1 - mu/L)^k ||x_0 - x*||^2
    dist = np.asarray(trace.dist)
    np.testing.assert_allclose(dist[0], np.linalg.norm(np.asarray(x0) - x_star), rtol=1e-13)
    np.testing.assert_allclose(dist[-1], np.linalg.norm(np.asarray(trace.x) - x_star), rtol=1e-10)
    assert np.all(dist**2 <= (1.0 - mu / L) ** k * dist[0] ** 2 + 1e-12)


# -- divergence --------------------------------------------------------------------------------
def test_divergence_is_flagged(tiny_least_squares):
    problem = tiny_least_squares
    x0 = jnp.zeros(3)
    steps, log_every = 40, 5
    huge = sgd_bench.run(problem, sgd_bench.sgd(50.0 / problem.info["L_max"]), x0, KEY,
                         steps=steps, log_every=log_every)
    assert bool(huge.diverged)
    loss = np.asarray(huge.loss)
    bad = ~np.isfinite(loss) | (loss > 1e6 * max(abs(loss[0]), 1.0))
    first = int(np.asarray(huge.step)[np.argmax(bad)])
    assert bad.any() and first > 0
    assert int(huge.diverged_step) == first

    sane = sgd_bench.run(problem, sgd_bench.sgd(0.5 / problem.info["L_max"]), x0, KEY,
                         steps=steps, log_every=log_every)
    assert not bool(sane.diverged) and int(sane.diverged_step) == -1
    assert np.all(np.isfinite(np.asarray(sane.loss)))

    # statistics over seeds leave the diverged run out
    losses = np.stack([np.asarray(sane.loss), loss])
    diverged = np.array([bool(sane.diverged), bool(huge.diverged)])
    np.testing.assert_array_equal(sgd_bench.stats.mean(losses, diverged), np.asarray(sane.loss))


# -- dtype -------------------------------------------------------------------------------------
def test_float32_problem_runs_in_float32():
    A, y = helpers.logistic_data()
    problem = problems.logistic_regression(A.astype(np.float32), y.astype(np.float32), 0.1)
    assert problem.dtype == jnp.float32
    trace = sgd_bench.run(problem, helpers.sgd_method("cyclic", 3), np.zeros(3, np.int32), KEY,
                          steps=STEPS, log_every=LOG_EVERY)
    assert trace.x.dtype == jnp.float32 and trace.loss.dtype == jnp.float32
    # and it agrees with the float64 run up to float32 rounding
    ref = sgd_bench.run(helpers.tiny_logistic(), helpers.sgd_method("cyclic", 3), np.zeros(3), KEY,
                        steps=STEPS, log_every=LOG_EVERY)
    np.testing.assert_allclose(np.asarray(trace.x), np.asarray(ref.x), rtol=1e-5, atol=1e-6)
