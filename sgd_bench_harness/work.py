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

A grid (``run --problem ... --method ...``) has no full run: ``grid`` counts its steps in all
(problems x method configurations x seeds x steps), said above ``GRID_SAY_STEPS`` and refused
above ``GRID_MAX_STEPS`` with the same ``--no-work-limit``, after its memory estimate (a grid that
cannot fit is exit 3, whatever the limit). Decided: steps, not gradient evaluations: a method's
evaluations per step are known only once it runs, and on the gallery's problems a step costs
mostly its overhead (``--steps 3000000 --seeds 10`` on lecture-logreg: sgd, 1 evaluation a step,
20 s; gd, 200 a step, 82 s, wall in one process; together about 1.7 million steps a CPU second,
user+sys less a 1,000-step run's; under load),
so ``GRID_MAX_STEPS`` is hours. ``--steps 2147483646`` with the default 10 seeds is refused. Its cells
(problem x --method x seed block of ``--block``) are counted too (``grid_cells``): each costs a program
call and two files whatever its size, so more than ``GRID_MAX_CELLS`` is refused, naming the --block that fits.

``said_constants``: a grid's default steps need the problem's L, L_max and mu, which on a large
problem take minutes (logreg n = 10^5, d = 300: over 10 minutes of per-sample curvature) inside one
compiled program, which a Ctrl-C does not interrupt; a line says what runs before it starts (for a
problem of ``LONG_PHASE_SIZE`` numbers or more: a small one is quiet, as before), and the values found
while the grid is checked are handed to the run instead of being computed twice. ``said_f_star`` says a
line before a large problem's reference solution, in a grid and in the experiments that solve one on
large data (gd_vs_sgd_large_n, sparse_logreg; they also say their timed runs first). A grid's f*
is the one the constants' reference solve found, kept with their values (``"f_star"``, ``kept_f_star``) when
a default step needed them (the run solved the problem a second time, minutes at full n); else
``grid_f_star`` solves it.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import Any, Callable, Mapping

MAX_FACTOR = 1000  # x the full run's work: refused above
SAY_FACTOR = 10  # x the full run's work: said above
GRID_MAX_STEPS = 10**10  # a grid's steps in all: refused above (hours at 1.7 million a CPU second)
GRID_SAY_STEPS = 10**9  # a grid's steps in all: said above (minutes)
GRID_MAX_CELLS = 100_000  # a grid's cells (problem x --method x seed block): refused above (``grid_cells``)
GRID_SAY_CELLS = 10_000  # said above
LONG_PHASE_SIZE = 10**6  # numbers in a problem's data: its constants and f* are said before they run


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
          limit: bool = True, grows: Mapping[str, int] | None = None) -> None:
    """Raises ValueError naming the options when ``--seeds``/``--steps`` ask ``name`` for more than
    ``MAX_FACTOR`` times its full run's work (unless not ``limit``: ``--no-work-limit``, for a
    long run meant as such); says the factor (``say``) above ``SAY_FACTOR``.
    ``apply(namespace)`` is the full config with only that namespace's options applied.
    ``grows``: the experiment's own options the work grows with, {option: power} (sparse_logreg's
    --scale multiplies n and d, and an eager SAGA pass costs n x d: power 2), counted likewise."""
    factors = {}
    for option in ("seeds", "steps", *(grows or {})):
        if getattr(args, option, None) is None:
            continue
        try:
            factors[option] = growth(apply(argparse.Namespace(**{option: getattr(args, option)})),
                                     full) ** (grows or {}).get(option, 1)
        except (ValueError, TypeError, KeyError):  # refused for the full config: the run itself says why
            continue
    given = " and ".join(f"--{o} {getattr(args, o)}" for o, f in factors.items() if f > 1)
    total = math.prod(factors.values())
    what = (f"{given} ask{'' if ' and ' in given else 's'} experiment {name} for about {total:,.0f}x the "
            "work of its full run")
    context = "the gallery's full runs take seconds to minutes"
    _judge(what, total > SAY_FACTOR, total > MAX_FACTOR, context,
           f"{context}, and more than {MAX_FACTOR:,}x of one (hours to days, with no line meanwhile) is refused",
           say, limit)


def grid(config: Mapping[str, Any], say: Callable[[str], None], limit: bool = True) -> None:
    """Raises ValueError when a grid's ``config`` (``grid.grid_config``'s) takes more than
    ``GRID_MAX_STEPS`` steps in all (unless not ``limit``); says its count above ``GRID_SAY_STEPS``."""
    from sgd_bench.spec_parsing import parse_spec  # here: --help imports no NumPy

    methods = sum(len(parse_spec(m, "--method").expand()) for m in config["methods"])
    problems = len(config["problems"])
    total = problems * methods * config["seeds"] * config["steps"]
    sizes = zip((config["seeds"], config["steps"], methods, problems), ("seed", "step", "method configuration", "problem"))
    what = f"the grid takes {total:,} steps in all: " + " x ".join(f"{n:,} {word}{'s' * (n != 1)}" for n, word in sizes)
    context = "sgd and gd on lecture-logreg ran about 1.7 million steps a CPU second"
    _judge(what, total > GRID_SAY_STEPS, total > GRID_MAX_STEPS, context,
           f"more than {GRID_MAX_STEPS:,} (hours: {context}) is refused", say, limit)
    grid_cells(config, say, limit)


def grid_cells(config: Mapping[str, Any], say: Callable[[str], None], limit: bool = True) -> None:
    """Raises ValueError naming ``--block`` when a grid has more than ``GRID_MAX_CELLS`` cells (unless
    not ``limit``); says their count above ``GRID_SAY_CELLS``. A cell (problem x --method x seed block)
    is a program call and two files in cells/ (about 6 ms apart on a tiny problem here): --seeds 1000000
    --block 1 planned a million of them, two million files and hours of that alone, with no line."""
    seeds, block, pairs = config["seeds"], config["block"], len(config["problems"]) * len(config["methods"])
    blocks = -(-seeds // block)
    cells = pairs * blocks
    sizes = (f"{len(config['problems']):,} problem{'s' * (len(config['problems']) != 1)} x "
             f"{len(config['methods']):,} method{'s' * (len(config['methods']) != 1)} x {blocks:,} seed block{'s' * (blocks != 1)} (--seeds {seeds:,} "
             f"in blocks of at most --block {block:,})")
    what = f"the grid is {cells:,} cells, {sizes}, each a program call and two files in cells/"
    fits = GRID_MAX_CELLS // pairs
    way = (f"give --block {-(-seeds // fits):,} or more" if fits else
           f"give fewer --problem or --method (at most {GRID_MAX_CELLS:,} pairs)")
    if cells > GRID_MAX_CELLS and limit:
        raise ValueError(f"{what}; more than {GRID_MAX_CELLS:,} cells is refused (each costs its own "
                         f"overhead): {way}, or add --no-work-limit for that many")
    if cells > GRID_SAY_CELLS:
        say(f"{what} (a seed block is the unit a grid resumes by; a larger --block makes fewer cells)")


def _judge(what: str, said: bool, refused: bool, context: str, refusal: str,
           say: Callable[[str], None], limit: bool) -> None:
    """Raises ValueError (``what``; ``refusal``) when ``refused`` and ``limit``; else says ``what``
    when ``said`` or ``refused``."""
    if refused and limit:
        raise ValueError(f"{what}; {refusal}: use fewer, or add --no-work-limit for a run that long")
    if said or refused:
        say(f"{what} ({context})")


def said_constants(problem, label: str, say: Callable[[str], None], values: dict | None = None):
    """``specs.ProblemConstants`` of ``problem`` (``values``: already computed) that says a line
    naming ``label`` before it computes them."""
    from sgd_bench.specs import ProblemConstants

    constants = ProblemConstants(problem, values)
    compute = constants.get

    def get() -> dict:
        if constants._values is None and large(problem):
            say(f"{label}: the problem's constants L, L_max and mu, for the default steps (on a large problem "
                "this takes long, and a Ctrl-C is answered when it returns) ...")
        values = compute()
        found = constants.found  # kept with the values, so that the run's f* is this solve's (grid_f_star)
        how = re.fullmatch(r"reference_solution \((.*)\)", found.sources.get("f_star", "")) if found else None
        if how and found.f_star is not None and "f_star" not in values:
            values["f_star"] = [float(found.f_star), f"float64 {how[1]}"]  # as grid_f_star's own solve says it
        return values
    constants.get = get
    return constants


def large(problem) -> bool:
    """Whether ``problem``'s data holds ``LONG_PHASE_SIZE`` numbers or more (its phases are said)."""
    import jax

    return sum(getattr(leaf, "size", 1) for leaf in jax.tree_util.tree_leaves(problem.data)) >= LONG_PHASE_SIZE


def said_f_star(problem, say: Callable[[str], None]) -> None:
    """Says a line before a large problem's reference solution f* (``large``): float64 Newton steps over
    all the data, minutes at full size, inside compiled programs a Ctrl-C does not interrupt."""
    if large(problem):
        say(f"{problem.name}: reference solution f* (float64 Newton steps, n = {problem.n:,}) ...")


def kept_f_star(problem, constants) -> tuple | None:
    """The (f*, how) that the reference solve of a grid problem's ``constants`` (``said_constants``)
    found, or None: when they were not computed (every method given its step), or ``problem.info``
    has a closed form (``grid_f_star`` takes that)."""
    kept = None if "f_star" in problem.info else (constants._values or {}).get("f_star")
    return None if kept is None else tuple(kept)


def grid_f_star(problem, say: Callable[[str], None]) -> tuple:
    """(f*, how it was obtained) of a grid's problem: ``problem.info``'s closed form, else a float64
    reference solution for the convex classes (said first on a large problem), else (None, why)."""
    import sgd_bench as sb

    if "f_star" in problem.info:
        return float(problem.info["f_star"]), "closed form (problem.info)"
    if problem.problem_class in ("strongly_convex", "pl", "convex"):
        said_f_star(problem, say)  # on a large problem: it takes long, a Ctrl-C answered between its steps
        try:
            ref = sb.reference_solution(problem)
            return float(ref.f), f"float64 {ref.solver}, ||grad f(x*)|| = {ref.grad_norm:.1e}"
        except Exception as err:  # the figure then shows f itself
            say(f"no reference solution for {problem.name} ({type(err).__name__}: {err}); plotting f")
    return None, "unknown: the figures show f(x_k)"
