"""reference_solution: stationarity checked with hand-written gradients, and x* compared with
scikit-learn's logistic regression and with the closed form of ridge least squares."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
from sgd_bench import ReferenceSolution, reference_solution


build = helpers.problem
solve = helpers.reference


STATIONARY = ["lecture-logreg", "least-squares", "tiny-least-squares", "breast-cancer"]


@pytest.mark.parametrize("name", STATIONARY)
def test_reference_is_stationary(name):
    problem = build(name)
    ref = solve(name)
    assert isinstance(ref, ReferenceSolution)
    x_star, f_star = ref  # unpacks as a pair
    assert x_star is ref.x and f_star == ref.f
    assert np.asarray(x_star).dtype == np.float64 and np.shape(x_star) == problem.x_shape
    loss, grad = helpers.np_reference(problem)
    assert np.linalg.norm(grad(np.asarray(x_star))) <= 1e-10
    assert ref.grad_norm <= 1e-10
    np.testing.assert_allclose(f_star, loss(np.asarray(x_star)), rtol=1e-13)
    # a minimum: nearby points are no better
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert loss(np.asarray(x_star) + 1e-3 * rng.standard_normal(problem.x_shape)) > f_star


@pytest.mark.parametrize("name", ["lecture-logreg", "breast-cancer"])
def test_logistic_reference_matches_sklearn(name):
    sklearn_lm = pytest.importorskip("sklearn.linear_model")
    problem = build(name)
    A, y = (np.asarray(a) for a in problem.data)
    n, mu = len(y), problem.info["mu"]
    assert mu > 0
    # sklearn minimizes C sum_i log(1 + exp(-y_i a_i.x)) + ||x||^2 / 2; divided by n C this is
    # our f with mu = 1 / (n C).
    clf = sklearn_lm.LogisticRegression(C=1.0 / (n * mu), fit_intercept=False, tol=1e-12,
                                        solver="lbfgs", max_iter=10_000).fit(A, y)
    assert list(clf.classes_) == [-1.0, 1.0]
    # f is mu-strongly convex, so ||x - x*|| <= ||grad f(x)|| / mu for any x: the two solutions
    # must lie within the sum of those radii, measured by the NumPy gradient. How far scikit-learn
    # stops depends on its version (on breast-cancer 1.3 stops at ||grad f|| = 2e-6, 1.9 at 1.5e-8),
    # so the tolerance comes from its own gradient, not from a fixed rtol.
    ours, theirs = np.asarray(solve(name).x), clf.coef_[0]
    _, grad = helpers.np_reference(problem)
    radius = (np.linalg.norm(grad(ours)) + np.linalg.norm(grad(theirs))) / mu
    assert np.linalg.norm(ours - theirs) <= radius
    assert radius <= 1e-3 * np.linalg.norm(ours)  # and both solved it: the check is not vacuous


def test_ridge_reference_matches_closed_form(tiny_least_squares):
    A, b = (np.asarray(a) for a in tiny_least_squares.data)
    n, d = A.shape
    closed = np.linalg.solve(A.T @ A / n + helpers.LS_MU * np.eye(d), A.T @ b / n)
    np.testing.assert_allclose(solve("tiny-least-squares").x, closed, rtol=1e-10, atol=1e-12)


def test_least_squares_reference_matches_normal_equations():
    A, b = (np.asarray(a) for a in build("least-squares").data)
    closed = np.linalg.solve(A.T @ A, A.T @ b)
    np.testing.assert_allclose(solve("least-squares").x, closed, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("d, solver", [(3, "newton"), (2048, "newton-cg")])
def test_reference_for_a_pytree_problem(d, solver):
    # x = {"w": (d,), "c": ()} has two leaves; d + 1 > 2048 takes the matrix-free path
    problem = helpers.custom_problem(n=13, d=d)
    x0 = {"w": jnp.zeros(d), "c": jnp.zeros(())}
    ref = reference_solution(problem, x0)
    assert ref.solver == solver
    assert set(ref.x) == {"w", "c"} and np.shape(ref.x["w"]) == (d,)
    g = helpers.np_huber_grad(jax.tree_util.tree_map(np.asarray, problem.data),
                              helpers.HUBER_MU, jax.tree_util.tree_map(np.asarray, ref.x))
    assert np.sqrt(np.sum(g["w"] ** 2) + g["c"] ** 2) <= 1e-10


def test_reference_warns_when_not_converged():
    problem = build("breast-cancer")
    with pytest.warns(RuntimeWarning, match="reference_solution"):
        ref = reference_solution(problem, max_iter=1)
    assert ref.grad_norm > 1e-10 and ref.iterations == 1


def test_reference_argument_checks(tiny_least_squares):
    with pytest.raises(ValueError, match="tol"):
        reference_solution(tiny_least_squares, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        reference_solution(tiny_least_squares, max_iter=0)
    with pytest.raises(TypeError, match="problem"):
        reference_solution("least-squares")


@pytest.mark.parametrize("where", ["data", "x0"])
def test_reference_refuses_a_start_that_is_not_finite(tiny_least_squares, where):
    """NaN data swapped in with replace(data=...) skip the problem's own checks; the reference
    names the cause instead of failing inside LAPACK."""
    problem, x0 = tiny_least_squares, None
    if where == "data":
        A, b = problem.data
        problem = problem.replace(data=(A.at[0, 0].set(np.nan), b), info=problem.info)
    else:
        x0 = np.full(problem.x_shape, np.inf)
    with pytest.raises(ValueError, match="not finite at the start"):
        reference_solution(problem, x0)


def test_reference_takes_pure_newton_steps_below_tol(monkeypatch):
    """Below tol the decrease of a Newton step is under the rounding of f's sum, so the line
    search is skipped: at n = 1e6 it failed at every step (18 Hessians where 1 does)."""
    from sgd_bench import reference

    problem = build("lecture-logreg")
    x_star = np.asarray(solve("lecture-logreg").x)
    start = x_star + 1e-10 * np.random.default_rng(0).standard_normal(x_star.shape)
    calls, loss = [], reference._loss
    monkeypatch.setattr(reference, "_loss", lambda *a: calls.append(1) or loss(*a))
    ref = reference_solution(problem, start, tol=1e-6)
    assert not calls and ref.iterations == 1 and ref.grad_norm <= 1e-14
    np.testing.assert_allclose(ref.x, x_star, atol=1e-13)


@pytest.mark.parametrize("x0", [None, "zeros32"])
def test_a_float32_problem_is_solved_in_float64(x0):
    # From its default start the Newton steps ran in float32 (the problem's zeros) and stalled
    # at ||grad f|| ~ 5e-7 after 100 steps, with only a warning.
    import problems

    problem = problems.lecture_logreg(dtype="float32")
    start = None if x0 is None else np.zeros(problem.x_shape, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ref = reference_solution(problem, start)
    assert np.asarray(ref.x).dtype == np.float64
    assert ref.grad_norm <= 1e-10
