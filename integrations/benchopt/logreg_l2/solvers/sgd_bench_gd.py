"""sgd-bench's gradient descent at the step 1/L of the mean-scaled problem."""

from benchopt import BaseSolver

import sgd_bench as sb
from sgd_bench_harness.benchopt import SgdBenchSolver


class Solver(SgdBenchSolver, BaseSolver):
    name = "sgd-bench-GD"
    parameters = {"dtype": ["float64"]}

    def make_method(self, problem):
        return sb.gd(1.0 / problem.info["L"])
