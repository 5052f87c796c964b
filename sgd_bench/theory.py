"""The lecture's theory in one namespace: a problem's constants, the bounds as functions of k,
the check of a run against a bound, and empirical rates next to the lecture's table.

    from sgd_bench import theory
    c = theory.constants(problem)                       # L, L_max, mu, sigma_*^2, f* (float64)
    s2 = theory.sigma2_along_run(problem, trace)        # sigma^2 along a logged run
    b = theory.sgd_constant_step(k, c, alpha=0.1, delta0=d0, sigma2=s2.value)
    print(theory.check(k, gaps, b, name="constant step").summary())
    theory.fit_power_rate(k, gaps)                      # p with a bootstrap CI over seeds

The pieces live in ``sgd_bench.constants`` (the record), ``sgd_bench.curvature`` (L, L_i),
``sgd_bench.gradient_noise`` (variances, sigma^2 along a run), ``sgd_bench.bounds`` and
``sgd_bench.rates``.
"""

from sgd_bench.bounds import ASSUMPTIONS as ASSUMPTIONS
from sgd_bench.bounds import AssumptionError as AssumptionError
from sgd_bench.bounds import BoundCheck as BoundCheck
from sgd_bench.bounds import check as check
from sgd_bench.bounds import gd_convex as gd_convex
from sgd_bench.bounds import gd_nonconvex as gd_nonconvex
from sgd_bench.bounds import gd_pl as gd_pl
from sgd_bench.bounds import gd_with_error_step as gd_with_error_step
from sgd_bench.bounds import minibatch_error as minibatch_error
from sgd_bench.bounds import require as require
from sgd_bench.bounds import sgd_constant_step as sgd_constant_step
from sgd_bench.bounds import sgd_decreasing_step as sgd_decreasing_step
from sgd_bench.bounds import sgd_plateau as sgd_plateau
from sgd_bench.constants import Constants as Constants
from sgd_bench.constants import constants as constants
from sgd_bench.curvature import hessian_eigenvalues as hessian_eigenvalues
from sgd_bench.curvature import hessian_norm as hessian_norm
from sgd_bench.curvature import per_sample_smoothness as per_sample_smoothness
from sgd_bench.gradient_noise import Sigma2Estimate as Sigma2Estimate
from sgd_bench.gradient_noise import gradient_variance as gradient_variance
from sgd_bench.gradient_noise import gradient_variances as gradient_variances
from sgd_bench.gradient_noise import second_moment as second_moment
from sgd_bench.gradient_noise import second_moments as second_moments
from sgd_bench.gradient_noise import sigma2_along_run as sigma2_along_run
from sgd_bench.rates import LECTURE_TABLE as LECTURE_TABLE
from sgd_bench.rates import NONSMOOTH_ROW as NONSMOOTH_ROW
from sgd_bench.rates import RateFit as RateFit
from sgd_bench.rates import TheoryRate as TheoryRate
from sgd_bench.rates import compare as compare
from sgd_bench.rates import fit as fit
from sgd_bench.rates import fit_linear_rate as fit_linear_rate
from sgd_bench.rates import fit_order as fit_order
from sgd_bench.rates import fit_power_rate as fit_power_rate
from sgd_bench.rates import theory_rate as theory_rate
