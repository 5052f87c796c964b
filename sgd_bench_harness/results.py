"""Results I/O: atomic writes, run metadata, seed statistics of traces, tables and figures.

Each experiment writes tidy records (``sgd_bench_harness.records``), ``meta.json`` (versions,
device, dtype, config, git commit and the config hash), ``checks.json`` (each claim the figures
make, with the measured numbers and whether it holds), ``summary.md`` and PNG figures. Every
file is written to a temporary name and renamed (``atomic_write``), so a crash never leaves half
a file. A new file gets the mode the umask gives (``0o666 & ~umask``, as ``open`` would), a
rewritten one keeps its own mode: ``mkstemp``'s private 0600 never reaches a result.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import hashlib
import io
import json
import os
import platform
import re
import shlex
import stat
import subprocess
import sys
import tempfile
import unicodedata
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import jax
import numpy as np

from sgd_bench import stats, validation
from sgd_bench.runner import Trace
from sgd_bench_harness.arg_types import printable  # noqa: F401  (results.printable, as before)

STATISTICS = ("mean", "stderr", "q05", "q50", "q95")

_PACKAGES = ("jax", "jaxlib", "optax", "chex", "numpy", "matplotlib", "scikit-learn")


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_file_mode(path: Path) -> int:
    """The mode ``path`` should have after a rewrite: its own if it exists, else what the umask
    gives a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), mode)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` atomically."""
    atomic_write(Path(path), text.encode())


def write_json(path: Path, obj: Any) -> None:
    """Writes ``obj`` as indented JSON atomically (NumPy scalars and arrays allowed)."""
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"cannot write {type(o).__name__} to JSON")

    write_text(Path(path), json.dumps(obj, indent=2, default=default, sort_keys=False) + "\n")


def save_figure(fig, path: Path, dpi: int = 150) -> None:
    """Saves a matplotlib figure as PNG atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write(Path(path), buffer.getvalue())


def git_commit(cwd: Path | None = None) -> str | None:
    """The current commit hash, with '+dirty' when the code a run runs has uncommitted changes."""
    try:
        cwd = cwd or Path(__file__).resolve().parent
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=10)
        if head.returncode:
            return None
        # the code, all of it, from the top ("." was this package alone: a changed sgd_bench/ went unmarked)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *(
            f":(top){p}" for p in ("sgd_bench", "sgd_bench_harness", "problems", "scripts", "pyproject.toml"))],
            cwd=cwd, capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def device_label(device=None) -> str:
    """``platform:device_kind`` of ``device`` (default: JAX's first device), as records name it."""
    device = jax.devices()[0] if device is None else device
    return f"{device.platform}:{getattr(device, 'device_kind', '?')}"


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
        "devices": [device_label(d) for d in devices],
        "device_count": len(devices),
        "x64": bool(jax.config.jax_enable_x64),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def print_environment() -> int:
    """``sgd-bench env``: ``environment()`` and the free memory, a line each."""
    from sgd_bench import memory

    env = environment()
    free = memory.available_bytes()
    env["free memory"] = "unknown" if free is None else f"{free / 2**30:.1f} GiB on {env['devices'][0]}"
    for key, value in env.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v)
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key:>13}: {value}")
    return 0


def _canonical(obj: Any) -> Any:
    """Tuples as lists and keys sorted, so a config hashes alike before and after JSON."""
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def config_hash(name: str, config: Mapping[str, Any], *, dtype: str, backend: str | None = None) -> str:
    """A 12-hex-digit key of what a run computes: experiment, config, dtype and JAX backend.

    Equal hashes mean the same computation (the same key gives the same trace on the same
    backend); the git commit and the package versions are recorded in the metadata, not hashed.
    """
    payload = {"experiment": name, "config": _canonical(dict(config)), "dtype": str(dtype),
               "backend": backend or jax.default_backend()}
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_average() -> list[float] | None:
    """The host's 1, 5 and 15-minute load averages, or None where the OS keeps none."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


LOAD_AT_START = load_average()

# The command a run records: set by the command line around what it runs (``recording_command``),
# so that ``cli.main([...])`` called from Python records its own argv, not the host's sys.argv.
_COMMAND: contextvars.ContextVar[str | None] = contextvars.ContextVar("sgd_bench_command", default=None)


@contextlib.contextmanager
def recording_command(argv: Sequence[str] | None, *, replace: bool = True):
    """Inside, ``command_line()`` (meta.json's ``"command"``) is ``argv`` quoted as a shell would
    need it (``shlex.join``): the command that was actually run. ``replace=False`` keeps a command
    recorded outside (an experiment run by ``sgd-bench run`` records the ``sgd-bench`` command, not
    its own argv); ``argv=None`` records nothing."""
    if argv is None or (not replace and _COMMAND.get() is not None):
        yield
        return
    token = _COMMAND.set(shlex.join(str(a) for a in argv))
    try:
        yield
    finally:
        _COMMAND.reset(token)


def invocation() -> list[str]:
    """How this process was started, as a command to type again: ``python -m PACKAGE`` for a
    module run with ``-m`` (``python -m sgd_bench``: its ``sys.argv[0]`` is a ``__main__.py`` path
    nobody can paste), ``python PATH.py`` for a script, else the program's name (``sgd-bench``)."""
    first = sys.argv[0] if sys.argv else ""
    python = Path((getattr(sys, "orig_argv", None) or ["python"])[0]).name or "python"
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.origin and first and os.path.abspath(spec.origin) == os.path.abspath(first):
        module = spec.name[:-len(".__main__")] if spec.name.endswith(".__main__") else spec.name
        return [python, "-m", module]
    if first.endswith(".py"):
        return [python, first]
    return [Path(first).name] if first else [python]


def command_line() -> str:
    """The command this run records: the one ``recording_command`` set, else this process's own
    (``invocation()`` and its arguments, ``python scripts/NAME.py ...``)."""
    given = _COMMAND.get()
    return given if given is not None else shlex.join(invocation() + sys.argv[1:])


def metadata_record(name: str, config: Mapping[str, Any], *, dtype: str,
                    wall_seconds: float | None = None) -> dict[str, Any]:
    """The ``meta.json`` of a run: what ran, where, with what, and from which commit.

    ``sgd_bench_harness.experiment`` adds the run's ``status`` and ``config_hash`` around it.
    """
    return {
        "experiment": name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command_line(),
        "git_commit": git_commit(),
        "dtype": dtype,
        "config": dict(config),
        "wall_seconds": wall_seconds,
        # A wall time means little without the machine's load beside it (1, 5 and 15 minutes): at
        # the end, which counts the run too, and when this process loaded the harness.
        "load_average": load_average(),
        "load_average_start": LOAD_AT_START,
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
    ``num_diverged``, ``num_rose`` (seeds whose loss rose above the run's rise factor times
    max(|f(x_0)|, 1), ``Trace.rose``: only when there is one, so that records of runs where
    nothing rose keep their columns), and the metrics ``loss``, ``f_gap`` = |f(x_k) - f*| (when
    ``f_star`` is given), ``dist`` (when the trace has it) and ``grad_norm_sq``. Seeds that rose
    but stayed finite are in the statistics; diverged ones are not.
    """
    own = {"statistic", "step", "grad_evals", "flops", "num_seeds", "num_diverged", "num_rose", "loss",
           "f_gap", "dist", "grad_norm_sq"}
    clash = sorted(own & set(labels))
    if clash:  # a label by a column's name was silently replaced by the column
        raise ValueError(f"trace_records: the labels {', '.join(clash)} are names of its own columns; rename them")
    if f_star is not None:  # NaN gave a column of NaN gaps; a string, NumPy's ufunc error
        f_star = validation.finite_float("f_star", f_star)
    if flops_per_step is not None:
        flops_per_step = validation.nonnegative_float("flops_per_step", flops_per_step)
    diverged = np.asarray(trace.diverged)
    rose = 0 if trace.rose is None else int(np.sum(np.asarray(trace.rose)))
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
            if rose:
                row["num_rose"] = rose
            for name in metrics:
                row[name] = float(per_metric[name][statistic][t])
            rows.append(row)
    return rows


def curves(rows: Iterable[Mapping[str, Any]], *, by: str = "method", x: str = "step",
           **where: Any) -> dict[Any, dict[Any, np.ndarray]]:
    """Tidy rows back into arrays, for redrawing a figure from stored records.

    Keeps the rows whose columns equal ``where`` (for example ``figure="batches"``), groups them
    by the ``by`` column and sorts each group by ``x``. Each group becomes
    ``{x: array, column: array, (statistic, column): array}``: a numeric column is under
    ``(statistic, column)`` for every ``statistic`` the rows carry, and also under ``column``
    alone when it does not depend on the statistic (``grad_evals``, ``flops``, ...). Cells
    missing from the records are NaN.
    """
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for r in rows:
        if all(r.get(k) == v for k, v in where.items()):
            groups.setdefault(r.get(by), []).append(r)
    out = {}
    skip = {x, by, "statistic", *where}
    for label, rs in groups.items():
        xs = sorted({r[x] for r in rs if r.get(x) is not None})
        index = {v: i for i, v in enumerate(xs)}
        # Columns fill Python lists first: a NumPy array per column (and not per cell, as a
        # ``setdefault(key, np.full(...))`` would build) and no NumPy scalar per cell, which made
        # this the costliest step of reporting a run of 20,000 rows.
        cols: dict[Any, list[float]] = {}
        varying: set[str] = set()
        nan = float("nan")
        for r in rs:
            i = index.get(r.get(x))
            if i is None:
                continue
            stat = r.get("statistic")
            for col, v in r.items():
                if col in skip or isinstance(v, bool) or not isinstance(v, (int, float)):
                    continue
                v = float(v)
                if stat is not None:
                    cell = cols.get((stat, col))
                    if cell is None:
                        cell = cols[(stat, col)] = [nan] * len(xs)
                    cell[i] = v
                plain = cols.get(col)
                if plain is None:
                    plain = cols[col] = [nan] * len(xs)
                if plain[i] == plain[i] and plain[i] != v:  # a value already there (not NaN) differs
                    varying.add(col)
                plain[i] = v
        c: dict[Any, np.ndarray] = {x: np.asarray(xs)}
        c.update((key, np.array(values, dtype=np.float64)) for key, values in cols.items()
                 if key not in varying)
        out[label] = c
    return out


_MARKUP = re.compile(r"([\\`*_\[\]<>~#!&|])")  # what Markdown can read as markup (each escapable)


def markdown_literal(text: Any) -> str:
    """``text`` with every character Markdown could read as markup escaped, for a label the user
    chose: a spec naming the file ``_t_.svm`` or ``x*y*z.svm`` showed in italics on the page.
    Control characters show as their escapes, as on the terminal (``printable``): a file
    named ``a<newline>b.svm`` cut the summary's heading in two, and a right-to-left override
    (U+202E) turned the rest of the heading, other labels included, around on the page."""
    return _MARKUP.sub(r"\\\1", printable(text))


def markdown_code(text: Any) -> str:
    """``text`` as an inline code span that shows it as given: fenced by more backticks than any
    run of them inside (a command naming the file ``x`y`.svm`` lost its backticks on the page,
    the span ending at the first), control characters as their escapes (``printable``)."""
    text = printable(text)
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""  # CommonMark strips one each side
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str],
                   literal: Sequence[str] = ()) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` restricted to ``columns``; a cell shows its
    text as given (a backslash or a | in it included), on one line; the cells of the columns
    named in ``literal`` show no markup at all (``markdown_literal``)."""
    def cell(value, plain: bool = False) -> str:
        # A backslash is doubled first, or the one before a | would escape the \| that keeps the
        # cell whole and be lost; a bare | would end the cell, and a line break the row (the table
        # too): a cell's lines are joined by a space, as Markdown renders a soft line break.
        text = markdown_literal(value) if plain else str(value).replace("\\", "\\\\").replace("|", "\\|")
        return " ".join(text.splitlines())

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(cell(row.get(c, ""), c in literal) for c in columns) + " |")
    return "\n".join(lines)


def _width(text: str) -> int:
    """The columns ``text`` takes on a terminal: a wide East Asian character two, a combining one none."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def text_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A plain aligned table for the terminal, one line per row."""
    cells = [[printable(c) for c in columns]] + [[printable(r.get(c, "")) for c in columns]
                                                       for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(columns))]
    out = []
    for j, row in enumerate(cells):
        pads = [" " * (w - _width(cell)) for cell, w in zip(row, widths)]
        out.append("  ".join(pad + cell if j else cell + pad for cell, pad in zip(row, pads)))
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
