"""The step-level API: a ``Solver`` a library user keeps, and the programs every run is made of.

``Solver(problem, method)`` gives ``init(x0, key) -> SolverState`` and
``advance(state, steps) -> SolverState``; the state holds the whole method state (a SAGA table,
an SVRG snapshot, a momentum buffer), the sampler's position and the step counter, so a run
cut into pieces continues exactly where it stopped. ``steps`` is a traced number: any count,
0 included, runs in the same compiled program, and so does any problem of the same shapes and
any method of the same structure (other step sizes, mu, data). The runner, the sweep, the
timing harness and the benchopt integration all step through ``advance_state``.

Inside ``advance``, steps run in blocks of ``chunk`` steps: each block draws its (chunk, B)
indices in one vectorized sampler call and runs a ``lax.scan`` over them; a last, shorter
piece draws a whole block and runs only the steps it needs. The sampler's stream depends on
the key and the step counter only, never on how a run is cut.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sgd_bench import _tree, flags, precision, schedules, sharding, validation
from sgd_bench.counting import Count
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.validation import PrecisionWarning
from sgd_bench.method_state import check_loss, check_method_state  # noqa: F401 (run, sweep, benchopt import it here)
from sgd_bench.methods import Method
from sgd_bench.sampling import make_sampler

# The method's own key is fold_in(run key, METHOD_KEY_TAG). The sampler folds in step numbers
# and epochs, which stay below 2**31, so the two streams never collide.
METHOD_KEY_TAG = np.uint32(0xFFFFFFFF)

# Steps per sampled block unless the caller says otherwise.
DEFAULT_CHUNK = 256

MAX_STEPS = validation.MAX_STEPS  # the step counter is int32


class SolverState(NamedTuple):
    """Everything a run carries between calls.

    - ``method``: the method's state (its ``x`` is the evaluated iterate);
    - ``sampler``: the index stream's position;
    - ``k``: the number of steps done (int32);
    - ``key``: the run's PRNG key (the sampler's stream).
    """

    method: Any
    sampler: Any
    k: jax.Array
    key: jax.Array

    @property
    def x(self):
        """The evaluated iterate."""
        return self.method.x


# How a batch of runs that share one step count is vmapped: every field has a leading seed axis
# but ``k``. Seeds advance in lockstep, so ``k`` stays one scalar; batched, it would turn a
# ``lax.cond`` on k (SVRG's snapshot, SARAH's restart) into a select that runs both branches on
# every step, and the sampler's index into a gather.
SEED_AXES = SolverState(method=0, sampler=0, k=None, key=0)


def counts(state) -> dict[str, Count]:
    """Every ``Count`` field of a method state by name (nested states included; the outer
    name wins): ``grad_evals``, and ``loss_evals`` or ``hvp_evals`` where a method keeps them."""
    out: dict[str, Count] = {}

    def walk(s):
        for name in getattr(s, "_fields", ()):
            value = getattr(s, name)
            if isinstance(value, Count):
                out.setdefault(name, value)
            elif hasattr(value, "_fields"):
                walk(value)

    walk(state)
    return out


def _sampler(method: Method, n: int, chunk: int):
    if method.batch_size is None:
        return None
    return make_sampler(method.sampling, n, method.batch_size, chunk)


def init_state(problem: FiniteSum, method: Method, x0, key, *, chunk: int) -> SolverState:
    """The state before step 0 (traceable; ``key`` is the run key)."""
    mstate = method.init(x0, problem, jax.random.fold_in(key, METHOD_KEY_TAG))
    # A step returns strongly typed arrays; an init that made weakly typed ones (optax's
    # jnp.asarray(0) counters) would give the state after a step another type, and so compile
    # ``advance`` a second time.
    mstate = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.result_type(a)), mstate)
    sampler = _sampler(method, problem.n, chunk)
    return SolverState(mstate, () if sampler is None else sampler.init(key),
                       jnp.zeros((), jnp.int32), key)


def _draw(sampler, state: SolverState, t: int):
    if sampler is None:
        return jnp.zeros((t, 0), jnp.int32), state.sampler
    return sampler.sample(state.sampler, state.key, state.k, t)


def _block(problem, method, sampler, state: SolverState, chunk: int) -> SolverState:
    idx, sampler_state = _draw(sampler, state, chunk)
    ks = state.k + jnp.arange(chunk, dtype=jnp.int32)

    def body(s, inputs):
        k, idx_k = inputs
        return method.step(s, problem, idx_k, k), None

    mstate, _ = lax.scan(body, state.method, (ks, idx))
    return SolverState(mstate, sampler_state, state.k + chunk, state.key)


def _partial_block(problem, method, sampler, state: SolverState, t, chunk: int) -> SolverState:
    """``t`` < ``chunk`` steps (traced): draws a whole block and runs its first t steps."""
    idx, _ = _draw(sampler, state, chunk)

    def body(j, s):
        return method.step(s, problem, lax.dynamic_index_in_dim(idx, j, keepdims=False), state.k + j)

    mstate = lax.fori_loop(0, t, body, state.method)
    sampler_state = state.sampler if sampler is None else sampler.skip(state.sampler, state.key, t)
    return SolverState(mstate, sampler_state, state.k + t, state.key)


def advance_state(problem: FiniteSum, method: Method, state: SolverState, steps, *,
                  chunk: int) -> SolverState:
    """Runs ``steps`` (a traced int32; a negative count runs none) more steps (traceable; the building
    block of every run). The trip counts depend on ``steps`` only, never on a seed or a hyperparameter,
    so under ``vmap`` they stay real loops and branches."""
    sampler = _sampler(method, problem.n, chunk)
    steps = jnp.maximum(jnp.asarray(steps, jnp.int32), 0)  # -5 with chunk 4 ran 3 steps (-5 mod 4), silently
    full = steps // chunk
    state = lax.fori_loop(0, full, lambda _, s: _block(problem, method, sampler, s, chunk), state)
    rem = steps - full * chunk
    return lax.cond(rem > 0, lambda s: _partial_block(problem, method, sampler, s, rem, chunk),
                    lambda s: s, state)


@functools.partial(jax.jit, static_argnames=("chunk",))
def _init_jit(problem, method, x0, key, *, chunk):
    return init_state(problem, method, x0, key, chunk=chunk)


@functools.partial(jax.jit, static_argnames=("chunk",), donate_argnums=())
def _advance_jit(problem, method, state, steps, *, chunk):
    return advance_state(problem, method, state, steps, chunk=chunk)


@jax.jit
def _metrics_jit(problem, x):
    f, g = problem.value_and_grad(x)
    return f, _tree.sq_norm(g)


# -- argument checks shared with the runner ----------------------------------------------------------

MAX_SEED = 2**63 - 1  # the largest int seed (a signed 64-bit integer), on the CLI as in Python


def as_key(key):
    """A typed PRNG key from ``key``: a key, a raw uint32[2] key, or an int seed in [0, 2**63 - 1],
    the range ``--key`` takes (JAX also takes -1 and 2**64 - 1, which run one and the same stream)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if not 0 <= int(key) <= MAX_SEED:
            raise ValueError(f"key must be an int seed in [0, 2**63 - 1] = [0, {MAX_SEED}] or a PRNG "
                             f"key, got {key}")
        if int(key) >= 2**32 and not jax.config.jax_enable_x64:
            # JAX keeps the low 32 bits of a seed when x64 is off: 2**32 would run seed 0's stream
            raise ValueError(f"key {key} is >= 2**32, and with jax_enable_x64 off JAX keeps only a seed's "
                             f"low 32 bits (it would run seed {int(key) % 2**32}'s stream); use a seed "
                             "below 2**32 or jax.config.update('jax_enable_x64', True)")
        return jax.random.key(int(key))
    arr = key
    validation.live("key", key)
    is_typed = hasattr(arr, "dtype") and jnp.issubdtype(arr.dtype, jax.dtypes.prng_key)
    if is_typed:
        if arr.shape != ():
            raise ValueError(f"key must be a single PRNG key, got a key array of shape {arr.shape}")
        return arr
    if hasattr(arr, "shape") and arr.shape == (2,) and arr.dtype == jnp.uint32:
        return jax.random.wrap_key_data(arr)
    raise TypeError(f"key must be a PRNG key such as jax.random.key(0) (or an int seed), got {key!r}")


def check_x(name, x, problem):
    """Refuses an iterate that does not fit ``problem`` (shape, finiteness, real dtype)."""
    leaves = jax.tree_util.tree_leaves(x)
    if not leaves:
        raise ValueError(f"{name} must be an array (or a pytree of arrays), got {x!r}")
    validation.live(name, x)
    sharding.check_placement(name, x, problem)
    for leaf in leaves:
        # a masked array, text, objects, a memoryview: JAX's own error ("Value ... with dtype |S3 is
        # not a valid JAX array type"), naming no argument
        validation.dense_array(name, leaf, owner="an iterate")
        if not (hasattr(leaf, "dtype") or isinstance(leaf, numbers.Number)):
            raise TypeError(f"{name} must be an array (or a pytree of arrays), got a {type(leaf).__name__}")
        if jnp.iscomplexobj(leaf):
            raise TypeError(f"{name} must be real, got complex dtype {jnp.asarray(leaf).dtype} "
                            "(its imaginary part would be dropped)")
    x = jax.tree_util.tree_map(validation.native_order, _tree.listed(x, problem.x_shape))  # big-endian: JAX's error
    if problem.x_shape is not None:
        shape = jnp.shape(x) if hasattr(x, "shape") else None  # of a ragged list: NumPy's error
        if shape is None or tuple(shape) != problem.x_shape:
            got = shape if shape is not None else type(x).__name__
            raise ValueError(f"{name} must have shape {problem.x_shape} for problem "
                             f"{problem.name!r}, got {got}")
    check_loss(problem, x, name)
    for leaf in leaves:
        validation.finite_array(name, leaf, "an iterate must be finite")  # was "clean the data first"


def check_forward_only(what: str, *trees) -> None:
    """Refuses reverse-mode differentiation (``jax.grad``, ``vjp``, ``jacrev``; ``jax.linearize``, which
    records for a transpose) of a run: its loops run a traced number of steps (one program for any
    count), which JAX cannot transpose. JAX's "Reverse-mode differentiation does not work for
    lax.while_loop or lax.fori_loop with dynamic start/stop values" came after the run, naming neither
    the run nor forward mode, which works. Seen by jax.grad's tracer (``_reverse``), under vmap too; not in a
    run that ``jax.jit`` traced before it is differentiated (``jax.grad(jax.jit(run))``: JAX's error)."""
    if any(_reverse(leaf) for leaf in jax.tree_util.tree_leaves(trees)):
        raise ValueError(f"{what} cannot be differentiated in reverse mode (jax.grad, jax.vjp, jax.jacrev, "
                         "jax.linearize): its loops run a traced number of steps, which JAX does not transpose; "
                         "use forward mode (jax.jvp, jax.jacfwd), e.g. for d f(x_k) / d step_size")


def _reverse(leaf) -> bool:
    """Whether ``leaf`` is traced for reverse mode: a LinearizeTracer (jax >= 0.5) or a JVPTracer whose tangent is
    partial evaluation's JaxprTracer (jax 0.4.30), also under vmap's BatchTracer or a jacfwd JVPTracer
    (``jax.grad(jax.vmap(run))`` was JAX's error; leftovers34b)."""
    while (kind := type(leaf).__name__) in ("BatchTracer", "JVPTracer"):
        if kind == "JVPTracer" and type(leaf.tangent).__name__ == "JaxprTracer":
            return True
        leaf = leaf.val if kind == "BatchTracer" else leaf.primal
    return kind == "LinearizeTracer"


def cast_x(x, problem, name="x0"):
    """x as JAX arrays: integer input takes the problem's dtype; under x64-off, NumPy float64 is
    cast to float32 with a warning, as a problem's data is (``sgd_bench.precision``: entries beyond
    float32 refused, vanishing ones named), and a JAX float64 array is refused, as a problem's is."""
    import warnings

    precision.x64_arrays(name, x, "the method", "or pass a float32 (or NumPy) array")  # JAX's truncation warning only

    def cast(a):
        a = validation.native_order(a)
        if not jax.config.jax_enable_x64 and getattr(a, "dtype", None) == np.float64:
            # named: a float64 x_star (x0 float32) was warned as "x0 is float64"
            lost = precision.downcast_range(name, a, data=False)  # 1e39 ran as inf (diverged at step 0), silently
            warnings.warn(f"{name} is float64 but jax_enable_x64 is off, so JAX computes in float32; "
                          "set jax.config.update('jax_enable_x64', True) to keep float64, or pass "
                          "float32" + (f". {lost}" if lost else ""), PrecisionWarning, stacklevel=4)
        if not isinstance(a, jax.Array) and np.asarray(a).dtype.kind in "biu":  # on the host: with x64 off JAX
            a = np.asarray(a, jnp.dtype(problem.dtype))  # took an int64 x0 as int32 first (2**40 became 0)
        a = jnp.asarray(a)
        wide = jnp.dtype(problem.dtype)
        if (jnp.issubdtype(a.dtype, jnp.floating) and jnp.issubdtype(wide, jnp.floating)
                and a.dtype.itemsize < wide.itemsize):
            # dtype follows x0: a float16 x0 on float64 data runs float16 iterates; say so
            warnings.warn(f"{name} is {a.dtype} but the problem's data is {wide}, so the iterates are "
                          f"{a.dtype}; pass {name}.astype({wide.name!r}) to compute in {wide}",
                          PrecisionWarning, stacklevel=4)
        # An explicit dtype also drops a weak type (jnp.full(shape, 0.1) is weakly typed), so
        # the state a run starts from has the types of the states it produces: one program.
        return jnp.asarray(a, a.dtype if jnp.issubdtype(a.dtype, jnp.floating) else problem.dtype)
    return jax.tree_util.tree_map(cast, _tree.listed(x, problem.x_shape))  # a list of numbers: one array


def check_problem_method(problem, method):
    if not isinstance(problem, FiniteSum):
        raise TypeError(f"problem must be a sgd_bench.FiniteSum, got {type(problem).__name__}")
    if not isinstance(method, Method):
        raise TypeError(f"method must be a sgd_bench.Method (gd, sgd, from_optax, ...), "
                        f"got {type(method).__name__}")
    method.validate(problem)
    own = getattr(method.init_fn, "__module__", "").startswith("sgd_bench.")  # a user's may take arrays
    for name, value in method.values().items():  # replace(step_size=<column>): JAX's "Cannot broadcast"
        validation.live(name, value)  # replace(step_size=<a deleted array>): JAX's "Array has been deleted"
        if own and np.ndim(value) and name.rsplit(".", 1)[-1] != "preconditioner":  # our one matrix
            raise ValueError(f"{name} must be a scalar to run (a grid is for sweep), got shape {np.shape(value)}")
        if own and not isinstance(value, jax.core.Tracer) and not precision.is_real(np.asarray(value).dtype):
            # replace(step_size=Decimal("0.1") / 0.1+1j / a lambda): JAX's "Error interpreting an argument" or
            # a silently dropped imaginary part, where the constructors refuse them
            raise TypeError(f"{name} must be a real number to run, got {value!r}"
                            + (" (a schedule goes in where the method is built)" if callable(value) else ""))
        schedules.check_step_in_dtype(name, value, problem.dtype, problem.name)  # not 0 or inf in its float
    validation.live("problem.data", problem.data)
    check_x64(problem)


def check_x64(problem):
    """A problem built with x64 on, run with it off, is refused (``validation.x64_arrays``)."""
    validation.x64_arrays("problem.data", problem.data, f"problem {problem.name!r}")


class Solver:
    """A method bound to a problem: compile once, then ``init`` / ``advance`` / ``run``.

    **Arguments:**

    - ``problem``: a ``FiniteSum``.
    - ``method``: a ``Method``.
    - ``chunk``: steps per sampled block (default 256); static, like the shapes.

    The compiled programs are keyed by the problem's shapes and dtypes and the method's
    structure, not by their values: a ``Solver`` for new data of the same shapes, another mu or
    another step size reuses them.

    >>> import jax.numpy as jnp, problems, sgd_bench as sb
    >>> solver = sb.Solver(problems.lecture_logreg(), sb.sgd(0.1, batch_size=10))
    >>> state = solver.init(jnp.zeros(10), 0)
    >>> state = solver.advance(state, 500)          # steps 0..499
    >>> state = solver.advance(state, 500)          # steps 500..999, same program
    >>> int(state.k), int(solver.grad_evals(state))
    (1000, 10000)
    """

    def __init__(self, problem: FiniteSum, method: Method, *, chunk: int = DEFAULT_CHUNK):
        check_problem_method(problem, method)
        self.problem = problem
        self.method = method
        self.chunk = validation.integer("chunk", chunk, low=1, high=2**20)

    def init(self, x0, key) -> SolverState:
        """The state at ``x0`` before step 0; ``key`` is a PRNG key or an int seed."""
        check_x("x0", x0, self.problem)
        check_x64(self.problem)  # a Solver made with x64 on, used with it off
        from sgd_bench import memory

        # the method's state must fit (lbfgs(10**9) would be killed by the OOM killer)
        memory.check_run_fits(memory.estimate_run_bytes(self.problem, self.method, 1, self.chunk, x0=x0),
                              f"Solver.init of {self.method.name}")
        check_method_state(self.problem, self.method, cast_x(x0, self.problem))
        return _init_jit(self.problem, self.method, cast_x(x0, self.problem), as_key(key),
                         chunk=self.chunk)

    def advance(self, state: SolverState, steps: int) -> SolverState:
        """``steps`` >= 0 more steps from ``state`` (no compile for a new count). ``steps`` is a host
        int: inside one's own ``jax.jit`` make it static, or call ``advance_state`` (a traced count).
        No divergence flag: a negative step size is warned about (``sgd_bench.flags``)."""
        self._check_state(state)
        check_forward_only("Solver.advance", self.problem, self.method, state)
        steps = validation.integer("steps", steps, low=0, high=MAX_STEPS)
        # a traced counter (a user's jax.jit around advance) has no host value to check: int() of
        # it was JAX's ConcretizationTypeError
        if not isinstance(state.k, jax.core.Tracer):
            if int(state.k) + steps > MAX_STEPS:
                raise ValueError(f"steps must keep the step counter below 2**31 - 1; the state is at "
                                 f"k = {int(state.k)}, got steps = {steps}")
            flags.warn_solver_negative(self, int(state.k) + steps)  # the state has no flag: warned as run is
        return _advance_jit(self.problem, self.method, state, jnp.int32(steps), chunk=self.chunk)

    def _check_state(self, state: SolverState) -> None:
        """Refuses a state another Solver made (another method, problem shape or chunk): its
        structure or shapes differ from what ``init`` gives here (``eval_shape``: nothing runs),
        and the compiled loop would fail inside JAX. Dtypes may differ (x0 sets them)."""
        _is_state(state)
        validation.live("state", state)
        check_x64(self.problem)
        if getattr(self, "_expected", None) is None or self.problem.x_shape is None:  # a pytree iterate:
            x = state.x if self.problem.x_shape is None else jax.eval_shape(self.problem.zeros)  # no zeros
            self._expected = jax.eval_shape(functools.partial(init_state, chunk=self.chunk), self.problem,
                                            self.method, x, jax.eval_shape(lambda: jax.random.key(0)))
        want, got = self._expected, state
        same = jax.tree_util.tree_structure(want) == jax.tree_util.tree_structure(got) and all(
            jnp.shape(a) == jnp.shape(b) for a, b in zip(jax.tree_util.tree_leaves(want),
                                                        jax.tree_util.tree_leaves(got)))
        if not same:
            raise TypeError(f"state does not fit this Solver ({self.method.name} on {self.problem.name!r}, "
                            f"chunk {self.chunk}): its structure or shapes differ from what this "
                            "Solver's init gives; was it made by another Solver?")

    def compile(self, state: SolverState):
        """The advance program compiled ahead of time for states like ``state``, as a plain
        callable ``(state, steps) -> state`` with no argument checks and no host sync: for
        timing loops (block on the result before reading a clock) and tight driver loops."""
        self._check_state(state)  # the returned callable checks nothing; the state it is built for is
        compiled = _advance_jit.lower(self.problem, self.method, state, jnp.int32(0),
                                      chunk=self.chunk).compile()
        problem, method = self.problem, self.method
        return lambda s, steps: compiled(problem, method, s, jnp.int32(steps))

    def run(self, x0, key, steps: int) -> SolverState:
        """``advance(init(x0, key), steps)``: the final state, no full-data metrics."""
        # steps is checked before init, which compiles: a bad count is refused before any work
        steps = validation.integer("steps", steps, low=0, high=MAX_STEPS)
        return self.advance(self.init(x0, key), steps)

    def metrics(self, state: SolverState) -> tuple[float, float]:
        """(f(x), ||grad f(x)||^2) at the state's iterate (one full pass over the data)."""
        self._check_state(state)
        f, g = _metrics_jit(self.problem, state.x)
        if isinstance(f, jax.core.Tracer):  # float() of it was JAX's ConcretizationTypeError
            raise TypeError("Solver.metrics gives host floats, so it cannot run inside jit / vmap: there use "
                            "problem.value_and_grad(state.x) (f and the gradient, whose squared norm is the second)")
        return float(f), float(g)

    @staticmethod
    def grad_evals(state: SolverState) -> int:
        """The exact number of per-sample gradient evaluations so far."""
        return int(_is_state(state).method.grad_evals)  # a dict was "'dict' object has no attribute 'method'"

    @staticmethod
    def counts(state: SolverState) -> dict[str, int]:
        """Every evaluation count the method keeps, as ints."""
        return {k: int(v) for k, v in counts(_is_state(state).method).items()}

    def __repr__(self):
        return f"Solver({self.problem!r}, {self.method!r}, chunk={self.chunk})"


def _is_state(state) -> SolverState:
    """``state`` when it is a SolverState; else TypeError naming what was given."""
    if not isinstance(state, SolverState):
        raise TypeError(f"state must be a SolverState from Solver.init or advance, got {type(state).__name__}")
    validation.live("state", state)  # grad_evals and counts of a donated state: JAX's "Array has been deleted"
    return state
