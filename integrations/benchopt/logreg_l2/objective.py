"""The objective of sgd-bench's benchopt benchmark: L2-regularized logistic regression on
benchopt's sum scale,

    F(beta) = sum_i log(1 + exp(-y_i <x_i, beta>)) + lmbd/2 ||beta||^2,   y_i in {-1, +1},

evaluated in float64 NumPy whatever dtype a solver computed in (so every solver is measured by
the same independent code). sgd-bench's solvers minimize F / n, the mean-scaled problem with
mu = lmbd / n (``sgd_bench_harness.benchopt.logreg_l2``); scikit-learn's minimize
C F with C = 1 / lmbd. All three have the same minimizer.
"""

import numpy as np
from benchopt import BaseObjective


class Objective(BaseObjective):
    name = "L2 logistic regression (sgd-bench)"
    parameters = {"lmbd": [1.0]}
    min_benchopt_version = "1.10"
    sampling_strategy = "iteration"

    def set_data(self, X, y):
        self.X, self.y = X, y

    def get_objective(self):
        return dict(X=self.X, y=self.y, lmbd=self.lmbd)

    def evaluate_result(self, beta):
        beta = np.asarray(beta, dtype=np.float64)
        margins = self.y * (np.asarray(self.X, dtype=np.float64) @ beta)
        # log(1 + exp(-m)) without overflow for large |m|
        loss = np.logaddexp(0.0, -margins).sum()
        return dict(value=float(loss + 0.5 * self.lmbd * beta @ beta))

    def get_one_result(self):
        return dict(beta=np.zeros(self.X.shape[1]))
