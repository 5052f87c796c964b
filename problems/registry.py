"""The problem catalog by name: ``get(name, **kwargs)``, ``names()``, ``describe()``, ``register``."""

from __future__ import annotations

import inspect
from typing import Callable

from problems import convex, datasets, landscapes, nonconvex, nonsmooth, synthetic
from problems import libsvm, mlp, sparse_data
from problems import spectral

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


def factory(name: str) -> Callable:
    """The factory registered under ``name``; an unknown name lists the known ones."""
    key = _key(name)
    if key not in _REGISTRY:
        raise ValueError(f"unknown problem {name!r}; known problems: {', '.join(names())}")
    return _REGISTRY[key][0]


def get(name: str, **kwargs):
    """The problem ``name`` built with ``kwargs``; an unknown name lists the known ones, and an
    argument the problem does not take lists the ones it does."""
    build = factory(name)
    params = inspect.signature(build).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        takes = [p for p, v in params.items() if v.kind in (v.KEYWORD_ONLY, v.POSITIONAL_OR_KEYWORD)]
        unknown = sorted(set(kwargs) - set(takes))
        if unknown:
            raise ValueError(f"problem {name!r} does not take {', '.join(map(repr, unknown))}; "
                             f"it takes {', '.join(takes) or 'no arguments'}")
    return build(**kwargs)


register("lecture-logreg", synthetic.lecture_logreg,
         "the lecture's strongly convex logistic regression, m=200, d=10, mu=1")
register("logreg", synthetic.synthetic_logreg, "logistic regression on Gaussian data (n, d, seed, mu)")
register("least-squares", synthetic.synthetic_least_squares,
         "least squares on Gaussian data (n, d, seed, mu)")
register("breast-cancer", datasets.breast_cancer, "breast-cancer diagnosis, 569 x 30, logistic")
register("digits", datasets.digits, "digits >= 5 against <= 4, 1797 x 64, logistic")
register("sin2-pl", nonconvex.sin2_pl,
         "non-convex (spread < 0.74; default 0.3) but PL: f_i(x) = sum_j g(x_j - c_ij), g = t^2 + 3 sin^2 t; "
         "exact L, mu, f*")
register("rank-deficient-ls", convex.rank_deficient_least_squares,
         "convex, not strongly convex: least squares of rank r < d")
register("nonseparable-logistic", convex.nonseparable_logistic,
         "convex: unregularized logistic regression on overlapping classes")
register("sigmoid-loss", nonconvex.sigmoid_loss,
         "smooth non-convex, not PL: sigmoid (ramp) loss of a linear classifier")
register("two-layer-net", nonconvex.two_layer_net,
         "smooth non-convex: two-layer tanh network fitted to a teacher; start at two_layer_init")
register("hinge-svm", nonsmooth.synthetic_hinge,
         "non-smooth convex: hinge-loss SVM on overlapping classes, exact f* by LP")
register("absolute-regression", nonsmooth.synthetic_absolute,
         "non-smooth convex: least absolute deviations, exact f* by LP")
register("narrow-wide-1d", landscapes.narrow_wide_1d,
         "1-D landscape: a narrow minimum at 0 and a wide one at 13, as a finite sum of shifted copies")
register("narrow-wide-2d", landscapes.narrow_wide_2d,
         "2-D landscape: a narrow dimple at (0, 0) on the flank of a wide bowl at (7, 0)")
register("libsvm", libsvm.libsvm_logreg,
         "logistic regression on a local LIBSVM file (path=..., mu, standardize)")
register("digits-mlp", mlp.digits_mlp,
         "64-32-10 tanh MLP, softmax cross-entropy on digits (1300 train / 497 test, split=...)")
register("sparse-logreg", sparse_data.sparse_logreg,
         "logistic regression on synthetic sparse rows with a power-law column frequency "
         "(n, d, density or row_nnz, mu, seed)")
register("sparse-preset", sparse_data.sparse_preset_logreg,
         "logistic regression on a synthetic stand-in for rcv1, real-sim or news20 "
         "(preset, scale, mu, seed)")
register("spectral-ls", spectral.spectral_least_squares,
         "convex, no usable strong convexity: least squares with covariance eigenvalues i^-power "
         "(default i^-3, d = 80), exact x* (n, d, power, decay, noise, seed)")
register("geometric-logistic", spectral.geometric_logistic,
         "convex, no usable strong convexity: unregularized logistic regression, features of "
         "geometric scales ratio^j, non-separable, exact x* (n, d, ratio, seed)")
