"""``python scripts/rates_table.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.rates_table`` (see its docstring)."""

from sgd_bench_harness import script_env

if __name__ == "__main__":
    script_env.script_checks()  # before matplotlib is imported: a bad $MPLBACKEND is one line
    from sgd_bench_harness.experiments import rates_table
    raise SystemExit(script_env.run_script(rates_table.main))  # | head -1 does not cost the run
