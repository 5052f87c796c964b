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
