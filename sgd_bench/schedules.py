"""Step-size schedules: values that map the step counter k (0-based) to alpha_k.

A ``Schedule`` is a pytree: its formula is static and its parameters (a, mu, k0, ...) are
leaves, so ``constant(0.1)`` and ``constant(0.2)`` run in one compiled program and a sweep can
``vmap`` over them. Any other callable ``k -> alpha`` (an optax schedule, a lambda) is accepted
too and wrapped as a static schedule: it runs as it is, but each distinct callable object is a
program of its own. The factories check their arguments and raise ``ValueError`` naming the bad
value.
"""

from __future__ import annotations

import collections.abc
import numbers
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import validation
from sgd_bench._values import Label, leaves_equal, leaves_hash, show_value


def _as_float(k) -> jnp.ndarray:
    k = jnp.asarray(k)
    return k.astype(jnp.result_type(float))


@jax.tree_util.register_pytree_node_class
class Schedule:
    """alpha_k as a formula ``formula(params, k)`` (static) of parameters ``params`` (leaves).

    Built by the factories below, or by ``as_schedule`` around any callable ``k -> alpha``
    (then ``wrapped`` holds it and ``params`` is empty). Equal formulas with equal parameters
    compare equal; the parameters are traced, so changing them never compiles again.
    """

    def __init__(self, formula: Callable | None, params: dict, name: str,
                 wrapped: Callable | None = None):
        # Refused here by name: Schedule(None, {}, "x") was built, then failed only when called
        # ("'NoneType' object is not callable"), maybe inside a compiled run.
        if wrapped is None and not callable(formula):
            raise TypeError(f"formula must be a function formula(params, k) (or give wrapped=, a "
                            f"callable k -> alpha), got {formula!r}")
        if wrapped is not None and not callable(wrapped):
            raise TypeError(f"wrapped must be a callable k -> alpha or None, got {wrapped!r}")
        if not isinstance(params, collections.abc.Mapping):
            raise TypeError(f"params must be a mapping of names to numbers, got {params!r}")
        self.formula = formula
        self.params = dict(params)
        self.name = Label(name)
        self.wrapped = wrapped

    def __call__(self, k):
        k = _host_counter(k)
        if self.wrapped is not None:
            return self.wrapped(k)
        return self.formula(self.params, k)

    @property
    def is_constant(self) -> bool:
        return self.formula is _constant

    # -- pytree protocol and value semantics ----------------------------------------------------
    def tree_flatten(self):
        keys = tuple(sorted(self.params))
        return tuple(self.params[k] for k in keys), (self.formula, keys, self.name, self.wrapped)

    @classmethod
    def tree_unflatten(cls, aux, children):
        formula, keys, name, wrapped = aux
        obj = object.__new__(cls)
        obj.formula, obj.params, obj.name, obj.wrapped = formula, dict(zip(keys, children)), name, wrapped
        return obj

    def __eq__(self, other):
        if type(other) is not Schedule:
            return NotImplemented
        a, aux_a = self.tree_flatten()
        b, aux_b = other.tree_flatten()
        return aux_a == aux_b and leaves_equal(a, b)

    def __hash__(self):
        leaves, aux = self.tree_flatten()
        return hash((aux, leaves_hash(leaves)))

    def __repr__(self):
        if self.wrapped is not None:
            return f"Schedule({self.wrapped!r})"
        args = ", ".join(f"{k}={show_value(v)}" for k, v in sorted(self.params.items()) if v is not None)
        return f"{self.name.text}({args})"

    def check(self, name: str = "step_size") -> "Schedule":
        """Checks on the host that alpha_0 is a finite number > 0 (skipped for traced values)."""
        try:
            value = self(0)
        except Exception as err:  # the user's callable failed: say which argument it was
            raise TypeError(f"{name} must map a step counter k to a step size; "
                            f"calling it at k=0 raised {err!r}") from None
        if isinstance(value, jax.core.Tracer) or any(
                isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves(self.params)):
            return self
        try:
            arr = np.asarray(value)
            if arr.ndim != 0:
                raise TypeError(f"it returned an array of shape {arr.shape}, not a scalar")
            if arr.dtype == bool:  # sgd(True) is refused; a schedule giving True must be too
                raise TypeError(f"it returned {value!r}, a bool, not a number")
            if arr.dtype.kind not in "iufc":  # "0.1" passed float() here, then failed traced as "a Python `if`"
                raise TypeError(f"it returned {value!r}, a {type(value).__name__}, not a number")
            first = float(arr)
        except Exception as err:
            raise TypeError(f"{name} must map a step counter k to a scalar step size; "
                            f"at k=0: {err}") from None
        if not np.isfinite(first) or first <= 0:
            raise ValueError(f"{name} must give a step size > 0; at k=0 it gives {first!r}")
        if self.wrapped is not None:  # the run calls it with a traced k: try that now (nothing compiles)
            try:
                jax.eval_shape(self.wrapped, jax.ShapeDtypeStruct((), jnp.int32))
            except TypeError as err:  # JAX's tracer errors are TypeErrors
                raise TypeError(f"{name} must accept a traced step counter k (the run calls it inside "
                                f"a compiled loop); with a traced k it raised {type(err).__name__} (a "
                                "Python `if` on k? write jnp.where(k < K, a, b))") from None
        return self


def _host_counter(k):
    """A host step counter k checked: a number (or an array of them) in [0, MAX_STEPS]. Floats
    pass (``rates.schedule_power`` reads the formula between steps); a traced k is returned as
    it is, so a run's compiled program is unchanged."""
    if isinstance(k, jax.core.Tracer):
        return k
    # k = -1 gave inf (lecture_decreasing), 10**20 JAX's OverflowError, 'a' or None JAX's errors
    if isinstance(k, (bool, np.bool_)) or not (isinstance(k, numbers.Integral) or _is_real_array(k)):
        raise TypeError(f"k must be a step counter (an integer >= 0, or an array of them), got {k!r}")
    if isinstance(k, numbers.Integral):  # a Python int of any size: compared exactly
        bad = None if 0 <= k <= validation.MAX_STEPS else k
    else:  # one vectorized pass: a theory plot reads the formula at many k at once
        flat = np.ravel(np.asarray(k))
        outside = ~((flat >= 0) & (flat <= validation.MAX_STEPS))  # NaN is outside too
        bad = flat[outside][0].item() if outside.any() else None
    if bad is not None:
        raise ValueError(f"k must be a step counter in [0, {validation.MAX_STEPS}] (the run's "
                         f"step counter is int32), got {bad!r}")
    return k


def _is_real_array(k) -> bool:
    try:
        kind = np.asarray(k).dtype.kind
    except Exception:  # an object NumPy cannot read: not a counter
        return False
    return kind in "iuf"


def _value(name, value, check):
    """A parameter as given: checked on the host when concrete, a traced value as it is."""
    if isinstance(value, jax.core.Tracer):
        return value
    return check(name, value)


def _constant(p, k):
    # one value per k, as the other formulas give (an array of k was one scalar)
    return p["a"] if jnp.ndim(k) == 0 else jnp.broadcast_to(p["a"], jnp.shape(k))


def constant(a: float) -> Schedule:
    """alpha_k = a.

    >>> constant(0.1)(7)
    0.1
    """
    return Schedule(_constant, {"a": _value("a", a, validation.positive_float)}, "constant")


def _lecture(p, k):
    k = _as_float(k)
    alpha = (2.0 * k + 1.0) / (2.0 * p["mu"] * (k + 1.0) ** 2)
    return alpha if p.get("alpha_max") is None else jnp.minimum(alpha, p["alpha_max"])


def lecture_decreasing(mu: float, alpha_max: float | None = None) -> Schedule:
    """alpha_k = min(alpha_max, (2k + 1) / (2 mu (k + 1)^2)), the lecture's step for mu-PL
    functions.

    With it SGD satisfies E[f(x_k) - f*] <= L sigma^2 / (2 mu^2 k) (Gower et al. 2019,
    Theorem 3.2; the lecture's "decreasing stepsize" slide). The first steps are about
    1/(2 mu), which is far above the stable step 1/L when mu is small; ``alpha_max`` (for
    example the safe constant step of the problem) caps them. Without a cap the formula is the
    lecture's as written.

    >>> float(lecture_decreasing(1.0)(0)), float(lecture_decreasing(1.0)(1))
    (0.5, 0.375)
    >>> float(lecture_decreasing(1.0, alpha_max=0.25)(0))
    0.25
    """
    params = {"mu": _value("mu", mu, validation.positive_float)}
    if alpha_max is not None:
        params["alpha_max"] = _value("alpha_max", alpha_max, validation.positive_float)
    return Schedule(_lecture, params, "lecture_decreasing")


def _inverse_time(p, k):
    return p["a"] / (1.0 + _as_float(k) / p["k0"])


def inverse_time(a: float, k0: float) -> Schedule:
    """alpha_k = a / (1 + k / k0): starts at a and halves by k = k0, then decays like 1/k.

    >>> float(inverse_time(1.0, 10.0)(10))
    0.5
    """
    return Schedule(_inverse_time, {"a": _value("a", a, validation.positive_float),
                                    "k0": _value("k0", k0, _nonzero_float)}, "inverse_time")


def _nonzero_float(name, value) -> float:
    """A number > 0 that stays > 0 where the formulas compute (k / k0 at k = 0 with k0 = 5e-324 is
    0 / 0 in float32: refused as "step_size ... gives nan", naming neither)."""
    value = validation.positive_float(name, value)
    _normal(name, value)
    return value


def _normal(name, values) -> None:
    wide = jnp.finfo(jnp.result_type(float))
    low = [v for v in np.ravel(values).tolist() if v < float(wide.tiny)]
    if low:  # XLA flushes subnormals to 0 (1e-40 gave nan too)
        raise ValueError(f"{name} must be at least {float(wide.tiny):.3g}, the smallest normal "
                         f"{wide.dtype.name} (the dtype schedules compute in; below it XLA computes with 0), "
                         f"got {low[0]!r}")


def _inverse_sqrt(p, k):
    return p["a"] / jnp.sqrt(_as_float(k) + 1.0)


def inverse_sqrt(a: float) -> Schedule:
    """alpha_k = a / sqrt(k + 1).

    >>> float(inverse_sqrt(2.0)(3))
    1.0
    """
    return Schedule(_inverse_sqrt, {"a": _value("a", a, validation.positive_float)}, "inverse_sqrt")


# The parameters each factory requires > 0; ``check_params`` holds values set later (by
# ``Method.replace`` or a sweep's grid) to the same rule, so that a negative constant step is
# refused however it is given.
_POSITIVE = {_constant: ("a",), _lecture: ("mu", "alpha_max"), _inverse_time: ("a", "k0"),
             _inverse_sqrt: ("a",)}


def check_params(schedule: Schedule, name: str = "step_size") -> None:
    """Raises ValueError when a concrete parameter of a built-in schedule (a number or an array
    of them, as a sweep gives) is not a finite number > 0; names it as ``Method.values`` does
    (``step_size`` for a constant, ``step_size.mu`` for a parameter). Traced values pass."""
    for key in _POSITIVE.get(schedule.formula, ()):
        if key not in schedule.params or isinstance(schedule.params[key], jax.core.Tracer):
            continue  # an optional one left out (alpha_max), or traced
        value = schedule.params[key]
        label = name if schedule.is_constant else f"{name}.{key}"
        try:
            arr = np.asarray(value)
        except Exception:
            continue
        if value is None or arr.dtype.kind in "bSU":
            # replace(step_size=True) ran a step of 1, "0.1" was "Unknown format code 'g'" and None
            # JAX's "None is not a valid value for jnp.array": the constructor refuses all three
            raise TypeError(f"{label} must be a number > 0 ({schedule.name.text}'s {key}), got {validation.shown(value)}")
        if arr.dtype.kind not in "iuf":
            continue  # not a number (a placeholder while a sweep finds its leaves)
        flat = np.ravel(arr)
        bad = flat[~(np.isfinite(flat) & (flat > 0))]
        if bad.size:
            raise ValueError(f"{label} must be a finite number > 0 ({schedule.name.text}'s {key}), "
                             f"got {bad[0].item()!r}")
        if schedule.formula is _inverse_time and key == "k0":  # replaced or swept as when built
            _normal(label, flat)


def as_schedule(step_size: Any, name: str = "step_size") -> Schedule:
    """A number becomes ``constant``, a ``Schedule`` is checked, any other callable is wrapped.

    A traced scalar (inside ``jit`` or ``vmap``) becomes a constant without a host check.
    """
    if isinstance(step_size, Schedule):
        return step_size.check(name)
    if isinstance(step_size, jax.core.Tracer):
        return Schedule(_constant, {"a": step_size}, "constant")
    if callable(step_size):
        return Schedule(None, {}, getattr(step_size, "__name__", "schedule"),
                        wrapped=step_size).check(name)
    try:
        return constant(validation.positive_float(name, step_size))
    except (TypeError, ValueError) as err:
        if hasattr(step_size, "ndim") and np.ndim(step_size) > 0:
            raise TypeError(f"{name} must be a positive number or a schedule, got an array of shape "
                            f"{np.shape(step_size)} (to run several step sizes, use sgd_bench.sweep)") from None
        raise err


# The hyperparameters that scale a step (by their last flat name): a constant one that the problem's
# float cannot hold makes a run that stands still, or one at inf.
STEP_NAMES = ("step_size", "learning_rate", "initial_step", "phase1_step_size")
SCALE_NAMES = ("noise_std",)  # a scale that is inf in the problem's float (noise_std 1e300 in float32), not 0


def check_step_in_dtype(name: str, value: Any, dtype, problem_name: str) -> None:
    """Refuses a constant step ``value`` (flat name ``name``) that the problem's float ``dtype`` turns
    into 0 or inf: with x64 off gd(1e-50) ran with a step of 0 and stood still at x0, silently (an
    inverse_time(1e-50) schedule and a sweep over 1e-50 were refused), and gd(1e300) ran at inf with
    NumPy's "overflow encountered in cast" (``noise_std`` 1e300 too, which may be 0). Below the smallest
    normal number XLA computes with 0 (float16 keeps its subnormals: its own smallest one there).
    Traced values and other hyperparameters pass."""
    last = name.rsplit(".", 1)[-1]
    if last not in STEP_NAMES + SCALE_NAMES or isinstance(value, jax.core.Tracer) or np.ndim(value):
        return
    if not isinstance(value, (numbers.Real, np.generic)) or isinstance(value, (bool, np.bool_)):
        return  # a schedule or anything else: checked where it is called
    info, kind = jnp.finfo(dtype), jnp.dtype(dtype).name
    low = float(info.smallest_subnormal if jnp.dtype(dtype) == jnp.float16 else info.tiny)
    if 0 < float(value) < low and last in STEP_NAMES:
        raise ValueError(f"{name} must be at least {low:.3g}, the smallest {kind} of problem {problem_name!r} "
                         f"XLA computes with, got {value!r}: in {kind} it is 0, and the run would stand still")
    if float(value) > float(info.max):
        raise ValueError(f"{name} must be at most {float(info.max):.3g}, the largest {kind} of problem "
                         f"{problem_name!r}, got {value!r}: in {kind} it is inf")


def number_at(schedule, k: float) -> float:
    """``schedule(k)`` as a float (``rates.schedule_power``); TypeError unless it is one real number."""
    value = schedule(k)
    if np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "iuf":
        # a vector was JAX's "Only scalar arrays can be converted", text float()'s "could not convert"
        raise TypeError(f"schedule must give one number per step k, got {value!r} at k = {k:g}")
    return float(value)


def replaced_whole(value, rest=()) -> bool:
    """Whether a method's slot holding ``value`` takes a number at the flat path ``rest`` below it that
    ``Method.values()`` does not list (``Method.replace``): as a whole, a schedule other than a constant,
    whose own parameters are the flat names (was "has no hyperparameter 'step_size'"), and a slot at its
    default, None (svrg's loop_length, sag's step_size: "has no hyperparameter 'loop_length'"); below,
    the same inside a nested method (``inner.step_size`` of ``averaged(sgd(schedule))``; leftovers34b)."""
    if rest:  # a nested Method (its hyperparams); methods.py imports this module, not the other way
        inner = getattr(value, "hyperparams", None)
        return isinstance(inner, dict) and rest[0] in inner and replaced_whole(inner[rest[0]], rest[1:])
    return value is None or isinstance(value, Schedule) and not value.is_constant


def at_default(hyperparams) -> str:
    """" (and, at its default, ['loop_length'])" for a refusal that lists ``Method.values()``; "" when none."""
    names = default_names(hyperparams)
    return f" (and, at {'its default' if len(names) == 1 else 'their defaults'}, {names})" if names else ""


def default_names(hyperparams) -> list[str]:
    """The flat names of a method's slots at their default (None), sorted: ``values()`` leaves them
    out, ``replace`` and ``sweep`` take them (svrg's ``loop_length``; ``inner.loop_length`` inside)."""
    names, todo = [], [("", hyperparams)]
    while todo:
        head, hyper = todo.pop()
        for key, value in hyper.items():
            if value is None:
                names.append(head + key)
            elif isinstance(getattr(value, "hyperparams", None), dict):  # a nested Method
                todo.append((f"{head}{key}.", value.hyperparams))
    return sorted(names)


def whole_value(current, new, flat: str):
    """What a slot holding ``current`` keeps when ``new`` replaces it as a whole: a schedule (a number
    becomes a constant, a callable is wrapped, as when built; every ``*step_size`` slot is one), except
    in a slot at its default (None) of another name, which keeps a number as its constructor makes it,
    so that two values share one program: svrg's and sarah's ``loop_length`` an int (a count), any other
    (gd_armijo's ``grow``) a float. None is the default again."""
    if new is None or current is None and not flat.endswith("step_size"):
        if isinstance(new, numbers.Real) and not isinstance(new, (bool, np.bool_)):
            count = flat.rsplit(".", 1)[-1] == "loop_length" and isinstance(new, numbers.Integral)
            return int(new) if count else float(new)  # 2.5 for a loop_length: its check refuses it
        return new  # anything else: the method's check names it
    return as_schedule(new, flat)
