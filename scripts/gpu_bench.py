"""``python scripts/gpu_bench.py [OPTIONS]`` runs the experiment ``sgd_bench_harness.experiments.gpu_bench`` (see its docstring)."""

from sgd_bench_harness import script_env

if __name__ == "__main__":
    script_env.script_checks()  # before matplotlib is imported: a bad $MPLBACKEND is one line
    from sgd_bench_harness.experiments import gpu_bench
    raise SystemExit(script_env.run_script(gpu_bench.main))  # | head -1 does not cost the run
