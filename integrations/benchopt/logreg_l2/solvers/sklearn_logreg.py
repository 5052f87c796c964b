"""scikit-learn's LogisticRegression as the reference, with its "saga" and "lbfgs" solvers (benchopt
shows them as sklearn[solver=saga] and sklearn[solver=lbfgs]): C = 1 / lmbd, no intercept, so it
minimizes C F with F the benchmark's objective. One benchopt iteration is one of its iterations
(max_iter; an epoch for saga); tol=0 so that max_iter alone stops it."""

import warnings

import numpy as np
from benchopt import BaseSolver
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression


class Solver(BaseSolver):
    name = "sklearn"
    parameters = {"solver": ["saga", "lbfgs"]}
    sampling_strategy = "iteration"

    def skip(self, X, y, lmbd):
        if lmbd <= 0:
            return True, "C = 1 / lmbd needs lmbd > 0"
        return False, None

    def set_objective(self, X, y, lmbd):
        self.X, self.y = X, y
        self.clf = LogisticRegression(solver=self.solver, C=1.0 / lmbd, fit_intercept=False, tol=0.0,
                                      random_state=0)
        self.coef = np.zeros(X.shape[1])

    def run(self, n_iter):
        if n_iter == 0:  # scikit-learn needs max_iter >= 1; zero iterations is the start
            self.coef = np.zeros(self.X.shape[1])
            return
        self.clf.set_params(max_iter=n_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached, as asked
            self.clf.fit(self.X, self.y)
        self.coef = self.clf.coef_.ravel()

    def get_result(self):
        return dict(beta=self.coef)
