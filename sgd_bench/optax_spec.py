"""The ``optax:NAME,lr=...,key=value`` entry of the method registry (``sgd_bench.specs``):
any optax optimizer by name, its options checked before anything is traced.

``lr`` stands for ``learning_rate``; ``batch`` and ``sampling`` are sgd-bench's; every other key
goes to the optax constructor. The numbers stay keywords of ``from_optax``, so they are traced
and grid cells with other values share one program.
"""

from __future__ import annotations

import inspect
import math
import re

import optax

import sgd_bench as sb
from sgd_bench.spec_parsing import Spec, is_number, words


def build_optax(spec: Spec, opts: dict, problem, constants):
    """The ``from_optax`` method of ``spec``; refusals name ``--method`` and the spec."""
    del problem, constants  # an optimizer's learning rate is given, never derived
    batch = opts.pop("batch", 1)
    sampling = opts.pop("sampling", "with_replacement")
    if not spec.positional:
        raise ValueError(f"--method {spec.text!r}: name the optax optimizer, as in optax:adam,lr=1e-3")
    name = words(spec.positional)  # Adam is adam, as names are read in any case
    ctor = getattr(optax, name, None) if not name.startswith("_") else None
    if not callable(ctor):
        raise ValueError(f"--method {spec.text!r}: optax has no optimizer {spec.positional!r}")
    if "lr" in opts:
        if "learning_rate" in opts:  # both were taken, and lr silently won
            raise ValueError(f"--method {spec.text!r}: lr and learning_rate are the same option; give one")
        opts["learning_rate"] = opts.pop("lr")
    params = inspect.signature(ctor).parameters
    bad = [k for k in opts if k not in params]
    if bad:
        # lr is taken for learning_rate: the list named only the long form (optax:adam,LR=... then
        # read as if lr were not accepted)
        taken = [f"{p} (or lr)" if p == "learning_rate" else p for p in params]
        raise ValueError(f"--method {spec.text!r}: optax.{name} takes no {', '.join(bad)}; "
                         f"it takes {', '.join(taken)}")
    if "learning_rate" not in params:
        # scale_by_adam, clip, ...: their updates are not negated, so x + update would climb
        raise ValueError(f"--method {spec.text!r}: optax.{name} is a gradient transformation, "
                         "not an optimizer: it takes no learning rate and its updates are not negated "
                         "(applied as they are they climb); use an optimizer such as optax:adam,lr=1e-3")
    if "learning_rate" not in opts:
        raise ValueError(f"--method {spec.text!r}: give the learning rate, as in optax:{name},lr=1e-3")
    counts = [k for k in opts if _counts(params[k])]  # lbfgs's memory_size=1e1 is 10, as --seeds 1e1 is
    opts.update({k: v for k, v in spec.counted(counts).items() if k in counts})
    _check_optax_options(spec, opts, params)
    try:
        ctor(**opts)  # optax's own checks of its options, before anything is traced
    except (TypeError, ValueError) as err:
        raise ValueError(f"--method {spec.text!r}: optax.{name} refused its options: {err}") from None
    # The factory with its keywords: the numbers are traced, so grid cells share programs.
    return sb.from_optax(ctor, batch, sampling, name=spec.text, **opts)


def _check_optax_options(spec: Spec, opts: dict, params) -> None:
    """A value optax would only trip over inside the compiled run (``lr=abc``), or silently
    misread (``nesterov=abc`` is truthy), refused here with the key and the value: the learning
    rate must be a number, and so must any key whose default is a number; a key whose default is
    true or false takes only those."""
    head = f"--method {spec.text!r}"
    for key, value in opts.items():
        typed = "lr" if key == "learning_rate" and "lr" in spec.options else key
        default = params[key].default if key in params else None
        # a number that defaults to None (optax.sgd's momentum): momentum=abc failed inside the
        # run with NumPy's "Only integer scalar arrays ...", its result folder left "running"
        hint = str(params[key].annotation) if key in params else ""
        optional_number = default is None and re.search(r"\b(float|int)\b", hint) and not re.search(r"\b(Any|str)\b", hint)
        wants_number = key == "learning_rate" or is_number(default) or bool(optional_number)
        if wants_number and not is_number(value):
            raise ValueError(f"{head}: {typed} must be a number, got {value!r}")
        if wants_number and not math.isfinite(value):
            raise ValueError(f"{head}: {typed} must be a finite number, got {value!r}")
        if key == "learning_rate" and value <= 0:  # a negative one climbs uphill, zero stands still
            raise ValueError(f"{head}: {typed} must be a finite number > 0 (learning_rate in Python), "
                             f"got {spec.as_typed(typed, value)}")  # lr=-0 as typed, not 0
        if isinstance(value, str) and "Callable" in hint:  # adamw's mask=abc ran, a truthy leaf: decay on all
            raise ValueError(f"{head}: {typed} takes true, false or a tree or function of Python, not a text "
                             f"(got {value!r}); build the method in Python with sb.from_optax for a tree")
        if key in params and _counts(params[key]) and type(value) is not int:  # was JAX's error in the run
            raise ValueError(f"{head}: {typed} must be an integer, got {spec.as_typed(typed, value)}")
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"{head}: {typed} must be true or false, got {value!r}")


def _counts(param) -> bool:
    """Whether an optax parameter is annotated as a whole number (``memory_size: int``, ``seed: int | None``)."""
    return param.annotation is int or str(param.annotation).replace(" ", "") in ("int", "int|None", "Optional[int]",
                                                                                "typing.Optional[int]")
