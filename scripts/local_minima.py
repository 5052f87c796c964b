"""``python scripts/local_minima.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.local_minima`` (see its docstring)."""

from sgd_bench_harness import script_env

if __name__ == "__main__":
    script_env.script_checks()  # before matplotlib is imported: a bad $MPLBACKEND is one line
    from sgd_bench_harness.experiments import local_minima
    raise SystemExit(script_env.run_script(local_minima.main))  # | head -1 does not cost the run
