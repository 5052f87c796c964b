"""Tidy records: one file of rows per result (``records.parquet`` when pyarrow is installed, else
``records.csv``), written atomically, read back with their types, and fingerprinted.

``records_digest`` gives a records file's row count and SHA-256; runs store it in ``meta.json``
(``"records"``) so that ``sgd-bench report`` can tell a truncated or replaced file from the one the
run wrote (``verify_records``); ``files_digest`` does the same for the data files a grid read. ``SGD_BENCH_RECORDS=csv`` picks CSV where pyarrow is installed.

Types through a round trip: a cell of a CSV file reads back as an int, a float, a bool, text or
None (empty) by its own text, as it always did; so that a text cell that looks like a number or a
boolean ("1e3", "True", "nan", "007") comes back as the text it was, ``write_records`` records the
text columns holding such cells next to the records: ``records.types.json`` beside a CSV file
({column: "text"}), a key of a Parquet file's schema metadata (there the columns that mix text
with other kinds and were stored as text, to be read cell by cell; every other text column stays
text). A column that itself mixes numbers or booleans with text is read cell by cell: its text
cells that look like numbers are the one thing this does not keep. Files without a record (every
result committed before it) read exactly as before.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from sgd_bench_harness.results import atomic_write, write_text


RECORD_FORMATS = ("parquet", "csv")
# Where the columns read otherwise than by their cells are recorded: a file beside a CSV, a key of
# a Parquet file's schema metadata.
TYPES_SUFFIX = ".types.json"
TYPES_KEY = "sgd_bench.types"


def records_format() -> str:
    """"parquet" when pyarrow is importable, else "csv"; ``SGD_BENCH_RECORDS=csv`` forces CSV.
    Any other value (but ``parquet`` or empty) is refused: a typo such as ``cvs`` would otherwise
    write Parquet silently."""
    wanted = os.environ.get("SGD_BENCH_RECORDS", "").strip().lower()
    if wanted not in ("", *RECORD_FORMATS):
        raise ValueError(f"SGD_BENCH_RECORDS must be csv or parquet (or unset), got "
                         f"{os.environ['SGD_BENCH_RECORDS']!r}")
    if wanted == "csv":
        return "csv"
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        if wanted == "parquet":
            raise ValueError("SGD_BENCH_RECORDS=parquet needs pyarrow (pip install -e \".[parquet]\"), "
                             "which is not installed") from None
        return "csv"
    return "parquet"


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns


def write_records(path: Path, rows: Sequence[Mapping[str, Any]], format: str | None = None) -> Path:
    """Writes tidy rows atomically; returns the path written.

    ``path``'s suffix is replaced by the format's (``records`` -> ``records.parquet`` or
    ``records.csv``); ``format`` defaults to ``records_format()``. The columns are the union of
    the rows' keys, in order of first appearance; missing cells are empty (null in Parquet).
    """
    fmt = records_format() if format is None else format
    if fmt not in RECORD_FORMATS:
        raise ValueError(f"format must be one of {', '.join(RECORD_FORMATS)}; got {format!r}")
    path = Path(path)
    path = path.with_suffix("." + fmt) if path.suffix in (".csv", ".parquet") else \
        path.with_name(path.name + "." + fmt)
    columns = _columns(rows)
    kinds = _recorded_kinds(rows, columns, fmt)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({c: _parquet_column([row.get(c) for row in rows]) for c in columns})
        table = table.replace_schema_metadata({TYPES_KEY: json.dumps(kinds)})
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        atomic_write(path, buffer.getvalue())
        return path
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(v) for k, v in row.items()})
    # The old record goes first and the new one comes after the records: a crash in between
    # leaves records read cell by cell (as without a record), never records read by another's.
    types = types_file(path)
    types.unlink(missing_ok=True)
    write_text(path, buffer.getvalue())
    if kinds:
        write_text(types, json.dumps(kinds, indent=2) + "\n")
    return path


def types_file(path: Path) -> Path:
    """The file beside a CSV records file that lists its text columns with cells that look like
    numbers or booleans (``records.csv`` -> ``records.types.json``); absent when there are none."""
    path = Path(path)
    return path.with_name(path.name.removesuffix(path.suffix) + TYPES_SUFFIX)


def _kind(value) -> str:
    """"number", "bool" or "text": the kind of a value as written, or of a cell as parsed."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    return "text"


def _recorded_kinds(rows, columns, fmt: str) -> dict[str, str]:
    """The columns a file of format ``fmt`` must record to read back as written: in CSV the text
    columns with a cell that reads as a number or a boolean ("text"); in Parquet the columns that
    mix text with other kinds, stored as text ("mixed")."""
    kinds = {}
    for c in columns:
        values = [v for v in (row.get(c) for row in rows) if v is not None and not _empty(v)]
        written = {_kind(v) for v in values}
        if fmt == "parquet":
            if "text" in written and len(written) > 1 or "bool" in written and len(written) > 1:
                kinds[c] = "mixed"  # what _parquet_column stores as text
        elif written == {"text"} and any(_kind(_parse(text)) != "text"  # each distinct text once
                                         for text in {str(_fmt(v)) for v in values}):
            kinds[c] = "text"
    return kinds


def _empty(value) -> bool:
    return isinstance(value, str) and value == ""


def find_records(folder: Path) -> Path | None:
    """The records file of a result folder: the one its ``meta.json`` names (``"records"``), else
    Parquet first, then CSV; or None. A stray ``records.parquet`` beside the run's ``records.csv``
    (one's own export, or an earlier try's in the other format) was read instead, unchecked."""
    from sgd_bench_harness.folders import read_meta

    named = (read_meta(folder) or {}).get("records")
    if isinstance(named, Mapping) and named.get("file") in [f"records.{fmt}" for fmt in RECORD_FORMATS]:
        if (Path(folder) / named["file"]).is_file():
            return Path(folder) / named["file"]
    for fmt in RECORD_FORMATS:
        candidate = Path(folder) / f"records.{fmt}"
        if candidate.is_file():
            return candidate
    return None


def _records_file(path) -> Path:
    """``path`` itself, or the records file in it when it is a result folder."""
    path = Path(path)
    if path.is_dir():
        found = find_records(path)
        if found is None:
            raise FileNotFoundError(f"no records.parquet or records.csv in {path}")
        path = found
    return path


def records_digest(path: Path, rows: int | None = None) -> dict[str, Any]:
    """``{"file", "rows", "sha256"}`` of a records file (or of a result folder's): what a run
    stores in ``meta.json`` so that a report can check the records are the ones it wrote.
    ``rows``, when the caller knows it, saves reading the file back. A CSV file with a record of
    its text columns (``types_file``) adds it as ``"types"``, checked alike."""
    path = _records_file(path)
    digest = {"file": path.name, "rows": len(read_records(path)) if rows is None else int(rows),
              "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    kinds = _csv_kinds(path)
    if kinds:
        digest["types"] = kinds
    return digest


def files_digest(options: Mapping[str, Any]) -> dict[str, str]:
    """``{key: SHA-256}`` of the regular files a spec's options name (``libsvm:path=FILE``): what a
    grid stores in ``meta.json`` so that a resumed run can tell the file changed since its stored
    cells were computed (they were mixed silently with cells of the new file, under the old f*).
    A ``path`` is resolved as libsvm resolves it (``problems.libsvm.resolve_path``: ``~``, a bare
    name looked up in ``$SGD_BENCH_DATA``, a suffix such as ``.svm`` added): such a file was not
    hashed, so a file replaced, or ``$SGD_BENCH_DATA`` pointed elsewhere, mixed two data sets."""
    from problems.libsvm import resolve_path

    out = {}
    for key, value in options.items():
        if not isinstance(value, str) or not value.strip():
            continue
        try:  # only a path is looked up: preset=rcv1 must not hash a data set named rcv1 it never reads
            path = resolve_path(value) if key == "path" else Path(value)
        except (OSError, ValueError):
            continue
        if path.is_file():
            digest = hashlib.sha256()
            with open(path, "rb") as handle:  # in pieces: a data set may be larger than the memory
                for piece in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(piece)
            out[key] = digest.hexdigest()
    return out


def verify_records(folder: Path, stored: Any) -> str | None:
    """Why the records of ``folder`` are not the ones ``stored`` (a ``records_digest`` from
    ``meta.json``) describes, or None when they match."""
    if not isinstance(stored, Mapping) or not {"file", "rows", "sha256"} <= set(stored):
        return "meta.json's \"records\" entry is malformed"
    if stored["file"] not in [f"records.{fmt}" for fmt in RECORD_FORMATS]:
        # a records file is always the folder's own: "../x" or "/proc/kcore" would be read whole
        return f"meta.json's \"records\" entry names {str(stored['file'])[:80]!r}, not records.csv or records.parquet"
    path = Path(folder) / str(stored["file"])
    if not path.is_file():  # a FIFO or a device was said to be "missing"
        return f"{stored['file']} is " + ("not a regular file" if path.exists() else "missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest == stored["sha256"]:
        try:
            kinds = _csv_kinds(path)
        except (OSError, ValueError) as err:
            return f"{types_file(path).name} does not read back ({type(err).__name__})"
        if kinds != stored.get("types", {}):
            # the record decides how a column reads: "1e3" would come back as text or as 1000.0
            return (f"{types_file(path).name} is not the record of text columns the run wrote "
                    "(missing, added or edited)")
        return None
    try:
        rows = len(read_records(path))
    except Exception as err:  # a file cut mid-row may not even parse
        return f"{path.name} does not read back ({type(err).__name__}) and its checksum differs"
    return (f"{path.name} has {rows} rows where the run wrote {stored['rows']}, and its checksum "
            "differs" if rows != stored["rows"] else
            f"{path.name} has the {rows} rows the run wrote but its checksum differs (edited)")


def _parse(text):
    """A CSV cell (or a text cell of a mixed column) read alone: int, float, bool, text, or None."""
    if text is None or text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text in ("True", "False"):
        return text == "True"
    return text


def _csv_kinds(path: Path) -> dict[str, str]:
    """The record of text columns beside a CSV records file ({} when there is none, or for Parquet)."""
    types = types_file(path)
    if path.suffix != ".csv" or not types.is_file():
        return {}
    try:
        kinds = json.loads(types.read_text())
    except RecursionError:  # nested 100,000 deep: report printed RecursionError's traceback
        raise ValueError(f"{types} is nested too deep to be a record of text columns") from None
    if not isinstance(kinds, dict) or not set(kinds.values()) <= {"text"}:
        raise ValueError(f"{types} is not a record of text columns ({{column: \"text\"}})")
    return kinds


def _typed(cells: list, kind: str | None) -> list:
    """One CSV column's cells (None where a row lacks it): "text" as written, else cell by cell."""
    if kind == "text":
        return [None if c is None or c == "" else c for c in cells]
    return [_parse(c) for c in cells]


def read_records(path: Path) -> list[dict[str, Any]]:
    """Reads records back as a list of dicts, from a records file or a result folder.

    Numbers come back as int or float, booleans as bool, text as written (see the module
    docstring) and empty CSV cells as None, so both formats read alike.
    """
    path = _records_file(path)
    if not path.exists() and path.suffix == ".csv" and path.with_suffix(".parquet").is_file():
        path = path.with_suffix(".parquet")
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:  # report said "not rebuilt (ModuleNotFoundError: No module named 'pyarrow')"
            raise ValueError(f"{path.name} is Parquet, and reading it needs pyarrow, not installed here: "
                             "pip install -e \".[parquet]\" (or pip install pyarrow)") from None

        with open(path, "rb") as handle:  # a path pyarrow reads as its own (~/..., file:, s3:, hdfs:) failed
            table = pq.read_table(handle)  # the grid at its end, after every cell, at every resume
        stored = (table.schema.metadata or {}).get(TYPES_KEY.encode())
        if stored is None:  # written before the record: text cells were read one by one
            kinds = {c: "mixed" for c in table.column_names}
        else:
            kinds = json.loads(stored)
        columns = {c: table.column(c).to_pylist() for c in table.column_names}
        columns = {c: [_parse(v) if isinstance(v, str) else v for v in values]
                   if kinds.get(c) == "mixed" else values for c, values in columns.items()}
        return [dict(zip(columns, row)) for row in zip(*columns.values())] if columns else \
            [{} for _ in range(table.num_rows)]
    kinds = _csv_kinds(path)
    with open(path, newline="", encoding="utf-8") as handle:  # as written, whatever the locale
        reader = csv.DictReader(handle)
        rows = list(reader)
        names = list(reader.fieldnames or [])
    for i, row in enumerate(rows):
        if None in row or None in row.values():  # DictReader's marks of a row longer or shorter than the header
            raise ValueError(f"{path.name}: row {i + 1} does not have the header's {len(names)} cells")
    columns = {c: _typed([row.get(c) for row in rows], kinds.get(c)) for c in names}
    return [{c: values[i] for c, values in columns.items()} for i in range(len(rows))]


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _parquet_column(values: list) -> list:
    """A column Arrow can type: "" becomes null (as an empty CSV cell reads back), and a column
    mixing text with numbers is stored as text, which ``read_records`` parses cell by cell (its
    column is recorded "mixed")."""
    values = [None if v == "" else _plain(v) for v in values]
    kinds = {type(v) for v in values if v is not None}
    if str in kinds and len(kinds) > 1 or (bool in kinds and kinds - {bool}):
        return [None if v is None else str(v) for v in values]
    return values


def _fmt(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


def cell_records(trace, *, problem: str, method: str, start: int, f_star) -> list[dict[str, Any]]:
    """The rows of a grid cell: one per seed of the trace and logged step, with its flags."""
    loss = np.asarray(trace.loss, np.float64)
    gnorm = np.asarray(trace.grad_norm_sq, np.float64)
    steps = np.asarray(trace.step)[0]
    evals = np.asarray(trace.grad_evals)[0]
    diverged = np.asarray(trace.diverged)
    at = np.asarray(trace.diverged_step)
    negative = np.broadcast_to(np.asarray(trace.negative_step_at), diverged.shape)
    rose, rose_at = np.asarray(trace.rose), np.asarray(trace.rose_step)
    rows = []
    for s in range(loss.shape[0]):
        for t, k in enumerate(steps):
            rows.append(dict(problem=problem, method=method, seed=start + s, step=int(k),
                             grad_evals=int(evals[t]), loss=float(loss[s, t]),
                             f_gap=None if f_star is None else float(loss[s, t] - f_star),
                             grad_norm_sq=float(gnorm[s, t]), diverged=bool(diverged[s]),
                             diverged_step=int(at[s]), negative_step_at=int(negative[s]),
                             rose=bool(rose[s]), rose_step=int(rose_at[s])))
    return rows


def write_cell(cells_dir: Path, name: str, rows: Sequence[Mapping[str, Any]], marker: Mapping[str, Any]) -> None:
    """Stores a grid cell: its records, then its marker ``NAME.json`` (``marker`` with the records'
    row count and SHA-256, which ``read_cell`` checks: CSV records cut at a line boundary read back
    as fewer rows, silently)."""
    from sgd_bench_harness.results import write_json

    written = write_records(Path(cells_dir) / name, rows)
    for fmt in RECORD_FORMATS:  # the cell's file in the other format, from a try before (a resume
        if fmt != written.suffix[1:]:  # without pyarrow): read first, it failed the grid at its end
            (Path(cells_dir) / f"{name}.{fmt}").unlink(missing_ok=True)
    write_json(Path(cells_dir) / f"{name}.json", {**marker, "rows": len(rows),
                                                  "sha256": hashlib.sha256(written.read_bytes()).hexdigest()})


def read_cell(cells_dir: Path, name: str) -> tuple[list[dict[str, Any]], dict] | None:
    """A grid cell's stored records and its marker ``NAME.json`` (written after them), or None
    when the cell is not stored whole: no marker, or a marker or records that do not read back,
    or records whose row count or SHA-256 differ from the marker's (damaged on disk; markers
    written before the count have neither, and are read as before). A resumed run then computes
    the cell again instead of failing at its end or keeping a short cell."""
    from sgd_bench_harness.folders import read_json

    marker = read_json(cells_dir / f"{name}.json")
    if not isinstance(marker, dict) or not isinstance(marker.get("seconds"), (int, float)):
        return None
    labels = marker.get("labels", [""])  # a grid point's label each; older markers have none
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        return None
    for fmt in RECORD_FORMATS:
        path = cells_dir / f"{name}.{fmt}"
        if path.is_file():
            try:
                if "sha256" in marker and hashlib.sha256(path.read_bytes()).hexdigest() != marker["sha256"]:
                    continue  # not the file the marker names (one in the other format, left by an earlier try)
                rows = read_records(path)
            except Exception:  # noqa: BLE001 - what a damaged file raises depends on its format's reader
                continue  # (Parquet where pyarrow is missing too)
            return (rows, marker) if marker.get("rows", len(rows)) == len(rows) else None
    return None
