"""``python scripts/gd_vs_sgd_large_n.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.gd_vs_sgd_large_n`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import gd_vs_sgd_large_n

if __name__ == "__main__":
    sys.exit(gd_vs_sgd_large_n.main())
