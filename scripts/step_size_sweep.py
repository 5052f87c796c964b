"""``python scripts/step_size_sweep.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.step_size_sweep`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import step_size_sweep

if __name__ == "__main__":
    sys.exit(step_size_sweep.main())
