"""``python scripts/sparse_logreg.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.sparse_logreg`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import sparse_logreg

if __name__ == "__main__":
    sys.exit(sparse_logreg.main())
