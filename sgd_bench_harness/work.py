"""How much more work an experiment's ``--seeds`` and ``--steps`` ask for than its full run: said
before the run starts, and refused past ``MAX_FACTOR`` (``experiment.main`` calls ``check`` for
every experiment, the scripts of one's own included).

``--steps 2147483646`` (or a huge ``--seeds``) was accepted, and an experiment whose memory it did
not outgrow (two_phase, local_minima, step_size_sweep, gd_vs_sgd_large_n) ran for hours with no
line at all. Decided: an estimate of the work before the run, and a refusal above a bound that
names the options, rather than an ETA during the run (most of these runs draw no progress bar,
and a bar says nothing before the first program has compiled). The work is counted against the
full config: each option is applied to it alone, and its factor is the largest by which a number
of the config grew (steps x seeds: the factors of the options multiply). The gallery's full runs
took 4 s to 281 s each (``results/*/meta.json``, ``wall_seconds``, on a laptop-class CPU), so
``MAX_FACTOR`` times one is about an hour to days.
"""

from __future__ import annotations

import argparse
import math
from typing import Any, Callable, Mapping

MAX_FACTOR = 1000  # x the full run's work: refused above
SAY_FACTOR = 10  # x the full run's work: said above


def growth(new: Any, old: Any) -> float:
    """The largest factor by which a number in ``new`` exceeds the one at its place in ``old``
    (configs: dicts, lists and tuples of numbers); 1 when none grew."""
    if isinstance(new, Mapping) and isinstance(old, Mapping):
        return max((growth(new[k], old[k]) for k in new.keys() & old.keys()), default=1.0)
    if isinstance(new, (list, tuple)) and isinstance(old, (list, tuple)) and len(new) == len(old):
        return max((growth(a, b) for a, b in zip(new, old)), default=1.0)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (new, old))
    return new / old if numbers and 0 < old < new else 1.0


def check(name: str, full: Mapping[str, Any], args: argparse.Namespace,
          apply: Callable[[argparse.Namespace], Mapping[str, Any]], say: Callable[[str], None],
          limit: bool = True) -> None:
    """Raises ValueError naming the options when ``--seeds``/``--steps`` ask ``name`` for more than
    ``MAX_FACTOR`` times its full run's work (unless not ``limit``: ``--no-work-limit``, for a
    long run meant as such); says the factor (``say``) above ``SAY_FACTOR``.
    ``apply(namespace)`` is the full config with only that namespace's options applied."""
    factors = {}
    for option in ("seeds", "steps"):
        if getattr(args, option, None) is None:
            continue
        try:
            factors[option] = growth(apply(argparse.Namespace(**{option: getattr(args, option)})), full)
        except (ValueError, TypeError, KeyError):  # refused for the full config: the run itself says why
            continue
    given = " and ".join(f"--{o} {getattr(args, o)}" for o, f in factors.items() if f > 1)
    total = math.prod(factors.values())
    what = (f"{given} ask{'' if ' and ' in given else 's'} experiment {name} for about {total:,.0f}x the "
            "work of its full run")
    if total > MAX_FACTOR and limit:
        raise ValueError(f"{what}; the gallery's full runs take seconds to minutes, and more than {MAX_FACTOR:,}x "
                         "of one (hours to days, with no line meanwhile) is refused: use fewer, or add "
                         "--no-work-limit for a run that long")
    if total > SAY_FACTOR:
        say(f"{what} (the gallery's full runs take seconds to minutes)")
