"""``python scripts/local_minima.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.local_minima`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import local_minima

if __name__ == "__main__":
    sys.exit(local_minima.main())
