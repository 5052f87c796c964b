"""The sgd-bench catalog of finite-sum problems and their data, each built on ``FiniteSum``."""

from problems.datasets import breast_cancer as breast_cancer
from problems.datasets import digits as digits
from problems.linear import least_squares as least_squares
from problems.linear import logistic_loss as logistic_loss
from problems.linear import logistic_regression as logistic_regression
from problems.linear import softplus as softplus
from problems.linear import squared_loss as squared_loss
from problems.registry import describe as describe
from problems.registry import get as get
from problems.registry import names as names
from problems.registry import register as register
from problems.synthetic import lecture_logreg as lecture_logreg
from problems.synthetic import synthetic_least_squares as synthetic_least_squares
from problems.synthetic import synthetic_logreg as synthetic_logreg
from problems.convex import nonseparable_logistic as nonseparable_logistic
from problems.convex import rank_deficient_least_squares as rank_deficient_least_squares
from problems.nonconvex import sigmoid_loss as sigmoid_loss
from problems.nonconvex import sin2_pl as sin2_pl
from problems.nonconvex import two_layer_init as two_layer_init
from problems.nonconvex import two_layer_net as two_layer_net
from problems.nonsmooth import absolute_regression as absolute_regression
from problems.nonsmooth import hinge_svm as hinge_svm
from problems.nonsmooth import lp_reference as lp_reference
from problems.nonsmooth import synthetic_absolute as synthetic_absolute
from problems.nonsmooth import synthetic_hinge as synthetic_hinge
