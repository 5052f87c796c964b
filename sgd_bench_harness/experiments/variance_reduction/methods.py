"""variance_reduction's problems and methods: SGD, SAG, SAGA, SVRG, SARAH and the growing batch
with their default steps, and GD, GD with Armijo and L-BFGS as deterministic references."""

from __future__ import annotations

import problems
import sgd_bench as sb
from sgd_bench import variance_reduction as vr
from sgd_bench.growing_batch import growing_batch
from sgd_bench.line_search import gd_armijo

GROWTH = 1.1               # growing batch: |B_{k+1}| = ceil(GROWTH |B_k|) + 1
VR_METHODS = ("SAG", "SAGA", "SVRG", "SARAH")


def problem(spec):
    """The problem of one ``spec`` of the config."""
    if spec["problem"] == "lecture":
        return problems.lecture_logreg()
    if spec["problem"] == "breast_cancer":
        return problems.breast_cancer(spec["mu"])
    return problems.synthetic_logreg(spec["n"], spec["d"], seed=0, mu=spec["mu"]).replace(
        name="synthetic logreg")


def methods(problem):
    """(label, method, deterministic) in plotting order."""
    alpha = 1.0 / (2.0 * problem.info["L_max"])
    return [
        ("SGD, constant step", sb.sgd(alpha), False),
        ("SAG", vr.sag(linear=True), False),
        ("SAGA", vr.saga(linear=True), False),
        ("SVRG", vr.svrg(linear=True), False),
        ("SARAH", vr.sarah(), False),
        ("growing batch", growing_batch(q=GROWTH), False),
        ("GD, 1/L", sb.gd(1.0 / problem.info["L"]), True),
        ("GD, Armijo", gd_armijo(), True),
        ("L-BFGS", sb.lbfgs(), True),
    ]
