"""Which words of ``sgd-bench run ...`` name experiments, and which go on to the one experiment
named (its own options, such as gd_vs_sgd_large_n's ``--sizes``).

``sgd-bench run`` does not know an experiment's own options: ``argparse`` leaves them over
(``parse_known_args``), and they pass on to the experiment when exactly one is named, after its
name. An own option before the name is refused, with the command written the right way round
(decided: not accepted, since ``run`` cannot tell how many of the words after such an option are
its values; ``run --sizes 2000 gd_vs_sgd_large_n`` took 2000 for a second experiment name).

Words after ``run``'s own options are experiment names too (``gathered``): ``run pl_bounds --quick
two_phase`` passed two_phase on to pl_bounds, since argparse gives ``nargs="*"`` only the first
group of names. A word after an experiment's own option stays with that option (decided: it goes on
to the experiment, which judges it, even when it is an experiment's name), for the same reason:
``run`` cannot tell how many words the option takes.
"""

from __future__ import annotations

import contextlib
import io
import shlex

from sgd_bench_harness.experiments import experiments

HELP = ("-h", "--help")


def _known() -> dict[str, str]:
    try:  # a bad $SGD_BENCH_SCRIPTS is reported by the command itself, as one line
        return experiments()
    except (OSError, ValueError):
        return {}


def gathered(args, extra: list[str]) -> list[str]:
    """Moves the words argparse left over before the first option (``extra``'s leading words: run
    takes no other positional word) to ``args.experiments``; returns the words that remain.
    (``--no-work-limit`` is ``run``'s own, taken only as typed in full: ``arg_types.Parser.exact``; it
    goes on to every experiment, cli._cmd_run, or to the grid.)"""
    if getattr(args, "command", None) != "run":
        return extra
    lead = next((i for i, word in enumerate(extra) if word.startswith("-")), len(extra))
    args.experiments = [*args.experiments, *extra[:lead]]
    return extra[lead:]


def named_for_help(argv: list[str], parser) -> list[str]:
    """The experiments that ``run ... --help`` names where experiment names go (``parser``: the
    command's, built without the checks of its values: ``--help`` wins over a bad ``--seeds x``);
    its help is then the experiment's own. Any word that was an experiment's name counted:
    ``run --out pl_bounds --problem X --help`` showed pl_bounds' help."""
    if argv[:1] != ["run"] or not set(HELP) & set(argv):
        return []
    with contextlib.redirect_stderr(io.StringIO()):  # a refused word is said by the parse that follows
        try:
            args, extra = parser.parse_known_args([a for a in argv if a not in HELP])
        except SystemExit:
            return []
    gathered(args, extra)
    known = _known()
    return [name for name in args.experiments if name in known]


def help_first(argv: list[str]) -> list[str]:
    """``argv`` to parse: ``run``'s help alone when it is asked for (``run --seeds x --help`` said
    "argument --seeds: ..." instead: argparse judges the words in order)."""
    return ["run", "--help"] if argv[:1] == ["run"] and set(HELP) & set(argv) else argv


BOTH = "give either experiment names or --problem/--method (a grid), not both"


def misplaced(argv: list[str], args, extra: list[str]) -> str | None:
    """Why the words argparse left over (``extra``) cannot go on to an experiment, or None when
    they go on: with one experiment named (no grid), after its name."""
    hint = (" (an experiment's own options go after its name, with one experiment named: "
            "sgd-bench run NAME --option VALUE)")
    if args.command != "run":
        return f"unrecognized arguments: {' '.join(extra)}"
    grid = bool(args.problem or args.method)
    if grid and set(args.experiments) & set(_known()):  # the hint blamed `run NAME --own-option V --problem X` on the option's place
        return BOTH
    words = argv[1:]
    option = next((w for w in extra if w.startswith("-")), extra[0])
    first = words.index(args.experiments[0]) if args.experiments else len(words)
    if not grid and option in words and words.index(option) < first:  # before the experiment's name
        names = [name for name in args.experiments if name in _known()]
        if len(names) == 1:
            at = words.index(names[0])
            again = shlex.join(["sgd-bench", "run", names[0], *words[:at], *words[at + 1:]])
            return (f"{option.split('=')[0]} is an option of experiment {names[0]}, and an experiment's own "
                    f"options go after its name: {again}")
        return f"unrecognized arguments: {' '.join(extra)}{hint}"
    if not grid and len(args.experiments) == 1:
        return None
    return f"unrecognized arguments: {' '.join(extra)}{hint}"


def interrupted(err: BaseException) -> str:
    """The words for a Ctrl-C of ``sgd-bench run``, true at that moment: what is stored, read off the
    folder the run had made (``err.folder``, set by the grid and ``experiment.main``; ``err.pass_root``
    by a pass). "finished cells are stored" was said also before any folder existed (a large problem's
    constants, minutes), with nothing stored."""
    from pathlib import Path

    from sgd_bench_harness import folders
    from sgd_bench_harness.passes import ALL_STATE

    from sgd_bench_harness.interrupts import Terminated

    said = err.WORDS if isinstance(err, Terminated) else "interrupted"  # each sentence's first word
    folder, root = getattr(err, "folder", None), getattr(err, "pass_root", None)
    again = "the same command resumes the pass" if root is not None and (Path(root) / ALL_STATE).is_file() else ""
    if folder is None:
        return (f"{said} before the run's folder was opened: this run stored nothing, so " + (again or (
            "the same command starts it again (from where an earlier interrupted run of it stopped, if one did)")))
    folder = Path(folder)
    meta = folders.read_meta(folder) or {}
    if meta.get("status") == folders.STATUS_COMPLETE:
        return f"{said}; the run had finished, and its result is in {folder}/" + (f" ({again})" if again else "")
    # and the parts of a result run inside it (gpu_bench's scaling/), which its next run resumes too
    cells = [p for kind in ("cells", "parts", "*/parts") for p in folder.glob(f"{kind}/*.json")]
    kind = "cells" if meta.get("kind") == "grid" or (folder / "cells").is_dir() else "pieces"
    stored = (f"{len(cells)} finished {kind[:-1] if len(cells) == 1 else kind} stored in {folder}/, so the same "
              "command resumes the run from there" if cells else
              f"no finished {kind[:-1]} stored in {folder}/ yet, so the same command runs it again from the start")
    return f"{said}; {stored}" + (f" ({again})" if again else "")
