"""Ad-hoc grids from the command line: problems x methods x seed blocks, resumable, reported.

``sgd-bench run --problem lecture-logreg --method gd --method sgd:step=0.1,batch=10
--method optax:adam,lr=1e-3 --seeds 100`` builds every problem and method from its spec, runs
each (problem, method, seed block) cell with ``run_keys`` and stores the cell's per-seed
records as soon as it finishes. The folder is keyed by the config hash: an interrupted grid
run again with the same arguments skips the finished cells, and its final records equal an
uninterrupted run's. ``report`` rebuilds the summary and the figure from the records alone.

Spec syntax: ``NAME`` or ``NAME:key=value,key=value``; for optax, ``optax:NAME,key=value``
where the keys are the optax constructor's (``lr`` stands for ``learning_rate``).

Everything is checked before the result folder is created or anything compiles, and every
refusal names ``--problem``/``--method``, the spec as typed and the key as typed (``step``, with
the Python API's ``step_size`` in brackets). Decisions:

- the same ``--problem`` (or ``--method``) given twice, also when spelled differently
  (``lecture-logreg`` and ``lecture_logreg``, keys in another order), is refused, not merged:
  the grid would store every record twice, and a repeat is usually a typo for another spec;
- a spec that ends in ``:`` with nothing after it (``lecture-logreg:``, ``sgd:``) is refused, for
  ``--problem`` and ``--method`` alike, rather than read as "no options": the colon promises
  options, and a dangling one usually lost them (an unset shell variable);
- a ``dtype`` key in a ``--problem`` must be float32 or float64 and equal ``--dtype``: one run,
  one precision, and the records are labelled with it;
- the memory of the largest cell (data + seeds x (state + logs + sampler), see
  ``sgd_bench.memory.estimate_run_bytes``) and the host memory of the merged records are
  estimated first; a grid that cannot fit is refused with the numbers (exit status 3).
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import math
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

KIND = "grid"
DEFAULT_BLOCK = 32
MAX_KEY = 2**63 - 1  # the API's int seed range too (solver.MAX_SEED)
# Host memory per stored record row (a dict of ten values while the records are merged).
ROW_BYTES = 1000
GAP_FLOOR = 1e-16
# Methods the grid builds from a spec: name -> (description, keys it takes).
_METHODS = {
    "gd": ("full-gradient descent (default step 1/L)", ("step",)),
    "sgd": ("mini-batch SGD (defaults: batch 1, with_replacement, step 1/(2 (L + L_max/B)))",
            ("step", "batch", "sampling", "schedule")),
    "sag": ("SAG (variance reduction; default step its own)", ("step", "batch", "sampling")),
    "saga": ("SAGA (variance reduction; default step its own)", ("step", "batch", "sampling")),
    "svrg": ("SVRG (variance reduction; default step and loop its own)", ("step", "batch", "sampling", "loop")),
    "sarah": ("SARAH (variance reduction; default step and loop its own)", ("step", "batch", "sampling", "loop")),
    "lazy_saga": ("SAGA with lazy updates, O(nonzeros) per step (sparse rows only: sparse-logreg, "
                  "sparse-preset, libsvm; default step its own)", ("step", "batch", "sampling")),
    "lazy_sgd": ("SGD with the iterate as a scale times a vector, O(nonzeros) per step (sparse rows "
                 "only; constant step, default 1/(2 (L + L_max/B)))", ("step", "batch", "sampling")),
    "gd_armijo": ("GD with Armijo backtracking (initial step 1)", ("step",)),
    "lbfgs": ("L-BFGS with a zoom line search (full gradients; memory 10)", ("memory",)),
    "optax": ("any optax optimizer: optax:NAME,lr=...[,batch=...,sampling=...,other optax keys]",
              ("batch", "sampling")),
}
SCHEDULES = ("constant", "lecture_decreasing", "inverse_sqrt")


def method_catalog() -> dict[str, str]:
    """{spec name: one-line description with its keys}, for ``sgd-bench list``."""
    out = {}
    for name, (text, keys) in _METHODS.items():
        out[name] = f"{text}; keys: {', '.join(keys)}" if name != "optax" else text
    return out


# -- spec parsing ------------------------------------------------------------------------------
class GridValues(NamedTuple):
    """Several values for one key of a --method spec: ``logspace(a,b,n)`` (10^a .. 10^b),
    ``linspace(a,b,n)`` or ``v1|v2|...``; the spec stands for one method per value."""

    text: str
    values: tuple


_SPACE = re.compile(r"(log|lin)space\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)", re.I)


def _grid_value(text: str) -> GridValues | None:
    match = _SPACE.fullmatch(text)
    if match is None and re.match(r"(log|lin)space\(", text, re.I):
        kind = text[:3].lower()
        raise ValueError(f"{text!r}: {kind}space takes two numbers and a count, as in {kind}space(-3,0,16)")
    if match:
        kind, a, b, num = match.groups()
        try:
            a, b, num = float(a), float(b), int(num)
        except ValueError:
            raise ValueError(f"{text!r}: {kind}space takes two numbers and a count, as in "
                             f"{kind}space(-3,0,16)") from None
        if not (math.isfinite(a) and math.isfinite(b)) or not 1 <= num <= 4096:
            raise ValueError(f"{text!r}: the bounds must be finite and the count in [1, 4096]")
        grid = np.logspace(a, b, num) if kind.lower() == "log" else np.linspace(a, b, num)
        return _distinct(GridValues(text, tuple(float(v) for v in grid)))
    if "|" in text:
        parts = [_value(p.strip()) for p in text.split("|")]
        if any(p == "" for p in parts) or not all(_is_number(p) for p in parts):
            raise ValueError(f"{text!r}: a list of values is numbers separated by |, as in 0.1|0.2|0.5")
        return _distinct(GridValues(text, tuple(parts)))
    return None


def _distinct(grid: GridValues) -> GridValues:
    """A grid whose values repeat would run one configuration twice under two labels (and a grid
    of one repeated value swept nothing, which failed inside JAX's vmap): refused."""
    seen, repeated = set(), []
    for v in grid.values:
        if float(v) in seen and v not in repeated:
            repeated.append(v)
        seen.add(float(v))
    if repeated:
        raise ValueError(f"{grid.text!r}: the value(s) {', '.join(f'{v:g}' for v in repeated)} repeat; "
                         "each value of a grid must differ")
    return grid


def _split_items(rest: str) -> list[str]:
    """Splits at the commas outside parentheses (``logspace(-3,0,16)`` is one item)."""
    items, depth, current = [], 0, []
    for ch in rest:
        if ch == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        depth += (ch == "(") - (ch == ")")
        current.append(ch)
    items.append("".join(current))
    return items


def _value(text: str):
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


@dataclasses.dataclass(frozen=True)
class Spec:
    """A parsed ``NAME[:key=value,...]`` spec; ``positional`` is optax's optimizer name."""

    text: str
    name: str
    positional: str | None
    kwargs: tuple[tuple[str, Any], ...]
    typed: str = ""  # the name as the user wrote it, for messages (``name`` is normalized)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.kwargs)

    @property
    def grid(self) -> dict[str, GridValues]:
        """The keys given several values."""
        return {k: v for k, v in self.kwargs if isinstance(v, GridValues)}

    def expand(self) -> list["Spec"]:
        """One spec per point of the product of the grids (itself when there is none); each
        point's text names its values, as in ``sgd:step=0.001,batch=10``."""
        grid = self.grid
        if not grid:
            return [self]
        out = []
        for point in itertools.product(*(g.values for g in grid.values())):
            chosen = dict(zip(grid, point))
            kwargs = tuple((k, chosen.get(k, v)) for k, v in self.kwargs)
            items = ([self.positional] if self.positional else []) + [
                f"{k}={v:g}" if k in chosen else f"{k}={_text_of(v)}" for k, v in kwargs]
            out.append(Spec(f"{self.typed or self.name}:" + ",".join(items), self.name,
                            self.positional, kwargs, self.typed))
        return out


def _text_of(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class MethodGroup(NamedTuple):
    """The methods a --method spec stands for: one, or a grid that runs as one sweep program.

    ``labels[c]`` and ``methods[c]`` are configuration c; ``swept`` names the hyperparameters
    (``Method.values`` names) that differ between them, ``values[name]`` their values."""

    labels: list
    methods: list
    swept: tuple
    values: dict


def build_methods(spec: Spec, problem, constants: "_Constants | None" = None) -> MethodGroup:
    """Every method of ``spec`` (its grid expanded). The grid may change numbers only: a grid
    that changes the structure (a batch size, a sampling) is refused, since its methods could
    not share one program; give them as separate --method options."""
    concrete = spec.expand()
    methods = [build_method(c, problem, constants) for c in concrete]
    base = methods[0]
    if any(m.structure() != base.structure() for m in methods[1:]):
        raise ValueError(f"--method {spec.text!r}: its grid changes the method's structure (a batch, "
                         "sampling, schedule or other non-numeric setting); grids may vary numbers "
                         "only, give the others as separate --method options")
    table = [m.values() for m in methods]
    swept = tuple(name for name in table[0] if any(
        not np.array_equal(np.asarray(t[name]), np.asarray(table[0][name])) for t in table))
    return MethodGroup([c.text for c in concrete], methods, swept,
                       {name: np.asarray([t[name] for t in table]) for name in swept})


def parse_spec(text: str, what: str) -> Spec:
    """Parses ``NAME``, ``NAME:k=v,...`` or ``NAME:POSITIONAL,k=v,...``; raises ValueError
    naming ``what`` (``--problem`` or ``--method``) on malformed text."""
    if not isinstance(text, str) or not text.strip():
        example = "logreg:n=10000,d=20" if what == "--problem" else "sgd:step=0.1,batch=10"
        raise ValueError(f"{what} must be a non-empty spec such as {example!r}, got {text!r}")
    text = text.strip()
    typed, colon, rest = text.partition(":")
    typed = typed.strip()
    if colon and not rest.strip():
        # Refused, not read as "no options": a colon promises options, and a spec with a
        # dangling colon usually lost them (an unset shell variable after the colon).
        form = "optax:adam,lr=1e-3" if typed.lower() == "optax" else f"{typed or 'NAME'}:key=value"
        raise ValueError(f"{what} {text!r}: nothing after ':'; give options as {form}, or drop the ':'")
    name = typed.lower().replace("-", "_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"{what} {text!r}: {typed!r} is not a name")
    positional, kwargs = None, []
    for i, part in enumerate(p.strip() for p in (_split_items(rest) if rest else [])):
        if not part:
            raise ValueError(f"{what} {text!r}: empty item between commas")
        if "=" not in part:
            if i == 0:
                positional = part
                continue
            raise ValueError(f"{what} {text!r}: {part!r} is not key=value")
        key, _, value = part.partition("=")
        key = key.strip()
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and value.strip() == "":
            raise ValueError(f"{what} {text!r}: {key} has no value (give {key}=VALUE)")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"{what} {text!r}: {part!r} is not key=value")
        if key in dict(kwargs):
            raise ValueError(f"{what} {text!r}: {key!r} given twice")
        try:
            grid = _grid_value(value.strip())
        except ValueError as err:
            raise ValueError(f"{what} {text!r}: {key}={err}") from None
        if grid is not None and what != "--method":
            raise ValueError(f"{what} {text!r}: {key}={value.strip()} gives several values; grids of "
                             "values are for --method only")
        kwargs.append((key, grid if grid is not None else _value(value.strip())))
    return Spec(text, name, positional, tuple(kwargs), typed)


def build_problem(spec: Spec, dtype: str):
    """The registry problem of ``spec`` in ``dtype``. A ``dtype`` key in the spec must say the
    same as ``--dtype``: one run, one precision. Errors name ``--problem`` and the spec as typed."""
    import jax
    import jax.numpy as jnp

    import problems

    jax.config.update("jax_enable_x64", True)  # float64 problems and float64 reference values
    kwargs = spec.options
    try:
        factory = problems.factory(spec.typed or spec.name)
    except ValueError as err:
        raise ValueError(f"--problem {spec.text!r}: {err}") from None
    params = inspect.signature(factory).parameters
    unknown = [k for k in kwargs if k not in params and not any(
        p.kind == p.VAR_KEYWORD for p in params.values())]
    if unknown:
        raise ValueError(f"--problem {spec.text!r}: {spec.typed or spec.name} takes no {', '.join(unknown)}; "
                         f"it takes {', '.join(params) or 'no options'}")
    if spec.positional is not None:
        raise ValueError(f"--problem {spec.text!r}: {spec.positional!r} is not key=value")
    if "dtype" in kwargs and str(kwargs["dtype"]) not in ("float32", "float64"):
        raise ValueError(f"--problem {spec.text!r}: dtype must be a floating type, float32 or float64, "
                         f"got {kwargs['dtype']!r}; give it with --dtype")
    if "dtype" in kwargs and str(kwargs["dtype"]) != str(dtype):
        # Refused rather than overridden: a problem built in another dtype than the one the
        # run is labelled with would be a silently wrong result.
        raise ValueError(f"--problem {spec.text!r}: dtype={kwargs['dtype']} differs from --dtype {dtype} "
                         "(float32 or float64); give the dtype once, with --dtype")
    if "dtype" in params:
        kwargs["dtype"] = jnp.dtype(dtype)
    else:
        kwargs.pop("dtype", None)
    try:
        problem = factory(**kwargs)
    except (ValueError, TypeError, OSError) as err:  # OSError: a data file that cannot be read
        raise ValueError(f"--problem {spec.text!r}: {err}") from None
    except MemoryError as err:
        raise MemoryError(f"--problem {spec.text!r}: {err}") from None
    if problem.dtype != jnp.dtype(dtype):
        problem = problem.replace(data=jax.tree_util.tree_map(
            lambda a: a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a, problem.data))
    return problem


@dataclasses.dataclass
class _Constants:
    problem: Any
    _values: tuple | None = None

    def get(self):
        """(L, L_max, mu) of the problem, computed once; raises ValueError if unknown."""
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
            self._values = (c.L, c.L_max if c.L_max is not None else c.L, c.mu)
        return self._values


# Python argument -> spec key, so that a message from the Python API names the key the user typed.
_PYTHON_NAMES = (("step_size", "step"), ("batch_size", "batch"), ("loop_length", "loop"),
                 ("learning_rate", "lr"))


def _in_spec_words(message: str) -> str:
    for python, key in _PYTHON_NAMES:
        if message.startswith(python):
            return f"{key} ({python} in Python){message[len(python):]}"
    return message


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_options(spec: Spec, opts: dict, n: int) -> None:
    """The numeric keys of a method spec, checked by the name the user typed."""
    head = f"--method {spec.text!r}"
    grid = spec.grid
    if grid:
        raise ValueError(f"{head}: {', '.join(grid)} has several values; build_methods expands them")
    if "step" in opts:
        step = opts["step"]
        if not _is_number(step) or not (math.isfinite(step) and step > 0):
            raise ValueError(f"{head}: step must be a finite number > 0 (step_size in Python), got {step!r}")
    if "batch" in opts:
        batch = opts["batch"]
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= n:
            raise ValueError(f"{head}: batch must be an integer in [1, n] = [1, {n}] "
                             f"(batch_size in Python), got {batch!r}")
    if "memory" in opts:
        memory = opts["memory"]
        if not isinstance(memory, int) or isinstance(memory, bool) or memory < 1:
            raise ValueError(f"{head}: memory must be an integer >= 1 (memory_size in Python), got {memory!r}")
    if "loop" in opts:
        loop = opts["loop"]
        if not isinstance(loop, int) or isinstance(loop, bool) or loop < 1:
            raise ValueError(f"{head}: loop must be an integer >= 1 (loop_length in Python), got {loop!r}")


def _check_optax_options(spec: Spec, opts: dict, params) -> None:
    """A value optax would only trip over inside the compiled run (``lr=abc``), or silently
    misread (``nesterov=abc`` is truthy), refused here with the key and the value: the learning
    rate must be a number, and so must any key whose default is a number; a key whose default is
    true or false takes only those."""
    head = f"--method {spec.text!r}"
    for key, value in opts.items():
        typed = "lr" if key == "learning_rate" and "lr" in spec.options else key
        default = params[key].default if key in params else None
        wants_number = key == "learning_rate" or _is_number(default)
        if wants_number and not _is_number(value):
            raise ValueError(f"{head}: {typed} must be a number, got {value!r}")
        if wants_number and not math.isfinite(value):
            raise ValueError(f"{head}: {typed} must be a finite number, got {value!r}")
        if key == "learning_rate" and value <= 0:  # a negative one climbs uphill, zero stands still
            raise ValueError(f"{head}: {typed} must be a finite number > 0 (learning_rate in Python), "
                             f"got {value!r}")
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"{head}: {typed} must be true or false, got {value!r}")


def build_method(spec: Spec, problem, constants: _Constants | None = None):
    """The ``Method`` of ``spec`` for ``problem``; errors name ``--method``, the spec as typed
    and the key (``step``, not the Python API's ``step_size``)."""
    try:
        return _build_method(spec, problem, constants)
    except (ValueError, TypeError) as err:
        message = str(err)
        if message.startswith("--method"):
            raise ValueError(message) from None
        raise ValueError(f"--method {spec.text!r}: {_in_spec_words(message)}") from None


def _build_method(spec: Spec, problem, constants: _Constants | None = None):
    """The ``Method`` of ``spec`` for ``problem``; a missing step uses the theory's safe default
    (1/L for GD, 1/(2 (L + L_max/B)) for SGD and the variance-reduced methods' own defaults)."""
    import optax

    import sgd_bench as sb
    from sgd_bench.gradient_table import _split_loss

    if spec.name not in _METHODS:
        raise ValueError(f"--method {spec.text!r}: unknown method {spec.typed or spec.name!r}; known: "
                         f"{', '.join(_METHODS)} (sgd-bench list shows their keys)")
    opts = spec.options
    allowed = _METHODS[spec.name][1]
    if spec.name != "optax":
        if spec.positional is not None:
            raise ValueError(f"--method {spec.text!r}: {spec.positional!r} is not key=value")
        bad = [k for k in opts if k not in allowed]
        if bad:
            raise ValueError(f"--method {spec.text!r}: {spec.name} takes {', '.join(allowed)}; "
                             f"not {', '.join(bad)}")
    _check_options(spec, opts, problem.n)
    constants = constants or _Constants(problem)
    batch = opts.pop("batch", 1)
    sampling = opts.pop("sampling", "with_replacement")

    if spec.name == "gd":
        step = opts.get("step")
        if step is None:
            step = 1.0 / constants.get()[0]
        return sb.gd(step)
    if spec.name == "gd_armijo":
        return sb.gd_armijo(opts.get("step", 1.0))
    if spec.name == "lbfgs":
        return sb.lbfgs(opts.get("memory", 10))
    if spec.name == "sgd":
        step = opts.get("step")
        schedule = opts.get("schedule", "constant")
        if schedule not in SCHEDULES:
            raise ValueError(f"--method {spec.text!r}: schedule must be one of {', '.join(SCHEDULES)}, "
                             f"got {schedule!r}")
        if schedule == "lecture_decreasing":
            if step is not None:
                raise ValueError(f"--method {spec.text!r}: schedule=lecture_decreasing sets its own steps "
                                 "(2k+1)/(2 mu (k+1)^2); drop step=")
            mu = constants.get()[2]
            if not mu:
                raise ValueError(f"--method {spec.text!r}: lecture_decreasing needs mu > 0, and problem "
                                 f"{problem.name!r} has none")
            return sb.sgd(sb.schedules.lecture_decreasing(mu), batch, sampling)
        if step is None:
            L, L_max, _ = constants.get()
            step = 1.0 / (2 * (L + L_max / batch))
        if schedule == "inverse_sqrt":
            step = sb.schedules.inverse_sqrt(step)
        return sb.sgd(step, batch, sampling)
    if spec.name in ("sag", "saga", "svrg", "sarah"):
        kwargs = {}
        if "loop" in opts:
            kwargs["loop_length"] = opts["loop"]
        if spec.name != "sarah" and _split_loss(problem) is not None:
            # A loss split into margin and scalar loss (sparse rows): the O(n) table. The
            # general one would store n dense d-vectors (n d numbers for n nnz-long rows).
            kwargs["linear"] = True
        return getattr(sb, spec.name)(opts.get("step"), batch, sampling, **kwargs)
    if spec.name in ("lazy_saga", "lazy_sgd"):
        eager = spec.name[len("lazy_"):]
        if not hasattr(problem.loss_i, "support") or _split_loss(problem) is None:
            # dense rows: the lazy methods' own TypeErrors speak of the Python API
            raise ValueError(f"--method {spec.text!r}: {spec.name} runs on sparse rows only (--problem "
                             f"sparse-logreg, sparse-preset or a sparse libsvm file); problem "
                             f"{problem.name!r} has dense rows: use {eager}")
        if spec.name == "lazy_saga":
            return sb.lazy_saga(opts.get("step"), batch, sampling).validate(problem)
        step = opts.get("step")
        if step is None:  # sgd's default, for the same iterates
            L, L_max, _ = constants.get()
            step = 1.0 / (2 * (L + L_max / batch))
        return sb.lazy_sgd(step, batch, sampling).validate(problem)
    # optax:NAME,lr=...,key=value
    if not spec.positional:
        raise ValueError(f"--method {spec.text!r}: name the optax optimizer, as in optax:adam,lr=1e-3")
    ctor = getattr(optax, spec.positional, None)
    if not callable(ctor):
        raise ValueError(f"--method {spec.text!r}: optax has no optimizer {spec.positional!r}")
    if "lr" in opts:
        opts["learning_rate"] = opts.pop("lr")
    params = inspect.signature(ctor).parameters
    bad = [k for k in opts if k not in params]
    if bad:
        raise ValueError(f"--method {spec.text!r}: optax.{spec.positional} takes no {', '.join(bad)}; "
                         f"it takes {', '.join(params)}")
    if "learning_rate" not in params:
        # scale_by_adam, clip, ...: their updates are not negated, so x + update would climb
        raise ValueError(f"--method {spec.text!r}: optax.{spec.positional} is a gradient transformation, "
                         "not an optimizer: it takes no learning rate and its updates are not negated "
                         "(applied as they are they climb); use an optimizer such as optax:adam,lr=1e-3")
    if "learning_rate" not in opts:
        raise ValueError(f"--method {spec.text!r}: give the learning rate, as in optax:{spec.positional},lr=1e-3")
    _check_optax_options(spec, opts, params)
    try:
        ctor(**opts)  # optax's own checks of its options, before anything is traced
    except (TypeError, ValueError) as err:
        raise ValueError(f"--method {spec.text!r}: optax.{spec.positional} refused its options: {err}") from None
    # The factory with its keywords: the numbers are traced, so grid cells share programs.
    return sb.from_optax(ctor, batch, sampling, name=spec.text, **opts)


# -- the grid ----------------------------------------------------------------------------------
def grid_config(problems_: list[str], methods: list[str], *, seeds: int, steps: int,
                log_every: int | None, dtype: str, key: int, block: int) -> dict[str, Any]:
    """The config that keys a grid run (its hash names what the folder holds)."""
    if not problems_:
        raise ValueError("give at least one --problem (sgd-bench list shows them)")
    if not methods:
        raise ValueError("give at least one --method, such as --method gd --method sgd:batch=10")
    for name, value, low in (("--seeds", seeds, 1), ("--steps", steps, 1), ("--block", block, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    log_every = log_every or max(1, steps // 100)
    if not 1 <= log_every <= steps:
        raise ValueError(f"--log-every must be in [1, steps] = [1, {steps}], got {log_every}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"--dtype must be float32 or float64, got {dtype!r}")
    if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key <= MAX_KEY:
        raise ValueError(f"--key must be an integer in [0, 2**63 - 1] = [0, {MAX_KEY}], got {key!r}")
    for what, texts in (("--problem", problems_), ("--method", methods)):
        seen: dict[tuple, str] = {}
        for text in texts:
            spec = parse_spec(text, what)
            # Equal after normalizing (lecture-logreg = lecture_logreg, key order): the same
            # run twice, which would store every record twice. Refused, as a typo usually is.
            same = (spec.name, spec.positional, tuple(sorted(spec.options.items(), key=str)))
            if same in seen:
                raise ValueError(f"{what} {text!r} is given twice" + (
                    f" (also as {seen[same]!r})" if seen[same] != text else "") +
                    f"; each {what} must differ from the others (they label the results)")
            seen[same] = text
    labels: dict[tuple, str] = {}
    for text in methods:
        for point in parse_spec(text, "--method").expand():
            same = (point.name, point.positional, tuple(sorted(point.options.items(), key=str)))
            if same in labels and labels[same] != text:
                raise ValueError(f"--method {text!r} and --method {labels[same]!r} both run "
                                 f"{point.text!r}; each method may appear once")
            labels[same] = text
    return dict(problems=list(problems_), methods=list(methods), seeds=seeds, steps=steps,
                log_every=log_every, dtype=dtype, key=key, block=block)


def check_resources(config: dict, problem, methods) -> None:
    """Refuses (MemoryError, with the numbers) a grid whose largest cell cannot fit on the
    device, or whose seed keys and merged records cannot fit in host memory; called for each
    problem before anything is compiled or the result folder exists."""
    from sgd_bench import memory

    largest = max(b - a for a, b in seed_blocks(config["seeds"], config["block"]))
    for mtext, group in zip(config["methods"], methods):
        if not isinstance(group, MethodGroup):
            group = MethodGroup([mtext], [group], (), {})
        runs = largest * len(group.methods)  # a grid's configurations run as one program
        estimate = memory.estimate_run_bytes(problem, group.methods[0], runs, config["steps"],
                                             config["log_every"])
        size = (f"{largest:,} seeds of --block" if len(group.methods) == 1 else
                f"{len(group.methods)} configurations x {largest:,} seeds of --block")
        memory.check_run_fits(estimate, f"a cell of --method {mtext!r} ({size})")
    steps, every = config["steps"], config["log_every"]
    logged = steps // every + 1 + (1 if steps % every else 0)
    count = sum(len(parse_spec(m, "--method").expand()) for m in config["methods"])
    rows = len(config["problems"]) * count * config["seeds"] * logged
    host = config["seeds"] * memory._KEY_BYTES + rows * ROW_BYTES
    memory.check_host_fits(host, 0, f"the grid's seed keys and its {rows:,} record rows "
                                    f"({config['seeds']:,} seeds x {logged:,} logged steps x "
                                    f"{len(config['methods'])} methods x {len(config['problems'])} problems)",
                           hint="use fewer --seeds or a larger --log-every")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9=-]+", "_", text).strip("_")[:60]


def cell_name(i: int, problem: str, j: int, method: str, start: int, stop: int) -> str:
    """The file stem of one cell: problem and method indices and slugs, and the seed range."""
    return f"p{i}-{_slug(problem)}__m{j}-{_slug(method)}__seeds{start}-{stop - 1}"


def seed_blocks(seeds: int, block: int) -> list[tuple[int, int]]:
    """[start, stop) seed ranges of at most ``block`` seeds, as equal as possible, so that every
    cell has one of at most two shapes (one or two compiled programs per method)."""
    count = -(-seeds // block)
    base, extra = divmod(seeds, count)
    bounds, start = [], 0
    for i in range(count):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def _cell_records(trace, *, problem: str, method: str, start: int, f_star):
    loss = np.asarray(trace.loss, np.float64)
    gnorm = np.asarray(trace.grad_norm_sq, np.float64)
    steps = np.asarray(trace.step)[0]
    evals = np.asarray(trace.grad_evals)[0]
    diverged = np.asarray(trace.diverged)
    at = np.asarray(trace.diverged_step)
    negative = np.broadcast_to(np.asarray(trace.negative_step_at), diverged.shape)
    rows = []
    for s in range(loss.shape[0]):
        for t, k in enumerate(steps):
            rows.append(dict(problem=problem, method=method, seed=start + s, step=int(k),
                             grad_evals=int(evals[t]), loss=float(loss[s, t]),
                             f_gap=None if f_star is None else float(loss[s, t] - f_star),
                             grad_norm_sq=float(gnorm[s, t]), diverged=bool(diverged[s]),
                             diverged_step=int(at[s]), negative_step_at=int(negative[s])))
    return rows


def _f_star(problem, log):
    import sgd_bench as sb

    if "f_star" in problem.info:
        return float(problem.info["f_star"]), "closed form (problem.info)"
    if problem.problem_class in ("strongly_convex", "pl", "convex"):
        try:
            ref = sb.reference_solution(problem)
            return float(ref.f), f"float64 {ref.solver}, ||grad f(x*)|| = {ref.grad_norm:.1e}"
        except Exception as err:  # the figure then shows f itself
            log(f"no reference solution for {problem.name} ({type(err).__name__}: {err}); plotting f")
    return None, "unknown: the figures show f(x_k)"


def run_grid(config: dict, out: Path, *, resume: bool = False, log: Callable[[str], None] | None = None,
             command: str | None = None, keep_cells: bool = False) -> list[dict]:
    """Runs every cell of ``config`` not already stored in ``out/cells``, then writes the
    records, ``meta.json``, ``summary.md`` and the figure; returns the summary rows.

    The cell files exist for resumption; once their rows are merged into the records and the
    folder is marked complete they are removed (``keep_cells=True`` keeps them).
    """
    import jax

    jax.config.update("jax_enable_x64", True)

    from sgd_bench import runner
    from sgd_bench_harness import experiment, results

    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    out = Path(out)
    cells_dir = out / "cells"
    digest = results.config_hash(KIND, config, dtype=config["dtype"])
    experiment.mark(out, experiment.STATUS_RUNNING, digest, {"experiment": KIND, "kind": KIND,
                                                             "config": config})
    meta = experiment.read_meta(out) or {}
    f_stars = dict(meta.get("f_star", {}))
    blocks = seed_blocks(config["seeds"], config["block"])
    seeds = config["seeds"]
    total = len(config["problems"]) * len(config["methods"]) * len(blocks)
    done = 0
    for i, ptext in enumerate(config["problems"]):
        problem = build_problem(parse_spec(ptext, "--problem"), config["dtype"])
        constants = _Constants(problem)
        methods = [build_methods(parse_spec(m, "--method"), problem, constants) for m in config["methods"]]
        names = [cell_name(i, ptext, j, m, a, b) for j, m in enumerate(config["methods"]) for a, b in blocks]
        if all((cells_dir / f"{n}.json").exists() for n in names) and ptext in f_stars:
            done += len(names)
            log(f"[{done}/{total}] {ptext}: every cell already stored")
            continue
        if ptext not in f_stars:
            f_stars[ptext] = _f_star(problem, log)
            experiment.mark(out, experiment.STATUS_RUNNING, digest, {"f_star": f_stars})
        f_star = f_stars[ptext][0]
        x0 = problem.zeros()
        keys = runner.seed_keys(jax.random.key(config["key"]), seeds)
        for j, (mtext, method) in enumerate(zip(config["methods"], methods)):
            for a, b in blocks:
                done += 1
                name = cell_name(i, ptext, j, mtext, a, b)
                marker = cells_dir / f"{name}.json"
                if marker.exists():
                    log(f"[{done}/{total}] {ptext} / {mtext} / seeds {a}-{b - 1}: stored, skipped")
                    continue
                began = time.perf_counter()
                # One program whether a bar is drawn or not: a run resumed without a terminal
                # computes exactly what the interrupted one did with one.
                traces = _run_cell(problem, method, x0, keys[a:b], config,
                                   label=f"{mtext} seeds {a}-{b - 1}")
                seconds = time.perf_counter() - began
                rows = [row for label, trace in zip(method.labels, traces)
                        for row in _cell_records(trace, problem=ptext, method=label, start=a,
                                                 f_star=f_star)]
                results.write_records(cells_dir / name, rows)
                n_div = int(sum(np.sum(np.asarray(t.diverged)) for t in traces))
                results.write_json(marker, dict(seconds=seconds, diverged=n_div, seeds=b - a,
                                                labels=method.labels))
                log(f"[{done}/{total}] {ptext} / {mtext} / seeds {a}-{b - 1}: {seconds:.2f} s "
                    f"(with compilation), {n_div} diverged")
                for label, trace in zip(method.labels, traces):
                    at = np.asarray(trace.negative_step_at)
                    if np.any(at >= 0):
                        log(f"warning: {ptext} / {label}: the step size is negative from step "
                            f"k = {int(at[at >= 0].min())}: the run climbs uphill from there")
        del problem
    rows, timings = [], {}
    for i, ptext in enumerate(config["problems"]):
        for j, mtext in enumerate(config["methods"]):
            for a, b in blocks:
                name = cell_name(i, ptext, j, mtext, a, b)
                rows.extend(results.read_records(_cell_file(cells_dir, name)))
                cell = experiment.read_json(cells_dir / f"{name}.json")
                labels = cell.get("labels", [mtext])
                for c, label in enumerate(labels):
                    # a grid's cell is one program: its time is split evenly between its points
                    timings[f"{name}#{c}"] = dict(problem=ptext, method=label,
                                                  seconds=cell["seconds"] / len(labels))
    written = results.write_records(out / "records", rows)
    extra = {"kind": KIND, "f_star": f_stars, "cells": timings,
             "records": results.records_digest(written, len(rows)),
             **{k: v for k, v in results.metadata_record(KIND, config, dtype=config["dtype"]).items()
                if k not in ("wall_seconds",)}}
    if command:
        extra["command"] = command
    experiment.mark(out, experiment.STATUS_RUNNING, digest, extra)
    summary = report(out)
    experiment.mark(out, experiment.STATUS_COMPLETE, digest)
    if not keep_cells:
        shutil.rmtree(cells_dir, ignore_errors=True)
    return summary


def _run_cell(problem, group: MethodGroup, x0, keys, config, *, label):
    """The traces of one cell: ``run_keys`` for a single method, one sweep program (every
    configuration x the block's seeds) for a grid; a list with one trace per configuration."""
    import jax
    import jax.numpy as jnp

    from sgd_bench import runner
    from sgd_bench.sweep import swept_positions

    steps, every = config["steps"], config["log_every"]
    if len(group.methods) == 1:
        trace = runner.run_keys_chunked(problem, group.methods[0], x0, keys, steps=steps,
                                        log_every=every, label=label)
        return [jax.block_until_ready(trace)]
    base = group.methods[0]
    x0, _, steps, every, _ = runner.check_args(problem, base, x0, 0, steps, every, None)
    positions = swept_positions(base, list(group.swept))
    values = tuple(jnp.asarray(group.values[name]) for name in group.swept)
    trace = runner.execute(problem, base, x0, keys, None, steps=steps, log_every=every,
                           mode="sweep", swept=positions, values=values,
                           progress=runner.use_progress(None) and steps > every, label=label)
    jax.block_until_ready(trace)
    return [jax.tree_util.tree_map(lambda a, c=c: a[c], trace) for c in range(len(group.methods))]


def _cell_file(cells_dir: Path, name: str) -> Path:
    from sgd_bench_harness import results

    for fmt in results.RECORD_FORMATS:
        path = cells_dir / f"{name}.{fmt}"
        if path.is_file():
            return path
    raise FileNotFoundError(f"cell {name} has a marker but no records in {cells_dir}")


# -- the report --------------------------------------------------------------------------------
def _stats(values: np.ndarray) -> tuple[float, float]:
    if values.size == 0:
        return float("nan"), float("nan")
    mean = float(values.mean())
    stderr = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else float("nan")
    return mean, stderr


def _fmt(value: float) -> str:
    return "-" if value != value else f"{value:.4g}"


def summarize(rows: list[dict]) -> tuple[list[dict], dict]:
    """Per (problem, method): the final gap's mean and stderr over seeds that did not diverge,
    and the per-step curves (mean, q05, q95 over those seeds) for the figure."""
    table, curves = [], {}
    keyed: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        keyed.setdefault((row["problem"], row["method"]), []).append(row)
    for (ptext, mtext), group in keyed.items():
        metric = "f_gap" if group[0].get("f_gap") is not None else "loss"
        seeds = sorted({r["seed"] for r in group})
        steps = sorted({r["step"] for r in group})
        index = {s: t for t, s in enumerate(steps)}
        sid = {s: i for i, s in enumerate(seeds)}
        values = np.full((len(seeds), len(steps)), np.nan)
        evals = np.zeros(len(steps))
        diverged = np.zeros(len(seeds), bool)
        first_div = []
        # Step sizes depend on the method, not the seed; records older than the column lack it.
        negative = [int(r["negative_step_at"]) for r in group
                    if r.get("negative_step_at") is not None and int(r["negative_step_at"]) >= 0]
        for r in group:
            values[sid[r["seed"]], index[r["step"]]] = r[metric]
            evals[index[r["step"]]] = r["grad_evals"]
            if r["diverged"]:
                diverged[sid[r["seed"]]] = True
                if r["step"] == steps[0]:
                    first_div.append(r["diverged_step"])
        ok = values[~diverged]
        final_mean, final_se = _stats(ok[:, -1]) if ok.size else (float("nan"), float("nan"))
        median = float(np.median(ok[:, -1])) if ok.size else float("nan")
        curves[(ptext, mtext)] = dict(
            metric=metric, steps=np.array(steps), grad_evals=evals,
            mean=ok.mean(axis=0) if ok.size else None,
            lo=np.quantile(ok, 0.05, axis=0) if ok.size else None,
            hi=np.quantile(ok, 0.95, axis=0) if ok.size else None)
        n_div = int(diverged.sum())
        table.append(dict(
            problem=ptext, method=mtext, seeds=len(seeds),
            diverged=f"{n_div}/{len(seeds)}" + (f" (first at step {min(first_div)})" if n_div else ""),
            negative_step=f"from k = {min(negative)}" if negative else "-",
            metric=("f - f*" if metric == "f_gap" else "f"),
            final_mean=_fmt(final_mean), final_stderr=_fmt(final_se), final_median=_fmt(median),
            steps=steps[-1], grad_evals=f"{int(evals[-1]):,}"))
    return table, curves


COLUMNS = ["problem", "method", "seeds", "diverged", "metric", "final_mean", "final_stderr",
           "final_median", "steps", "grad_evals", "seconds"]


def summary_columns(table: list[dict]) -> list[str]:
    """``COLUMNS``, with ``negative_step`` after ``diverged`` when a method's step size went
    negative: the column appears only when it has something to say."""
    if all(r.get("negative_step", "-") == "-" for r in table):
        return COLUMNS
    return COLUMNS[:4] + ["negative_step"] + COLUMNS[4:]


def report(out: Path) -> list[dict]:
    """Rebuilds ``summary.md`` and ``grid.png`` of a grid folder from its records and meta;
    returns the summary table's rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sgd_bench_harness import experiment, plots, results

    out = Path(out)
    meta = experiment.read_meta(out) or {}
    rows = results.read_records(out)
    table, curves = summarize(rows)
    seconds: dict[tuple[str, str], float] = {}
    for cell in meta.get("cells", {}).values():
        key = (cell["problem"], cell["method"])
        seconds[key] = seconds.get(key, 0.0) + cell["seconds"]
    for row in table:
        key = (row["problem"], row["method"])
        row["seconds"] = f"{seconds[key]:.2f}" if key in seconds else "-"
    problems_ = list(dict.fromkeys(r["problem"] for r in table))
    plots.style()
    fig, axes = plt.subplots(len(problems_), 2, figsize=(11, 3.8 * len(problems_)), squeeze=False)
    for row_axes, ptext in zip(axes, problems_):
        methods = [r["method"] for r in table if r["problem"] == ptext]
        metric = curves[(ptext, methods[0])]["metric"]
        gap = metric == "f_gap"
        # |f - f*| on log axes, floored at float64's rounding of f*: below it is noise.
        shown = (lambda v: np.maximum(np.abs(v), GAP_FLOOR)) if gap else (lambda v: v)
        positive = gap or all(curves[(ptext, m)]["mean"] is None or np.all(curves[(ptext, m)]["lo"] > 0)
                              for m in methods)
        for c, mtext in enumerate(methods):
            cur = curves[(ptext, mtext)]
            if cur["mean"] is None:
                continue
            color = plots.COLORS[c % len(plots.COLORS)]
            for ax, x in zip(row_axes, (cur["steps"], cur["grad_evals"])):
                keep = x > 0 if ax is row_axes[1] else slice(None)  # log-x: no zero evaluations
                ax.plot(x[keep], shown(cur["mean"])[keep], color=color, label=mtext)
                lo, hi = shown(cur["lo"]), shown(cur["hi"])
                ax.fill_between(x[keep], np.minimum(lo, hi)[keep], np.maximum(lo, hi)[keep],
                                color=color, alpha=0.15, lw=0)
        ylabel = r"$|f(x_k) - f^*|$" if gap else r"$f(x_k)$"
        for ax, xlabel, what in zip(row_axes, ("step k", "per-sample gradient evaluations"),
                                    ("against steps", "against gradient evaluations")):
            ax.set(xlabel=xlabel, ylabel=ylabel, title=f"{ptext}: {what}")
            if positive:
                ax.set_yscale("log")
            if ax.get_legend_handles_labels()[0]:  # every seed diverged: no curve, no legend
                ax.legend(fontsize=8)
            else:  # (matplotlib's own warning would reach the user's terminal as a Python warning)
                ax.text(0.5, 0.5, "every seed diverged", transform=ax.transAxes, ha="center", fontsize=8)
        row_axes[1].set_xscale("log")
    fig.suptitle("mean over the seeds that did not diverge; band: 5%-95% of them", fontsize=9)
    fig.tight_layout()
    results.save_figure(fig, out / "grid.png")
    plt.close(fig)
    config = meta.get("config", {})
    f_star = meta.get("f_star", {})
    f_lines = "\n".join(f"- {p}: f* = {v[0]:.12g} ({v[1]})" if v[0] is not None else f"- {p}: f* {v[1]}"
                        for p, v in f_star.items())
    diverged_total = sum(int(r["diverged"].split("/")[0]) for r in table)
    uphill = [r for r in table if r["negative_step"] != "-"]
    columns = summary_columns(table)
    warning = ""
    if uphill:
        warning = ("\n**Warning: a step size went negative** (or NaN) in "
                   + ", ".join(f"{r['problem']} / {r['method']} ({r['negative_step']})" for r in uphill)
                   + ": from that step on the run climbs uphill, so its numbers are not a descent "
                   "method's (column negative_step).\n")
    text = f"""# Grid: {', '.join(problems_)}

Command: `{meta.get('command', '?')}`

{config.get('seeds', '?')} seeds x {config.get('steps', '?')} steps (logged every
{config.get('log_every', '?')}), {config.get('dtype', '?')}, key {config.get('key', '?')}, device
{', '.join(meta.get('devices', [])) or '?'}, jax {meta.get('versions', {}).get('jax', '?')}, commit
{meta.get('git_commit', '?')}, config hash {meta.get('config_hash', '?')}.

![grid](grid.png)

Final values: mean and standard error over the seeds that did not diverge (NaN, Inf or a loss
above 1e6 x max(|f(x_0)|, 1)); {diverged_total} seed run(s) diverged in all. Seconds: wall-clock
of the method's cells, compilation included (sgd-bench's timing scripts measure speed).
{warning}
{results.markdown_table(table, columns)}

Reference values:
{f_lines or '- none'}
"""
    results.write_text(out / "summary.md", text)
    return table
