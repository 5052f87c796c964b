"""``python scripts/two_phase.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.two_phase`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import two_phase

if __name__ == "__main__":
    sys.exit(two_phase.main())
