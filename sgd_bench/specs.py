"""The method registry: a spec (``NAME[:key=value,...]``, the ``--method`` syntax) to a
``Method`` of the zoo and its theory-safe default step.

``METHODS`` holds one ``MethodSpec`` per spec name: the factory it builds (every ``Method``
factory that ``sgd_bench`` exports has one, a test checks), a line for ``sgd-bench list``, the
keys it takes, its default step and its builder. ``build_method(parse_spec(text, "--method"),
problem)`` gives the method; a missing step takes the default of ``sgd_bench.default_steps``
(from ``sgd_bench.constants``' host values for the registry's own rules, from ``problem.info``,
traced, for the methods that carry their own default).

Where it lives: parsing specs and choosing default steps need no harness, so the registry is
an engine module. It imports no problem and nothing of ``sgd_bench_harness``; the command line,
the grid and any script build their methods through it. Its messages name ``--method``, the
spec as typed and the key as typed, with the Python argument in brackets (``step``, not
``step_size``), since its users type specs.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, NamedTuple

import numpy as np

import sgd_bench as sb
from sgd_bench.default_steps import theory_step
from sgd_bench.gradient_table import sparse_loss
from sgd_bench.optax_spec import build_optax
from sgd_bench.spec_parsing import Spec, is_number, words
from sgd_bench.two_phase import SUPPORTS

SCHEDULES = ("constant", "lecture_decreasing", "inverse_sqrt")
# Entries whose line says their keys itself (optax's are the optimizer's, averaged's its method's).
_OWN_KEYS_TEXT = ("optax", "averaged")


class MethodSpec(NamedTuple):
    """One registry entry: ``factory`` (the ``sgd_bench`` function it builds), ``text`` (a line
    for ``sgd-bench list``), ``keys`` (those the spec takes), ``default_step`` (the step a spec
    without ``step=`` runs, as a formula) and ``build(spec, opts, problem, constants)``."""

    factory: Callable
    text: str
    keys: tuple
    default_step: str
    build: Callable


@dataclasses.dataclass
class ProblemConstants:
    """L, L_max and mu of one problem, from ``sgd_bench.constants`` on first use and then kept
    (one computation for every method of a problem); ``found``: that computation's whole
    ``Constants`` record (its f* too, from the same reference solve), or None."""

    problem: Any
    _values: dict | None = None
    found: Any = dataclasses.field(default=None, repr=False, compare=False)

    def get(self) -> dict:
        """{"L", "L_max", "mu"} as host floats; raises ValueError naming the problem when the
        problem has no L (non-smooth) or its constants cannot be computed."""
        if self._values is None:
            from sgd_bench.constants import constants

            try:
                c = constants(self.problem)
            except Exception as err:
                raise ValueError(f"no default step for problem {self.problem.name!r} ({type(err).__name__}: "
                                 f"{err}); give step=... in the method spec") from None
            if c.L is None:
                raise ValueError(f"problem {self.problem.name!r} has no smoothness constant L "
                                 "(non-smooth); give step=... in the method spec")
            self._values = {"L": c.L, "L_max": c.L_max if c.L_max is not None else c.L, "mu": c.mu}
            self.found = c
        return self._values


class MethodGroup(NamedTuple):
    """The methods a --method spec stands for: one, or a grid that runs as one sweep program.

    ``labels[c]`` and ``methods[c]`` are configuration c; ``swept`` names the hyperparameters
    (``Method.values`` names) that differ between them, ``values[name]`` their values."""

    labels: list
    methods: list
    swept: tuple
    values: dict


def method_catalog() -> dict[str, str]:
    """{spec name: one-line description with its keys}, for ``sgd-bench list``."""
    return {name: f"{entry.text}; keys: {', '.join(entry.keys)}" if name not in _OWN_KEYS_TEXT else entry.text
            for name, entry in METHODS.items()}


def build_methods(spec: Spec, problem, constants: ProblemConstants | None = None) -> MethodGroup:
    """Every method of ``spec`` (its grid expanded). The grid may change numbers only: a grid
    that changes the structure (a batch size, a sampling) is refused, since its methods could
    not share one program; give them as separate --method options."""
    concrete = spec.expand()
    if len(concrete) == 1:
        methods = [build_method(concrete[0], problem, constants)]
    else:
        methods = [_build_point(spec, c, problem, constants) for c in concrete]
    base = methods[0]
    other = next((i for i, m in enumerate(methods) if m.structure() != base.structure()), None)
    if other is not None:
        a, b = _point(spec, concrete[0]), _point(spec, concrete[other])
        why = (" (noise=0 draws no noise at all: plain SGD)" if spec.name == "noisy_sgd" and "noise" in spec.grid
               else "")
        raise ValueError(f"--method {spec.text!r}: its grid points {a} and {b} need two compiled programs"
                         f"{why}; a grid may vary only values that keep the program (such as a step; not a "
                         "batch size or a memory length); give the others as separate --method options")
    table = [m.values() for m in methods]
    swept = tuple(name for name in table[0] if any(
        not np.array_equal(np.asarray(t[name]), np.asarray(table[0][name])) for t in table))
    return MethodGroup([c.text for c in concrete], methods, swept,
                       {name: np.asarray([t[name] for t in table]) for name in swept})


def _point(spec: Spec, point: Spec) -> str:
    """A grid point as its swept keys' values, ``batch=3.16228,step=0.1``."""
    def show(v):  # 1.0 stays 1.0: a whole float where a count is due must not read as the int 1
        return repr(v) if isinstance(v, float) and v.is_integer() else f"{v:g}"

    return ",".join(f"{k}={show(point.options[k])}" for k in spec.grid)


def _build_point(spec: Spec, point: Spec, problem, constants):
    """One point of a grid; a refusal names the spec as typed and the point, not the expanded text."""
    try:
        return build_method(point, problem, constants)
    except ValueError as err:
        head, message = f"--method {point.text!r}: ", str(err)
        if message.startswith(head):
            message = message[len(head):]
        at = f"at {_point(spec, point)}: " if any(message.startswith(k) for k in spec.grid) else ""
        raise ValueError(f"--method {spec.text!r}: {at}{message}") from None


def build_method(spec: Spec, problem, constants: ProblemConstants | None = None):
    """The ``Method`` of ``spec`` for ``problem``; errors name ``--method``, the spec as typed
    and the key (``step``, not the Python API's ``step_size``)."""
    try:
        return _build_method(spec, problem, constants)
    except (ValueError, TypeError) as err:
        message, head = str(err), f"--method {spec.text!r}: "
        if message.startswith(head):  # averaged's method's refusal too: its value as typed (loop=1e19)
            message = message[len(head):]
        elif message.startswith("--method"):
            raise ValueError(message) from None
        else:
            message = _in_spec_words(message)
        raise ValueError(head + spec.echo_typed(message)) from None  # noise=-1: not "got -1.0"


def _build_method(spec: Spec, problem, constants: ProblemConstants | None):
    if spec.name not in METHODS:
        raise ValueError(f"--method {spec.text!r}: unknown method {spec.typed or spec.name!r}; known: "
                         f"{', '.join(METHODS)} (sgd-bench list shows their keys)")
    entry = METHODS[spec.name]
    opts = spec.counted(COUNT_KEYS)  # batch=1e1 is 10, as --seeds 1e1 is
    if spec.name != "optax":
        if spec.positional is not None:
            raise ValueError(f"--method {spec.text!r}: {spec.positional!r} is not key=value")
        bad = [k for k in opts if k not in entry.keys]
        if bad:
            raise ValueError(f"--method {spec.text!r}: {spec.name} takes {', '.join(entry.keys)}; "
                             f"not {', '.join(bad)}")
    for key in CHOICE_KEYS:  # words, read as names are (SGD, lazy-saga): any case, - for _
        if isinstance(opts.get(key), str):
            opts[key] = words(opts[key])
        allowed = _CHOICE_VALUES.get(key, (opts.get(key),))
        if key in opts and opts[key] not in allowed:  # the message echoes the value as typed
            raise ValueError(f"--method {spec.text!r}: {key} must be one of {', '.join(map(repr, allowed))}; "
                             f"got {spec.options[key]!r}")
    _check_options(spec, opts, problem.n)
    typed = set(opts)
    method = entry.build(spec, opts, problem, constants or ProblemConstants(problem))
    for name, value in method.values().items():  # as the run checks it, but before a grid's folder exists
        try:  # (a default step 1/L of logreg:mu=1e38 in float32 left a folder marked "running")
            sb.schedules.check_step_in_dtype(name, value, problem.dtype, problem.name)
        except ValueError as err:
            key = dict(_PYTHON_NAMES).get(name.rsplit(".", 1)[-1], name)
            raise ValueError(f"{err}" + ("" if key in typed else f" ({key} is the method's default on this "
                                         f"problem; give {key}=...)")) from None
    return method


# Keys whose value is one of a few words: a spec reads them as it reads names (the Python API
# takes its constants' exact strings: SAMPLINGS, SCHEDULES, two_phase.SUPPORTS).
CHOICE_KEYS = ("sampling", "schedule", "support", "of")
# Keys that count: a whole number written as a decimal (batch=1e1, memory=2.5e1) is read as its int.
COUNT_KEYS = ("batch", "memory", "loop", "initial_batch", "phase1_steps", "update_every", "hessian_batch", "start")
# The keys whose words a grid compares as a spec reads them: also cap's safe and none (cap=None and
# cap=none are one spec, not two runs under two labels).
WORD_KEYS = CHOICE_KEYS + ("cap",)
_CHOICE_VALUES = {"sampling": sb.SAMPLINGS, "schedule": SCHEDULES, "support": SUPPORTS}


# Python argument -> spec key, so that a message from the Python API names the key the user typed.
_PYTHON_NAMES = (("step_size", "step"), ("batch_size", "batch"), ("loop_length", "loop"),
                 ("learning_rate", "lr"), ("noise_std", "noise"), ("memory_size", "memory"),
                 ("phase1_step_size", "phase1_step"))


def _in_spec_words(message: str) -> str:
    for python, key in _PYTHON_NAMES:
        if message.startswith(python):
            return f"{key} ({python} in Python){message[len(python):]}"
    return message


def _check_options(spec: Spec, opts: dict, n: int) -> None:
    """The numeric keys of a method spec, checked by the name the user typed."""
    head = f"--method {spec.text!r}"
    grid = spec.grid
    if grid:
        raise ValueError(f"{head}: {', '.join(grid)} has several values; build_methods expands them")
    if "step" in opts:
        step = opts["step"]
        if not is_number(step) or not (math.isfinite(step) and step > 0):
            raise ValueError(f"{head}: step must be a finite number > 0 (step_size in Python), "
                             f"got {spec.as_typed('step', step)}")
    if "batch" in opts:
        batch = opts["batch"]
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= n:
            raise ValueError(f"{head}: batch must be an integer in [1, n] = [1, {n}] "
                             f"(batch_size in Python), got {spec.as_typed('batch', batch)}")
    for key, python in (("memory", "memory_size"), ("loop", "loop_length")):
        value = opts.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{head}: {key} must be an integer >= 1 ({python} in Python), "
                             f"got {spec.as_typed(key, value)}")


def _batching(opts: dict) -> tuple[int, str]:
    return opts.get("batch", 1), opts.get("sampling", "with_replacement")


def _sgd_step(opts: dict, constants: ProblemConstants):
    """The given step, or SGD's 1/(2 (L + L_max/B)) (also lazy_sgd's and noisy_sgd's)."""
    step = opts.get("step")
    return step if step is not None else theory_step(constants.get(), 0.5, batch=_batching(opts)[0])


def _need_step(spec: Spec, opts: dict):
    if opts.get("step") is None:
        raise ValueError(f"--method {spec.text!r}: {spec.name} has no theory-safe default step; "
                         "give step=...")
    return opts["step"]


# -- the builders: (spec, opts, problem, constants) -> Method -----------------------------------
def _gd(spec, opts, problem, constants):
    step = opts.get("step")
    return sb.gd(step if step is not None else theory_step(constants.get(), 1.0, "L"))


def _sgd(spec, opts, problem, constants):
    schedule = opts.get("schedule", "constant")  # one of SCHEDULES (_build_method checks)
    if schedule == "lecture_decreasing":
        if opts.get("step") is not None:
            raise ValueError(f"--method {spec.text!r}: schedule=lecture_decreasing sets its own steps "
                             "(2k+1)/(2 mu (k+1)^2); drop step=")
        from sgd_bench.constants import PL_CLASSES

        # mu exists for strongly convex and PL problems only; asking a non-smooth one for its
        # constants said "give step=", which this schedule refuses
        mu = constants.get()["mu"] if problem.problem_class in PL_CLASSES else None
        if not mu:
            raise ValueError(f"--method {spec.text!r}: lecture_decreasing needs mu > 0, and problem "
                             f"{problem.name!r} has none")
        return sb.sgd(sb.schedules.lecture_decreasing(mu, _lecture_cap(spec, opts, constants)),
                      *_batching(opts))
    if "cap" in opts:
        raise ValueError(f"--method {spec.text!r}: cap= caps schedule=lecture_decreasing only")
    step = _sgd_step(opts, constants)
    if schedule == "inverse_sqrt":
        step = sb.schedules.inverse_sqrt(step)
    return sb.sgd(step, *_batching(opts))


def _lecture_cap(spec: Spec, opts: dict, constants: ProblemConstants):
    """alpha_max of lecture_decreasing: SGD's safe constant step 1/(2 (L + L_max/B)) unless
    ``cap=`` says otherwise (a number > 0, or ``none`` for the lecture's formula as written). The
    uncapped first steps, about 1/(2 mu), climb far uphill when mu is small next to L."""
    cap = opts.get("cap", "safe")
    if isinstance(cap, str) and words(cap) in ("safe", "none"):
        return None if words(cap) == "none" else _sgd_step({"batch": opts.get("batch", 1)}, constants)
    if not is_number(cap) or not (math.isfinite(cap) and cap > 0):
        raise ValueError(f"--method {spec.text!r}: cap must be a finite number > 0, safe (the default: "
                         f"1/(2 (L + L_max/B))) or none (uncapped), got {cap!r}")
    tiny = np.finfo(constants.problem.dtype).tiny  # below it a step computes as 0 (subnormals flush)
    if cap < tiny:  # was refused as "step ... gives 0.0", naming a key the spec does not have
        raise ValueError(f"--method {spec.text!r}: cap must be at least {tiny:.3g}, the smallest normal "
                         f"{np.dtype(constants.problem.dtype).name} (a smaller step computes as 0), got {cap!r}")
    return cap


def _variance_reduced(spec, opts, problem, constants):
    kwargs = {}
    if "loop" in opts:
        kwargs["loop_length"] = opts["loop"]
    if spec.name != "sarah" and sparse_loss(problem) is not None:
        # A loss split into margin and scalar loss (sparse rows): the O(n) table. The
        # general one would store n dense d-vectors (n d numbers for n nnz-long rows).
        kwargs["linear"] = True
    return getattr(sb, spec.name)(opts.get("step"), *_batching(opts), **kwargs)


def _lazy(spec, opts, problem, constants):
    eager = spec.name[len("lazy_"):]
    if sparse_loss(problem) is None:
        # dense rows: the lazy methods' own TypeErrors speak of the Python API
        raise ValueError(f"--method {spec.text!r}: {spec.name} runs on sparse rows only (--problem "
                         f"sparse-logreg, sparse-preset or a sparse libsvm file); problem "
                         f"{problem.name!r} has dense rows: use {eager}")
    if spec.name == "lazy_saga":
        return sb.lazy_saga(opts.get("step"), *_batching(opts)).validate(problem)
    # sgd's default step, for the same iterates
    return sb.lazy_sgd(_sgd_step(opts, constants), *_batching(opts)).validate(problem)


def _noisy_sgd(spec, opts, problem, constants):
    if "noise" not in opts:
        raise ValueError(f"--method {spec.text!r}: give the noise's standard deviation, as in "
                         "noisy_sgd:noise=0.1")
    return sb.noisy_sgd(_sgd_step(opts, constants), opts["noise"], *_batching(opts))


def _growing_batch(spec, opts, problem, constants):
    return sb.growing_batch(opts.get("step"), q=opts.get("q", 1.1),
                            initial_batch=opts.get("initial_batch", 1),
                            sampling=_batching(opts)[1]).validate(problem)


def _online_newton(spec, opts, problem, constants):
    return sb.online_newton(opts.get("step"), support=opts.get("support", "two_phase"),
                            phase1_steps=opts.get("phase1_steps"),
                            phase1_step_size=opts.get("phase1_step"),
                            batch_size=_batching(opts)[0], sampling=_batching(opts)[1]).validate(problem)


def _preconditioned_sgd(spec, opts, problem, constants):
    # The ideal preconditioner: the inverse Hessian at the float64 reference minimizer.
    x_star = sb.reference_solution(problem).x
    return sb.preconditioned_sgd(_need_step(spec, opts), sb.inverse_hessian(problem, x_star),
                                 *_batching(opts)).validate(problem)


def _stochastic_lbfgs(spec, opts, problem, constants):
    return sb.stochastic_lbfgs(_need_step(spec, opts), memory_size=opts.get("memory", 10),
                               update_every=opts.get("update_every", 10),
                               hessian_batch=opts.get("hessian_batch", 64),
                               batch_size=_batching(opts)[0], sampling=_batching(opts)[1]).validate(problem)


def _averaged(spec, opts, problem, constants):
    inner = opts.pop("of", None)
    start = opts.pop("start", 0)
    if inner is None or inner in ("averaged", "optax") or inner not in METHODS:
        raise ValueError(f"--method {spec.text!r}: name the averaged method with of=NAME, one of "
                         f"{', '.join(m for m in METHODS if m not in ('averaged', 'optax'))}")
    text = f"{inner}:" + ",".join(f"{k}={v}" for k, v in opts.items()) if opts else inner
    try:
        method = build_method(Spec(text, inner, None, tuple(opts.items()), inner), problem, constants)
    except ValueError as err:  # name the spec as typed, not the inner one built from it
        head = f"--method {text!r}: "
        message = str(err)
        raise ValueError(f"--method {spec.text!r}: " + (message[len(head):] if message.startswith(head)
                                                          else message)) from None
    return sb.averaged(method, start).validate(problem)


_VR = ("step", "batch", "sampling")
METHODS: dict[str, MethodSpec] = {
    "gd": MethodSpec(sb.gd, "full-gradient descent (default step 1/L)", ("step",), "1/L", _gd),
    "sgd": MethodSpec(sb.sgd, "mini-batch SGD (defaults: batch 1, with_replacement, step 1/(2 (L + L_max/B)); "
                      "schedule=lecture_decreasing is capped at that step, cap=none lifts it)",
                      ("step", "batch", "sampling", "schedule", "cap"), "1/(2 (L + L_max/B))", _sgd),
    "sag": MethodSpec(sb.sag, "SAG (variance reduction; default step its own)", _VR, "1/(16 L_max)",
                      _variance_reduced),
    "saga": MethodSpec(sb.saga, "SAGA (variance reduction; default step its own)", _VR, "1/(3 L_max)",
                       _variance_reduced),
    "svrg": MethodSpec(sb.svrg, "SVRG (variance reduction; default step and loop its own)", _VR + ("loop",),
                       "1/(10 L_max)", _variance_reduced),
    "sarah": MethodSpec(sb.sarah, "SARAH (variance reduction; default step and loop its own)", _VR + ("loop",),
                        "1/(2 L_max)", _variance_reduced),
    "lazy_saga": MethodSpec(sb.lazy_saga, "SAGA with lazy updates, O(nonzeros) per step (sparse rows only: "
                            "sparse-logreg, sparse-preset, libsvm; default step its own)", _VR,
                            "1/(3 L_max)", _lazy),
    "lazy_sgd": MethodSpec(sb.lazy_sgd, "SGD with the iterate as a scale times a vector, O(nonzeros) per "
                           "step (sparse rows only; constant step, default 1/(2 (L + L_max/B)))", _VR,
                           "1/(2 (L + L_max/B))", _lazy),
    "gd_armijo": MethodSpec(sb.gd_armijo, "GD with Armijo backtracking (initial step 1)", ("step",),
                            "1 (initial; backtracking)", lambda spec, opts, problem, constants:
                            sb.gd_armijo(opts.get("step", 1.0))),
    "lbfgs": MethodSpec(sb.lbfgs, "L-BFGS with a zoom line search (full gradients; memory 10)", ("memory",),
                        "none (line search)", lambda spec, opts, problem, constants:
                        sb.lbfgs(opts.get("memory", 10))),
    "optax": MethodSpec(sb.from_optax, "any optax optimizer: optax:NAME,lr=...[,batch=...,sampling=...,"
                        "other optax keys]", ("batch", "sampling"), "none: give lr", build_optax),
    "noisy_sgd": MethodSpec(sb.noisy_sgd, "SGD with added Gaussian gradient noise of standard deviation "
                            "noise (required; default step 1/(2 (L + L_max/B)))",
                            ("step", "noise", "batch", "sampling"), "1/(2 (L + L_max/B))", _noisy_sgd),
    "growing_batch": MethodSpec(sb.growing_batch, "growing-batch SGD, |B_k+1| = ceil(q |B_k|) + 1 "
                                "(defaults: q 1.1, initial_batch 1, step 1/L)",
                                ("step", "q", "initial_batch", "sampling"), "1/L", _growing_batch),
    "online_newton": MethodSpec(sb.online_newton, "Bach & Moulines' online Newton step (support two_phase "
                                "needs phase1_steps, or running_average; default steps 1/(4 L_max))",
                                ("step", "support", "phase1_steps", "phase1_step", "batch", "sampling"),
                                "1/(4 L_max)", _online_newton),
    "preconditioned_sgd": MethodSpec(sb.preconditioned_sgd, "SGD preconditioned by the inverse Hessian "
                                     "at the reference minimizer (no default step: give step)", _VR,
                                     "none: give step", _preconditioned_sgd),
    "stochastic_lbfgs": MethodSpec(sb.stochastic_lbfgs, "stochastic L-BFGS (SQN; defaults: memory 10, "
                                   "update_every 10, hessian_batch 64; no default step: give step)",
                                   ("step", "memory", "update_every", "hessian_batch", "batch", "sampling"),
                                   "none: give step", _stochastic_lbfgs),
}
# averaged takes the keys of the method it averages; that method's builder checks them.
_INNER_KEYS = tuple(dict.fromkeys(k for m in METHODS.values() for k in m.keys))
METHODS["averaged"] = MethodSpec(
    sb.averaged, "Polyak-Ruppert averaging of the method of=NAME from step start (default 0); the other "
    "keys are that method's (keys: of, start and that method's)", ("of", "start") + _INNER_KEYS, "the averaged method's", _averaged)
