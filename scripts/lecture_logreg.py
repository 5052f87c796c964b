"""``python scripts/lecture_logreg.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.lecture_logreg`` (see its docstring)."""

from sgd_bench_harness import script_env

if __name__ == "__main__":
    script_env.script_checks()  # before matplotlib is imported: a bad $MPLBACKEND is one line
    from sgd_bench_harness.experiments import lecture_logreg
    raise SystemExit(script_env.run_script(lecture_logreg.main))  # | head -1 does not cost the run
