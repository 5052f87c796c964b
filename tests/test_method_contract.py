"""The contract every method of the engine keeps, as one table over every ``Method`` factory
that ``sgd_bench`` exports (a test fails when a factory is missing from the table):

- it runs under jit (``Solver``), and seed s of ``run_seeds`` is the ``Solver`` run from seed
  s's key (on one row per kind of step under the runner's seed vmap: ``SEEDS_ROWS``);
- its counters are exact: they equal the cost per step its docstring gives, and where that
  cost depends on the data (line searches) the per-sample evaluations that really ran, which a
  host callback inside ``loss_i`` counts;
- new values (step size, mu, data of the same shapes) compile nothing (JAX's compile events);
- a run cut into pieces of any length (0 included) equals one run;
- a bad value or batch size is refused by sgd-bench's own code before anything compiles.

One tiny problem (n = 13, d = 3; the lazy methods: a sparse one), 11 steps, blocks of 4 steps:
every test of a method reuses the programs its first test compiled. Only the counting run uses
the twin of the problem whose ``loss_i`` calls back to the host: JAX keeps no program with a host
callback in its persistent cache, so those compile again on every run of the suite (~2 s each at
opt level 0), while the plain problem's load from disk.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Callable

import jax
import numpy as np
import optax
import pytest

import helpers
import problems
import sgd_bench as sb

K = 11          # steps of every run: not a multiple of CHUNK, so the last block is partial
CHUNK = 4
LOG_EVERY = 4   # logs 0, 4, 8, 11; a 10-step run logs as many points (0, 4, 8, 10)
A, B = 0.1, 0.05
N = helpers.N


# -- a problem that counts the per-sample evaluations it does ----------------------------------------
_evaluated = [0]


def _tick(labels):
    _evaluated[0] += int(np.size(labels))  # one label per sample (a batch under vmap)


def counted_logistic_loss(x, datum):
    """``problems.logistic_loss`` that tells the host how many samples it evaluated."""
    jax.debug.callback(_tick, datum[1])
    return problems.logistic_loss(x, datum)


def counted_logistic(seed: int = 0, mu: float = helpers.LOGISTIC_MU, counted: bool = True):
    """Logistic regression on ``helpers.logistic_data(seed)`` whose ``loss_i`` counts its
    evaluations; ``counted=False``: its twin with ``problems.logistic_loss`` (the same values)."""
    A_, y = helpers.logistic_data(seed=seed)
    info = problems.logistic_regression(A_, y, mu).info  # L, L_max, mu for the default steps
    loss, name = (counted_logistic_loss, "counted") if counted else (problems.logistic_loss, "plain")
    return sb.FiniteSum(loss, (A_, y), regularizer=sb.L2(mu), x_shape=(helpers.D,),
                        info=info, problem_class="strongly_convex", name=f"{name}-{seed}")


def evaluations(fn):
    """fn's result and the per-sample loss or gradient evaluations it ran (a value_and_grad of
    one sample counts once: the callback runs in the forward pass)."""
    jax.effects_barrier()
    _evaluated[0] = 0
    out = jax.block_until_ready(fn())
    jax.effects_barrier()
    return out, _evaluated[0]


# -- the table -----------------------------------------------------------------------------------------
def _loops(steps, m):
    return math.ceil(steps / m)


def _growing_sizes(n, q_num, q_den, b0, steps):
    """|B_0|, ..., |B_{steps-1}| with B_{k+1} = min(ceil(q B_k) + 1, n), in integers."""
    sizes = [b0]
    while len(sizes) < steps:
        sizes.append(min(-(-q_num * sizes[-1] // q_den) + 1, n))
    return sizes


def _sqn_pairs(steps, L):
    return sum(1 for k in range(steps) if (k + 1) % L == 0 and k + 1 >= 2 * L)


def _all(counts):
    return sum(counts.values())


def _grads(counts):
    return counts["grad_evals"]


@dataclasses.dataclass(frozen=True)
class Case:
    """One method: ``make(v[, b])`` builds it from one number v (a step size or a search
    parameter) and, for methods that take one, a batch size b; ``counts(n, steps, ran)`` gives
    its counters after ``steps`` steps, from its docstring (``ran``: the evaluations the callback
    saw, for the costs that depend on the data); ``forward(counts)`` is how many per-sample
    forward passes those counters stand for, or None where the evaluations done differ from the
    ones counted on purpose (a linear table calls phi' and never loss_i; growing_batch pads a
    batch to its bucket; the lazy methods read sparse rows)."""

    factory: str
    make: Callable
    counts: Callable
    forward: Callable | None = _all
    sparse: bool = False

    @property
    def batched(self) -> bool:
        return "b" in inspect.signature(self.make).parameters


CASES = {
    "gd": Case("gd", lambda v: sb.gd(v), lambda n, s, ran: {"grad_evals": n * s}),
    "sgd": Case("sgd", lambda v, b=2: sb.sgd(v, b, "reshuffle"), lambda n, s, ran: {"grad_evals": 2 * s}),
    "noisy-sgd": Case("noisy_sgd", lambda v, b=2: sb.noisy_sgd(v, 0.1, b),
                      lambda n, s, ran: {"grad_evals": 2 * s}),
    "averaged": Case("averaged", lambda v, b=2: sb.averaged(sb.sgd(v, b), start=3),
                     lambda n, s, ran: {"grad_evals": 2 * s}),
    "optax-adam": Case("from_optax", lambda v, b=2: sb.from_optax(optax.adam, learning_rate=v / 10, batch_size=b),
                       lambda n, s, ran: {"grad_evals": 2 * s}),
    "optax-nesterov": Case("from_optax", lambda v: sb.from_optax(optax.sgd, learning_rate=v, momentum=0.9,
                                                                 nesterov=True, batch_size=None),
                           lambda n, s, ran: {"grad_evals": n * s}),
    "growing-batch": Case("growing_batch", lambda v, b=1: sb.growing_batch(v, q=1.5, initial_batch=b, sampling="reshuffle"),
                          lambda n, s, ran: {"grad_evals": sum(_growing_sizes(n, 3, 2, 1, s))}, forward=None),
    "gd-armijo": Case("gd_armijo", lambda v: sb.gd_armijo(10 * v),
                      # n gradients per step; every other evaluation is a loss: f(x_0) and the trials
                      lambda n, s, ran: {"grad_evals": n * s, "loss_evals": ran - n * s}),
    "lbfgs": Case("lbfgs", lambda v: sb.lbfgs(3, max_linesearch_steps=round(100 * v)),
                  # f(x_0) and one value_and_grad per line-search trial; no step that went uphill here
                  # (a well-conditioned problem: leftovers35b's count of them stays 0)
                  lambda n, s, ran: {"grad_evals": ran, "loss_evals": ran, "uphill_steps": 0}, forward=_grads),
    "preconditioned-sgd": Case("preconditioned_sgd", lambda v, b=2: sb.preconditioned_sgd(v, np.diag([1.0, 2.0, 0.5]), b),
                               lambda n, s, ran: {"grad_evals": 2 * s}),
    "stochastic-lbfgs": Case("stochastic_lbfgs", lambda v, b=1: sb.stochastic_lbfgs(v, memory_size=2, update_every=3,
                                                                                 hessian_batch=4, batch_size=b),
                             lambda n, s, ran: {"grad_evals": s, "hvp_evals": 4 * _sqn_pairs(s, 3)}),
    "online-newton": Case("online_newton", lambda v, b=1: sb.online_newton(v, phase1_steps=6, batch_size=b),
                          # a Newton step's Hessian-vector product shares its gradient's forward pass
                          lambda n, s, ran: {"grad_evals": s, "hvp_evals": s - 6}, forward=_grads),
    "sag": Case("sag", lambda v, b=2: sb.sag(v, b), lambda n, s, ran: {"grad_evals": n + 2 * s}),
    "saga-linear": Case("saga", lambda v, b=2: sb.saga(v, b, "cyclic", linear=True),
                        lambda n, s, ran: {"grad_evals": n + 2 * s}, forward=None),
    "svrg": Case("svrg", lambda v, b=2: sb.svrg(v, b, loop_length=5),
                 lambda n, s, ran: {"grad_evals": _loops(s, 5) * n + 2 * 2 * s}),
    "svrg-linear": Case("svrg", lambda v, b=2: sb.svrg(v, b, loop_length=5, linear=True),
                        lambda n, s, ran: {"grad_evals": _loops(s, 5) * n + 2 * s}, forward=None),
    "sarah": Case("sarah", lambda v, b=1: sb.sarah(v, b, loop_length=4),
                  lambda n, s, ran: {"grad_evals": _loops(s, 4) * n + 2 * (s - _loops(s, 4))}),
    "lazy-sgd": Case("lazy_sgd", lambda v, b=2: sb.lazy_sgd(v, b), lambda n, s, ran: {"grad_evals": 2 * s},
                     forward=None, sparse=True),
    "lazy-saga": Case("lazy_saga", lambda v, b=2: sb.lazy_saga(v, b), lambda n, s, ran: {"grad_evals": n + 2 * s},
                      forward=None, sparse=True),
}


# The rows whose ``run_seeds`` is checked against the ``Solver`` (seed s equals the Solver run from
# seed s's key; new values and data compile no runner program). The runner vmaps the same
# ``advance_state`` over seeds for every method (SEED_AXES: the state batched, k shared), so what
# can differ between rows is only how the method's own step behaves under that vmap. One row per
# kind of step, so that the other rows compile only the Solver's programs:
# a sampled batch (sgd; preconditioned-sgd only multiplies its gradient by a fixed matrix), full
# batches (gd), randomness from the method's own key (noisy-sgd), a nested method state
# (averaged), an optax state (optax-adam; optax-nesterov is the same wrapper), data-dependent
# while loops (gd-armijo's backtracking, lbfgs's zoom search), lax.switch over batch buckets
# (growing-batch), lax.cond on the shared step counter (svrg; svrg-linear, sarah and
# online-newton branch the same way), Hessian samples from the method key (stochastic-lbfgs), a
# per-sample table updated at batched indices (saga-linear; sag keeps the same kind of table),
# and lazy updates on sparse rows (lazy-saga; lazy-sgd is the same without the table).
SEEDS_ROWS = ("sgd", "gd", "noisy-sgd", "averaged", "optax-adam", "gd-armijo", "lbfgs", "growing-batch",
              "svrg", "stochastic-lbfgs", "saga-linear", "lazy-saga")


def test_every_method_factory_sgd_bench_exports_is_in_the_table():
    # dir, not vars: sgd_bench imports each name on first use, so vars holds only those used yet
    factories = {name for name, value in ((n, getattr(sb, n)) for n in dir(sb))
                 if inspect.isfunction(value) and not name.startswith("_")
                 and inspect.signature(value).return_annotation in ("Method", sb.Method)}
    assert factories >= {"sgd", "gd", "saga", "lazy_sgd"}  # the way of finding them works
    assert factories == {case.factory for case in CASES.values()}


def test_the_seeds_rows_are_rows_of_the_table():
    assert set(SEEDS_ROWS) <= set(CASES) and len(set(SEEDS_ROWS)) == len(SEEDS_ROWS)


@pytest.mark.parametrize("name", list(CASES))
def test_methods_are_equal_by_value_and_share_their_structure(name):
    make = CASES[name].make
    assert make(A) == make(A) and hash(make(A)) == hash(make(A))
    assert make(A) != make(B)
    assert make(A).structure() == make(B).structure()
    assert make(A).replace(make(B).values()) == make(B)


# -- problems, built once ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dense():
    # same shapes, other data and mu; the loss counts nothing (see the module's docstring)
    return counted_logistic(counted=False), counted_logistic(seed=5, mu=0.3, counted=False)


@pytest.fixture(scope="module")
def counted():
    return counted_logistic()


@pytest.fixture(scope="module")
def sparse():
    return helpers.small_sparse_logistic(0.1), helpers.small_sparse_logistic(0.3)  # other mu


@pytest.fixture
def case_problems(request, dense, sparse):
    case = CASES[request.node.callspec.params["name"]]
    return case, (sparse if case.sparse else dense)


def _x0(problem):
    # NumPy: a JAX array made here would compile a small program inside the no_compile checks
    # when the test runs alone (its shape not yet seen in the process)
    return np.full(problem.x_shape, 0.1, np.dtype(problem.dtype))


# -- the contract ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_runs_under_jit_and_counts_exactly(name, case_problems, counted):
    case, (problem, _) = case_problems
    method = case.make(A)
    x0 = _x0(problem)
    # the counting twin only where its count is read: its programs compile on every run of the suite
    # (the module's docstring); growing-batch, saga-linear and svrg-linear read none (leftovers34b)
    reads = case.forward is not None or case.counts(problem.n, K, 0) != case.counts(problem.n, K, 1)
    solver = sb.Solver(counted if reads and not case.sparse else problem, method, chunk=CHUNK)
    state, ran = evaluations(lambda: solver.advance(solver.init(x0, 7), K))
    want = case.counts(problem.n, K, ran)
    assert sb.Solver.counts(state) == want
    if case.forward is not None:  # what the counters say was evaluated, was, and nothing more
        assert ran == case.forward(want)
    if "loss_evals" in want:  # a line search: f(x_0), then whole passes, at least one per step
        assert want["loss_evals"] % problem.n == 0 and want["loss_evals"] >= problem.n * (K + 1)
    assert int(state.k) == K and not np.allclose(state.x, x0)
    if name not in SEEDS_ROWS:
        return
    # the runner: seed s of run_seeds is the Solver run from seed s's key, counters included
    trace = sb.run_seeds(problem, method, x0, 7, seeds=2, steps=K, log_every=LOG_EVERY)
    key0 = sb.seed_keys(7, 2)[0]
    solver = sb.Solver(problem, method, chunk=CHUNK)  # the dense rows: the twin that counts nothing
    alone = solver.advance(solver.init(x0, key0), K)
    np.testing.assert_allclose(trace.x[0], alone.x, rtol=1e-12, atol=1e-15)
    assert trace.step.tolist() == [[0, 4, 8, 11]] * 2
    for counter, value in sb.Solver.counts(alone).items():
        assert int(np.asarray(trace.counts[counter])[0, -1]) == value, counter


@pytest.mark.parametrize("name", list(CASES))
def test_new_values_and_new_data_compile_nothing(name, case_problems):
    case, (problem, other) = case_problems
    x0 = _x0(problem)
    seeds = name in SEEDS_ROWS
    first = sb.Solver(problem, case.make(A), chunk=CHUNK).run(x0, 0, K)
    if seeds:
        sb.run_seeds(problem, case.make(A), x0, 0, seeds=2, steps=K, log_every=LOG_EVERY)
    with helpers.compiles_nothing():
        for p, m in ((problem, case.make(B)), (other, case.make(B))):
            solver = sb.Solver(p, m, chunk=CHUNK)
            state = solver.init(x0, 1)
            for steps in (4, 0, 7):
                state = solver.advance(state, steps)
            trace = sb.run_seeds(p, m, x0, 1, seeds=2, steps=K - 1, log_every=LOG_EVERY) if seeds else None
            jax.block_until_ready((state, trace))
    assert not np.allclose(state.x, first.x)  # the values did change the run


@pytest.mark.parametrize("name", list(CASES))
def test_a_run_in_pieces_equals_one_run(name, case_problems):
    case, (problem, _) = case_problems
    solver = sb.Solver(problem, case.make(A), chunk=CHUNK)
    x0 = _x0(problem)
    whole = solver.run(x0, 3, K)
    state = solver.init(x0, 3)
    for steps in (5, 1, 0, 3, 2):  # across block boundaries, and an empty piece
        state = solver.advance(state, steps)
    assert int(state.k) == K
    np.testing.assert_allclose(state.x, whole.x, rtol=1e-13, atol=1e-15)
    assert sb.Solver.counts(state) == sb.Solver.counts(whole)


# -- bad arguments, refused before compiling -------------------------------------------------------------
def _raises_in_package(exc, match, fn):
    with pytest.raises(exc, match=match) as excinfo:
        fn()
    helpers.assert_raised_in_package(excinfo)


# lbfgs has no real-valued hyperparameter (v sets its trial cap): its own row below.
@pytest.mark.parametrize("name", [n for n in CASES if n != "lbfgs"])
@pytest.mark.parametrize("bad", [-A, 0.0, float("nan"), float("inf")])
def test_a_bad_value_is_refused_when_the_method_is_built(name, bad, no_compile):
    _raises_in_package((ValueError, TypeError), "must be", lambda: CASES[name].make(bad))


@pytest.mark.parametrize("cap", [0, -1, 2.5])
def test_a_line_search_cap_that_is_not_a_positive_integer_is_refused(cap, no_compile):
    _raises_in_package((ValueError, TypeError), "max_linesearch_steps", lambda: sb.lbfgs(3, max_linesearch_steps=cap))


# A method that is valid on its own may compile while it is built (preconditioned_sgd turns its
# matrix into a JAX array), so these build it first and guard only the calls that must refuse.
@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.batched])
def test_a_bad_batch_size_is_refused_before_compiling(name, case_problems, monkeypatch):
    case, (problem, _) = case_problems
    too_big = case.make(A, b=problem.n + 1)
    x0 = _x0(problem)
    with helpers.forbid_compiled_code(monkeypatch):
        _raises_in_package((ValueError, TypeError), "batch", lambda: case.make(A, b=0))
        _raises_in_package((ValueError, TypeError), "batch", lambda: case.make(A, b=1.5))
        for run in (lambda: sb.Solver(problem, too_big), lambda: sb.run(problem, too_big, x0, 0, steps=K),
                    lambda: sb.run_seeds(problem, too_big, x0, 0, seeds=2, steps=K)):
            _raises_in_package(ValueError, rf"batch.*\[1, {problem.n}\]", run)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.sparse])
def test_a_lazy_method_refuses_a_dense_problem_before_compiling(name, dense, monkeypatch):
    method = CASES[name].make(A)
    with helpers.forbid_compiled_code(monkeypatch):
        _raises_in_package(TypeError, "needs a linear model on sparse rows", lambda: sb.Solver(dense[0], method))
