"""``python -m sgd_bench_harness``: the same command line as ``sgd-bench``."""

import sys

from sgd_bench_harness.cli import main

sys.exit(main())
