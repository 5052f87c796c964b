"""``import sgd_bench`` loads the engine only: no plotting, no harness, no problem catalog (a fresh
interpreter, so that what other tests imported does not count)."""

import json
import os
import subprocess
import sys

HARNESS = ("cli", "experiment", "grid", "launch", "_launch_child", "pages", "plots", "results",
           "compile_cache")

_PROBE = """
import json, sys
import sgd_bench
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(code: str) -> list[str]:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _unwanted(modules) -> list[str]:
    return [m for m in modules
            if m.split(".")[0] in ("matplotlib", "problems", "sgd_bench_harness")
            or m in {f"sgd_bench.{name}" for name in HARNESS}]


def test_import_sgd_bench_loads_no_plotting_harness_or_problems():
    loaded = _loaded(_PROBE)
    assert "sgd_bench.runner" in loaded  # the probe saw the engine load
    assert _unwanted(loaded) == []


def test_the_check_sees_a_harness_module():
    # the same probe after importing what it must flag: the check can fail
    loaded = _loaded(_PROBE.replace("import sgd_bench\n", "import sgd_bench, problems\n"))
    assert "problems" in _unwanted(loaded)
