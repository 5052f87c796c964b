"""``python scripts/sgd_trajectories.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.sgd_trajectories`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import sgd_trajectories

if __name__ == "__main__":
    sys.exit(sgd_trajectories.main())
