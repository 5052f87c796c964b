"""``python scripts/sharp_minima.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.sharp_minima`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import sharp_minima

if __name__ == "__main__":
    sys.exit(sharp_minima.main())
