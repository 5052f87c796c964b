"""The ad-hoc grid (``sgd_bench_harness.grid``): problems from specs, the config, resumption
from stored cells, divergence bookkeeping, and the summary of the records (spec parsing and
method building have their own files: test_spec_parsing.py, test_specs.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems
import sgd_bench as sb
from sgd_bench.spec_parsing import parse_spec
from sgd_bench_harness import grid, grid_report, results
from sgd_bench_harness import records
from sgd_bench_harness import folders

# -- problems and the config -------------------------------------------------------------------
def test_build_problem_refuses_unknown_options_and_casts_dtype():
    with pytest.raises(ValueError, match="takes no bogus"):
        grid.build_problem(parse_spec("logreg:bogus=1", "--problem"), "float64")
    with pytest.raises(ValueError, match="unknown problem"):
        grid.build_problem(parse_spec("nosuch", "--problem"), "float64")
    p = grid.build_problem(parse_spec("logreg:n=50,d=3", "--problem"), "float32")
    assert p.n == 50 and p.dtype == jnp.float32


def test_grid_config_validates():
    ok = dict(seeds=2, steps=10, log_every=None, dtype="float64", key=0, block=2)
    with pytest.raises(ValueError, match="at least one --problem"):
        grid.grid_config([], ["gd"], **ok)
    with pytest.raises(ValueError, match="at least one --method"):
        grid.grid_config(["lecture-logreg"], [], **ok)
    with pytest.raises(ValueError, match="must differ"):
        grid.grid_config(["lecture-logreg"], ["gd", "gd"], **ok)
    with pytest.raises(ValueError, match="--log-every"):
        grid.grid_config(["lecture-logreg"], ["gd"], **{**ok, "log_every": 11})
    assert grid.grid_config(["lecture-logreg"], ["gd"], **ok)["log_every"] == 1


def test_a_lecture_decreasing_grid_is_keyed_apart_from_grids_before_its_default_cap():
    # A grid interrupted before lecture_decreasing's default cap must not resume into one that
    # computes capped steps: its config (and so its folder) differs from the old one by a key.
    ok = dict(seeds=2, steps=10, log_every=None, dtype="float64", key=0, block=2)
    capped = grid.grid_config(["lecture-logreg"], ["sgd:schedule=Lecture-Decreasing"], **ok)
    assert capped["lecture_decreasing_default_cap"] == "safe"
    assert "lecture_decreasing_default_cap" not in grid.grid_config(["lecture-logreg"], ["sgd:batch=2"], **ok)


# -- runs ------------------------------------------------------------------------------------

CONFIG = grid.grid_config(["lecture-logreg"], ["gd", "sgd:batch=5"], seeds=5, steps=40,
                          log_every=10, dtype="float64", key=3, block=2)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "full"
    table = grid.run_grid(CONFIG, out, log=lambda text: None, keep_cells=True)
    return out, table


def test_grid_records_match_run_seeds(full_run):
    out, table = full_run
    rows = records.read_records(out)
    p = problems.lecture_logreg()
    method = sb.sgd(1.0 / (2 * (p.info["L"] + p.info["L_max"] / 5)), 5)
    trace = sb.run_seeds(p, method, p.zeros(), 3, seeds=5, steps=40, log_every=10)
    sgd_rows = [r for r in rows if r["method"] == "sgd:batch=5"]
    loss = np.array([[r["loss"] for r in sgd_rows if r["seed"] == s] for s in range(5)])
    np.testing.assert_allclose(loss, np.asarray(trace.loss), rtol=1e-13)
    assert [r["grad_evals"] for r in sgd_rows if r["seed"] == 0] == [0, 50, 100, 150, 200]
    meta = folders.read_meta(out)
    assert meta["status"] == "complete" and meta["config_hash"] == results.config_hash(
        grid.KIND, CONFIG, dtype="float64")
    assert [r["method"] for r in table] == ["gd", "sgd:batch=5"]
    assert (out / "grid.png").stat().st_size > 10_000 and "sgd:batch=5" in (out / "summary.md").read_text()


def test_interrupted_grid_resumes_to_the_same_records(full_run, tmp_path):
    out, _ = full_run
    partial = tmp_path / "partial"
    cells = sorted((out / "cells").glob("*.json"))
    assert len(cells) == 2 * 3  # two methods x seed blocks [0, 2), [2, 4), [4, 5)
    # An interrupted run: some finished cells on disk, meta marked running.
    (partial / "cells").mkdir(parents=True)
    for marker in cells[:4:2]:
        for f in (out / "cells").glob(marker.stem + ".*"):
            (partial / "cells" / f.name).write_bytes(f.read_bytes())
    folders.mark(partial, folders.STATUS_RUNNING, "whatever")
    ran = []
    grid.run_grid(CONFIG, partial, resume=True, log=ran.append)
    assert sum("stored, skipped" in line for line in ran) == 2
    assert sum("diverged" in line for line in ran) == 4
    assert records.read_records(partial) == records.read_records(out)


def _spiky_problem():
    """Least squares where one sample has a huge row: a step stable for the others makes a
    seed blow up once it draws that sample, so only some seeds diverge."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(40, 3))
    A[7] *= 40.0
    b = rng.normal(size=40)
    return problems.least_squares(A, b)


def test_divergent_seeds_do_not_touch_the_others(tmp_path):
    p = _spiky_problem()
    method = sb.sgd(0.05, 1)
    keys = sb.seed_keys(jax.random.key(1), 16)
    trace = sb.run_keys(p, method, p.zeros(), keys, steps=30, log_every=5)
    diverged = np.asarray(trace.diverged)
    assert 0 < diverged.sum() < 16  # the premise: some seeds diverge, some do not
    for s in range(16):
        alone = sb.run(p, method, p.zeros(), keys[s], steps=30, log_every=5)
        assert bool(alone.diverged) == diverged[s]
        if not diverged[s]:  # vmapped or alone: the same values up to rounding
            np.testing.assert_allclose(np.asarray(alone.loss), np.asarray(trace.loss)[s], rtol=1e-13)
        else:
            bad = ~np.isfinite(np.asarray(alone.loss)) | (np.asarray(alone.loss) > 1e6 * max(abs(float(alone.loss[0])), 1))
            assert int(alone.diverged_step) == int(np.asarray(alone.step)[np.argmax(bad)])
    # The grid's summary counts them and averages only the others.
    rows = results.trace_records(trace, method="sgd")
    per_seed = [dict(problem="spiky", method="sgd", seed=s, step=int(k), grad_evals=int(e),
                     loss=float(np.asarray(trace.loss)[s, t]), f_gap=None, grad_norm_sq=0.0,
                     diverged=bool(diverged[s]), diverged_step=int(np.asarray(trace.diverged_step)[s]))
                for s in range(16) for t, (k, e) in enumerate(zip(np.asarray(trace.step)[0],
                                                                  np.asarray(trace.grad_evals)[0]))]
    table, _ = grid_report.summarize(per_seed)
    final = np.asarray(trace.loss)[~diverged, -1]
    assert table[0]["diverged"].startswith(f"{diverged.sum()}/16 (first at step ")
    assert float(table[0]["final_mean"]) == pytest.approx(final.mean(), rel=1e-3)
    assert rows  # trace_records handles the diverged seeds too


def test_seed_blocks_are_as_equal_as_possible():
    assert grid.seed_blocks(100, 32) == [(0, 25), (25, 50), (50, 75), (75, 100)]
    assert grid.seed_blocks(5, 2) == [(0, 2), (2, 4), (4, 5)]
    assert grid.seed_blocks(3, 32) == [(0, 3)]
    for seeds, block in [(1, 1), (7, 3), (64, 32), (65, 32)]:
        blocks = grid.seed_blocks(seeds, block)
        sizes = {b - a for a, b in blocks}
        assert blocks[0][0] == 0 and blocks[-1][1] == seeds and max(sizes) <= block
        assert max(sizes) - min(sizes) <= 1 and all(p[1] == q[0] for p, q in zip(blocks, blocks[1:]))


# -- one precision, the records digest, the memory estimate -----------------------------------
@pytest.mark.parametrize("spec", ["lecture-logreg", "logreg:n=70000,d=2", "least-squares:n=50,d=4"])
def test_float32_is_the_float64_problem_rounded_once(spec):
    # Drawn in float64 and cast, so both dtypes solve the same problem (labels included).
    p64 = grid.build_problem(parse_spec(spec, "--problem"), "float64")
    p32 = grid.build_problem(parse_spec(spec, "--problem"), "float32")
    for a, b in zip(jax.tree_util.tree_leaves(p32.data), jax.tree_util.tree_leaves(p64.data)):
        assert a.dtype == jnp.float32
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b).astype(np.float32))


def test_lecture_logreg_has_one_optimum_in_both_dtypes():
    f64 = sb.reference_solution(problems.lecture_logreg()).f
    f32 = sb.reference_solution(problems.lecture_logreg(dtype="float32")).f
    assert f64 == pytest.approx(0.6361, abs=1e-4) and f32 == pytest.approx(f64, rel=1e-6)


def test_a_grid_stores_its_records_digest(full_run):
    out, _ = full_run
    stored = folders.read_meta(out)["records"]
    assert stored == records.records_digest(out) and stored["rows"] == 2 * 5 * 5
    assert folders.read_meta(out)["written_by"] == "sgd-bench"


def test_the_run_estimate_covers_seeds_state_logs_and_sampler():
    from sgd_bench import memory

    p = problems.lecture_logreg()  # n = 200, d = 10, float64
    gd = memory.estimate_run_bytes(p, sb.gd(0.1), seeds=4, steps=100, log_every=10)
    assert gd.data == 200 * 10 * 8 + 200 * 8 and gd.sampler == 0 and gd.seeds == 4
    assert gd.total == gd.data + 4 * (gd.state + gd.logs + gd.sampler)
    # more logged steps, more log memory; more seeds, proportionally more
    assert memory.estimate_run_bytes(p, sb.gd(0.1), 4, 1000, 1).logs > 70 * gd.logs  # 1001 points, not 11
    assert memory.estimate_run_bytes(p, sb.gd(0.1), 400, 100, 10).total - gd.data == 100 * (gd.total - gd.data)
    # SAGA keeps an n x d table of gradients; a batch of 10 draws 10 indices per step
    saga = memory.estimate_run_bytes(p, sb.saga(0.1, 10), 1, 100, 10)
    assert saga.state >= 200 * 10 * 8 and saga.sampler >= 10 * 10 * 4
    reshuffle = memory.estimate_run_bytes(p, sb.sgd(0.1, 10, "reshuffle"), 1, 100, 10)
    assert reshuffle.sampler >= 2 * 200 * 4
    with pytest.raises(MemoryError, match=r"^a run needs about data .* \+ 1,000,000,000 seeds x \(state"):
        memory.check_run_fits(memory.estimate_run_bytes(p, sb.gd(0.1), 10**9, 100, 10), "a run")


# -- grids of values in a --method spec ------------------------------------------------------------


def test_grid_values_are_for_methods_and_may_not_repeat_another_method():
    with pytest.raises(ValueError, match="grids of values are for --method only"):
        parse_spec("logreg:n=100|200", "--problem")
    ok = dict(seeds=2, steps=10, log_every=None, dtype="float64", key=0, block=2)
    with pytest.raises(ValueError, match="both run 'sgd:step=0.1,batch=2'"):
        grid.grid_config(["lecture-logreg"], ["sgd:step=0.1,batch=2", "sgd:step=0.1|0.2,batch=2"], **ok)


def test_a_grid_method_runs_as_one_sweep_and_equals_separate_runs(tmp_path):
    config = grid.grid_config(["lecture-logreg"], ["sgd:step=0.02|0.2,batch=5"], seeds=3, steps=30,
                              log_every=10, dtype="float64", key=4, block=2)
    table = grid.run_grid(config, tmp_path / "g", log=lambda text: None)
    assert [r["method"] for r in table] == ["sgd:step=0.02,batch=5", "sgd:step=0.2,batch=5"]
    rows = records.read_records(tmp_path / "g")
    p = problems.lecture_logreg()
    keys = sb.seed_keys(jax.random.key(4), 3)
    for alpha in (0.02, 0.2):
        trace = sb.run_keys(p, sb.sgd(alpha, 5), p.zeros(), keys, steps=30, log_every=10)
        mine = [r for r in rows if r["method"] == f"sgd:step={alpha:g},batch=5"]
        loss = np.array([[r["loss"] for r in mine if r["seed"] == s] for s in range(3)])
        np.testing.assert_allclose(loss, np.asarray(trace.loss), rtol=1e-12)
