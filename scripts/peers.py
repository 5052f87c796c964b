"""``python scripts/peers.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.peers`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import peers

if __name__ == "__main__":
    sys.exit(peers.main())
