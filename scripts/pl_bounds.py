"""``python scripts/pl_bounds.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.pl_bounds`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import pl_bounds

if __name__ == "__main__":
    sys.exit(pl_bounds.main())
