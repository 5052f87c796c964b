"""What a grid's ``--problem`` or ``--method`` spec runs, whatever its spelling: the identity by
which ``grid.grid_config`` refuses the same spec given twice (``lecture-logreg`` and
``lecture_logreg``, keys in another order, ``sgd:sampling=Cyclic`` and ``sgd:sampling=cyclic``,
``libsvm:path=X`` and ``libsvm:path=./X``): the grid would store every record twice, under two labels.
"""

from __future__ import annotations

import os

from sgd_bench.spec_parsing import Spec, words
from sgd_bench.specs import WORD_KEYS

# A --problem's keys whose value is one of a few words, read as names are (any case, - for _).
PROBLEM_CHOICE_KEYS = ("dtype", "split", "preset")


def same_run(spec: Spec, what: str) -> tuple:
    """What a spec runs, whatever its spelling: its name, and its options in key order with the
    words of its choices as a spec reads them (``sgd:sampling=Cyclic`` runs sgd:sampling=cyclic)."""
    choices = WORD_KEYS if what == "--method" else PROBLEM_CHOICE_KEYS
    options = {("lr" if k == "learning_rate" and spec.name == "optax" else k):  # optax's lr is learning_rate
               words(v) if k in choices and isinstance(v, str) else v for k, v in spec.options.items()}
    if what == "--problem" and spec.name == "libsvm" and isinstance(options.get("path"), str):
        options["path"] = data_file(options["path"])  # path=X and path=./X: one file, one problem
    positional = words(spec.positional) if spec.positional is not None else None
    return spec.name, positional, tuple(sorted(options.items(), key=str))


def data_file(path: str) -> str:
    """A libsvm ``path=`` as the file it names, links resolved (``X``, ``./X``, ``X.svm`` found by
    adding the suffix, a link to X: one file), or as typed when it names none (refused later, naming it)."""
    from problems.libsvm import resolve_path  # here: the problems' data loading only for libsvm specs

    try:
        return os.path.realpath(resolve_path(path))
    except (OSError, ValueError, TypeError):
        return path
