"""Test helpers: tiny problems built from NumPy data, hand-written NumPy references for their
losses and gradients, a tree-close assertion, and method objects shared across test modules.

Methods are hashed by identity when they are static arguments of the jitted runner, so the
tests build each method once (``sgd_method``) and reuse it: equal runs then share one compile.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

import problems
import sgd_bench
from sgd_bench import FiniteSum, L2

N = 13  # not divisible by 3, 4 or 5
D = 3
LOGISTIC_MU = 0.1
LS_MU = 0.05
HUBER_MU = 0.1


# -- data --------------------------------------------------------------------------------------
def logistic_data(n: int = N, d: int = D, seed: int = 0):
    """Gaussian features and labels in {-1, +1} with both classes present."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = np.where(A @ w + 0.7 * rng.standard_normal(n) >= 0, 1.0, -1.0)
    y[0], y[1] = 1.0, -1.0
    return A, y


def regression_data(n: int = N, d: int = D, seed: int = 1):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    b = A @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    return A, b


def tiny_logistic(n: int = N, d: int = D, mu: float = LOGISTIC_MU):
    A, y = logistic_data(n, d)
    return problems.logistic_regression(A, y, mu, name="tiny-logistic")


def tiny_least_squares(n: int = N, d: int = D, mu: float = LS_MU):
    A, b = regression_data(n, d)
    return problems.least_squares(A, b, mu, name="tiny-least-squares")


def huber_loss_i(x, datum):
    """Pseudo-Huber loss sqrt(1 + r^2) - 1 of the residual r = <a, w> + c - t."""
    r = jnp.dot(datum["a"], x["w"]) + x["c"] - datum["t"]
    return jnp.sqrt(1.0 + r * r) - 1.0


def custom_data(n: int = N, d: int = D, seed: int = 2):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    t = 2.0 * (A @ rng.standard_normal(d)) + 0.5 + rng.standard_normal(n)
    return {"a": A, "t": t}


def custom_problem(n: int = N, d: int = D):
    return FiniteSum(huber_loss_i, custom_data(n, d), regularizer=L2(HUBER_MU),
                     name="custom-huber", problem_class="strongly_convex")


def custom_x(rng, d: int = D):
    return {"w": jnp.asarray(rng.standard_normal(d)), "c": jnp.asarray(rng.standard_normal())}


# -- NumPy references, written by hand ---------------------------------------------------------
def np_sigmoid(t):
    """1 / (1 + exp(-t)), accurate in both tails."""
    e = np.exp(-np.abs(t))
    return np.where(np.asarray(t) >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def np_logistic_loss(A, y, mu, x):
    z = y * (A @ x)
    return np.mean(np.logaddexp(0.0, -z)) + 0.5 * mu * (x @ x)


def np_logistic_grad(A, y, mu, x, idx=None):
    if idx is not None:
        A, y = A[idx], y[idx]
    z = y * (A @ x)
    return -(A.T @ (y * np_sigmoid(-z))) / len(y) + mu * x


def np_ls_loss(A, b, mu, x):
    r = A @ x - b
    return 0.5 * np.mean(r * r) + 0.5 * mu * (x @ x)


def np_ls_grad(A, b, mu, x, idx=None):
    if idx is not None:
        A, b = A[idx], b[idx]
    return A.T @ (A @ x - b) / len(b) + mu * x


def np_huber_loss(data, mu, x):
    r = data["a"] @ x["w"] + x["c"] - data["t"]
    return np.mean(np.sqrt(1.0 + r * r) - 1.0) + 0.5 * mu * (x["w"] @ x["w"] + x["c"] ** 2)


def np_huber_grad(data, mu, x, idx=None):
    a, t = data["a"], data["t"]
    if idx is not None:
        a, t = a[idx], t[idx]
    r = a @ x["w"] + x["c"] - t
    s = r / np.sqrt(1.0 + r * r)
    return {"w": a.T @ s / len(t) + mu * x["w"], "c": np.mean(s) + mu * x["c"]}


def np_reference(problem):
    """(loss(x), grad(x, idx=None)) in NumPy for a logistic or least-squares problem."""
    A, v = (np.asarray(a, np.float64) for a in problem.data)
    mu = 0.0 if problem.regularizer is None else problem.regularizer.mu
    if problem.loss_i is problems.logistic_loss:
        return (lambda x: np_logistic_loss(A, v, mu, x),
                lambda x, idx=None: np_logistic_grad(A, v, mu, x, idx))
    if problem.loss_i is problems.squared_loss:
        return (lambda x: np_ls_loss(A, v, mu, x),
                lambda x, idx=None: np_ls_grad(A, v, mu, x, idx))
    raise NotImplementedError(problem.name)


# -- assertions --------------------------------------------------------------------------------
def assert_trees_close(actual, expected, *, rtol=1e-12, atol=0.0):
    """Same tree structure, and every leaf close in the sense of ``np.testing.assert_allclose``."""
    leaves_a, tree_a = jax.tree_util.tree_flatten(actual)
    leaves_e, tree_e = jax.tree_util.tree_flatten(expected)
    assert tree_a == tree_e, f"tree structures differ: {tree_a} != {tree_e}"
    for a, e in zip(leaves_a, leaves_e):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol)


PACKAGE_DIRS = (
    pathlib.Path(sgd_bench.__file__).resolve().parent,
    pathlib.Path(problems.__file__).resolve().parent,
)


def assert_raised_in_package(excinfo):
    """The exception was raised by sgd-bench's own Python code, not inside JAX or XLA."""
    origin = pathlib.Path(str(excinfo.traceback[-1].path)).resolve()
    assert any(d in origin.parents for d in PACKAGE_DIRS), f"raised from {origin}"


# -- shared method objects (one compile per configuration across the suite) -------------------
ALPHA = 0.3
STEPS = 20


@functools.lru_cache(maxsize=None)
def sgd_method(sampling: str, batch_size: int, alpha: float = ALPHA):
    return sgd_bench.sgd(alpha, batch_size, sampling)


@functools.lru_cache(maxsize=None)
def gd_method(alpha: float = ALPHA):
    return sgd_bench.gd(alpha)


# -- named problems, built once per session ----------------------------------------------------
# Small sizes for the registry problems that take them; the synthetic ones use the lecture's
# shape (200 x 10) so that they share its eager data-generation compiles.
REGISTRY_KWARGS = {
    "logreg": dict(n=200, d=10, seed=3, mu=0.1),
    "least-squares": dict(n=200, d=10, seed=4, mu=0.0),
    "breast-cancer": dict(mu=1e-2),
    # the sparse problems default to rcv1's full size (20,242 x 47,236)
    "sparse-logreg": dict(n=200, d=60, row_nnz=6, mu=0.1),
    "sparse-preset": dict(preset="rcv1", scale=0.005, mu=0.1),
}
LOCAL_PROBLEMS = ("tiny-logistic", "tiny-least-squares", "custom")


@functools.lru_cache(maxsize=None)
def problem(name: str):
    if name == "tiny-logistic":
        return tiny_logistic()
    if name == "tiny-least-squares":
        return tiny_least_squares()
    if name == "custom":
        return custom_problem()
    return problems.get(name, **REGISTRY_KWARGS.get(name, {}))


@functools.lru_cache(maxsize=None)
def reference(name: str):
    return sgd_bench.reference_solution(problem(name))


def run_quick(names, out) -> None:
    """``sgd-bench run NAMES --quick --out OUT`` in one subprocess (XLA_FLAGS from conftest:
    optimization level 0, which cuts the compile time that dominates these runs)."""
    env = dict(os.environ, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
    # --allow-failed-claims: a failed claim exits 4; the tests check the claims they mean to.
    done = subprocess.run([sys.executable, "-m", "sgd_bench", "run", *names, "--quick", "--out", str(out),
                           "--allow-failed-claims"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def cached_env() -> dict[str, str]:
    """The environment of a test process (``os.environ``) plus JAX's own variables that put a
    subprocess on the same persistent compilation cache as this one (conftest's folder, or none
    where ``SGD_BENCH_COMPILATION_CACHE=0`` turned it off): for subprocesses that do not start
    through the command line (which turns the cache on by itself), so that a second run of the
    suite loads their programs from disk instead of compiling them again."""
    env = dict(os.environ)
    folder = jax.config.jax_compilation_cache_dir
    if folder:
        env.update(JAX_COMPILATION_CACHE_DIR=str(folder), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                   JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    return env


def assert_report_rebuilds(folder, name: str) -> None:
    """The experiment's ``report`` builds every figure and writes the very same ``summary.md``
    from the stored records, meta and checks alone (in a copy without figures or summary).

    Every run already ends in that same ``report`` on its stored files, which rendered each PNG
    once (``results.save_figure``); here each figure is built (every artist, from the stored
    data) but not rendered to PNG again, which was most of the rebuild's time (0.4-1.5 CPU s a
    report). Animations (GIF) are rendered as before."""
    import shutil
    from unittest import mock

    from sgd_bench_harness import cli, results

    def save_figure(fig, path, dpi=150):
        pathlib.Path(path).write_bytes(b"not rendered again: see tests/helpers.py assert_report_rebuilds")

    folder = pathlib.Path(folder)
    copy = folder.with_name(folder.name + "-rebuilt")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("*.png", "*.gif", "summary.md"))
    with mock.patch.object(results, "save_figure", save_figure):
        cli.load(name).report(copy)
    assert (copy / "summary.md").read_text() == (folder / "summary.md").read_text()

    def figures(where):
        return sorted(p.name for p in [*where.glob("*.png"), *where.glob("*.gif")])

    assert figures(copy) == figures(folder)


# -- counting compilations ------------------------------------------------------------------------
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_compile_logs: list[list[str]] = []




class _LoggedCompileName(logging.Handler):
    """JAX before 0.4.31 or so records the compile event without the program's name; it logs
    "Finished XLA compilation of NAME in ... sec" (at DEBUG) just before, in the same thread."""

    last = "?"
    PREFIX = "Finished XLA compilation of "

    def emit(self, record):
        message = record.getMessage()
        if message.startswith(self.PREFIX):
            type(self).last = message[len(self.PREFIX):].rsplit(" in ", 1)[0]


def _on_event(event, duration, **kwargs):
    if event == _COMPILE_EVENT:
        name = kwargs.get("fun_name") or _LoggedCompileName.last
        _LoggedCompileName.last = "?"
        for log in _compile_logs:
            log.append(name)


# One listener for the whole session: registered once, so no version of JAX needs to unregister it.
jax.monitoring.register_event_duration_secs_listener(_on_event)


def _compile_names_from_the_log():
    """Reads the names from JAX's debug log where the event does not carry them (jax 0.4.30):
    found out by compiling one small program of its own."""
    probe: list[str] = []
    _compile_logs.append(probe)
    try:
        jax.jit(lambda v: v * 3.0 - 1.0).lower(jnp.zeros(5, jnp.float32)).compile()
    finally:
        _compile_logs.remove(probe)
    if probe and all(name == "?" for name in probe):
        dispatch_log = logging.getLogger("jax._src.dispatch")
        dispatch_log.addHandler(_LoggedCompileName(logging.DEBUG))
        dispatch_log.setLevel(logging.DEBUG)


_compile_names_from_the_log()


class count_compiles:
    """``with count_compiles() as names:`` collects the name of every program XLA compiles
    inside the block (JAX's own compile events; never a timing). A program loaded from the
    persistent compilation cache sends the same event, so it counts too
    (tests/test_compile_cache.py)."""

    def __enter__(self):
        self.names: list[str] = []
        _compile_logs.append(self.names)
        return self.names

    def __exit__(self, *exc):
        _compile_logs.remove(self.names)
        return False


@contextlib.contextmanager
def without_persistent_cache():
    """``with without_persistent_cache():`` compiles for real inside the block, even where an
    in-process ``cli.main`` turned JAX's persistent compilation cache on for the process."""
    from jax.experimental.compilation_cache import compilation_cache

    before = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    # Newer JAX (0.12.1) decides at a process's first compile whether it uses the cache and never
    # looks at the option again: the update alone still let a program come from disk. reset_cache
    # makes the next compile decide anew, here with the cache off and on leaving with it back.
    compilation_cache.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", before)
        compilation_cache.reset_cache()


@contextlib.contextmanager
def compiles_nothing():
    """``with compiles_nothing():`` fails if XLA compiles any program inside the block: the
    check that a second run (new values, same shapes) reuses the programs of the first."""
    with count_compiles() as compiled:
        yield
    assert compiled == [], f"XLA compiled {compiled}"


# The engine's compiled programs, by module: whatever refuses bad input must do so before it
# reaches one of them (the programs may already be compiled, so counting compiles alone would
# not see a call).
COMPILED_PROGRAMS = {
    "sgd_bench.runner": ("_begin_jit", "_segment_jit", "_finish_jit"),
    "sgd_bench.solver": ("_init_jit", "_advance_jit"),
}


@contextlib.contextmanager
def forbid_compiled_code(monkeypatch):
    """Makes every program of ``COMPILED_PROGRAMS`` raise if called, and fails if XLA compiles
    anything in the block. A name that no longer exists fails at once (a renamed program would
    otherwise leave the guard guarding nothing)."""
    import importlib

    def forbidden(*args, **kwargs):
        raise AssertionError("compiled code ran before the argument check")

    for module_name, names in COMPILED_PROGRAMS.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert callable(getattr(module, name, None)), (
                f"{module_name}.{name} is gone: update helpers.COMPILED_PROGRAMS")
            monkeypatch.setattr(module, name, forbidden, raising=True)
    with compiles_nothing():
        yield


def segment_jaxpr(problem, method, seeds: int, mode="seeds", values=(), swept=()) -> str:
    """The jaxpr text of the runner's seed-batched segment program (``mode`` "seeds" or
    "sweep") for ``seeds`` seed keys; asserts that the step count is one for every seed."""
    from sgd_bench import runner

    x0 = jnp.zeros(problem.x_shape, problem.dtype)
    keys = sgd_bench.seed_keys(jax.random.key(0), seeds)
    args = dict(mode=mode, swept=swept, chunk=8, log_iterates=False)
    state, logs, _ = runner._begin_jit(problem, method, values, x0, keys, None, jnp.int32(16),
                                       num_logs=3, **args)
    assert state.k.shape == ()  # one count for every seed
    return str(jax.make_jaxpr(lambda s, lg: runner._segment_jit(
        problem, method, values, s, lg, jnp.int32(0), jnp.int32(2), jnp.int32(8), jnp.int32(16),
        None, **args))(state, logs))


def small_sparse_logistic(mu: float, n: int = 40, d: int = 30):
    """Sparse-row logistic regression (problems.sparse), n x d at density ~0.12, for the lazy
    methods' tests: no empty row, and column 0, where the padding points too, in a few rows."""
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    X = sp.random(n, d, density=0.12, format="lil", random_state=3, data_rvs=lambda k: rng.standard_normal(k))
    for i in range(n):
        X[i, 0 if i % 7 == 0 else (5 * i) % d] = 0.3 + 0.05 * i
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return problems.sparse_logistic_regression(X.tocsr(), y, mu)
