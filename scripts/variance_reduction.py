"""``python scripts/variance_reduction.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.variance_reduction`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import variance_reduction

if __name__ == "__main__":
    sys.exit(variance_reduction.main())
