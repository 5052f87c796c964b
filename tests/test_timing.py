"""The timing harness itself (not timings): exact counts, FLOPs from XLA that scale with n,
metrics kept out of the timed region, the time-to-eps table, and the memory guard."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import sgd_bench as sb
from sgd_bench import memory
from sgd_bench.timing import TimedRun, time_to_eps, timed_run


@pytest.mark.parametrize("method", [sb.gd(0.3), sb.sgd(0.3, 4, "reshuffle")], ids=["gd", "sgd4"])
def test_timed_run_counts_and_matches_the_runner(method):
    problem = helpers.tiny_logistic()
    x0 = jnp.ones(problem.x_shape)
    events = []
    timed = timed_run(problem, method, x0, jax.random.key(2), steps=10, log_every=4,
                      on_event=events.append)
    per_step = problem.n if method.batch_size is None else method.batch_size
    np.testing.assert_array_equal(timed.step, [0, 4, 8, 10])
    np.testing.assert_array_equal(timed.grad_evals, timed.step * per_step)
    reference = sb.run(problem, method, x0, jax.random.key(2), steps=10, log_every=4)
    np.testing.assert_allclose(timed.loss, reference.loss, rtol=1e-13)
    assert np.all(np.diff(timed.seconds) >= 0) and timed.compile_seconds > 0
    np.testing.assert_allclose(timed.flops, timed.flops_per_step * timed.step)

    # The clock runs only around the steps: no metric evaluation between start and stop.
    running = False
    for name in events:
        if name == "start":
            assert not running
            running = True
        elif name == "stop":
            assert running
            running = False
        else:
            assert name == "metrics" and not running
    assert events.count("start") == 3 and events.count("metrics") == 4


def test_gd_step_flops_grow_linearly_with_n():
    flops = []
    for n in (1000, 2000, 4000):
        problem = problems.synthetic_logreg(n, 20, seed=0)
        flops.append(sb.step_flops(problem, sb.gd(0.1), jnp.zeros(20)))
    assert flops[0] > 20 * 1000  # at least one multiply-add per entry of A
    np.testing.assert_allclose(flops[1] / flops[0], 2.0, rtol=0.05)
    np.testing.assert_allclose(flops[2] / flops[1], 2.0, rtol=0.05)
    sgd_flops = [sb.step_flops(problems.synthetic_logreg(n, 20, seed=0), sb.sgd(0.1, 8), jnp.zeros(20))
                 for n in (1000, 4000)]
    assert sgd_flops[0] == sgd_flops[1]  # a mini-batch step does not depend on n


def test_time_to_eps_finds_the_first_point_below_each_eps():
    run = TimedRun("m", 0.1, np.array([0, 10, 20, 30]), np.array([0.0, 1.0, 2.0, 3.0]),
                   np.array([0, 5, 10, 15]), np.array([0.0, 7.0, 14.0, 21.0]),
                   np.array([1.0, 0.5, 0.01, 0.2]), 0.7)
    rows = time_to_eps([run], f_star=0.0, eps=[0.6, 0.1, 1e-3])
    assert [r["step"] for r in rows] == [10, 20, -1]
    assert [r["seconds"] for r in rows[:2]] == [1.0, 2.0]
    assert rows[1]["grad_evals"] == 10 and rows[1]["flops"] == 14.0
    assert rows[2]["reached"] is False and np.isnan(rows[2]["seconds"])


def test_memory_guard_refuses_oversized_requests_with_numbers():
    free = memory.available_bytes()
    assert free is None or free > 0
    with pytest.raises(MemoryError, match=r"needs 9313225\.75 GiB"):
        memory.check_fits(10**16, "a test array")
    memory.check_fits(1024, "a small array")  # fits
    with pytest.raises(MemoryError, match="n=1000000000, d=1000"):
        problems.synthetic_logreg(10**9, 1000)
