"""``python scripts/rates_table.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.rates_table`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import rates_table

if __name__ == "__main__":
    sys.exit(rates_table.main())
