"""sgd-bench's SAGA (batch 1, its default step 1/(3 L_max) of the mean-scaled problem)."""

from benchopt import BaseSolver

import sgd_bench as sb
from sgd_bench_harness.benchopt import SgdBenchSolver


class Solver(SgdBenchSolver, BaseSolver):
    name = "sgd-bench-SAGA"
    parameters = {"dtype": ["float64"]}

    def make_method(self, problem):
        return sb.saga()
