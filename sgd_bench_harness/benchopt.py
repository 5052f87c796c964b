"""sgd-bench methods as benchopt solvers.

benchopt (https://benchopt.github.io) compares solvers on a benchmark made of an objective,
data sets and solvers, each a class in its own file. ``SgdBenchSolver`` is the part of such a
solver class that runs an sgd-bench ``Method`` through the public step-level API
(``sgd_bench.solver``). A benchopt solver file mixes it in before benchopt's base class and says
which method to run::

    from benchopt import BaseSolver
    import sgd_bench as sb
    from sgd_bench_harness.benchopt import SgdBenchSolver

    class Solver(SgdBenchSolver, BaseSolver):
        name = "sgd-bench-SAGA"
        def make_method(self, problem):
            return sb.saga()

This module never imports benchopt, so the mixin can be used (and tested) without it. The
benchmark in ``integrations/benchopt/logreg_l2/`` uses it.

What the mixin takes care of:

* **One compiled program for every call.** benchopt calls ``run(n_iter)`` again and again with
  growing ``n_iter``, each time from the start. The number of steps is a traced int32 argument
  of one jitted program (``init`` then ``advance``, as ``Solver.run`` does), so a new
  ``n_iter`` never compiles again; neither do another lambda, new data of the same shapes or
  another step size of the same method structure. ``warm_up`` (not timed by benchopt) runs it
  once to compile.
* **The clock.** ``run`` blocks on the iterate (``block_until_ready``) before it returns, so
  benchopt's clock stops after the work, not after JAX's asynchronous dispatch.
* **The result** is a NumPy array (``get_result() == {"beta": ndarray}``) of the solver's dtype.
* **Sum versus mean.** benchopt's L2 logistic regression is the sum
  F(x) = sum_i log(1 + exp(-y_i <a_i, x>)) + lambda/2 ||x||^2, while a ``FiniteSum`` is the mean
  f(x) = 1/n sum_i log(1 + exp(-y_i <a_i, x>)) + mu/2 ||x||^2. With mu = lambda / n,
  F = n f: the same minimizer, and F's values are n times f's (``logreg_l2``). Step sizes of our
  methods stay in f's units (1/L of f), which is what their defaults use.
* **The dtype is explicit**: a solver parameter ``dtype`` ("float64" by default). float64 needs
  ``jax_enable_x64``, which ``set_objective`` turns on when asked for float64 (benchopt gives a
  solver no earlier hook; the flag is process-wide and changes no explicitly typed result).
* **One iteration** of benchopt's curve is one pass's worth of gradient evaluations: n / B steps
  of a mini-batch method (an epoch), one step of a full-gradient method (GD, L-BFGS).
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import memory, validation
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.methods import Method
from sgd_bench.solver import (DEFAULT_CHUNK, MAX_STEPS, advance_state, as_key, cast_x, check_method_state,
                              check_problem_method, check_x, init_state)


def logreg_l2(X, y, lmbd: float, *, dtype="float64") -> FiniteSum:
    """benchopt's L2 logistic regression, sum_i log(1 + exp(-y_i <a_i, x>)) + lambda/2 ||x||^2,
    as sgd-bench's mean-scaled ``FiniteSum``: the same loss with mu = lambda / n, so that the
    benchopt objective is n times the problem's ``loss`` and both have the same minimizer.

    **Arguments:**

    - ``X``: features, shape (n, d); ``y``: labels in {-1, +1}, shape (n,).
    - ``lmbd``: lambda >= 0, the ridge strength on benchopt's sum scale.
    - ``dtype``: the floating type the problem computes in (the data is cast to it); float64
      needs ``jax_enable_x64`` on (a ``ValueError`` says so rather than compute in float32).
    """
    from problems.linear import check_design, logistic_regression  # the harness side: imports the catalog

    dt = validation.floating_dtype("dtype", dtype)
    if dt.itemsize == 8 and not jax.config.jax_enable_x64:
        # the default dtype built a float32 problem, warned as the catalog's "A, y is float64"; a
        # benchopt user asked for float64 (the default) and run refuses a float64 problem here anyway
        raise ValueError(f"dtype={dt.name!r} needs jax_enable_x64, which is off (JAX would compute in "
                         "float32): call jax.config.update('jax_enable_x64', True) first, as "
                         "SgdBenchSolver.set_objective does, or pass dtype='float32'")
    lmbd = validation.nonnegative_float("lmbd", lmbd)
    with warnings.catch_warnings():
        # dtype is the caller's explicit choice: float32 was warned as a silent downcast ("JAX
        # computes in float32. To keep float64 ..."), and float16 as float32
        warnings.simplefilter("ignore", validation.PrecisionWarning)
        # messages name benchopt's X and y, not the catalog's A (1e200 features were "A's entries reach")
        check_design("X", X, "y", y, labels=True, gram=True)
    n = int(np.shape(X)[0])
    # Cast on the host first, so that float64 data asked for in float32 is not refused as a
    # silent downcast: the dtype here is the caller's explicit choice.
    with np.errstate(over="ignore"):
        cast = np.asarray(X, dt)
    if not np.all(np.isfinite(np.asarray(cast, np.float64))):
        # 1e5 features in float16 were "A contains 13 NaN or Inf value(s)": the catalog's name
        raise ValueError(f"X's entries reach {float(np.max(np.abs(X))):.3g}, beyond the largest "
                         f"{dt.name} ({float(jnp.finfo(dt).max):.3g}): in dtype={dt.name} they are inf; "
                         "rescale the features or pass a wider dtype")
    nonzero = np.asarray(X) != 0
    lost, held = int(np.count_nonzero(nonzero & (cast == 0))), int(np.count_nonzero(nonzero))
    if 2 * lost > held:  # 1e-50 features in float32 made a constant loss, silently
        raise ValueError(f"{lost} of X's {held} nonzero entries are below the smallest "
                         f"{dt.name} ({float(jnp.finfo(dt).smallest_subnormal):.3g}): in dtype={dt.name} "
                         "they are 0; rescale the features or pass a wider dtype")
    # the ridge on the mean scale must hold in dt (1e-41 / n was refused as "mu", a name benchopt has not)
    validation.within_dtype([(f"mu = lmbd / n (lmbd = {lmbd:g}, n = {n})", lmbd / max(n, 1))], dt, "benchopt's problem")
    try:
        return logistic_regression(cast, np.asarray(y, dt), lmbd / max(n, 1), name="benchopt logreg_l2")
    except ValueError as err:
        if not str(err).startswith("info["):  # L and L_max are made from X here: the caller gave no info
            raise
        a64 = np.asarray(cast, np.float64)
        top = float(np.max(np.einsum("ij,ij->i", a64, a64))) / 4 + lmbd / max(n, 1)
        if top > 1:
            raise ValueError(f"X's rows make L_max = max_i ||x_i||^2 / 4 + mu = {top:.3g}, beyond the largest "
                             f"{dt.name} ({float(jnp.finfo(dt).max):.3g}): in dtype={dt.name} it is inf; "
                             "rescale the features or pass a wider dtype") from None
        # tiny features: an L (L_max = {top}) below the smallest normal was said to be "beyond the largest"
        raise ValueError(f"X's rows make the problem's smoothness constants (L_max = max_i ||x_i||^2 / 4 + mu = "
                         f"{top:.3g}) so small that one is below {validation.zero_below(dt)[1]} "
                         f"({validation.zero_below(dt)[0]:.3g}): in dtype={dt.name} it is 0; rescale the "
                         "features or pass a wider dtype") from None


def sum_objective(problem: FiniteSum, x) -> float:
    """The benchopt (sum-scale) value n f(x) of a problem made by ``logreg_l2``."""
    if not isinstance(problem, FiniteSum):  # None was "'NoneType' object has no attribute 'data'"
        raise TypeError(f"problem must be a FiniteSum (from logreg_l2), got {type(problem).__name__}")
    check_x("x", x, problem)  # another shape failed inside JAX's dot
    return float(problem.n * problem.loss(jnp.asarray(x, problem.dtype)))


@functools.partial(jax.jit, static_argnames=("chunk",))
def _run_program(problem, method, x0, key, steps, *, chunk):
    """init at x0, then ``steps`` (traced) steps; the final iterate. One program for any steps."""
    state = init_state(problem, method, x0, key, chunk=chunk)
    return advance_state(problem, method, state, steps, chunk=chunk).method.x


class SgdBenchSolver:
    """The body of a benchopt solver that runs an sgd-bench method (mix in before ``BaseSolver``).

    Subclasses define ``make_method(problem) -> Method``; they may override
    ``make_problem(**objective)`` for an objective other than benchopt's L2 logistic regression
    (whose ``get_objective`` gives ``X``, ``y`` and ``lmbd``). Class attributes (benchopt
    ``parameters`` may set them): ``dtype`` ("float64"), ``seed`` (0: the run's PRNG key, the
    same for every repetition so that benchopt's repeated timings time the same run),
    ``chunk`` (steps per sampled block).
    """

    sampling_strategy = "iteration"
    dtype = "float64"
    seed = 0
    chunk = DEFAULT_CHUNK

    def make_method(self, problem: FiniteSum) -> Method:
        raise NotImplementedError("a SgdBenchSolver subclass defines make_method(problem)")

    def make_problem(self, X, y, lmbd) -> FiniteSum:
        return logreg_l2(X, y, lmbd, dtype=self.dtype)

    def set_objective(self, **objective):
        dt = validation.floating_dtype("dtype", self.dtype)
        if dt.itemsize == 8 and not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)
        self.problem = self.make_problem(**objective)
        self.method = self.make_method(self.problem)
        check_problem_method(self.problem, self.method)
        x0 = np.zeros(self.problem.x_shape, dt)
        check_x("x0", x0, self.problem)  # once here, not inside the timed run
        self.x0 = cast_x(x0, self.problem)
        check_method_state(self.problem, self.method, self.x0)  # a make_method of one's own: not at warm_up
        # named as benchopt's parameters: as_key said "key must be ..." of a seed, and a NumPy int
        # chunk reached the loop as an int64 counter (a JAX TypeError from inside while_loop)
        self.key = as_key(validation.jax_seed("seed", self.seed))
        b = self.method.batch_size
        # chunk * batch_size stays below the sampler's int32 bound 2**30, or the sampler refused it
        # as "log_every * batch_size", a name benchopt's solver does not have; and at most Solver's
        # 2**20, whose memory a block's draws fit in (536870911 asked XLA for 45 GB)
        self._chunk = validation.integer("chunk", self.chunk, low=1, high=min(2**20, (2**30 - 1) // (b or 1)))
        memory.check_run_fits(memory.estimate_run_bytes(self.problem, self.method, 1, self._chunk, x0=x0),
                              f"chunk {self._chunk} of {self.method.name}")  # as Solver.init checks
        self.steps_per_iter = 1 if b is None else max(1, self.problem.n // b)
        self._x_device = self.x0

    def _objective_set(self, who: str) -> None:
        # before set_objective: "'My' object has no attribute 'steps_per_iter'" (an AttributeError)
        if not hasattr(self, "_x_device"):
            raise RuntimeError(f"{type(self).__name__}.{who}() before set_objective() (or after one that failed): benchopt calls "
                               "set_objective(**objective.get_objective()) first; call it with X, y and lmbd")

    def steps(self, n_iter) -> int:
        """The number of method steps for benchopt's ``n_iter`` (see the module docstring)."""
        self._objective_set("steps")
        n_iter = validation.integer("n_iter", n_iter, low=0)
        steps = n_iter * self.steps_per_iter
        if steps > MAX_STEPS:
            raise ValueError(f"n_iter = {n_iter} means {steps} steps, above the step counter's "
                             f"limit 2**31 - 2")
        return steps

    def warm_up(self):
        # Compiles the one program every run uses (benchopt does not time warm_up).
        self._objective_set("warm_up")
        self.run(1)

    def run(self, n_iter):
        self._objective_set("run")
        steps = np.int32(self.steps(n_iter))
        x = _run_program(self.problem, self.method, self.x0, self.key, steps, chunk=self._chunk)
        # JAX dispatches asynchronously: wait for the result before benchopt stops its clock.
        self._x_device = jax.block_until_ready(x)

    def get_result(self):
        self._objective_set("get_result")
        return {"beta": np.asarray(self._x_device)}
