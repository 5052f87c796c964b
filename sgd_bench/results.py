"""Results I/O: tidy records, run metadata, summaries and figures under ``results/<name>/``.

Each experiment writes ``records.csv`` (one row per method x seed statistic x logged step),
``meta.json`` (versions, device, dtype, config, git commit), ``checks.json`` (each claim the
figures make, with the measured numbers and whether it holds), ``summary.md`` and PNG figures.
Every file is written to a temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import jax
import numpy as np

from sgd_bench import stats
from sgd_bench.runner import Trace

STATISTICS = ("mean", "stderr", "q05", "q50", "q95")

_PACKAGES = ("jax", "jaxlib", "optax", "chex", "numpy", "matplotlib", "scikit-learn")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` atomically."""
    _atomic_write(Path(path), text.encode())


def write_json(path: Path, obj: Any) -> None:
    """Writes ``obj`` as indented JSON atomically (NumPy scalars and arrays allowed)."""
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"cannot write {type(o).__name__} to JSON")

    write_text(Path(path), json.dumps(obj, indent=2, default=default, sort_keys=False) + "\n")


def write_records(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Writes tidy rows as CSV atomically; the columns are the union of the rows' keys, in order."""
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(v) for k, v in row.items()})
    write_text(Path(path), buffer.getvalue())


def read_records(path: Path) -> list[dict[str, str]]:
    """Reads a records CSV back as a list of dicts of strings."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _fmt(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


def save_figure(fig, path: Path, dpi: int = 150) -> None:
    """Saves a matplotlib figure as PNG atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    _atomic_write(Path(path), buffer.getvalue())


def git_commit(cwd: Path | None = None) -> str | None:
    """The current commit hash, with '+dirty' when code (not results/) has uncommitted changes."""
    try:
        cwd = cwd or Path(__file__).resolve().parent
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=10)
        if head.returncode:
            return None
        # results/ is what runs write, so changes there do not make the code dirty.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude,top)results"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict[str, Any]:
    """Versions, device and precision of this process, for a run's metadata."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    devices = jax.devices()
    return {
        "versions": versions,
        "backend": jax.default_backend(),
        "devices": [f"{d.platform}:{getattr(d, 'device_kind', '?')}" for d in devices],
        "device_count": len(devices),
        "x64": bool(jax.config.jax_enable_x64),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def metadata_record(name: str, config: Mapping[str, Any], *, dtype: str,
                    wall_seconds: float | None = None) -> dict[str, Any]:
    """The ``meta.json`` of a run: what ran, where, with what, and from which commit."""
    return {
        "experiment": name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "git_commit": git_commit(),
        "dtype": dtype,
        "config": dict(config),
        "wall_seconds": wall_seconds,
        **environment(),
    }


def seed_statistics(values, diverged=None) -> dict[str, np.ndarray]:
    """{statistic: array over logged steps} for the names in ``STATISTICS``."""
    summary = stats.summarize(values, diverged, qs=(0.05, 0.5, 0.95))
    return {"mean": summary.mean, "stderr": summary.stderr, "q05": summary.quantiles[0.05],
            "q50": summary.quantiles[0.5], "q95": summary.quantiles[0.95]}


def trace_records(trace: Trace, *, f_star: float | None = None, flops_per_step: float | None = None,
                  **labels: Any) -> list[dict[str, Any]]:
    """Tidy rows for a seed-batched trace: one per seed statistic x logged step.

    Columns: the ``labels`` (experiment, problem, method, ...), ``statistic``, ``step``,
    ``grad_evals``, ``flops`` (when ``flops_per_step`` is given), ``num_seeds``,
    ``num_diverged``, and the metrics ``loss``, ``f_gap`` = |f(x_k) - f*| (when ``f_star`` is
    given), ``dist`` (when the trace has it) and ``grad_norm_sq``.
    """
    diverged = np.asarray(trace.diverged)
    if diverged.ndim != 1:
        raise ValueError("trace_records needs a seed-batched trace (from run_seeds)")
    metrics = {"loss": np.asarray(trace.loss, np.float64)}
    if f_star is not None:
        metrics["f_gap"] = np.abs(metrics["loss"] - f_star)
    if trace.dist is not None:
        metrics["dist"] = np.asarray(trace.dist, np.float64)
    metrics["grad_norm_sq"] = np.asarray(trace.grad_norm_sq, np.float64)
    per_metric = {name: seed_statistics(v, diverged) for name, v in metrics.items()}
    steps = np.asarray(trace.step)[0]
    evals = np.asarray(trace.grad_evals)[0]
    rows = []
    for statistic in STATISTICS:
        for t, k in enumerate(steps):
            row = dict(labels)
            row.update(statistic=statistic, step=int(k), grad_evals=int(evals[t]))
            if flops_per_step is not None:
                row["flops"] = float(flops_per_step) * int(k)
            row.update(num_seeds=len(diverged), num_diverged=int(diverged.sum()))
            for name in metrics:
                row[name] = float(per_metric[name][statistic][t])
            rows.append(row)
    return rows


def markdown_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` restricted to ``columns``."""
    def cell(value) -> str:
        return str(value).replace("|", "\\|")  # a bare | would end the cell

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def text_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A plain aligned table for the terminal."""
    cells = [[str(c) for c in columns]] + [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    out = []
    for j, row in enumerate(cells):
        out.append("  ".join(cell.rjust(w) if j else cell.ljust(w) for cell, w in zip(row, widths)))
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
