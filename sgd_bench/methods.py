"""Methods as values: a ``Method`` is a pytree whose numeric hyperparameters are leaves.

A method is a pair of pure functions in the spirit of optax's GradientTransformation,

- ``init(p, x0, problem, key) -> state``: ``key`` is the method's own PRNG key (for methods
  with randomness of their own; the runner derives it from the run key);
- ``step(p, state, problem, idx, k) -> state``: ``idx`` holds the B batch indices the
  runner's sampler drew for step ``k``; a method never samples;

where ``p`` gives the method's hyperparameters and options by name (``p.step_size``). The
hyperparameters (step sizes and schedule parameters, momentum, noise scales, ...) are pytree
leaves: ``jit`` traces them, so ``sgd(0.1)`` and ``sgd(0.2)`` share one compiled program and a
sweep can ``vmap`` over them. What shapes the program (the two functions, the batch size, the
sampling, options such as ``linear=True``) is static and compared by value, so
``sgd(0.1) == sgd(0.1)``. The name is a label only: it never changes the program.

Every state is a NamedTuple carrying the evaluated iterate ``x`` and an exact, overflow-free
count ``grad_evals`` of per-sample gradient evaluations (a full gradient counts n, a batch of
B counts B); other ``Count`` fields (loss evaluations, Hessian-vector products) are logged too.

What an SGD step runs on XLA:CPU (HLO of the scan body after optimization, logistic regression,
d = 100, float32, jax 0.10): batch 1 has 6 kernels (the count, two copies of the loop's carry,
one fusion for the row's margin and phi', the loop counter, the update; ``row_grad``). Every
B = 2..32 has 9: the same four, the rows (one fusion), the margins' dot, phi' (a fusion that
fetches the labels too), the transposed dot, the update. So B >= 2 crosses the executor's
8-kernel limit (``sgd_bench.gradient_table``) and pays two dot calls: B = 2 took 2.3x a batch-1
step in a reading under load. A dot-free step would change the last bits (245 of 300 float32
gradients at B = 2), so it is not taken; written plainly it had 10 kernels (each sum of 100
terms splits in two) and was no faster. The jump at B = 16 (5x B = 8 in the lead's run) is the
fetch of the rows (``FiniteSum.batch``), not the count: past 8 rows ``jnp.take``'s gather runs
element by element (~4 ns an element, 3-5 us of a 5-8 us step at B = 16-32, where a contiguous
block took 2-2.5 us in all). Slices in groups of 8 fetched the same rows at 0.3-0.5x the step
(B = 16-32) but changed other programs' last bits (an MLP's under ``vmap``): not taken.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import jax
import numpy as np
import optax

from sgd_bench import validation
from sgd_bench import _tree
from sgd_bench._values import Label, leaves_equal, leaves_hash, like_current, replacement, show_value
from sgd_bench.counting import Count
from sgd_bench.gradient_table import one_dense_row, row_grad
from sgd_bench.sampling import SAMPLINGS
from sgd_bench.schedules import Schedule, as_schedule, at_default, check_params, replaced_whole, whole_value


class Params:
    """Read-only access by name to a method's hyperparameters and options (``p.step_size``,
    ``p["batch_size"]``), as the method's ``init`` and ``step`` see them."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"the method has no hyperparameter or option {name!r}; it has "
                                 f"{sorted(self._values)}") from None

    def __getitem__(self, name):
        return self._values[name]

    def get(self, name, default=None):
        return self._values.get(name, default)

    def __contains__(self, name):
        return name in self._values


@jax.tree_util.register_pytree_node_class
class Method:
    """An optimization method for finite sums, as a value.

    **Arguments:**

    - ``init``: ``(p, x0, problem, key) -> state``. Use a module-level function: functions are
      compared by identity, so a closure made anew per call compiles a program per call.
    - ``step``: ``(p, state, problem, idx, k) -> state``, with ``idx`` the B indices of step k.
    - ``hyperparams``: numbers, ``Schedule`` s, nested ``Method`` s or arrays, by name: the
      traced values (changing them never compiles again).
    - ``options``: hashable static settings by name (they select the program).
    - ``batch_size``: B, or ``None`` for methods that get no indices from the runner.
    - ``sampling``: one of ``SAMPLINGS``, how the runner draws indices.
    - ``name``: a label for tables and plots.
    - ``check``: optional ``(p, problem) -> None`` run on the host before anything compiles
      (for example to require ``problem.info["L_max"]``); raise ``ValueError`` there.
    """

    def __init__(self, init: Callable, step: Callable, *, hyperparams: Mapping[str, Any] | None = None,
                 options: Mapping[str, Any] | None = None, batch_size: int | None = None,
                 sampling: str = "with_replacement", name: str = "custom",
                 check: Callable | None = None):
        if not callable(init) or not callable(step):
            raise TypeError("init and step must be callables init(p, x0, problem, key) and "
                            f"step(p, state, problem, idx, k); got {init!r} and {step!r}")
        if batch_size is not None:
            batch_size = validation.integer("batch_size", batch_size, low=1)
        sampling = validation.choice("sampling", sampling, SAMPLINGS)
        if check is not None and not callable(check):  # 5 was "'int' object is not callable" at run
            raise TypeError(f"check must be a callable check(p, problem) or None, got {check!r}")
        hyperparams = dict(hyperparams or {})
        for key, value in hyperparams.items():  # "0.1" failed in the step: "Only integer scalar arrays ..."
            for leaf in jax.tree_util.tree_leaves(value):
                validation.dense_array(f"hyperparams[{key!r}]", leaf, owner="a Method")
        options = dict(options or {})
        clash = set(hyperparams) & (set(options) | {"batch_size", "sampling"})
        if clash:
            raise ValueError(f"hyperparams and options share the name(s) {sorted(clash)}")
        for key, value in options.items():
            try:
                hash(value)
            except TypeError:
                raise TypeError(f"option {key!r} must be hashable (it selects the compiled "
                                f"program), got {value!r}") from None
        self._set(init, step, hyperparams, tuple(sorted(options.items())), batch_size, sampling,
                  Label(str(name)), check)

    def _set(self, init, step, hyperparams, options, batch_size, sampling, name, check):
        for attr, value in (("init_fn", init), ("step_fn", step), ("hyperparams", hyperparams),
                            ("options", dict(options)), ("batch_size", batch_size), ("sampling", sampling),
                            ("_name", name), ("check_fn", check)):
            object.__setattr__(self, attr, value)

    def __setattr__(self, name, value):
        raise AttributeError("a Method is immutable; use method.replace(...)")

    # -- what the runner calls ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name.text

    @property
    def params(self) -> Params:
        """The hyperparameters and options by name, as ``init`` and ``step`` receive them."""
        return Params({**self.options, **self.hyperparams, "batch_size": self.batch_size, "sampling": self.sampling})

    def init(self, x0, problem, key) -> Any:
        """The state at ``x0``; ``key`` is the method's own PRNG key."""
        return self.init_fn(self.params, x0, problem, key)

    def step(self, state, problem, idx, k) -> Any:
        """One step k on the batch ``idx``."""
        return self.step_fn(self.params, state, problem, idx, k)

    def validate(self, problem) -> "Method":
        """Host checks against ``problem`` before compiling: the batch fits, the method's own
        requirements hold (nested methods included). Returns the method."""
        if self.batch_size is not None and self.batch_size > problem.n:
            raise ValueError(f"batch_size must be in [1, n] = [1, {problem.n}] for problem "
                             f"{problem.name!r}, got {self.batch_size}")
        for key, value in self.hyperparams.items():
            if isinstance(value, Method):
                try:
                    value.validate(problem)
                except ValueError as err:  # named by its flat name (inner.loop_length), as swept
                    own = any(str(err).startswith(n + " ") for n in value.values())
                    raise (ValueError(f"{key}.{err}") if own else err) from None
        if self.check_fn is not None:
            self.check_fn(self.params, problem)
        return self

    # -- values ------------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Every numeric hyperparameter by its flat name: ``step_size`` for a constant step,
        ``step_size.mu`` for a schedule's parameter, ``inner.step_size`` inside a wrapper. These
        are the names ``replace`` and ``sgd_bench.sweep`` take."""
        out: dict[str, Any] = {}
        for key, value in self.hyperparams.items():
            _flatten_into(out, key, value)
        return out

    def replace(self, changes: Mapping[str, Any] | None = None, **kwargs) -> "Method":
        """A copy with hyperparameters changed by flat name (see ``values``; one at its default, None, too);
        the structure, and so the program, stays the same unless a whole schedule or a default is replaced.

        >>> sgd(0.1).replace(step_size=0.2) == sgd(0.2)
        True
        """
        changes = {**(changes or {}), **kwargs}
        known = self.values()
        hyper = dict(self.hyperparams)
        for flat, new in ((f, like_current(known.get(f), v)) for f, v in map(replacement, changes.items())):
            head, *rest = flat.split(".")
            if head not in hyper or (flat not in known and not isinstance(new, (Schedule, Method)) and not replaced_whole(hyper[head], rest)):
                raise ValueError(f"method {self.name!r} has no hyperparameter {flat!r}; it has "
                                 f"{sorted(known)}{at_default(self.hyperparams)}")
            if (head == "learning_rate" and not rest and self.init_fn is optax_init and not isinstance(new, jax.core.Tracer)
                    and np.asarray(new).dtype.kind in "iuf" and not np.all(np.isfinite(new) & (np.asarray(new) > 0))):
                raise ValueError(f"learning_rate must be a finite number > 0, got {new!r}")
            hyper[head] = _set_path(hyper[head], rest, new, flat)
        return self._copy(hyperparams=hyper)

    def _copy(self, **changes) -> "Method":
        obj = object.__new__(Method)
        fields = dict(init=self.init_fn, step=self.step_fn, hyperparams=self.hyperparams,
                      options=tuple(sorted(self.options.items())), batch_size=self.batch_size,
                      sampling=self.sampling, name=self._name, check=self.check_fn)
        fields.update(changes)
        obj._set(**fields)
        return obj

    def with_name(self, name: str) -> "Method":
        """The same method under another label (same program)."""
        return self._copy(name=Label(str(name)))

    # -- pytree protocol and value semantics ----------------------------------------------------------
    def tree_flatten(self):
        keys = tuple(sorted(self.hyperparams))
        aux = (self.init_fn, self.step_fn, keys, tuple(sorted(self.options.items())),
               self.batch_size, self.sampling, self._name, self.check_fn)
        return tuple(self.hyperparams[k] for k in keys), aux

    @classmethod
    def tree_unflatten(cls, aux, children):
        init, step, keys, options, batch_size, sampling, name, check = aux
        obj = object.__new__(cls)
        obj._set(init, step, dict(zip(keys, children)), options, batch_size, sampling, name, check)
        return obj

    def structure(self):
        """What selects the compiled program (the treedef): equal for methods that share one."""
        return jax.tree_util.tree_structure(self)

    def __eq__(self, other):
        if type(other) is not Method:
            return NotImplemented
        a, ta = jax.tree_util.tree_flatten(self)
        b, tb = jax.tree_util.tree_flatten(other)
        return ta == tb and self.name == other.name and leaves_equal(a, b)

    def __hash__(self):
        leaves, treedef = jax.tree_util.tree_flatten(self)
        return hash((treedef, self.name, leaves_hash(leaves)))

    def __repr__(self):
        vals = ", ".join(f"{k}={show_value(v)}" for k, v in self.values().items())
        extra = [f"batch_size={self.batch_size}"] if self.batch_size is not None else []
        if self.batch_size is not None:
            extra.append(f"sampling={self.sampling!r}")
        extra += [f"{k}={v!r}" for k, v in sorted(self.options.items())]
        return f"Method({self.name!r}, " + ", ".join([s for s in [vals] + extra if s]) + ")"


def _flatten_into(out, prefix, value):
    if value is None:
        return
    if isinstance(value, Schedule):
        if value.is_constant:
            out[prefix] = value.params["a"]
        else:
            for key, v in sorted(value.params.items()):
                if v is not None:
                    out[f"{prefix}.{key}"] = v
    elif isinstance(value, Method):
        for key, v in value.hyperparams.items():
            _flatten_into(out, f"{prefix}.{key}", v)
    else:
        out[prefix] = value


def step_sizes(method: "Method") -> list[tuple[str, Callable]]:
    """Every step size of ``method`` as ``(flat name, k -> alpha_k)``, nested methods included:
    its ``Schedule`` hyperparameters and, for ``from_optax`` with a factory, the
    ``learning_rate`` (a number or an optax schedule, which optax evaluates at its own count,
    equal to k). Traceable: the runner evaluates them over every k of a run to flag a step that
    went negative (``Trace.negative_step_at``). A ready optax transformation hides its
    learning rate and is not covered."""
    out: list[tuple[str, Callable]] = []

    def walk(prefix, value):
        if isinstance(value, Schedule):
            out.append((prefix, value))
        elif isinstance(value, Method):
            for key, v in sorted(value.hyperparams.items()):
                walk(f"{prefix}.{key}" if prefix else key, v)
            if value.init_fn is optax_init and value.options.get("factory") is not None:
                static = dict(value.options["static"])
                lr = value.hyperparams.get("learning_rate", static.get("learning_rate"))
                name = f"{prefix}.learning_rate" if prefix else "learning_rate"
                if callable(lr):
                    out.append((name, lr))
                elif lr is not None:
                    out.append((name, lambda k, a=lr: a))

    walk("", method)
    return out


def _set_path(current, path, new, flat):
    if not path and isinstance(new, Method) is not isinstance(current, Method):  # was "'Method' object is not callable"
        raise TypeError(f"{flat} must be {'a Method' if isinstance(current, Method) else 'a number or a schedule'}, got {new!r}")
    if not path and (isinstance(new, (Schedule, Method)) or replaced_whole(current) or callable(new) and isinstance(current, Schedule)):
        return new if isinstance(new, Method) else whole_value(current, new, flat)  # a callable is wrapped, as when built
    if isinstance(current, Schedule):
        prefix = flat if not path else flat[: -len(path[-1]) - 1]
        if not path and current.is_constant:
            out = Schedule(current.formula, {"a": new}, current.name.text)
            check_params(out, prefix)  # a negative constant is refused here as when built
            return out
        if len(path) == 1 and path[0] in current.params:
            out = Schedule(current.formula, {**current.params, path[0]: new}, current.name.text)
            check_params(out, prefix)
            return out
    elif isinstance(current, Method):
        if path:
            inner = ".".join(path)
            try:
                return current.replace({inner: new})
            except ValueError as err:  # name the value by its full name, as it was given
                text = str(err)
                raise ValueError(flat + text[len(inner):] if text.startswith(inner) else text) from None
    elif not path:
        return new
    raise ValueError(f"cannot set hyperparameter {flat!r} to {new!r}")


class GDState(NamedTuple):
    """State of gradient descent: the iterate and the gradient-evaluation count."""

    x: Any
    grad_evals: Count


class SGDState(NamedTuple):
    """State of mini-batch SGD: the iterate and the gradient-evaluation count."""

    x: Any
    grad_evals: Count


class OptaxMethodState(NamedTuple):
    """State of an optax-driven method: iterate, optax state, gradient-evaluation count."""

    x: Any
    opt_state: Any
    grad_evals: Count


def check_batch(batch_size, sampling):
    """``batch_size`` as an int >= 1 and ``sampling`` as one of ``SAMPLINGS``, or an error."""
    b = validation.integer("batch_size", batch_size, low=1)
    return b, validation.choice("sampling", sampling, SAMPLINGS)


def _gd_init(p, x0, problem, key):
    del p, problem, key
    return GDState(x0, Count.zero())


def _gd_step(p, state, problem, idx, k):
    del idx
    g = problem.grad(state.x)
    return GDState(_tree.sub_scaled(state.x, p.step_size(k), g), state.grad_evals.add(problem.n))


def gd(step_size) -> Method:
    """Gradient descent, x_{k+1} = x_k - alpha_k grad f(x_k), one full gradient per step.

    **Arguments:**

    - ``step_size``: a float alpha > 0 or a schedule ``k -> alpha_k``.
    """
    return Method(_gd_init, _gd_step, hyperparams={"step_size": as_schedule(step_size)}, name="GD")


def _sgd_init(p, x0, problem, key):
    del p, problem, key
    return SGDState(x0, Count.zero())


def _sgd_step(p, state, problem, idx, k):
    if one_dense_row(problem, state.x, idx):  # one dense row of a linear model: fewer kernels
        g = row_grad(problem, state.x, idx)
    else:
        g = problem.batch_grad(state.x, idx)
    return SGDState(_tree.sub_scaled(state.x, p.step_size(k), g), state.grad_evals.add(idx.shape[0]))


def sgd(step_size, batch_size: int = 1, sampling: str = "with_replacement") -> Method:
    """Mini-batch SGD, x_{k+1} = x_k - alpha_k / |B_k| sum_{i in B_k} grad f_i(x_k).

    **Arguments:**

    - ``step_size``: a float alpha > 0 or a schedule ``k -> alpha_k``.
    - ``batch_size``: |B_k| >= 1 (and <= n, checked when run).
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.
    """
    schedule = as_schedule(step_size)
    b, sampling = check_batch(batch_size, sampling)
    name = "SGD" if b == 1 else f"SGD batch {b}"
    return Method(_sgd_init, _sgd_step, hyperparams={"step_size": schedule}, batch_size=b,
                  sampling=sampling, name=name)


# -- optax: the pair every from_optax method runs (built and checked in sgd_bench.optax_methods) ------

def _optax_tx(p, x):
    if p.transformation is not None:
        return p.transformation
    numeric, static = {k: p[k] for k in p.traced}, dict(p.static)
    if not numeric:
        return p.factory(**static)
    return optax.inject_hyperparams(p.factory, tuple(static), _tree.hyperparam_dtype(x))(**numeric, **static)


def optax_init(p, x0, problem, key):
    """The init of every ``from_optax`` method (``sgd_bench.optax_methods``): optax's own state."""
    del problem, key
    return OptaxMethodState(x0, _optax_tx(p, x0).init(x0), Count.zero())


def optax_step(p, state, problem, idx, k):
    """The step of every ``from_optax`` method: the batch (or full) gradient through optax."""
    del k  # optax keeps its own step count in its state
    if p.batch_size is None:
        g, used = problem.grad(state.x), problem.n
    else:
        g, used = problem.batch_grad(state.x, idx), idx.shape[0]
    updates, opt_state = _optax_tx(p, state.x).update(g, state.opt_state, state.x)
    return OptaxMethodState(optax.apply_updates(state.x, updates),  # float32 numbers widened bf16 moments:
                            _tree.cast_like(opt_state, state.opt_state), state.grad_evals.add(used))
