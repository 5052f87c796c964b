"""The persistent compilation cache the command line turns on: a compiled program lands in the
folder, SGD_BENCH_COMPILATION_CACHE=0 keeps it off, and the tests' compile counter counts a
program it hands back. Each case runs in its own process, since JAX reads the cache setting once
per process."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import jax, jax.numpy as jnp
from sgd_bench_harness import compile_cache
print("folder:", compile_cache.enable())
jax.jit(lambda x: jnp.sin(x) * 3.0 + 1.0)(jnp.arange(5.0)).block_until_ready()
"""


def _probe(setting):
    env = dict(os.environ, JAX_PLATFORMS="cpu", SGD_BENCH_COMPILATION_CACHE=setting)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_compiled_program_is_stored_in_the_folder(tmp_path):
    folder = tmp_path / "cache"
    out = _probe(str(folder))
    assert f"folder: {folder}" in out
    assert any(folder.iterdir()), "no compiled program was written to the cache folder"


def test_zero_turns_it_off(tmp_path):
    out = _probe("0")
    assert "folder: None" in out



# In-process ``cli.main`` calls turn the persistent cache on for the rest of a pytest worker's
# tests. The tests' compile counter (helpers.count_compiles) still sees a program the cache hands
# back, and ``helpers.without_persistent_cache`` compiles for real (no cache hit), on every JAX
# version (jax 0.12.1 ignored the option it used to set alone), and hands the cache back after.
COUNTED = """
import sys
sys.path.insert(0, sys.argv[2])
import jax, jax.numpy as jnp
from sgd_bench_harness import compile_cache
# Before helpers, whose import compiles a probe: jax 0.4.30 sets its persistent cache up at the
# first compile of a process and never again (the command line turns it on first, too).
compile_cache.enable(sys.argv[1])
import helpers
hits = []
jax.monitoring.register_event_listener(
    lambda event, **kw: hits.append(1) if event == "/jax/compilation_cache/cache_hits" else None)
x = jnp.arange(3.0)
f = lambda x: jnp.cos(x) * 7.0 - 2.0
jax.jit(f)(x).block_until_ready()
for where in ("cached", "without", "after"):
    jax.clear_caches()
    hits.clear()
    with helpers.count_compiles() as names:
        if where == "without":
            with helpers.without_persistent_cache():
                jax.jit(f)(x).block_until_ready()
        else:
            jax.jit(f)(x).block_until_ready()
    print(where, len(hits), names)
"""


def test_a_program_from_the_persistent_cache_counts_as_a_compile(tmp_path):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", COUNTED, str(tmp_path / "cache"), os.path.dirname(__file__)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    cached, without, after = done.stdout.splitlines()[-3:]
    assert cached == "cached 1 ['jit(<lambda>)']", done.stdout
    assert without == "without 0 ['jit(<lambda>)']", done.stdout
    assert after == "after 1 ['jit(<lambda>)']", done.stdout  # the cache is back after the block
