"""Growing-batch SGD: the size rule, the documented index streams, a NumPy loop, exact counts,
GD once the batch is full, one compile for all sizes, and linear convergence."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import sgd_bench as sb
import zoo_helpers
from sgd_bench.averaging import averaged
from sgd_bench.growing_batch import MIN_BUCKET, batch_sizes, growing_batch

KEY = jax.random.key(3)


def test_batch_sizes_follow_the_rule():
    assert batch_sizes(20, q=1.5).tolist() == [1, 3, 6, 10, 16, 20]
    # q = 1.1 is read as 11/10: ceil(1.1 * 10) + 1 = 12, not ceil(11.000000000000002) + 1 = 13
    assert batch_sizes(1000, q=1.1, initial_batch=10).tolist()[:3] == [10, 12, 15]
    assert batch_sizes(5, q=1.0).tolist() == [1, 2, 3, 4, 5]
    assert batch_sizes(7, q=2.0, initial_batch=7).tolist() == [7]
    sizes = batch_sizes(10**6, q=1.1)
    assert sizes[-1] == 10**6 and np.all(np.diff(sizes) > 0)
    for b, b_next in zip(sizes[:-2], sizes[1:-1]):
        assert b_next == int(np.ceil(round(1.1 * b, 9))) + 1


def bucket(b, n):
    """The documented padding: the smallest power of two >= max(b, MIN_BUCKET), or n if that
    is larger."""
    return min(max(1 << int(np.ceil(np.log2(b))), MIN_BUCKET), n)


def documented_indices(mode, key, n, sizes):
    """The index streams as the module docstring defines them, written out with jax.random."""
    out, position = [], 0
    for k, b in enumerate(sizes):
        if b == n:
            out.append(None)  # the full gradient
            continue
        if mode == "with_replacement":
            draw = jax.random.randint(jax.random.fold_in(key, k), (bucket(b, n),), 0, n, jnp.int32)
            out.append(np.asarray(draw)[:b])
        else:
            pos = position + np.arange(b)
            epochs = pos // n
            if mode == "cyclic":
                out.append(pos % n)
            else:
                perms = {e: np.asarray(jax.random.permutation(jax.random.fold_in(key, int(e)), n))
                         for e in np.unique(epochs)}
                out.append(np.array([perms[e][p % n] for e, p in zip(epochs, pos)]))
        position += b
    return out


@pytest.fixture(scope="module")
def logistic150():
    """n = 150 > MIN_BUCKET: the sizes 1..150 use the buckets 64, 128 and 150, and the full
    branch; the streams wrap around several epochs."""
    return problems.logistic_regression(*helpers.logistic_data(150, 3), 0.1, name="logistic-150")


@pytest.mark.parametrize("mode", sb.SAMPLINGS)
def test_matches_numpy_then_gd_step_for_step(mode, logistic150):
    problem = logistic150
    loss, grad = helpers.np_reference(problem)
    n, q, alpha = problem.n, 1.5, 0.5
    sizes = batch_sizes(n, q=q)
    K = len(sizes) - 1
    extra = 4
    method = growing_batch(alpha, q=q, sampling=mode)
    x0 = np.array([0.5, -1.0, 0.25])
    with helpers.count_compiles() as compiled:
        states = zoo_helpers.drive(method, problem, jnp.asarray(x0), steps=K + 1 + extra, key=KEY)

    rows = documented_indices(mode, KEY, n, list(sizes) + [n] * extra)
    x, want = x0.copy(), [x0.copy()]
    for r in rows:
        x = x - alpha * (grad(x) if r is None else grad(x, r))
        want.append(x.copy())
    np.testing.assert_allclose(np.array([np.asarray(s.x) for s in states]), np.array(want),
                               rtol=1e-11, atol=1e-14)
    # exact counts: |B_k| per step, n from step K on
    per_step = np.array(list(sizes) + [n] * extra)
    np.testing.assert_array_equal(zoo_helpers.counts(states),
                                  np.concatenate([[0], np.cumsum(per_step)]))
    # from step K on, each step is the step gd(alpha) takes from the same point
    gd = sb.gd(alpha)
    for k in range(K, K + 1 + extra):
        gd_next = zoo_helpers.drive(gd, problem, states[k].x, steps=1)[-1]
        np.testing.assert_allclose(np.asarray(states[k + 1].x), np.asarray(gd_next.x),
                                   rtol=1e-14, atol=1e-16)
    # every batch size ran in one compiled step: no recompile as the size changes
    assert compiled.count("jit(_step)") <= 1, compiled
    assert len({bucket(int(b), n) for b in sizes[:-1]}) == 3


def test_converges_linearly_in_iterations():
    """On the lecture's problem, with the default step 1/L: the mean gap over 8 seeds falls
    geometrically while the batch grows, and reaches the rounding floor once it is full."""
    problem = helpers.problem("lecture-logreg")
    _, f_star = helpers.reference("lecture-logreg")
    method = growing_batch(q=1.5)
    sizes = batch_sizes(problem.n, q=1.5)
    assert len(sizes) - 1 == 10  # full batch from step 10 on
    x0 = jnp.full(problem.x_shape, 1.3)
    runs = [zoo_helpers.scan(method, problem, x0, steps=20, every=1, key=key)
            for key in jax.random.split(KEY, 8)]
    gap = np.mean([np.asarray(jax.vmap(problem.loss)(r.x)) for r in runs], axis=0) - f_star
    for r in runs:
        want = np.concatenate([[0], np.cumsum(np.append(sizes, [problem.n] * 9))])
        np.testing.assert_array_equal(np.asarray(r.grad_evals), want)
    # linear in iterations: at least a factor 2 per step, down to the rounding floor
    assert np.all(gap <= gap[0] * 0.5 ** np.arange(21) + 1e-14), gap
    assert gap[-1] < 1e-13


def test_runs_under_averaging_and_needs_l(logistic150):
    """The averaging wrapper hands the method its key: the average is that of the plain run."""
    method = growing_batch(0.5, q=1.5, sampling="reshuffle")
    x0 = jnp.array([0.5, -1.0, 0.25])
    plain = zoo_helpers.drive(method, logistic150, x0, steps=14, key=KEY)
    avg = zoo_helpers.drive(averaged(method), logistic150, x0, steps=14, key=KEY)
    np.testing.assert_allclose(np.asarray(avg[-1].x),
                               np.mean([np.asarray(s.x) for s in plain], axis=0), rtol=1e-12)
    np.testing.assert_array_equal(zoo_helpers.counts(avg), zoo_helpers.counts(plain))

    problem = helpers.problem("custom")
    x0 = {"w": jnp.zeros(3), "c": jnp.zeros(())}
    with pytest.raises(ValueError, match=r"problem.info\['L'\].*pass step_size"):
        sb.run(problem, growing_batch(), x0, KEY, steps=2)
    with pytest.raises(ValueError, match="initial_batch"):
        sb.run(problem, growing_batch(0.1, initial_batch=problem.n + 1), x0, KEY, steps=2)


def test_argument_errors():
    with pytest.raises(ValueError, match="q must be >= 1"):
        growing_batch(q=0.9)
    with pytest.raises(ValueError, match="initial_batch"):
        growing_batch(initial_batch=0)
    with pytest.raises(ValueError, match="sampling"):
        growing_batch(sampling="sorted")
    with pytest.raises(ValueError, match="step_size"):
        growing_batch(-0.1)
