"""The small toolkit the experiments share: the gap floor, the plateau of a constant-step run,
slope fits, the recorded ``Check`` and the figure chores every experiment repeats.

Each piece replaces code that existed several times in the experiments, and computes exactly
what those copies computed: a committed result must rebuild byte for byte. That is why the slope
fits here are ``np.polyfit`` (as in the copies) and the jackknife stays a jackknife: the
bootstrap interval of ``sgd_bench.rates.fit`` gives other numbers, so it is offered beside them
(``rate_fit``, ``loglog_slope``), not in their place.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from sgd_bench import rates
from sgd_bench_harness import plots, results
from sgd_bench_harness import folders

# |f - f*| is drawn on log axes and fitted in logs; values below float64 rounding of f*
# (about 1e-16 for f* of order 1) are rounding noise, not progress.
GAP_FLOOR = 1e-16
Z95 = 1.96  # the two-sided 95% normal quantile the checks use

# The bootstrap fit and the cost-against-size slope with a t interval, for new code.
rate_fit = rates.fit
loglog_slope = rates.loglog_slope


def rounding_floor(f_star: float) -> float:
    """The smallest f(x_k) - f* float64 can resolve for an optimum of value ``f_star``:
    16 ulps of max(1, |f*|)."""
    return 16 * np.finfo(np.float64).eps * max(1.0, abs(f_star))


def floored(values, floor: float = GAP_FLOOR) -> np.ndarray:
    """``values`` clipped from below at ``floor`` (for log axes and logs)."""
    return np.maximum(values, floor)


def plateau(gap, steps) -> tuple[float, float]:
    """The plateau of a constant-step run: the per-seed mean of ``gap`` (seeds x logged steps)
    over the second half of the run (``steps >= steps[-1] / 2``), then its mean and standard
    error over the seeds."""
    per_seed = np.asarray(gap)[:, steps >= steps[-1] / 2].mean(axis=1)
    return float(per_seed.mean()), float(per_seed.std(ddof=1) / np.sqrt(len(per_seed)))


def slope(x, y) -> float:
    """The least-squares slope of ``y`` against ``x`` (a degree-1 ``np.polyfit``)."""
    return float(np.polyfit(x, y, 1)[0])


def decade_slope(k, mean_gap, *, lo_frac: float = 0.1) -> float:
    """The log-log slope of ``mean_gap`` against ``k`` over ``k >= lo_frac * k[-1]`` (the last
    decade by default): -1 for a gap that falls as 1/k."""
    k = np.asarray(k)
    keep = k >= lo_frac * k[-1]
    return slope(np.log(k[keep]), np.log(np.asarray(mean_gap)[keep]))


def jackknife_slope(k, gap, *, k0: float = 0.0, floor: float = GAP_FLOOR) -> tuple[float, np.ndarray]:
    """The log-log slope of the seed mean of ``gap`` (seeds x logged steps) against ``k + k0``
    over the last decade of k (k > 0), and its leave-one-seed-out values.

    The leave-one-out slopes give the jackknife standard error (``jackknife_se``), and for two
    methods run on the same seeds a paired one: ``jackknife_se(loo_a - loo_b)``.
    """
    k, gap = np.asarray(k), np.asarray(gap)
    keep = (k >= k[-1] / 10) & (k > 0)
    logk = np.log(k[keep] + k0)
    g = gap[:, keep]

    def fit(mean):
        return slope(logk, np.log(np.maximum(mean, floor)))

    s = len(g)
    total = g.sum(axis=0)
    loo = np.array([fit((total - g[i]) / (s - 1)) for i in range(s)])
    return fit(total / s), loo


def jackknife_se(loo) -> float:
    """The jackknife standard error from leave-one-out estimates."""
    loo = np.asarray(loo)
    s = len(loo)
    return float(np.sqrt((s - 1) / s * np.sum((loo - loo.mean()) ** 2)))


@dataclasses.dataclass(frozen=True)
class Check:
    """One claim of an experiment, as recorded in ``checks.json``.

    - ``claim``: the statement, with its threshold;
    - ``measured``: what it was decided on (a number, or a JSON-ready dict or list);
    - ``holds``: whether it held; None for a claim this run could not evaluate;
    - ``fit``: the fit it was decided on, in words (for the summary line), else left out;
    - ``wallclock``: True for a claim about measured time (machine-dependent), else left out;
    - ``summary``: the line the summary shows instead of claim + measured, else left out;
    - ``skipped``: why the claim was not evaluated (with ``holds`` None), else left out. Such a
      check shows as "not evaluated", neither held nor failed (``experiment.verdict``).
    """

    claim: str
    measured: Any
    holds: bool | None
    fit: str | None = None
    wallclock: bool | None = None
    summary: str | None = None
    skipped: str | None = None

    def __post_init__(self):
        # Decided (issue 18, leftovers32c): a claim a run cannot evaluate says so in its own state,
        # never as a held claim whose words say "not evaluated"; it needs its reason, and a reason
        # goes only with that state.
        if (self.holds is None) != (self.skipped is not None):
            raise ValueError("a check is not evaluated (holds None) exactly when it gives why (skipped), "
                             f"got holds {self.holds!r} and skipped {self.skipped!r} (claim {str(self.claim)[:60]!r})")
        if self.skipped is not None and (not isinstance(self.skipped, str) or not self.skipped.strip()):
            raise ValueError(f"a check's skipped must be a non-empty text, got {self.skipped!r}")

    def as_dict(self) -> dict[str, Any]:
        """The record: claim, measured, holds, then fit, wallclock, summary and skipped where set."""
        record = {"claim": self.claim, "measured": self.measured,
                  "holds": None if self.holds is None else bool(self.holds)}
        if self.fit is not None:
            record["fit"] = self.fit
        if self.wallclock is not None:
            record["wallclock"] = self.wallclock
        if self.summary is not None:
            record["summary"] = self.summary
        if self.skipped is not None:
            record["skipped"] = self.skipped
        return record

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> "Check":
        """A check read back from its record (unknown keys are refused, by name)."""
        extra = set(record) - {f.name for f in dataclasses.fields(cls)}
        if extra:
            raise ValueError(f"a check record has unknown keys {sorted(extra)}")
        holds = record.get("holds")
        if not isinstance(holds, bool) and not (holds is None and "skipped" in record):
            # a hand-edited "false" (a text) showed as held; null goes with skipped (not evaluated)
            raise ValueError(f"a check record's holds must be true or false, got {holds!r} "
                             f"(claim {str(record.get('claim', '?'))[:60]!r})")
        return cls(**record)


def records(checks: Iterable[Check | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The JSON-ready list for ``checks.json``: a ``Check`` becomes its ``as_dict()``, a record
    that is already a dict (``sgd_bench.bounds`` makes them) passes as it is."""
    return [c.as_dict() if isinstance(c, Check) else dict(c) for c in checks]


def read_checks(folder: Path) -> list[Check]:
    """The checks a run stored in ``folder/checks.json``."""
    checks = folders.read_json(Path(folder) / "checks.json")
    if checks is None:
        raise FileNotFoundError(f"{folder} has no checks.json")
    return [Check.from_dict(c) for c in checks]


# -- figures -----------------------------------------------------------------------------------
def log_axes(ax, *, x: bool = True, y: bool = True) -> None:
    """Puts ``ax`` on log scales (both by default)."""
    if x:
        ax.set_xscale("log")
    if y:
        ax.set_yscale("log")


def save(fig, path: Path, *, legend_axes=None, ncol: int | None = None, dpi: int | None = None) -> None:
    """Lays out and saves a figure. With ``legend_axes``, one legend for the figure goes under
    the panels (``plots.legend_below``) and the layout leaves it room."""
    if legend_axes is not None:
        plots.legend_below(fig, legend_axes, ncol=ncol)
        fig.tight_layout(rect=(0, 0.07, 1, 1))
    else:
        fig.tight_layout()
    results.save_figure(fig, path, **({} if dpi is None else {"dpi": dpi}))
