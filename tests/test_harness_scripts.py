"""Quick runs of the speed and scaling scripts: they write their results layout and their
non-timing claims hold (equal iterates with scikit-learn, FLOPs proportional to n). Speed
itself is measured by the scripts, never asserted in tests."""

import json

import pytest

from sgd_bench import cli, results


def _quick(name, tmp_path):
    assert cli.main(["run", name, "--quick", "--out", str(tmp_path)]) == 0
    out = tmp_path / name
    for f in ["records.csv", "meta.json", "checks.json", "summary.md"]:
        assert (out / f).stat().st_size > 0, f
    return out, json.loads((out / "checks.json").read_text())


def test_peers_quick(tmp_path):
    out, checks = _quick("peers", tmp_path)
    same = [c for c in checks if "iterates" in c["claim"]]
    assert len(same) == 1 and same[0]["holds"], same
    rows = results.read_records(out / "records.csv")
    assert len(rows) == 4 and all(r["device"].startswith("cpu") and r["dtype"] == "float64" for r in rows)
    text = (out / "summary.md").read_text()
    assert "target" in text and ("MISSED" in text or "Every target is met" in text)


def test_gd_vs_sgd_large_n_quick(tmp_path):
    out, checks = _quick("gd_vs_sgd_large_n", tmp_path)
    flops = [c for c in checks if "FLOPs" in c["claim"]]
    assert len(flops) == 1 and flops[0]["holds"], flops
    assert (out / "gd_vs_sgd_large_n.png").stat().st_size > 0
    rows = results.read_records(out / "records.csv")
    gd = [r for r in rows if r["method"] == "GD" and r.get("seconds_per_step")]
    assert {int(r["n"]) for r in gd} == {2000, 8000}


def test_batch_cost_quick(tmp_path):
    out, _ = _quick("batch_cost", tmp_path)
    rows = results.read_records(out / "records.csv")
    assert [int(r["B"]) for r in rows] == [1, 8, 64, 20000]
    for r in rows:
        assert float(r["seconds_per_grad_eval"]) == pytest.approx(float(r["seconds_per_step"]) / int(r["B"]))


def test_gpu_bench_runs_on_whatever_device_is_there(tmp_path):
    out, checks = _quick("gpu_bench", tmp_path)
    assert len(checks) == 2
    assert (out / "scaling" / "summary.md").exists()
    rows = results.read_records(out / "records.csv")
    assert rows[0]["device"].startswith("cpu") and rows[0]["dtype"] == "float32"
