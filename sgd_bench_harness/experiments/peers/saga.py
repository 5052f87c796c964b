"""peers' row 8 and the shared pieces of rows 8-12: benchopt's L2 logistic regression,
scikit-learn's SAGA step and fit, and marginal SAGA epochs of ours against scikit-learn's."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse

import problems
import sgd_bench as sb

from .timing import compiled_epochs, interleaved_best, timing


def benchmark_problem(n: int, d: int, lam: float, seed: int):
    """L2 logistic regression whose sum-scale objective is benchopt's; ours is it over n."""
    return problems.synthetic_logreg(n, d, seed=seed, mu=lam / n, dtype=jnp.float64)


def sklearn_saga_step(A, mu: float) -> float:
    """scikit-learn's automatic SAGA step for the log loss without intercept (Defazio et al.'s
    1 / (2 L + min(2 n mu, L)), L = max_i ||a_i||^2 / 4 + mu); ``A`` dense or scipy.sparse."""
    sq = (np.asarray(A.multiply(A).sum(axis=1)).ravel() if scipy.sparse.issparse(A)
          else np.einsum("ij,ij->i", A, A))
    L = 0.25 * float(np.max(sq)) + mu
    return 1.0 / (2.0 * L + min(2.0 * A.shape[0] * mu, L))


def sklearn_fit(A, y, lam: float, solver: str, max_iter: int):
    """scikit-learn's L2 logistic regression (C = 1/lambda) run for exactly ``max_iter``."""
    # scikit-learn is optional (the peers and test extras): imported where a row needs it, so
    # that the experiment loads (``sgd-bench list``) without it.
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(solver=solver, C=1.0 / lam, fit_intercept=False, max_iter=max_iter,
                             tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as intended
        clf.fit(A, y)
    return clf.coef_[0]


def measure_saga_vs_sklearn(comparison, problem, features, labels, lam, methods, repeats,
                            **extra) -> tuple[list[dict], dict]:
    """Timing records (``comparison``) of 1 and 3 epochs of batch-1 SAGA, each of ``methods``
    (timing label -> method at a given step) and scikit-learn's saga on ``features`` (dense or
    CSR), all at scikit-learn's step; and after 3 epochs each one's distance to x* and the
    largest coordinate difference between our methods and to scikit-learn's iterate (the index
    streams differ, so that one is not 1e-10)."""
    n = problem.n
    step = sklearn_saga_step(features, lam / n)
    x0 = jnp.zeros(problem.x_shape, problem.dtype)
    ours = {(label, e): fn for label, make in methods.items()
            for e, fn in compiled_epochs(problem, make(step), x0, jax.random.key(0)).items()}
    fns = {("ours", label, e): fn for (label, e), fn in ours.items()}
    fns.update({("baseline", "LogisticRegression(saga)", e): (lambda e=e: sklearn_fit(features, labels, lam, "saga", e))
                for e in (1, 3)})
    t = interleaved_best(fns, repeats)
    rows = [timing(comparison, side, label, seconds, e * n, **extra) for (side, label, e), seconds in t.items()]
    x_star = np.asarray(sb.reference_solution(problem).x)
    after = {label: np.asarray(ours[label, 3]().method.x) for label in methods}
    sklearn = sklearn_fit(features, labels, lam, "saga", 3)
    first = after[next(iter(methods))]
    ends = {**after, "sklearn": sklearn, "start": np.asarray(x0)}
    info = dict(step=step, distance={k: float(np.linalg.norm(v - x_star)) for k, v in ends.items()},
                between=float(np.max(np.abs(first - sklearn))),
                among=max(float(np.max(np.abs(v - first))) for v in after.values()))
    return rows, info


def measure_saga_epoch(config, repeats) -> tuple[list[dict], dict]:
    """Row 8: marginal SAGA epochs (1 and 3) of ours and of scikit-learn's, and how far apart the
    two end after 3 epochs (their index streams differ, so not to 1e-10)."""
    n, d, lam = config["saga_n"], config["saga_d"], config["race_lambda"]
    problem = benchmark_problem(n, d, lam, config["data_seed"])
    A, y = (np.asarray(a) for a in problem.data)
    rows, info = measure_saga_vs_sklearn(
        "saga", problem, A, y, lam, {"SAGA batch 1": lambda step: sb.saga(step, 1, "with_replacement", linear=True)},
        repeats)
    dist = info["distance"]
    return rows, dict(saga_step=info["step"], saga_distance={"ours": dist["SAGA batch 1"], "sklearn": dist["sklearn"]},
                      saga_between=info["between"])
