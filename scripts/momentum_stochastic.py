"""``python scripts/momentum_stochastic.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.momentum_stochastic`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import momentum_stochastic

if __name__ == "__main__":
    sys.exit(momentum_stochastic.main())
