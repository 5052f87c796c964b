"""``python scripts/gd_vs_sgd_large_n.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.gd_vs_sgd_large_n`` (see its docstring)."""

from sgd_bench_harness import script_env

if __name__ == "__main__":
    script_env.script_checks()  # before matplotlib is imported: a bad $MPLBACKEND is one line
    from sgd_bench_harness.experiments import gd_vs_sgd_large_n
    raise SystemExit(script_env.run_script(gd_vs_sgd_large_n.main))  # | head -1 does not cost the run
