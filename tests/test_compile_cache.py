"""The persistent compilation cache the command line turns on: a compiled program lands in the
folder, and SGD_BENCH_COMPILATION_CACHE=0 keeps it off. Each case runs in its own process, since
JAX reads the cache setting once per process."""

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
