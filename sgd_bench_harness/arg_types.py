"""The argparse types of the experiments' options: each turns the text typed into a value or
into a one-line reason that names what was given (abbreviated when long)."""

from __future__ import annotations

import argparse
import decimal
import math
import os
import re
from pathlib import Path
from typing import Callable

DTYPES = ("float32", "float64")


def dtype_name(text: str) -> str:
    """An argparse type: a dtype the experiments run in, or a one-line reason."""
    if text not in DTYPES:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(DTYPES)}, got {text!r}")
    return text


def folder_path(text: str) -> Path:
    """An argparse type: a folder path, with a leading ``~`` expanded as the shell does for a word of
    its own (``--out=~/runs`` is not expanded by the shell: the run wrote ``./~/runs``, saying "wrote
    ~/runs/...", and Parquet records read back from there went to the home folder)."""
    return Path(home_expanded(text))


def home_expanded(text: str, what: str = "") -> str:
    """``text`` with a leading ``~`` or ``~user`` expanded as the shell does; a ``~user`` of no user on
    this machine is refused, naming ``what`` (``--out``: a folder "~user" was made in the current one and
    reported as a home; ``$SGD_BENCH_SCRIPTS``, ``$SGD_BENCH_COMPILATION_CACHE``: pathlib's
    "RuntimeError: Could not determine home directory.", a traceback)."""
    path, first = os.path.expanduser(text), text.split("/")[0]
    if path.startswith("~") and first != "~":
        raise _NoSuchUser(f"{what}{text!r} starts with {first}, but this machine has no user {first[1:]!r} to take "
                          f"the home folder of (./{text} is a folder of that name here)")
    return path


class _NoSuchUser(argparse.ArgumentTypeError, ValueError):
    """``folder_path``'s refusal: argparse (an experiment's ``--out``) shows it after the option's name,
    and the command line's own call gets a ValueError (one line, exit 2)."""


def printable(value) -> str:
    """A text for the terminal on one line: a line break, tab or other control character (ESC
    included: a typed path's colours or cursor moves) is shown as its escape (``\\n``, ``\\t``,
    ``\\x1b``), so that a row stays one line and its columns stay aligned."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(value))


class Parser(argparse.ArgumentParser):
    """The command line's and the experiments' parser: its one-line error shows a typed control
    character as its escape (``list $'\\e[2J'`` cleared the screen with "unrecognized arguments").
    An option named in ``exact`` is taken only as typed in full, never as an abbreviation: ``run``'s
    ``--no-work-limit`` would otherwise take gpu_bench's own ``--n`` for itself."""

    exact: tuple = ()

    def error(self, message):
        super().error(printable(message))

    def _get_option_tuples(self, option_string):  # argparse's abbreviation matches (Python 3.10-3.13)
        return [match for match in super()._get_option_tuples(option_string)
                if match[1] not in self.exact or option_string.split("=", 1)[0] == match[1]]


def abbreviated(text: str, keep: int = 10) -> str:
    """``text`` for a one-line message: as it is when short, else its two ends and its length
    (a 400-digit number given as an option would fill the screen)."""
    text = str(text)
    return text if len(text) <= 2 * keep + 3 else f"{text[:keep]}...{text[-keep:]} ({len(text)} characters)"


# A whole number written as a decimal with a point or an exponent: 1e6, 2.5E3, 100.0 (not inf, nan, 0x10).
DECIMAL_TEXT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")
MOST_DIGITS = 4300  # Python's limit on the digits of an int converted from or to text


def integer(text: str, what: str = "an integer") -> int:
    """An argparse type: an integer, or a one-line reason (a number of more digits than Python
    converts, 4300, was "invalid int value" or "must be a positive integer", though it is one).

    Decided (issue 18): every count option takes a whole number written as a decimal too, ``1e6``,
    ``2.5e3`` or ``100.0``, read exactly (``--n 1e8`` was refused while the help showed "default 1e8");
    ``1.5`` or ``1e-3`` is not a whole number and is refused. Decided: only ASCII digits, as in a
    spec (``spec_parsing.parse_value``): Python's int() read ``--seeds ١٠`` (Arabic-Indic) as 10."""
    if not text.isascii():
        raise argparse.ArgumentTypeError(f"must be {what} written in ASCII digits (0-9), "
                                         f"got {abbreviated(printable(repr(text)))}")
    try:
        return int(text)
    except ValueError:
        pass
    long = False
    if DECIMAL_TEXT.fullmatch(text):
        try:
            value = decimal.Decimal(text.strip())  # exact: 1e23 is 10**23, not float's 99999999999999991611392
            whole = value == value.to_integral_value()
        except (decimal.DecimalException, ValueError):  # an exponent beyond decimal's own range
            value, whole = decimal.Decimal(10) ** MOST_DIGITS, "-" not in text.lower().partition("e")[2]
        long = whole and value != 0 and value.adjusted() >= MOST_DIGITS
        if whole and not long:
            return int(value)
    from sgd_bench.spec_parsing import INT_TEXT  # here: --help imports no NumPy

    more = f" of at most {MOST_DIGITS} digits" if INT_TEXT.fullmatch(text) or long else ""
    raise argparse.ArgumentTypeError(f"must be {what}{more}, got {abbreviated(repr(text))}")


def number(text: str, within: Callable[[float], bool], what: str) -> float:
    """An argparse type's body: ``float(text)`` when ``within`` holds for it, else a one-line reason
    that echoes the text typed (``1e400`` was shown as "got inf", the float it turns into); only
    ASCII digits, as ``integer`` (float() read ``٢`` as 2.0)."""
    try:
        value = float(text) if text.isascii() else math.nan
    except ValueError:
        value = math.nan
    if not within(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {abbreviated(repr(text))}")
    return value


def rise_factor(text: str) -> float:
    """An argparse type: a grid's ``--rise-factor``, a finite number >= 1, or a one-line reason."""
    try:
        return number(text, lambda value: 1 <= value < math.inf, "a finite number >= 1")
    except argparse.ArgumentTypeError as err:
        from sgd_bench.flags import RISE_FACTOR  # here: --help imports no JAX

        raise argparse.ArgumentTypeError(str(err).replace(
            ", got", f" (a multiple of max(|f(x_0)|, 1); default {RISE_FACTOR:g}), got", 1)) from None


def positive_int(text: str) -> int:
    """An argparse type: a positive integer, or a one-line reason."""
    value = integer(text, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {abbreviated(text.strip())}")
    return value


class TypedInt(int):
    """An int that keeps the text typed for it (``text``): ``run --all --seeds 1e19`` hands the text on,
    so that an experiment's refusal echoes what was typed, not ``10000000000000000000``."""

    text = ""


def keeping_text(convert: Callable[[str], int]) -> Callable[[str], int]:
    """An argparse type: ``convert``'s int, as a ``TypedInt`` that keeps the text typed."""
    def read(text: str) -> int:
        value = TypedInt(convert(text))
        value.text = text.strip()
        return value

    return read


LARGEST_LENGTH = 2**63 - 1  # an array's length is an int64 in JAX and NumPy


def array_length(text: str) -> int:
    """An argparse type: a positive integer an array can have as its length (the size n of a
    problem), or a one-line reason with the value abbreviated."""
    value = positive_int(text)
    if value > LARGEST_LENGTH:
        raise argparse.ArgumentTypeError(f"must be at most 2**63 - 1, the largest length of an "
                                         f"array, got {abbreviated(text.strip())}")
    return value


def step_count(text: str) -> int:
    """An argparse type: a positive number of steps a run can take (the engine's ``MAX_STEPS``),
    or a one-line reason; a run refused a larger one after its folder existed, naming the
    engine's ``steps`` rather than the ``--steps`` the user typed."""
    from sgd_bench.solver import MAX_STEPS

    value = positive_int(text)
    if value > MAX_STEPS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_STEPS}, the most steps a run takes, "
                                         f"got {abbreviated(text.strip())}")
    return value


# -- an option given twice ----------------------------------------------------------------------
# Decided (issue 18): a single-valued option given twice keeps the last value, as argparse and the
# shell's tools do (an alias `sgd-bench run --out a` followed by `--out b` is a common way to
# override), and a line on stderr says so: `--sizes 2000 --sizes 3000` ran 3000 alone, silently.
# Options meant to repeat (--problem, --method: action="append") and flags are not affected.
GIVEN = "given_options"  # the namespace's record: dest -> [(option as typed, value), ...]


class StoreLast(argparse.Action):
    """argparse's plain ``store`` (the last value wins), which also records each use in the
    namespace, for ``given_twice``."""

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string is not None:
            given = getattr(namespace, GIVEN, None) or {}
            given.setdefault(self.dest, []).append((option_string, values))
            setattr(namespace, GIVEN, given)
        setattr(namespace, self.dest, values)


def note_repeats(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` (and its argument groups) with ``StoreLast`` as its plain store action;
    register before adding the arguments."""
    parser.register("action", None, StoreLast)
    parser.register("action", "store", StoreLast)
    return parser


def given_twice(args: argparse.Namespace) -> list[str]:
    """A line for each option that ``args`` got more than once, naming the option and the value kept."""
    def shown(value):
        return " ".join(map(str, value)) if isinstance(value, list) else str(value)

    lines = []
    for uses in (getattr(args, GIVEN, None) or {}).values():
        if len(uses) > 1:
            typed = ", ".join(f"{option} {abbreviated(shown(value), 20)}" for option, value in uses)
            lines.append(f"note: {uses[-1][0]} is given {len(uses)} times ({typed}); the last one is "
                         f"used ({uses[-1][0]} {abbreviated(shown(uses[-1][1]), 20)}), as for any option given twice")
    return lines
