"""sgd-bench's engine: the theory of stochastic gradient descent next to measured numbers, in JAX.

The public surface, one name per line below (``import sgd_bench as sb``):

- problems' type: ``FiniteSum`` (a pytree whose only child is the data; gradients by autodiff,
  full sums streamed), ``L2``; the catalog of problems is the sibling package ``problems``;
- methods as data (``Method``, ``Params``): ``gd``, ``sgd``, ``from_optax`` and the zoo (noise,
  averaging, line search, L-BFGS, growing batches, variance reduction, lazy sparse updates,
  quasi-Newton, online Newton); ``sgd_bench.specs`` maps a ``--method`` spec to any of them;
- the runner: ``run``, ``run_seeds``, ``run_keys`` (jitted ``lax.scan`` loops, ``vmap`` across
  seeds), ``Solver`` (step-level), ``sweep``; ``Count`` of gradient evaluations; ``schedules``;
- measuring: ``stats`` over seeds, ``theory`` (constants, bounds, checks, rate fits),
  ``timing``, ``step_flops``, ``reference_solution``, ``shard``.

It imports neither matplotlib nor ``problems`` nor the harness ``sgd_bench_harness`` (the
experiments, grids, records, reports and the ``sgd-bench`` command), which are built on it.
"""

from sgd_bench import schedules as schedules
from sgd_bench import stats as stats
from sgd_bench import theory as theory
from sgd_bench import timing as timing
from sgd_bench.averaging import averaged as averaged
from sgd_bench.counting import Count as Count
from sgd_bench.finite_sum import FiniteSum as FiniteSum
from sgd_bench.finite_sum import L2 as L2
from sgd_bench.finite_sum import PROBLEM_CLASSES as PROBLEM_CLASSES
from sgd_bench.validation import PrecisionWarning as PrecisionWarning
from sgd_bench.flops import step_flops as step_flops
from sgd_bench.growing_batch import batch_sizes as batch_sizes
from sgd_bench.growing_batch import growing_batch as growing_batch
from sgd_bench.lbfgs import lbfgs as lbfgs
from sgd_bench.line_search import gd_armijo as gd_armijo
from sgd_bench.methods import Method as Method
from sgd_bench.methods import Params as Params
from sgd_bench.optax_methods import from_optax as from_optax
from sgd_bench.methods import gd as gd
from sgd_bench.methods import sgd as sgd
from sgd_bench.noise import noisy_sgd as noisy_sgd
from sgd_bench.quasi_newton import inverse_hessian as inverse_hessian
from sgd_bench.quasi_newton import preconditioned_sgd as preconditioned_sgd
from sgd_bench.quasi_newton import stochastic_lbfgs as stochastic_lbfgs
from sgd_bench.reference import ReferenceSolution as ReferenceSolution
from sgd_bench.reference import reference_solution as reference_solution
from sgd_bench.runner import NegativeStepWarning as NegativeStepWarning
from sgd_bench.runner import Trace as Trace
from sgd_bench.runner import log_steps as log_steps
from sgd_bench.runner import run as run
from sgd_bench.runner import run_keys as run_keys
from sgd_bench.runner import run_seeds as run_seeds
from sgd_bench.runner import seed_keys as seed_keys
from sgd_bench.sampling import SAMPLINGS as SAMPLINGS
from sgd_bench.schedules import Schedule as Schedule
from sgd_bench.sharding import shard as shard
from sgd_bench.solver import Solver as Solver
from sgd_bench.solver import SolverState as SolverState
from sgd_bench.sweep import Sweep as Sweep
from sgd_bench.sweep import sweep as sweep
from sgd_bench.two_phase import online_newton as online_newton
from sgd_bench.variance_reduction import sag as sag
from sgd_bench.variance_reduction import saga as saga
from sgd_bench.variance_reduction import sarah as sarah
from sgd_bench.variance_reduction import svrg as svrg
from sgd_bench.lazy_saga import lazy_saga as lazy_saga
from sgd_bench.lazy_sgd import lazy_sgd as lazy_sgd

__version__ = "0.1.0"
