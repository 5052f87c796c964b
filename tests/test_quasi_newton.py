"""Preconditioned SGD and stochastic L-BFGS (sgd_bench.quasi_newton) against independent
references: plain SGD, Newton's one step on a quadratic, a NumPy two-loop recursion, and a NumPy
loop of Byrd et al.'s Algorithm 1 driven by the same indices; exact counts; one compiled program
for new values (counted with JAX's compile events)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import sgd_bench as sb
from sgd_bench import schedules
from sgd_bench.quasi_newton import two_loop


@pytest.fixture(scope="module")
def quadratic():
    return helpers.tiny_least_squares()


def np_two_loop(g, pairs):
    """Nocedal & Wright, Algorithm 7.4, over ``pairs`` listed oldest first."""
    q = np.array(g, float)
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        q = q - a * y
        alphas.append(a)
    if pairs:
        s, y = pairs[-1]
        q = q * (s @ y) / (y @ y)
    for (s, y), a in zip(pairs, reversed(alphas)):
        b = (y @ q) / (s @ y)
        q = q + (a - b) * s
    return q


def test_preconditioned_sgd_with_the_identity_is_sgd(quadratic):
    x0 = jnp.full(quadratic.x_shape, 0.3)
    step = schedules.inverse_time(0.2, 5.0)
    ours = sb.Solver(quadratic, sb.preconditioned_sgd(step, np.eye(3), 2, "reshuffle")).run(x0, 4, 40)
    ref = sb.Solver(quadratic, sb.sgd(step, 2, "reshuffle")).run(x0, 4, 40)
    np.testing.assert_allclose(ours.x, ref.x, rtol=1e-13, atol=1e-15)
    assert sb.Solver.counts(ours) == sb.Solver.counts(ref) == {"grad_evals": 80}
    assert not np.allclose(ours.x, x0)


def test_one_preconditioned_step_against_numpy(quadratic):
    rng = np.random.default_rng(0)
    M = rng.standard_normal((3, 3))
    P = M @ M.T + np.eye(3)
    x0 = rng.standard_normal(3)
    idx = jnp.asarray([4, 11, 4], jnp.int32)
    method = sb.preconditioned_sgd(0.07, P, 3)
    state = method.init(jnp.asarray(x0), quadratic, jax.random.key(0))
    state = jax.jit(lambda s: method.step(s, quadratic, idx, jnp.int32(0)))(state)
    _, grad = helpers.np_reference(quadratic)
    np.testing.assert_allclose(state.x, x0 - 0.07 * P @ grad(x0, [4, 11, 4]), rtol=1e-13)
    assert int(state.grad_evals) == 3


def test_exact_inverse_hessian_full_batch_solves_a_quadratic_in_one_step(quadratic):
    A, b = (np.asarray(a) for a in quadratic.data)
    mu = quadratic.regularizer.mu
    n = len(b)
    x_star = np.linalg.solve(A.T @ A / n + mu * np.eye(3), A.T @ b / n)   # closed form
    x0 = jnp.asarray([2.0, -1.0, 0.5])
    P = sb.inverse_hessian(quadratic, x0)
    np.testing.assert_allclose(P, np.linalg.inv(A.T @ A / n + mu * np.eye(3)), rtol=1e-12)
    trace = sb.run(quadratic, sb.preconditioned_sgd(1.0, P, None), x0, 0, steps=3, log_every=1)
    f_star = helpers.np_reference(quadratic)[0](x_star)
    gaps = np.asarray(trace.loss) - f_star
    assert gaps[0] > 1.0 and abs(gaps[1]) < 1e-13
    np.testing.assert_allclose(np.asarray(trace.x), x_star, rtol=1e-12)
    assert np.asarray(trace.grad_evals).tolist() == [0, n, 2 * n, 3 * n]


def _negative_square(x, a):
    return -jnp.dot(x, a) ** 2


def test_bad_preconditioners_are_refused(quadratic):
    with pytest.raises(ValueError, match="square"):
        sb.preconditioned_sgd(0.1, np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        sb.preconditioned_sgd(0.1, np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match=r"shape \(D, D\) = \(3, 3\)"):
        sb.run(quadratic, sb.preconditioned_sgd(0.1, np.eye(2)), jnp.zeros(3), 0, steps=2)
    concave = sb.FiniteSum(_negative_square, np.ones((4, 3)), x_shape=(3,), name="concave")
    with pytest.raises(ValueError, match="not positive definite"):
        sb.inverse_hessian(concave, jnp.zeros(3))


@pytest.mark.parametrize("num_pairs, head", [(0, 0), (2, 1), (4, 3), (4, 1)])
def test_two_loop_recursion_against_numpy(num_pairs, head):
    rng = np.random.default_rng(num_pairs + 10 * head)
    d, m = 5, 4
    M = rng.standard_normal((d, d))
    H = M @ M.T + 0.1 * np.eye(d)
    S = rng.standard_normal((m, d))
    Y = S @ H
    g = rng.standard_normal(d)
    # pairs oldest first: the ring buffer holds the newest at ``head``
    order = [(head - i) % m for i in range(num_pairs)][::-1]
    pairs = [(S[j], Y[j]) for j in order]
    ours = two_loop(jnp.asarray(g), jnp.asarray(S), jnp.asarray(Y), jnp.int32(num_pairs),
                    jnp.int32(head))
    np.testing.assert_allclose(ours, np_two_loop(g, pairs), rtol=1e-11, atol=1e-13)
    if num_pairs:  # the secant equation for the newest pair: H y = s
        np.testing.assert_allclose(
            two_loop(jnp.asarray(Y[head]), jnp.asarray(S), jnp.asarray(Y), jnp.int32(num_pairs),
                     jnp.int32(head)), S[head], rtol=1e-10)


def test_stochastic_lbfgs_against_a_numpy_loop_of_the_algorithm(quadratic):
    """Cyclic batch-1 indices (k mod n) and the method's own Hessian samples, replayed in NumPy:
    the iterate and every stored curvature pair agree, and so do the counts."""
    L, M, b_h, steps, alpha = 3, 2, 4, 23, 0.05
    method = sb.stochastic_lbfgs(alpha, memory_size=M, update_every=L, hessian_batch=b_h,
                                 sampling="cyclic")
    x0 = np.array([0.5, -0.2, 0.1])
    solver = sb.Solver(quadratic, method, chunk=4)
    start = solver.init(jnp.asarray(x0), 7)
    state = solver.advance(start, steps)
    key = start.method.key

    A, b = (np.asarray(a) for a in quadratic.data)
    mu, n = quadratic.regularizer.mu, len(b)
    _, grad = helpers.np_reference(quadratic)
    x, window, prev, pairs, hvps = x0.copy(), np.zeros(3), None, [], 0
    for k in range(steps):
        direction = np_two_loop(grad(x, [k % n]), pairs[-M:])
        window += x
        x = x - alpha * direction
        if (k + 1) % L == 0:
            mean = window / L
            if prev is not None:
                rows = np.asarray(jax.random.randint(jax.random.fold_in(key, k), (b_h,), 0, n))
                s = mean - prev
                pairs.append((s, A[rows].T @ (A[rows] @ s) / b_h + mu * s))
                hvps += b_h
            prev, window = mean, np.zeros(3)
    np.testing.assert_allclose(state.x, x, rtol=1e-11)
    ms = state.method
    assert int(ms.num_pairs) == M and len(pairs) == steps // L - 1
    for i, (s, y) in enumerate(reversed(pairs[-M:])):
        j = (int(ms.head) - i) % M
        np.testing.assert_allclose(ms.s_pairs[j], s, rtol=1e-11)
        np.testing.assert_allclose(ms.y_pairs[j], y, rtol=1e-11)
    assert sb.Solver.counts(state) == {"grad_evals": steps, "hvp_evals": hvps}
    assert not np.allclose(x, x0 - alpha * np.sum([grad(x0, [k % n]) for k in range(steps)], 0))


def test_new_values_reuse_the_compiled_programs(quadratic):
    """Seeds under vmap: another step size and another L run in the same programs (the
    Solver's reuse for both methods is in test_methods_as_data's ZOO)."""
    x0 = jnp.zeros(quadratic.x_shape)

    def make(v):
        return sb.stochastic_lbfgs(v, memory_size=3, update_every=round(20 * v), hessian_batch=5)

    first = sb.run_seeds(quadratic, make(0.1), x0, 0, seeds=3, steps=12, log_every=4)
    with helpers.compiles_nothing():
        other = sb.run_seeds(quadratic, make(0.2), x0, 0, seeds=3, steps=12, log_every=4)
        jax.block_until_ready(other)
    assert not np.allclose(first.x, other.x)
    # L = 2 forms pairs at k = 3, 5, ..., 11 (5 pairs); L = 4 at k = 7, 11 (2 pairs)
    assert np.asarray(first.counts["hvp_evals"])[:, -1].tolist() == [25] * 3
    assert np.asarray(other.counts["hvp_evals"])[:, -1].tolist() == [10] * 3


def test_the_curvature_pair_is_a_branch_across_seeds(quadratic):
    """The Hessian-vector product sits behind a ``lax.cond`` on the step count, which stays a
    branch (not a select that runs it every step) in the seed-batched program."""
    method = sb.stochastic_lbfgs(0.1, memory_size=2, update_every=3, hessian_batch=4)
    assert "cond[" in helpers.segment_jaxpr(quadratic, method, seeds=3)


def test_exact_second_moments_against_enumerating_every_index_path():
    """momentum_stochastic's exact E[f(x_k) - f*] of preconditioned SGD on least squares equals
    the average over all n^k index sequences, and (k + k0) E[f - f*] tends to its Lyapunov
    constant."""
    import itertools

    from sgd_bench_harness.experiments.momentum_stochastic import exact
    rng = np.random.default_rng(5)
    n, d = 4, 2
    A = rng.standard_normal((n, d))
    b = rng.standard_normal(n)
    H = A.T @ A / n
    x_star = np.linalg.solve(A.T @ A, A.T @ b)
    r = A @ x_star - b
    P = np.array([[1.3, 0.2], [0.2, 0.6]])
    x0 = np.array([0.7, -1.1])
    sizes = np.array([0.3, 0.2, 0.25, 0.1])
    gap = lambda x: (x - x_star) @ H @ (x - x_star) / 2
    expected = [gap(x0)]
    for k in range(1, len(sizes) + 1):
        total = 0.0
        for path in itertools.product(range(n), repeat=k):
            x = x0.copy()
            for a, i in zip(sizes, path):
                x = x - a * P @ A[i] * (A[i] @ x - b[i])
            total += gap(x)
        expected.append(total / n**k)
    np.testing.assert_allclose(exact.second_moments(A, r, P, x0 - x_star, sizes), expected, rtol=1e-12)

    c, K = 1.0 / np.linalg.eigvalsh(H)[0], 200_000   # c lambda_min = 1 > 1/2
    k0 = 4 * c * np.max(np.sum(A**2, axis=1))          # alpha_0 L_max = 1/4
    steps = c / (np.arange(K) + k0)
    late = exact.second_moments(A, r, np.eye(d), x0 - x_star, steps)[-1] * (K + k0)
    np.testing.assert_allclose(late, exact.lyapunov_constant(A, r, np.eye(d), c), rtol=2e-3)
