"""sgd-bench's SGD (batch 1) with the lecture's decreasing step, capped at the constant step
1/(2 L_max) that is safe for SGD on the mean-scaled problem: alpha_k = min(1/(2 L_max),
(2k + 1) / (2 mu (k + 1)^2)), mu = lmbd / n."""

from benchopt import BaseSolver

import sgd_bench as sb
from sgd_bench_harness.benchopt import SgdBenchSolver


class Solver(SgdBenchSolver, BaseSolver):
    name = "sgd-bench-SGD"
    parameters = {"dtype": ["float64"]}

    def skip(self, X, y, lmbd):
        if lmbd <= 0:
            return True, "the decreasing step needs strong convexity (lmbd > 0)"
        return False, None

    def make_method(self, problem):
        step = sb.schedules.lecture_decreasing(problem.info["mu"],
                                               alpha_max=0.5 / problem.info["L_max"])
        return sb.sgd(step)
