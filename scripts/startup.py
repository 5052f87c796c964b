"""``python scripts/startup.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.startup`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import startup

if __name__ == "__main__":
    sys.exit(startup.main())
