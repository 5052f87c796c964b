"""Sharded data gives the single-device iterates up to reduction order (4 host devices, in a
subprocess so that the device count can be forced)."""

import json
import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import pytest

import helpers
import sgd_bench as sb
from sgd_bench.sharding import shard

_SCRIPT = textwrap.dedent("""
    import json
    import jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    import problems, sgd_bench as sb
    from sgd_bench.sharding import shard
    p = problems.synthetic_logreg(4000, 8, seed=1, mu=1e-2).replace(block_rows=300)
    ps = shard(p)
    out = {"devices": len(jax.devices()), "shards": ps.shards,
           "placed_on": len(ps.data[0].sharding.device_set), "runs": {}}
    x0 = jnp.full(8, 0.3)
    for m in [sb.gd(0.5), sb.sgd(0.5, 16), sb.sgd(0.5, 16, "reshuffle")]:
        a = sb.run(p, m, x0, 0, steps=30, log_every=10)
        b = sb.run(ps, m, x0, 0, steps=30, log_every=10)
        out["runs"][m.name + " " + m.sampling] = {
            "x": float(np.max(np.abs(np.asarray(a.x) - np.asarray(b.x)))),
            "loss": float(np.max(np.abs(np.asarray(a.loss) - np.asarray(b.loss)))),
            "evals": bool(np.array_equal(np.asarray(a.grad_evals), np.asarray(b.grad_evals))),
            "moved": float(np.max(np.abs(np.asarray(a.x) - np.asarray(x0)))),
        }
    try:
        shard(problems.synthetic_logreg(4001, 8))
    except ValueError as err:
        out["uneven"] = str(err)
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def four_devices():
    # keeps conftest's XLA flags (optimization level 0) beside the forced device count
    flags = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
    env = dict(helpers.cached_env(), XLA_FLAGS=flags.strip(), JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_data_is_spread_over_the_devices(four_devices):
    assert four_devices["devices"] == 4
    assert four_devices["shards"] == 4
    assert four_devices["placed_on"] == 4


def test_sharded_runs_match_single_device(four_devices):
    assert len(four_devices["runs"]) == 3
    for name, diff in four_devices["runs"].items():
        assert diff["moved"] > 1e-2, name  # the runs did something
        assert diff["x"] <= 1e-12, (name, diff)
        assert diff["loss"] <= 1e-12, (name, diff)
        assert diff["evals"], name


def test_uneven_split_is_refused(four_devices):
    assert "4001 must be divisible by the 4 devices" in four_devices["uneven"]


def test_one_device_returns_the_problem_unchanged():
    problem = helpers.tiny_logistic()
    assert shard(problem) is problem


def test_shards_must_divide_n():
    problem = helpers.tiny_logistic()
    with pytest.raises(ValueError, match="shards must divide n"):
        problem.replace(shards=2)


def test_sharded_view_on_one_device_streams_the_same_gradient():
    problem = helpers.tiny_least_squares(n=12)
    x = jnp.linspace(-1.0, 1.0, problem.x_shape[0])
    split = problem.replace(shards=3, block_rows=3)
    assert jnp.allclose(split.grad(x), problem.grad(x), rtol=1e-13, atol=1e-15)
    assert jnp.allclose(split.loss(x), problem.loss(x), rtol=1e-13)
    sb.run(split, sb.gd(0.1), x, 0, steps=2)  # the runner needs no change


def test_gradient_noise_streams_a_sharded_view_like_the_whole_data():
    # gradient_noise sums over the problem's own stream (per shard, then across shards)
    from sgd_bench import gradient_noise

    problem = helpers.tiny_least_squares(n=12)
    x = jnp.linspace(-1.0, 1.0, problem.x_shape[0])
    split = problem.replace(shards=3, block_rows=3)
    for measure in (gradient_noise.second_moment, gradient_noise.gradient_variance):
        assert measure(split, x) == pytest.approx(measure(problem, x), rel=1e-13)
    points = jnp.stack([x, 2 * x])
    assert jnp.allclose(gradient_noise.second_moments(split, points),
                        gradient_noise.second_moments(problem, points), rtol=1e-13)
