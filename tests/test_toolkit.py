"""The experiments' shared toolkit: plateau, slope fits, the recorded Check, figure chores."""

import json

import numpy as np
import pytest

from sgd_bench_harness import toolkit


def test_plateau_averages_the_second_half_per_seed_then_over_seeds():
    steps = np.arange(10)
    gap = np.zeros((3, 10))
    gap[:, :5] = 100.0                      # the first half (steps < 4.5) is left out
    gap[:, 5:] = np.array([[1.0], [2.0], [6.0]])
    mean, se = toolkit.plateau(gap, steps)
    assert mean == pytest.approx(3.0)
    assert se == pytest.approx(np.std([1.0, 2.0, 6.0], ddof=1) / np.sqrt(3))
    assert isinstance(mean, float) and isinstance(se, float)


def test_decade_slope_reads_a_power_law_over_the_last_decade():
    k = np.arange(1, 1001, dtype=float)
    gap = np.where(k < 100, 1.0, 5.0 / k**2)   # not a power law before the last decade
    assert toolkit.decade_slope(k, gap) == pytest.approx(-2.0)
    assert toolkit.decade_slope(k, gap, lo_frac=0.01) != pytest.approx(-2.0, abs=0.1)


def test_jackknife_slope_is_exact_on_power_laws_and_its_se_is_the_jackknife_formula():
    k = np.arange(0, 2001, 10, dtype=float)
    k0 = 7.0
    scales = np.array([1.0, 2.0, 3.0, 5.0])[:, None]
    gap = scales / (k + k0)                  # every seed 1/(k + k0): slope -1 against k + k0
    fit, loo = toolkit.jackknife_slope(k, gap, k0=k0)
    assert fit == pytest.approx(-1.0)
    np.testing.assert_allclose(loo, -1.0)
    assert loo.shape == (4,)
    assert toolkit.jackknife_slope(k, gap)[0] != pytest.approx(-1.0, abs=1e-3)  # k0 matters
    assert toolkit.jackknife_se([1.0, 2.0, 3.0]) == pytest.approx(np.sqrt(2 / 3 * 2.0))
    assert toolkit.jackknife_se([4.0, 4.0]) == 0.0


def test_jackknife_slope_floors_the_mean_before_the_log():
    k = np.arange(0, 101, dtype=float)
    gap = np.zeros((2, 101))                # all rounding noise: the floor, a flat line
    fit, loo = toolkit.jackknife_slope(k, gap, floor=1e-10)
    assert fit == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(loo, 0.0, atol=1e-12)


def test_floors():
    assert toolkit.rounding_floor(0.5) == 16 * np.finfo(np.float64).eps
    assert toolkit.rounding_floor(-1e3) == 16 * np.finfo(np.float64).eps * 1e3
    np.testing.assert_array_equal(toolkit.floored(np.array([0.0, 1.0, -2.0])),
                                  [toolkit.GAP_FLOOR, 1.0, toolkit.GAP_FLOOR])


def test_check_record_keeps_the_stored_key_order_and_leaves_unset_keys_out():
    plain = toolkit.Check(claim="c", measured={"a": 1.0}, holds=np.bool_(True))
    assert list(plain.as_dict()) == ["claim", "measured", "holds"]
    assert plain.as_dict()["holds"] is True      # numpy's bool would not go into JSON
    full = toolkit.Check(claim="c", measured=2.0, holds=False, wallclock=True, summary="s")
    assert list(full.as_dict()) == ["claim", "measured", "holds", "wallclock", "summary"]
    assert list(toolkit.Check("c", 1, True, summary="s").as_dict()) == ["claim", "measured", "holds", "summary"]
    assert list(toolkit.Check("c", 1, True, fit="f", summary="s").as_dict()) == [
        "claim", "measured", "holds", "fit", "summary"]


def test_check_records_read_back(tmp_path):
    checks = [toolkit.Check("a", {"x": 1.5}, True), toolkit.Check("b", 3, False, wallclock=True, summary="s"),
              {"claim": "from bounds", "holds": True, "summary": "t", "measured": {}}]
    stored = toolkit.records(checks)
    assert stored[2] == checks[2] and list(stored[2]) == ["claim", "holds", "summary", "measured"]
    (tmp_path / "checks.json").write_text(json.dumps(stored))
    back = toolkit.read_checks(tmp_path)
    assert back[:2] == checks[:2]
    assert [c.as_dict() for c in back] == [toolkit.records([c])[0] for c in checks[:2]] + [
        {"claim": "from bounds", "measured": {}, "holds": True, "summary": "t"}]
    with pytest.raises(ValueError, match="unknown keys"):
        toolkit.Check.from_dict({"claim": "a", "measured": 1, "holds": True, "verdict": "x"})
    with pytest.raises(FileNotFoundError):
        toolkit.read_checks(tmp_path / "missing")


def test_figure_chores(tmp_path):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        ax.plot([1, 10], [1, 100], label="line")
    toolkit.log_axes(axes[0])
    toolkit.log_axes(axes[1], x=False)
    assert (axes[0].get_xscale(), axes[0].get_yscale()) == ("log", "log")
    assert (axes[1].get_xscale(), axes[1].get_yscale()) == ("linear", "log")
    toolkit.save(fig, tmp_path / "f.png", legend_axes=axes)
    assert len(fig.legends) == 1
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(fig)
