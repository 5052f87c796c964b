"""Quick runs of the speed and scaling scripts: they write their results layout and their
non-timing claims hold (equal iterates with scikit-learn), the timing checks follow the timing
records both ways (tested on synthetic records), and each
script's ``report`` rebuilds the same summary and figures from the stored timings. Speed itself
is measured by the scripts, never asserted in tests.

The quick runs are seconds of computing and many compilations, so they run once, in one
``cli.main(["run", "peers", "gd_vs_sgd_large_n", "batch_cost", "gpu_bench", "--quick", ...])`` in
the test process (what every quick run must write and rebuild is checked by
tests/quick_runs.py's table), with XLA's backend optimization level 0 (conftest), which cuts their time by ~40%; the claims tested here do not
depend on it (iterates agree with optimized code to ~1e-12, and XLA's FLOP counts come from the
HLO, before the backend).

Every experiment script's command line (``sgd_bench_harness.experiment``): an option it does not take,
or a bad value, exits with status 2 and names the option; the options it takes land in its
config."""

import json
import math
import pathlib

import pytest

import quick_runs
from sgd_bench_harness import cli, records
from sgd_bench_harness.experiments import peers

quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_harness_scripts")


def _quick(name, root):
    """The quick run's folder of ``name`` and its checks."""
    out = root / name
    return out, json.loads((out / "checks.json").read_text())


def test_peers_quick(quick_root):
    out, checks = _quick("peers", quick_root)
    # Iterates: SGD against SGDClassifier, dense and sparse (1e-10), and lazy against eager SAGA
    # on both sparse sets.
    same = [c for c in checks if "iterates" in c["claim"]]
    assert len(same) == 4 and all(c["holds"] for c in same), same
    rows = records.read_records(out)
    assert {r["comparison"] for r in rows} >= {"read", "sklearn", "seeds", "loop", "numpy", "saga", "race",
                                               "sparse_read", "sparse_sgd", "saga_rcv1", "saga_news20"}
    assert all(r["device"].startswith("cpu") and r["dtype"] == "float64" for r in rows)
    assert all(r["seconds"] > 0 for r in rows if r["comparison"] != "race")
    # Row 1 times GD on one device and, in a process with one CPU device per core, on the data
    # sharded over them (with the sum of the sharded A among the reads); the note names the faster.
    cores = peers.cores.core_count()
    read = {(r["side"], r["timing"]) for r in rows if r["comparison"] == "read"}
    sharded = {("ours", f"GD, data sharded over {cores} CPU devices"),
               ("baseline", f"sum, sharded over {cores} CPU devices")} \
        if cores > 1 and peers.QUICK["n"] % cores == 0 else set()
    assert read == {("ours", "GD"), ("baseline", "sum"), ("baseline", "A @ v")} | sharded, read
    # Row 9: every solver on every size, each reaching the target (the quick problem is easy),
    # and the check's ratio is our SAGA's seconds over scikit-learn saga's in the records.
    race = [r for r in rows if r["comparison"] == "race"]
    assert sorted(r["timing"] for r in race) == sorted(["SAGA", "L-BFGS", "GD 1/L", "scikit-learn saga",
                                                       "scikit-learn lbfgs"])
    assert all(str(r["reached"]) == "True" and r["seconds"] > 0 for r in race), race
    by = {r["timing"]: r for r in race}
    (race_check,) = [c for c in checks if "no later than scikit-learn's saga" in c["claim"]]
    assert race_check["measured"] == pytest.approx(by["SAGA"]["seconds"] / by["scikit-learn saga"]["seconds"])
    assert race_check["holds"] == (race_check["measured"] <= 1.0)
    # The verdicts in summary.md follow from the ratios printed beside them (whichever way the
    # timing came out), agree with checks.json, and the closing line names exactly the misses.
    text = (out / "summary.md").read_text()
    head = "| measure | ours | baseline | ratio | target | met | note |"
    lines = text[text.index(head):].split("\n\n")[0].splitlines()[2:]
    table = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    # The quick run leaves out the first-call rows (fresh subprocesses, minutes of compiling).
    assert len(table) == 10 and table[4][0].startswith("per (config, seed) step"), table
    assert table[5][0].startswith("SAGA batch 1 epoch / scikit-learn saga epoch"), table
    assert table[0][6] == f"ours: {peers.costs(rows)['read', 'ours'][1]}", table
    _check_sparse_rows(out, rows, table[6:])
    held = {c["claim"]: c["holds"] for c in checks}
    missed = []
    for measure, _, _, ratio, target, met, _ in table:
        op, bound = target.split()
        value, bound = float(ratio), float(bound.rstrip("x"))
        ok = value <= bound if op == "<=" else value >= bound  # NaN: neither, so missed
        if abs(value - bound) < 0.006:  # the printed ratio is rounded: too close to re-decide
            ok = met == "yes"
        assert met == ("yes" if ok else "MISSED"), (measure, ratio, target, met)
        assert held[f"{measure}: {target}"] == ok, measure
        missed += [] if ok else [measure]
    if missed:
        verdict = text[text.index("Missed: "):].split("\n")[0]
        assert [m for m in (r[0] for r in table) if f"{m} at " in verdict] == missed, verdict
    else:
        assert "Every target is met." in text and "Missed: " not in text


def _check_sparse_rows(out, rows, table):
    """Rows 10-13 (sparse rows): their order, the SAGA rows name the faster of eager and lazy,
    the reads count the bytes of the arrays they read, and both SAGAs moved towards x*."""
    meta = json.loads((out / "meta.json").read_text())
    assert [line[0].split(" / ")[0].split(",")[0] for line in table] == ["sparse: one GD step"] + [
        "sparse: SAGA batch 1 epoch"] * 2 + ["sparse: SGD batch 1 epoch (lazy_sgd)"], table
    each = peers.timing.timing_costs(rows)
    for line, preset in zip(table[1:3], ("rcv1", "news20")):
        # The faster of the two that could be measured (a marginal cost is NaN where the longer
        # run was not slower); eager, the first recorded, where neither could.
        timed = [m for m in ("eager", "lazy") if not math.isnan(each[f"saga_{preset}", "ours", m])]
        faster = min(timed, key=lambda m: each[f"saga_{preset}", "ours", m]) if timed else "eager"
        assert line[0].startswith(f"sparse: SAGA batch 1 epoch, {faster} /") and f"{preset}-like" in line[0]
        dist = meta[f"saga_{preset}"]["distance"]
        # 3 epochs from x0 = 0 at scikit-learn's step: both end well inside the ball ||x*||.
        assert 0 < dist["eager"] < 0.5 * dist["start"] and 0 < dist["sklearn"] < 0.5 * dist["start"], dist
        assert dist["lazy"] == pytest.approx(dist["eager"], rel=1e-8)
    reads = {r["timing"]: r for r in rows if r["comparison"] == "sparse_read" and r["side"] == "baseline"}
    data = meta["sparse_rcv1"]
    assert data["nnz"] < data["n"] * data["width"]
    assert reads["sum, CSR arrays"]["bytes_read"] == data["nnz"] * (8 + 4)
    assert reads["sum, padded rows"]["bytes_read"] == reads["A @ v, padded rows"]["bytes_read"] == data["n"] * data["width"] * (8 + 4)
    assert all(r["n"] == data["n"] and r["d"] == data["d"] for r in rows if r["comparison"] in ("sparse_read", "sparse_sgd"))


def test_peers_costs_difference_two_run_lengths_and_take_the_fastest_read():
    rows = [dict(comparison="seeds", side="ours", timing="S", steps=10, seeds=4, seconds=3.0),
            dict(comparison="seeds", side="ours", timing="S", steps=30, seeds=4, seconds=7.0),
            dict(comparison="seeds", side="baseline", timing="1", steps=10, seeds=1, seconds=2.0),
            dict(comparison="seeds", side="baseline", timing="1", steps=30, seeds=1, seconds=1.0),
            dict(comparison="read", side="baseline", timing="sum", steps=1, seeds=1, seconds=0.5),
            dict(comparison="read", side="baseline", timing="A @ v", steps=1, seeds=1, seconds=0.25),
            dict(comparison="read", side="ours", timing="GD", steps=10, seeds=1, seconds=2.0)]
    cost = peers.timing.costs(rows)
    assert cost["seeds", "ours"] == (pytest.approx(0.05), "S")  # (7 - 3) / 20 steps / 4 seeds
    assert cost["seeds", "baseline"][0] != cost["seeds", "baseline"][0]  # noisy: NaN, not negative
    assert cost["read", "baseline"] == (0.25, "A @ v") and cost["read", "ours"] == (0.2, "GD")
    # Two candidates of a side (eager and lazy SAGA): a number beats a NaN, whichever comes first.
    saga = [dict(comparison="saga_x", side="ours", timing=label, steps=steps, seeds=1, seconds=seconds)
            for label, steps, seconds in (("eager", 10, 2.0), ("eager", 30, 1.0), ("lazy", 10, 1.0), ("lazy", 30, 3.0))]
    assert peers.timing.costs(saga)["saga_x", "ours"] == (0.1, "lazy")
    assert peers.timing.costs(saga[2:] + saga[:2])["saga_x", "ours"] == (0.1, "lazy")


def test_peers_saga_step_is_scikit_learns():
    """Row 8 runs our SAGA at scikit-learn's own automatic step (its private helper, the
    independent reference here)."""
    import numpy as np
    from sklearn.linear_model._sag import get_auto_step_size

    A = np.random.default_rng(0).standard_normal((50, 4))
    mu = 1.0 / 50
    expected = get_auto_step_size(float(np.max(np.sum(A * A, axis=1))), mu, "log", False, 50, True)
    assert peers.saga.sklearn_saga_step(A, mu) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("threshold, cap", [(1, 64), (5, 64), (37, 64), (64, 64), (65, 64), (100, 300)])
def test_peers_fewest_iterations_finds_the_first_that_reaches(threshold, cap):
    calls = []

    def fit(m):
        calls.append(m)
        return m

    found = peers.race.fewest_sklearn_iters(lambda m: threshold - m, fit, cap)
    assert found == (threshold if threshold <= cap else None)
    assert max(calls) <= cap


def test_gd_vs_sgd_large_n_quick(quick_root):
    out, checks = _quick("gd_vs_sgd_large_n", quick_root)
    # The compiler's static FLOP count cannot fail, so it is a reading, not a check.
    assert not [c for c in checks if "FLOPs" in c["claim"]]
    assert "Reading (not a check): XLA's static FLOP count" in (out / "summary.md").read_text()
    assert (out / "gd_vs_sgd_large_n.png").stat().st_size > 0
    rows = records.read_records(out)
    gd = [r for r in rows if r["method"] == "GD" and r.get("seconds_per_step")]
    assert {r["n"] for r in gd} == {2000, 8000}
    for r in gd:  # the progress curve's cumulative step seconds end at the timed total
        curve = [p["seconds"] for p in rows if p["part"] == "progress" and (p["n"], p["method"]) == (r["n"], "GD")]
        assert max(curve) == pytest.approx(r["seconds"])


def _large_n_rows(gd_exponent, sgd_exponent, svrg_seconds, sgd_gaps):
    """Records as gd_vs_sgd_large_n stores them, for GD, SGD batch 16 and SVRG at four sizes."""
    rows = []
    for n in (10**4, 10**5, 10**6, 10**7):
        for name, exponent in (("GD", gd_exponent), ("SGD batch 16", sgd_exponent), ("SVRG batch 64", 0.1)):
            rows.append(dict(part="step_cost", n=n, method=name, seconds_per_step=1e-3 * (n / 1e4) ** exponent))
    big = 10**7
    rows += [dict(part="to_eps", n=big, method="GD", eps=1e-3, reached=True, seconds=9.0, grad_evals=17 * big),
             dict(part="to_eps", n=big, method="SVRG batch 64", eps=1e-3, reached=True, seconds=svrg_seconds,
                  grad_evals=4 * big),
             dict(part="to_eps", n=big, method="SGD batch 16", eps=1e-3, reached=min(sgd_gaps) <= 1e-3,
                  seconds=1.0, grad_evals=1000)]
    rows += [dict(part="progress", n=big, method="SGD batch 16", step=100 * i, gap=g) for i, g in enumerate(sgd_gaps)]
    return rows


def test_gd_vs_sgd_large_n_checks_can_fail():
    """Synthetic records (nothing is timed): the checks follow the numbers both ways."""
    script = cli.load("gd_vs_sgd_large_n")
    config = dict(batches=(16,), eps=(1e-2, 1e-3))
    good = script._checks(_large_n_rows(1.0, 0.1, 5.0, [0.3, 0.02, 0.015, 0.016, 0.015, 0.014, 0.015, 0.016]), config)
    assert len(good) == 5 and all(c["holds"] for c in good), [c["summary"] for c in good if not c["holds"]]
    # GD grows like n^0.5, SGD like n, SVRG slower than GD, SGD still falling, to below eps.
    bad = script._checks(_large_n_rows(0.5, 1.0, 12.0, [0.3, 0.1, 0.05, 0.02, 0.01, 0.005, 0.004, 0.0009]), config)
    assert [c["holds"] for c in bad] == [False, False, False, True, False], [c["summary"] for c in bad]


def test_batch_cost_quick(quick_root):
    out, _ = _quick("batch_cost", quick_root)
    rows = records.read_records(out)
    assert [r["B"] for r in rows] == [1, 64, 20000]
    for r in rows:
        assert r["seconds_per_grad_eval"] == pytest.approx(r["seconds_per_step"] / r["B"])
        assert r["seconds_per_step"] == pytest.approx(r["seconds"] / r["timed_steps"])


def test_batch_cost_reading_when_no_batch_is_nearly_free(quick_root, tmp_path):
    """When already the second batch size costs over the factor, the summary says so instead of
    reading "up to B = 1" (the records of the quick run, with B = 64 made 3x a batch-1 step)."""
    import shutil
    out, _ = _quick("batch_cost", quick_root)
    copy = tmp_path / "batch_cost"
    shutil.copytree(out, copy)
    rows = records.read_records(copy)
    rows[1] = {**rows[1], "seconds_per_step": 3 * rows[0]["seconds_per_step"]}
    meta = json.loads((copy / "meta.json").read_text())
    meta["records"] = records.records_digest(records.write_records(copy / "records", rows, records.find_records(copy).suffix[1:]))
    (copy / "meta.json").write_text(json.dumps(meta))
    cli.load("batch_cost").report(copy)
    summary = (copy / "summary.md").read_text()
    assert "no batch above 1 costs at most 2x a batch-1 step: B = 64 already costs 3.00x" in summary
    assert "up to B = 1 " not in summary


def _batch_rows(per_step):
    """Timing records as batch_cost stores them: SGD batches, then GD as the last row."""
    rows = [dict(B=b, seconds_per_step=s, seconds_per_grad_eval=s / b) for b, s in per_step.items()]
    return rows + [dict(B=10**6, seconds_per_step=1.0, seconds_per_grad_eval=1e-6)]


def test_batch_cost_checks_can_fail():
    """The checks compare the records with thresholds fixed before the run, so timings that
    break a claim make it fail (synthetic records: nothing is timed)."""
    batch_cost = cli.load("batch_cost")
    sizes = [1, 2, 4, 8, 256, 512, 1024, 2048]
    good = batch_cost._checks(_batch_rows({b: 1e-6 * (1 + b / 4) for b in sizes}), 2.0)
    assert len(good) == 3 and all(c["holds"] for c in good), good
    # B = 4 at 3x a batch-1 step; steps growing like B^2 past 256; per-evaluation cost flat.
    bad = batch_cost._checks(_batch_rows({**{b: 1e-6 * b for b in sizes},
                                          **{b: 1e-6 * b * b / 256 for b in sizes if b >= 256},
                                          4: 3e-6}), 2.0)
    assert [c["holds"] for c in bad] == [False, False, False], bad
    assert bad[0]["measured"] == pytest.approx(3.0)


def test_gpu_bench_runs_on_whatever_device_is_there(quick_root):
    out, checks = _quick("gpu_bench", quick_root)
    # Three targets: GD step / read, many seeds / one seed, and the step-size x seed sweep.
    assert len(checks) == 3
    assert any("sweep" in c["claim"] for c in checks), checks
    assert (out / "scaling" / "summary.md").exists()
    rows = records.read_records(out)
    assert rows[0]["device"].startswith("cpu") and rows[0]["dtype"] == "float32"
    assert {r["comparison"] for r in rows} >= {"read", "seeds", "sweep"}
    assert all(r["dtype"] == "float32" for r in rows)


# Every experiment script against the shared command line (sgd_bench_harness.experiment): these fail or
# stop at argument parsing, before anything is compiled. ``--quick --out`` keep a wrongly accepted
# option from starting a full run into results/.
REFUSED = {
    "batch_cost": ["seeds", "steps", "dtype"],
    "gd_vs_sgd_large_n": ["seeds"],
    "gpu_bench": ["steps"],
    "lecture_logreg": ["dtype"],
    "local_minima": ["dtype"],
    "minibatch_error": ["dtype"],
    "momentum_stochastic": ["steps", "dtype"],
    "peers": ["steps", "dtype"],
    "pl_bounds": ["dtype"],
    "rates_table": ["dtype"],
    "sharp_minima": ["steps", "dtype"],
    "startup": ["seeds", "steps", "dtype"],
    "sgd_trajectories": ["dtype"],
    "sparse_logreg": ["seeds", "steps", "dtype"],
    "step_size_sweep": ["dtype"],
    "two_phase": ["dtype"],
    "variance_reduction": ["steps", "dtype"],
}
VALUES = {"seeds": "8", "steps": "1000", "dtype": "float32"}


def test_every_script_is_listed():
    assert set(REFUSED) == set(cli.experiments())


def test_every_script_has_a_quick_run_in_the_table_or_a_reason():
    names = set(quick_runs.SCRIPTS)
    assert names | set(quick_runs.NO_QUICK_RUN) == set(cli.experiments())
    assert not names & set(quick_runs.NO_QUICK_RUN)
    here = pathlib.Path(__file__).parent
    for file in {spec.file for spec in quick_runs.SCRIPTS.values()}:  # each file runs its rows
        assert f'quick_runs.quick_run_tests("{file}"' in (here / f"{file}.py").read_text(), file


@pytest.mark.parametrize("name, option", [(n, o) for n, opts in REFUSED.items() for o in opts])
def test_an_option_a_script_does_not_take_is_refused(name, option, tmp_path, capsys):
    script = cli.load(name)
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--quick", f"--{option}", VALUES[option], "--out", str(tmp_path / name)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"does not take --{option}" in err and name in err
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("name, argv, message", [
    ("two_phase", ["--seeds", "2"], "--seeds must be >= 3"),
    ("local_minima", ["--seeds", "8"], "--seeds must be >= 16"),
    ("rates_table", ["--steps", "100"], "--steps must be >= 200"),
    ("pl_bounds", ["--steps", "5"], "--steps must be >= 10"),
    ("gd_vs_sgd_large_n", ["--sizes", "0"], "--sizes: must be a positive integer"),
    ("gpu_bench", ["--n", "many"], "--n: must be a positive integer"),
    ("gpu_bench", ["--unknown"], "unrecognized arguments: --unknown"),
    ("sparse_logreg", ["--scale", "2"], "--scale: must be a number in (0, 1], got '2'"),
])
def test_a_bad_value_is_refused_with_its_reason(name, argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.load(name).main(["--quick", *argv, "--out", str(tmp_path / name)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("how", ["script", "sgd-bench run NAME --help"])
def test_a_scripts_own_option_is_in_its_help(how, capsys):
    if how == "script":
        with pytest.raises(SystemExit) as exit_info:
            cli.load("gd_vs_sgd_large_n").main(["--help"])
        assert exit_info.value.code == 0
    else:
        assert cli.main(["run", "gd_vs_sgd_large_n", "--help"]) == 0
    text = capsys.readouterr().out
    assert ("writes DIR/gd_vs_sgd_large_n" in text) == (how != "script")  # what --out means there
    assert "--sizes" in text and "--steps" in text and "--overwrite" in text
    assert "--seeds" not in text  # it takes no --seeds, so its help does not offer it


def test_the_cli_passes_an_experiments_own_options_on(tmp_path, monkeypatch):
    script = cli.load("gd_vs_sgd_large_n")
    seen = []
    monkeypatch.setattr(script, "run", lambda config, out: seen.append(config))
    monkeypatch.setattr(cli, "load", lambda name: script)
    code = cli.main(["run", "gd_vs_sgd_large_n", "--quick", "--sizes", "300", "600", "--out", str(tmp_path)])
    assert code == 0 and seen == [{**script.QUICK, "sizes": (300, 600)}]


@pytest.mark.parametrize("name, argv, expected", [
    ("gd_vs_sgd_large_n", ["--sizes", "300", "600", "--steps", "700", "--dtype", "float64"],
     dict(sizes=(300, 600), sgd_steps=700, dtype="float64")),
    ("gpu_bench", ["--n", "3000", "--seeds", "6"], dict(n=3000, seeds=6)),
    ("local_minima", ["--seeds", "20", "--steps", "50"], dict(seeds=20, equality_seeds=16, steps=50)),
    ("minibatch_error", ["--steps", "40"], dict(steps=40, error_steps=40)),
    ("rates_table", ["--steps", "400"], dict(sgd_steps=400)),
    ("momentum_stochastic", ["--seeds", "5"], dict(stochastic=lambda s: all(x["seeds"] == 5 for x in s))),
    ("variance_reduction", ["--seeds", "3"], dict(problems=lambda p: all(x["seeds"] == 3 for x in p))),
    ("sparse_logreg", ["--scale", "0.05"], dict(scale=0.05)),
])
def test_options_land_in_the_config(name, argv, expected, tmp_path, monkeypatch):
    """What each option changes, with run() replaced by a recorder (nothing is computed)."""
    script = cli.load(name)
    seen = []
    monkeypatch.setattr(script, "run", lambda config, out: seen.append(config))
    assert script.main(["--quick", *argv, "--out", str(tmp_path / name)]) == 0
    (config,) = seen
    for key, value in expected.items():
        assert value(config[key]) if callable(value) else config[key] == value, key
    assert config == {**script.QUICK, **{k: config[k] for k in expected}}
    meta = json.loads((tmp_path / name / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["experiment"] == name
