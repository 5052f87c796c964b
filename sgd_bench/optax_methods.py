"""``from_optax``: any optax optimizer as a ``Method``, its numeric keywords traced hyperparameters.

The builder and its checks, which refuse when the method is built what would fail or climb only
inside a run (a gradient transformation without a learning rate, an update that needs the loss,
keywords of the wrong kind); the method's ``init``/``step`` pair is in ``sgd_bench.methods``.
"""

from __future__ import annotations

import inspect

import jax
import numpy as np
import optax

from sgd_bench import validation
from sgd_bench._values import replacement
from sgd_bench.methods import Method, check_batch, optax_init, optax_step
from sgd_bench.sampling import SAMPLINGS


def _is_number(value) -> bool:
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return False
    if isinstance(value, (int, jax.core.Tracer)):  # an int beyond int64 (10**400) is a NumPy object:
        return True  # it was "must be a number" with all its digits, where sgd(10**400) says "got inf"
    try:
        arr = np.asarray(value)
    except Exception:
        return False
    return arr.ndim == 0 and (jax.numpy.issubdtype(arr.dtype, jax.numpy.floating) or np.issubdtype(arr.dtype, np.integer))


def _traces_cleanly(factory, numeric, static) -> bool:
    """Whether ``factory`` accepts traced values for ``numeric`` (init and update on a tiny x)."""
    x = np.zeros(2, np.float32)

    def probe(values):
        tx = optax.inject_hyperparams(factory, static_args=tuple(static))(**values, **static)
        state = tx.init(x)
        return tx.update(x, state, x)[0]

    try:
        # shapes, not values: a value traced in the caller's own jit (np.float32 of it was
        # TracerArrayConversionError, so its rate went static and was refused as unhashable)
        jax.eval_shape(probe, {k: jax.ShapeDtypeStruct((), np.float32) for k in numeric})
        return True
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
            jax.errors.TracerIntegerConversionError, TypeError):
        return False


def _check_plain_update(tx, label: str) -> None:
    """Refuses a transformation whose ``update`` needs more than (updates, state, params), such
    as optax.lbfgs's line search (``value``, ``grad``, ``value_fn``): it would fail inside the
    run. Traced on a tiny x (``eval_shape``), so nothing compiles."""
    x = np.zeros(2, np.float32)
    try:
        jax.eval_shape(lambda: tx.update(x, tx.init(x), x))
    except TypeError as err:
        if "required" in str(err) and "argument" in str(err):
            raise TypeError(f"transformation {label}: its update needs more arguments than from_optax "
                            f"passes (updates, state, params): {err}. For L-BFGS with its line search "
                            "use sgd_bench.lbfgs") from None
    except Exception:  # other trouble on a 2-vector (a mask for another tree): the run will say
        pass


def _check_is_optimizer(factory, label: str) -> None:
    """Refuses an optax factory that takes no learning rate (``optax.scale_by_adam``,
    ``optax.clip``): its updates are not negated, so applying them climbs."""
    if not getattr(factory, "__module__", "").startswith("optax"):
        return  # a factory of one's own may build its own descent (a chain ending in scale(-lr))
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return
    if "learning_rate" not in params:
        raise ValueError(f"transformation {label} is a gradient transformation, not an optimizer: it "
                         "takes no learning rate and its updates are not negated, so applying them "
                         "climbs; use an optimizer (optax.adam), or chain it with optax.scale(-lr)")


def _check_keyword_kinds(factory, hyperparams) -> None:
    """Refuses a keyword optax would trip over only inside the run: a learning rate that is
    neither a number nor a schedule (``learning_rate="0.1"``), text or True/False for a keyword
    whose default is a number (``b1="fast"``, or a schedule, which optax takes for the learning rate
    only), and anything but True/False for one whose default
    is (``nesterov="yes"`` would be truthy). The command line's spec check says the same."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return
    for key, value in hyperparams.items():
        default = params[key].default if key in params else None
        if key == "learning_rate" or _is_number(default):
            # a schedule only for the learning rate: optax takes one there, and from_optax passes
            # other non-numbers as static arguments (b1=<callable> failed inside optax's update)
            if not (_is_number(value) or (callable(value) and key == "learning_rate")):
                what = "a number > 0 or a schedule (a callable k -> rate)" if key == "learning_rate" \
                    else "a number"
                raise TypeError(f"{key} must be {what}, got {validation.shown(value)}")
            if callable(value):
                _check_scalar_schedule(key, value)
        elif isinstance(default, bool) and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{key} must be True or False, got {validation.shown(value)}")


def _check_scalar_schedule(key: str, schedule) -> None:
    """A learning-rate schedule must give one rate per step: a vector (lambda k: jnp.ones(3))
    failed inside the run with NumPy's "Cannot broadcast to shape with fewer dimensions". Only
    the shape is checked (abstractly: nothing runs): optax's warm-ups start at 0, and a schedule
    that fails here is left to fail as it did."""
    try:
        out = jax.eval_shape(schedule, jax.ShapeDtypeStruct((), np.int32))
    except Exception:
        return
    shapes = [leaf.shape for leaf in jax.tree_util.tree_leaves(out)]
    if shapes != [()]:
        got = f"shape {shapes[0]}" if len(shapes) == 1 else f"{len(shapes)} arrays"
        raise TypeError(f"{key} must map a step counter k to one rate (a scalar), got {got}")


# Keys that are decay factors of a running average wherever optax uses them (adam's b1, b2,
# sgd's momentum, rmsprop's decay, adadelta's rho): outside [0, 1) the run climbs or blows up,
# unflagged while its loss stays below the divergence limit (adam b1=2: 0.69 to 3.3 in 20 steps).
AVERAGING_FACTORS = ("b1", "b2", "b3", "momentum", "decay", "rho")


def _default(factory, key: str):
    """The factory's default for ``key`` (None when it has none)."""
    try:
        return inspect.signature(factory).parameters[key].default
    except (KeyError, TypeError, ValueError):
        return None


def _whole_keyword(factory, key: str) -> bool:
    """Whether the factory annotates ``key`` as a whole number (``seed: int | None``, ``memory_size: int``), or
    names it ``key`` (noisy_sgd's PRNG key, which optax also takes as an int seed: never a number to trace)."""
    if key == "key":
        return True
    try:
        annotation = inspect.signature(factory).parameters[key].annotation
    except (KeyError, TypeError, ValueError):
        return False
    return annotation is int or str(annotation).replace(" ", "") in ("int", "int|None", "Optional[int]",
                                                                     "typing.Optional[int]")


_LOOK_UP = object()


def _check_range(factory, key: str, value: float, default=_LOOK_UP) -> None:
    """``AVERAGING_FACTORS`` take [0, 1); a key whose default is a number >= 0 (eps,
    weight_decay, ...) takes no negative number: a negative eps can flip adam's step uphill.
    ``default``: the factory's, when the caller has it (a sweep's column looked it up per value:
    10**5 learning rates took 10 s of CPU)."""
    if key in AVERAGING_FACTORS and not 0 <= value < 1:
        raise ValueError(f"{key} must be in [0, 1) (a decay factor of a running average: at 1 it never "
                         f"updates, beyond it grows without bound), got {value!r}")
    if default is _LOOK_UP:
        default = _default(factory, key)
    if _is_number(default) and default >= 0 and value < 0:
        raise ValueError(f"{key} must be a number >= 0 (the factory's default is {default:g}), got {value!r}")


def from_optax(transformation, batch_size: int | None = 1, sampling: str = "with_replacement",
               name: str | None = None, **hyperparams) -> Method:
    """Runs an optax optimizer on mini-batch gradients.

    Each step computes the batch gradient g, then ``updates, s = tx.update(g, s, x)`` and
    ``x = optax.apply_updates(x, updates)``, exactly as optax's own loop does.

    Two forms:

    - ``from_optax(optax.adam, learning_rate=1e-3, b1=0.9)``: the factory and its keywords.
      Numeric keywords become traced hyperparameters through ``optax.inject_hyperparams``, so
      another learning rate reuses the compiled program and ``sweep`` can vary it; other
      keywords (``nesterov=True``, a mask, one the factory annotates ``int``: ``seed``) are
      static. A factory that branches in Python on a
      numeric argument cannot take it traced: then every numeric keyword is static (a program
      per value), which ``method.options["static_numbers"]`` records. Probed with optax 0.2.8
      and a traced learning rate, every optax alias that takes one traces it. Refused when
      built: an optax factory without a learning rate (``optax.scale_by_adam``: a gradient
      transformation whose updates are not negated, so it would climb) and a transformation
      whose update needs more than (updates, state, params) (``optax.lbfgs``'s line search
      needs the loss; ``sgd_bench.lbfgs`` runs it).
    - ``from_optax(optax.adam(1e-3))``: a ready ``GradientTransformation``. It is static and
      compared by identity: each new object compiles a new program. Its learning rate (a number
      or a schedule) is closed over inside optax, out of reach: it is not checked, neither here
      nor along the run (``Trace.negative_step_at`` stays -1 even where a schedule climbs). The
      factory form, ``from_optax(optax.sgd, learning_rate=schedule)``, is checked.

    **Arguments:**

    - ``transformation``: an optax factory (``optax.sgd``) or a ``GradientTransformation``.
    - ``batch_size``: |B_k| >= 1, or ``None`` for full gradients.
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.
    - ``name``: a label; defaults to ``"optax"`` or ``"optax:<factory>"`` with the batch size.
    - ``**hyperparams``: the factory's keywords (with a factory only).
    """
    is_tx = (callable(getattr(transformation, "init", None))
             and callable(getattr(transformation, "update", None)))
    if not is_tx and not callable(transformation):
        raise TypeError("transformation must be an optax.GradientTransformation or an optax "
                        f"factory such as optax.adam, got {transformation!r}")
    # a Fraction as a float, as sgd() takes it (momentum=Fraction(1, 2) was optax's TypeError from inside the run)
    hyperparams = dict(map(replacement, hyperparams.items()))
    if not is_tx:
        _check_keyword_kinds(transformation, hyperparams)
    if is_tx and hyperparams:
        raise TypeError("keyword hyperparameters go with a factory (from_optax(optax.adam, "
                        f"learning_rate=1e-3)), not with a ready transformation; got {sorted(hyperparams)}")
    if batch_size is None:
        validation.choice("sampling", sampling, SAMPLINGS)
        b = None
    else:
        b, sampling = check_batch(batch_size, sampling)
    suffix = ("" if b in (None, 1) else f" batch {b}") + (" (full)" if b is None else "")
    if is_tx:
        _check_plain_update(transformation, "optax.GradientTransformation")
        options = {"transformation": transformation, "factory": None, "traced": (), "static": (),
                   "static_numbers": False}
        return Method(optax_init, optax_step, options=options, batch_size=b, sampling=sampling,
                      name=str(name) if name is not None else "optax" + suffix)
    try:
        made = transformation(**hyperparams)
    except Exception as err:
        label = getattr(transformation, "__name__", repr(transformation))
        hint = ""
        if getattr(transformation, "__module__", "").startswith("optax"):
            hint = (f" (call the factory, optax.{label}(1e-3), or give its keywords, "
                    f"from_optax(optax.{label}, learning_rate=1e-3))")
        raise TypeError("transformation must be an optax.GradientTransformation or a factory "
                        f"that returns one; calling {label!r} with {sorted(hyperparams)} failed: "
                        f"{type(err).__name__}: {err}{hint}") from None
    if not (callable(getattr(made, "init", None)) and callable(getattr(made, "update", None))):
        raise TypeError("transformation must be an optax.GradientTransformation or an optax "
                        f"factory returning one; {transformation!r} returned {made!r}")
    label = f"optax.{getattr(transformation, '__name__', 'custom')}"
    _check_is_optimizer(transformation, label)
    _check_plain_update(made, label)
    # a keyword annotated int (noisy_sgd's seed, lbfgs's memory_size) stays static: traced, it was a float64
    # tracer, and the run failed inside JAX ("PRNG key seed must be an integer; got JitTracer(float64[])")
    numeric = {k: v for k, v in hyperparams.items() if _is_number(v) and not _whole_keyword(transformation, k)}
    static = {k: v for k, v in hyperparams.items() if k not in numeric}
    for key, value in static.items():
        try:
            hash(value)
        except TypeError:
            raise TypeError(f"{key} must be a number or a hashable value, got {value!r}") from None
    for key, value in numeric.items():
        if not isinstance(value, jax.core.Tracer):
            check = validation.positive_float if key == "learning_rate" else validation.finite_float
            _check_range(transformation, key, check(key, value))
    static_numbers = bool(numeric) and not _traces_cleanly(transformation, numeric, static)
    if static_numbers:
        static, numeric = {**static, **numeric}, {}
    # traced host numbers as floats, as sgd() keeps its step (inject_hyperparams casts them to a float
    # anyway): learning_rate=1, an int leaf, compiled the run's programs again beside learning_rate=0.01
    numeric = {k: v if isinstance(v, jax.core.Tracer) else float(v) for k, v in numeric.items()}
    options = {"transformation": None, "factory": transformation, "traced": tuple(sorted(numeric)),
               "static": tuple(sorted(static.items())), "static_numbers": static_numbers}
    if name is None:
        name = f"optax:{getattr(transformation, '__name__', 'custom')}" + suffix
    return Method(optax_init, optax_step, hyperparams=numeric, options=options, batch_size=b,
                  sampling=sampling, name=str(name), check=_check_numbers)


def _check_numbers(p, problem) -> None:
    """The traced keywords as ``from_optax`` takes them, after ``replace`` or a sweep (adam's
    b1 1.5 and sgd's momentum 2 ran)."""
    for key in p.traced:
        if callable(p[key]):  # a learning-rate schedule put in by replace
            continue
        check = validation.positive_float if key == "learning_rate" else validation.finite_float
        default = _default(p.factory, key)
        validation.each(key, p[key], lambda name, v: _check_range(p.factory, name, check(name, v), default))
