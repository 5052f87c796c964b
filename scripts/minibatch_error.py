"""``python scripts/minibatch_error.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.minibatch_error`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import minibatch_error

if __name__ == "__main__":
    sys.exit(minibatch_error.main())
