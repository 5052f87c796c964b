"""sgd-bench's gradient descent at the step 1/L of the mean-scaled problem.

L = 0 only when X is all zeros and lmbd = 0: the objective is the constant n log 2, its gradient
is 0 everywhere, and any finite step is exact; 1/L was a ZeroDivisionError there (and a NumPy
L = 0 an infinite step, whose 0 * inf made NaN iterates), so the step is then 1.
"""

from benchopt import BaseSolver

import sgd_bench as sb
from sgd_bench_harness.benchopt import SgdBenchSolver


class Solver(SgdBenchSolver, BaseSolver):
    name = "sgd-bench-GD"
    parameters = {"dtype": ["float64"]}

    def make_method(self, problem):
        L = problem.info["L"]
        return sb.gd(1.0 / L if L > 0 else 1.0)
