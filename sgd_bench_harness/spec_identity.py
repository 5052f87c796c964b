"""What a grid's ``--problem`` or ``--method`` spec runs, whatever its spelling: the identity by
which ``grid.grid_config`` refuses the same spec given twice (``lecture-logreg`` and
``lecture_logreg``, keys in another order, ``sgd:sampling=Cyclic`` and ``sgd:sampling=cyclic``,
``libsvm:path=X`` and ``libsvm:path=./X``): the grid would store every record twice, under two labels.
``MethodFingerprints`` catches what no spelling shows: a default spelled out (``sgd:step=0.1`` and
``sgd:step=0.1,batch=1``), by comparing the methods built for each problem; a problem's default spelled
out (``lecture-logreg`` and ``lecture-logreg:seed=0``) is its factory's keyword default.
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
    if what == "--problem":  # lecture-logreg and lecture-logreg:seed=0: one problem, its records stored twice
        options = {**_problem_defaults(spec), **options}
    if what == "--problem" and spec.name == "libsvm" and isinstance(options.get("path"), str):
        options["path"] = data_file(options["path"])  # path=X and path=./X: one file, one problem
    positional = words(spec.positional) if spec.positional is not None else None
    return spec.name, positional, tuple(sorted(options.items(), key=str))


def _problem_defaults(spec: Spec) -> dict:
    """The keyword defaults of the problem's factory but its dtype (given by --dtype), or none for a name
    the catalog lacks (refused later, naming it)."""
    import inspect

    import problems  # here: --help imports no JAX

    try:
        params = inspect.signature(problems.factory(spec.typed or spec.name)).parameters
    except (ValueError, TypeError):
        return {}
    return {k: p.default for k, p in params.items() if p.default is not p.empty and k != "dtype"}


def data_file(path: str) -> str:
    """A libsvm ``path=`` as the file it names, links resolved (``X``, ``./X``, ``X.svm`` found by
    adding the suffix, a link to X: one file), or as typed when it names none (refused later, naming it)."""
    from problems.libsvm import resolve_path  # here: the problems' data loading only for libsvm specs

    try:
        return os.path.realpath(resolve_path(path))
    except (OSError, ValueError, TypeError):
        return path


class MethodFingerprints:
    """The methods every ``--method`` runs, problem by problem (``add``, as the grid builds them
    before its folder exists); ``check`` refuses two options whose configurations are the same
    method (``Method`` equality: its kind, structure and every value) on every problem."""

    def __init__(self, texts: list[str]):
        self.texts = list(texts)
        self.seen: dict[tuple[int, int], tuple] = {}
        self.labels: dict[tuple[int, int], str] = {}

    def add(self, groups) -> None:
        """``groups[j]``: one problem's ``MethodGroup`` of ``--method texts[j]``."""
        for j, group in enumerate(groups):
            for c, (label, method) in enumerate(zip(group.labels, group.methods)):
                self.seen[j, c] = (*self.seen.get((j, c), ()), hash(method))
                self.labels[j, c] = label

    def check(self) -> None:
        first: dict[tuple, tuple[int, int]] = {}
        for (j, c), fingerprint in self.seen.items():
            other = first.setdefault(fingerprint, (j, c))
            if other[0] != j:
                a, b = self.texts[other[0]], self.texts[j]
                point = lambda jc, text: "" if self.labels[jc] == text else f" (its point {self.labels[jc]!r})"
                raise ValueError(f"--method {b!r}{point((j, c), b)} runs the same method as --method {a!r}"
                                 f"{point(other, a)} (a default value spelled out, or a value written "
                                 "another way): the grid would run it twice, under two labels; give it once")
