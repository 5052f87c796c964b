"""The text of a spec, ``NAME`` or ``NAME:key=value,...`` (``optax:NAME,key=value`` with a
positional first item): the syntax of ``--problem`` and ``--method``, parsed into a ``Spec``.

A value is read as true/false, an int, a float or else kept as text; in a ``--method`` spec a
key may take several values (``logspace(a,b,n)``, ``linspace(a,b,n)``, ``v1|v2|...``) and the
spec then stands for one method per point (``Spec.expand``); a lin/logspace whose points are all
whole numbers (up to 2^53) gives ints, as typing them (``10|20|30``) would. Parsing imports nothing but the
standard library and numpy; ``words`` is how a name (or a choice such as ``sampling=``) is read:
any case, ``-`` for ``_``. The method registry (``sgd_bench.specs``) and the command line
(``sgd_bench_harness``) share it. Every refusal names ``what`` (``--problem`` or ``--method``)
and the spec as typed.
"""

from __future__ import annotations

import dataclasses
import decimal
import inspect
import itertools
import math
import re
import sys
from typing import Any, Iterable, Mapping, NamedTuple

import numpy as np


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
            if not text.isascii():  # float() read logspace(-٣,0,16)'s ٣ as 3.0
                raise ValueError(text)
            a, b, num = float(a), float(b), int(num)
        except ValueError:
            raise ValueError(f"{text!r}: {kind}space takes two numbers and a count, as in "
                             f"{kind}space(-3,0,16)") from None
        if not (math.isfinite(a) and math.isfinite(b)) or not 1 <= num <= 4096:
            raise ValueError(f"{text!r}: the bounds must be finite and the count in [1, 4096]")
        if kind.lower() == "log" and max(a, b) > math.log10(sys.float_info.max):  # a point would be inf
            raise ValueError(f"{text!r}: 10^{max(a, b):g} is beyond float64's range (about 1.8e308)")
        if kind.lower() == "log" and min(a, b) < math.log10(TINIEST):  # a point would be 0.0, untyped
            raise ValueError(f"{text!r}: 10^{min(a, b):g} is below float64's smallest number (about 4.9e-324)")
        grid = [float(v) for v in (np.logspace(a, b, num) if kind.lower() == "log" else np.linspace(a, b, num))]
        if all(v.is_integer() and abs(v) <= 2**53 for v in grid):
            # what typing the points gives (10|20|30): a count such as phase1_steps takes them. Beyond
            # 2^53 a whole float is no count anyone types (logspace(0,308,3) gave a 309-digit int): floats
            grid = [int(v) for v in grid]
        return _distinct(GridValues(text, tuple(grid)))
    if "|" in text:
        parts = [parse_value(p.strip()) for p in text.split("|")]
        if any(p == "" for p in parts) or not all(is_number(p) for p in parts):
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


def words(text: str) -> str:
    """A name or a choice as a spec reads it: any case, ``-`` for ``_`` (``Lazy-SAGA`` is lazy_saga)."""
    return text.strip().lower().replace("-", "_")


def parse_value(text: str):
    """true/false, an int, a float, or the text itself. An int beyond float64's range is refused:
    every check that compares it as a float (math.isfinite, %g) raised OverflowError on it; so is a
    float written finite that reads as inf (``1e400``: a key's check said "got inf"; ``inf`` stays).
    A number is written in ASCII digits: int() read ``١٠`` (Arabic-Indic) as 10; it stays text."""
    if not text.isascii():
        return text
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            if kind is int and INT_TEXT.fullmatch(text):  # more digits than int() reads (4300):
                value = _long_int(text)  # float() then gave inf, echoed as "got inf"
            else:
                continue
        if kind is int and abs(value) > sys.float_info.max:
            raise ValueError(_beyond(text, "digits"))
        if kind is float and math.isinf(value) and "inf" not in low:  # 1e400: "got inf", not what was typed
            raise ValueError(_beyond(text, "characters"))
        if kind is float and value == 0 and re.search(r"[1-9]", low.partition("e")[0]):  # 1e-400: "got 0.0"
            raise ValueError(f"{_shown(text)} is nearer 0 than float64's smallest number (about 4.9e-324), so "
                             "it would read as 0; type 0 for zero")
        return value
    return text


def _beyond(text: str, unit: str) -> str:
    """Why a number typed is refused, with the text as typed (abbreviated when long)."""
    return f"{_shown(text, unit)} is beyond float64's range (about 1.8e308)"


def _shown(text: str, unit: str = "characters") -> str:
    """A number as typed, abbreviated when long."""
    return text if len(text) <= 20 else f"{text[:8]}... ({len(text)} {unit})"


TINIEST = 5e-324  # float64's smallest positive (subnormal) number
INT_TEXT = re.compile(r"\s*[+-]?\d(?:_?\d)*\s*")  # what int() reads as a whole number
DECIMAL_TEXT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")  # 1e6, 2.5E3, 100.0


def whole_number(text: str) -> int | None:
    """The whole number that ``text`` writes as a decimal (``1e1``, ``2.5e3``, ``100.0``), read exactly
    (``1e23`` is 10**23, not float's 99999999999999991611392), else None (``1.5``, ``1e-3``, ``inf``, a
    word, non-ASCII digits, more than 309 digits: beyond float64's range, which ``parse_value`` refuses)."""
    if not text.isascii() or not DECIMAL_TEXT.fullmatch(text):
        return None
    try:
        value = decimal.Decimal(text.strip())
        if value != 0 and value.adjusted() > 308 or value != value.to_integral_value():
            return None
        return int(value)
    except (decimal.DecimalException, ValueError, OverflowError):
        return None


def _long_int(text: str) -> int:
    """An int written with more digits than ``int()`` converts since Python 3.11 (4300): its value
    when leading zeros made it long, else beyond float64's range (refused by the caller)."""
    digits = text.strip().lstrip("+-").replace("_", "").lstrip("0") or "0"
    if len(digits) > 309:  # 10**309 > 1.8e308
        return int("1" + "0" * 309)
    return int(digits) * (-1 if text.strip().startswith("-") else 1)


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

    def as_typed(self, key: str, value) -> str:
        """``value`` of ``key`` as the spec's text spells it where that text reads as ``value``, else
        its repr: ``step=-0`` parses as 0, and a refusal that echoed the parsed value said "got 0" of
        what the user never typed (a grid point's text, ``batch=1`` for 1.0, is not what was typed)."""
        text = self.typed_text(key)
        try:
            read = parse_value(text) if text is not None else None
        except ValueError:
            return repr(value)
        if is_number(value) and (type(read) is type(value) and read == value  # text stays quoted
                                 or type(value) is int and whole_number(text) == value):  # batch=1e1 as 10
            return text
        return repr(value)

    def typed_text(self, key: str) -> str | None:
        """The text of ``key``'s value in this spec's text (stripped), or None."""
        rest = self.text.partition(":")[2]
        for part in _split_items(rest) if rest else []:
            k, eq, text = part.partition("=")
            if eq and k.strip() == key:
                return text.strip()
        return None

    def counted(self, keys: Iterable[str]) -> dict[str, Any]:
        """``options`` with each of ``keys`` (the keys that count: batch=, n=) that is written as a
        whole number in decimal notation (``batch=1e1``, ``n=2.5e3``, ``n=100.0``) as that int, read
        exactly, as the count options take them (arg_types.integer); it was a float, refused
        ("n must be an integer, got 1e2"). Only on the command line: the Python API keeps its types.
        Decided: a grid's points are not (``batch=logspace(0,1,3)`` is refused at batch=1.0 as before;
        a point's text is its %g, not what was typed)."""
        options = self.options
        for key in set(keys) & set(options):
            text = self.typed_text(key)
            if (type(options[key]) is float and text is not None and whole_number(text) is not None
                    and type(parse_value(text)) is float):  # the text typed, not a grid point's %g
                options[key] = whole_number(text)
        return options

    def echo_typed(self, message: str) -> str:
        """A factory's refusal ``KEY must ..., got VALUE`` with VALUE as this spec spells it: the
        factory had turned ``ratio=1`` into 1.0, and the refusal said "got 1.0" of what was typed 1
        (``KEY (NAME in Python) must ...`` too, a method's)."""
        match = re.fullmatch(r"(\w+)(?: \(\w+ in Python\))? must .*, got (\S+)", message, flags=re.DOTALL)
        value = self.options.get(match.group(1)) if match else None
        if not is_number(value):
            return message
        whole = whole_number(self.typed_text(match.group(1)) or "")  # n=1e2, read as 100
        if match.group(2) in (repr(value), repr(float(value))) + ((str(whole),) if whole is not None else ()):
            return message[:match.start(2)] + self.as_typed(match.group(1), value)
        return message

    def expand(self) -> list["Spec"]:
        """One spec per point of the product of the grids (itself when there is none); each
        point's text names its values, as in ``sgd:step=0.001,batch=10`` (``%g``, with more digits
        where six would print two values of a key alike: the text labels the point's records)."""
        grid = self.grid
        if not grid:
            return [self]
        digits = {k: _digits(g.values) for k, g in grid.items()}
        out = []
        for point in itertools.product(*(g.values for g in grid.values())):
            chosen = dict(zip(grid, point))
            kwargs = tuple((k, chosen.get(k, v)) for k, v in self.kwargs)
            items = ([self.positional] if self.positional else []) + [
                f"{k}={v:.{digits[k]}g}" if k in chosen else f"{k}={_text_of(v)}" for k, v in kwargs]
            out.append(Spec(f"{self.typed or self.name}:" + ",".join(items), self.name,
                            self.positional, kwargs, self.typed))
        return out


def _digits(values) -> int:
    """The fewest significant digits, at least ``%g``'s six, that print ``values`` apart:
    0.1234567|0.1234568 were both ``step=0.123457``, and the grid's records, grouped by that
    label, mixed the two points' seeds (17 digits tell any two doubles apart)."""
    digits = 6
    while digits < 17 and len({f"{v:.{digits}g}" for v in values}) < len(values):
        digits += 1
    return digits


def _text_of(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)



def parse_spec(text: str, what: str) -> Spec:
    """Parses ``NAME``, ``NAME:k=v,...`` or ``NAME:POSITIONAL,k=v,...``; raises ValueError
    naming ``what`` (``--problem`` or ``--method``) on malformed text."""
    if not isinstance(text, str) or not text.strip():
        example = "logreg:n=10000,d=20" if what == "--problem" else "sgd:step=0.1,batch=10"
        raise ValueError(f"{what} must be a non-empty spec such as {example!r}, got {text!r}")
    text = text.strip()
    try:  # the records, meta.json and summary store the spec as UTF-8: a libsvm path with a byte 0xff
        text.encode("utf-8")  # ran the grid, then failed writing it, its folder left "running"
    except UnicodeEncodeError:
        raise ValueError(f"{what} {text!r} is not valid UTF-8 (a byte such as 0xff in a file name); "
                         "results store the spec as UTF-8 text: rename the file") from None
    typed, colon, rest = text.partition(":")
    typed = typed.strip()
    if colon and not rest.strip():
        # Refused, not read as "no options": a colon promises options, and a spec with a
        # dangling colon usually lost them (an unset shell variable after the colon).
        form = "optax:adam,lr=1e-3" if typed.lower() == "optax" else f"{typed or 'NAME'}:key=value"
        raise ValueError(f"{what} {text!r}: nothing after ':'; give options as {form}, or drop the ':'")
    name = words(typed)
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
            raise ValueError(f"{what} {text!r}: {part!r} is not key=value" + (
                " (commas separate the options, so a value cannot hold one)" if kwargs else ""))
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
            parsed = grid if grid is not None else parse_value(value.strip())
        except ValueError as err:
            if what == "--method" or "|" not in value:
                raise ValueError(f"{what} {text!r}: {key}={err}") from None
            # not numbers, so not a grid (which only --method takes): text, such as a file named a|b.svm
            grid, parsed = None, parse_value(value.strip())
        if grid is not None and what != "--method":
            raise ValueError(f"{what} {text!r}: {key}={value.strip()} gives several values; grids of "
                             "values are for --method only")
        kwargs.append((key, parsed))
    return Spec(text, name, positional, tuple(kwargs), typed)



def is_number(value) -> bool:
    """An int or a float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def keyword_mismatch(name: str, params: Mapping[str, inspect.Parameter], keys: Iterable[str],
                     given: Iterable[str] = ()) -> str | None:
    """Why the spec keys ``keys`` do not fit a factory's parameters ``params`` (a key it does not
    take, or one it needs that is missing; ``given`` are filled in by the caller), else None:
    ``libsvm`` alone said Python's "libsvm_logreg() missing 1 required positional argument: 'path'"."""
    keys = list(keys)
    unknown = [k for k in keys if k not in params and not any(p.kind == p.VAR_KEYWORD for p in params.values())]
    if unknown:
        return f"{name} takes no {', '.join(unknown)}; it takes {', '.join(params) or 'no options'}"
    missing = [k for k, p in params.items() if p.default is p.empty and k not in keys and k not in set(given)
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        return f"{name} needs {' and '.join(f'{k}=...' for k in missing)} (it takes {', '.join(params)})"
    return None
