"""``python scripts/pl_bounds.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.pl_bounds`` (see its docstring)."""

from sgd_bench_harness import script_env

if __name__ == "__main__":
    script_env.script_checks()  # before matplotlib is imported: a bad $MPLBACKEND is one line
    from sgd_bench_harness.experiments import pl_bounds
    raise SystemExit(script_env.run_script(pl_bounds.main))  # | head -1 does not cost the run
