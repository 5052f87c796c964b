"""sgd-bench's SAGA (batch 1, its default step 1/(3 L_max) of the mean-scaled problem).

L_max = 0 only when X is all zeros and lmbd = 0: the objective is the constant n log 2, every
gradient is 0, and any finite step is exact, so the step is then 1, as the GD solver's is (the
default step was refused there, a ValueError from set_objective). Not skipped: the solver can run
this problem, and its curve is the others'.
"""

from benchopt import BaseSolver

import sgd_bench as sb
from sgd_bench_harness.benchopt import SgdBenchSolver


class Solver(SgdBenchSolver, BaseSolver):
    name = "sgd-bench-SAGA"
    parameters = {"dtype": ["float64"]}

    def make_method(self, problem):
        return sb.saga() if problem.info["L_max"] > 0 else sb.saga(1.0)
