"""``python scripts/lecture_logreg.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.lecture_logreg`` (see its docstring)."""

import sys

from sgd_bench_harness.experiments import lecture_logreg

if __name__ == "__main__":
    sys.exit(lecture_logreg.main())
