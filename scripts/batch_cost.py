"""``python scripts/batch_cost.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.batch_cost`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import batch_cost

if __name__ == "__main__":
    sys.exit(batch_cost.main())
