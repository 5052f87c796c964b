"""``python scripts/gpu_bench.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.gpu_bench`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import gpu_bench

if __name__ == "__main__":
    sys.exit(gpu_bench.main())
