"""sgd-bench's L-BFGS (memory 10, zoom line search), one step per benchopt iteration."""

from benchopt import BaseSolver

import sgd_bench as sb
from sgd_bench_harness.benchopt import SgdBenchSolver


class Solver(SgdBenchSolver, BaseSolver):
    name = "sgd-bench-L-BFGS"
    parameters = {"dtype": ["float64"]}

    def make_method(self, problem):
        return sb.lbfgs()
