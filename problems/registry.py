"""The problem catalog by name: ``get(name, **kwargs)``, ``names()``, ``describe()``, ``register``."""

from __future__ import annotations

from typing import Callable

from problems import datasets, synthetic

_REGISTRY: dict[str, tuple[Callable, str]] = {}


def _key(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def register(name: str, factory: Callable, description: str = "") -> None:
    """Adds ``factory(**kwargs) -> FiniteSum`` under ``name`` (hyphens and underscores alike)."""
    if not callable(factory):
        raise TypeError(f"factory must be callable, got {factory!r}")
    _REGISTRY[_key(name)] = (factory, description)


def names() -> list[str]:
    """The registered problem names, sorted."""
    return sorted(_REGISTRY)


def describe() -> dict[str, str]:
    """{name: one-line description} for every registered problem."""
    return {name: _REGISTRY[name][1] for name in names()}


def get(name: str, **kwargs):
    """The problem ``name`` built with ``kwargs``; an unknown name lists the known ones."""
    key = _key(name)
    if key not in _REGISTRY:
        raise ValueError(f"unknown problem {name!r}; known problems: {', '.join(names())}")
    return _REGISTRY[key][0](**kwargs)


register("lecture-logreg", synthetic.lecture_logreg,
         "the lecture's strongly convex logistic regression, m=200, d=10, mu=1")
register("logreg", synthetic.synthetic_logreg, "logistic regression on Gaussian data (n, d, seed, mu)")
register("least-squares", synthetic.synthetic_least_squares,
         "least squares on Gaussian data (n, d, seed, mu)")
register("breast-cancer", datasets.breast_cancer, "breast-cancer diagnosis, 569 x 30, logistic")
register("digits", datasets.digits, "digits >= 5 against <= 4, 1797 x 64, logistic")
