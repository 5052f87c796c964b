"""Records keep each column's type through a round trip (``sgd_bench_harness.records``): a text
column whose cells look like numbers or booleans stays text, in CSV and in Parquet; numbers,
booleans and columns that mix kinds read back as written; the record of text columns is part of
what ``verify_records`` checks; files written without a record read as they did (cell by cell)."""

from __future__ import annotations

import json

import pytest

from sgd_bench_harness import records

# Each column is one case: text that reads as numbers, booleans or NaN; text beside such text;
# numbers (int and float), booleans, and columns mixing kinds (as a user's own rows may).
ROWS = [
    dict(label="1e3", flag="True", missing="nan", code="007", name="1e3", step=0, loss=0.5,
         ok=True, mixed=3, both=True),
    dict(label="2", flag="False", missing="inf", code="12", name="abc", step=10, loss=1e-300,
         ok=False, mixed="n/a", both=2.5),
    dict(label="-0.5", flag="True", missing="NaN", code="1_000", name="True", step=20, loss=float("inf"),
         ok=True, mixed=0.25, both=None),
]


def _same(back, rows):
    """Equal values of equal types (1 == 1.0 == True in Python; NaN != NaN)."""
    assert len(back) == len(rows)
    for got, want in zip(back, rows):
        assert list(got) == list(want)
        for key, value in want.items():
            assert type(got[key]) is type(value) and (got[key] == value or got[key] != got[key]), \
                (key, got[key], value)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_each_column_keeps_its_type(tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (installed by the test extra)")
    path = records.write_records(tmp_path / "records", ROWS, format=fmt)
    _same(records.read_records(path), ROWS)
    _same(records.read_records(tmp_path), ROWS)


def test_csv_types_are_recorded_only_where_the_cells_cannot_tell(tmp_path):
    path = records.write_records(tmp_path / "records", ROWS, format="csv")
    kinds = json.loads(records.types_file(path).read_text())
    # numbers, booleans and columns mixing them with text ("n/a") read right cell by cell
    assert kinds == {"label": "text", "flag": "text", "missing": "text", "code": "text", "name": "text"}
    # rows that need no record remove an old one: it would type the new columns
    plain = [dict(label=1.5, flag=True), dict(label=2, flag=False)]
    records.write_records(tmp_path / "records", plain, format="csv")
    assert not records.types_file(path).exists()
    _same(records.read_records(tmp_path), plain)


def test_records_without_a_record_of_text_columns_read_cell_by_cell_as_before(tmp_path):
    """Every committed result has no record: its cells read as they always did (local_minima's
    batch column holds "1" and "n", and its report compares the batch with 1)."""
    (tmp_path / "records.csv").write_text("batch,step,ok\n1,1,True\nn,2,False\n,3,\n")
    assert records.read_records(tmp_path) == [dict(batch=1, step=1, ok=True), dict(batch="n", step=2, ok=False),
                                              dict(batch=None, step=3, ok=None)]


def test_the_record_of_kinds_is_checked_with_the_records(tmp_path):
    path = records.write_records(tmp_path / "records", ROWS, format="csv")
    digest = records.records_digest(path, len(ROWS))
    assert digest["types"] == json.loads(records.types_file(path).read_text())
    assert records.verify_records(tmp_path, digest) is None
    kinds = records.types_file(path)
    saved = kinds.read_text()
    kinds.unlink()  # the labels would read back as numbers
    assert "records.types.json is not the record of text columns the run wrote" in \
        records.verify_records(tmp_path, digest)
    kinds.write_text("[1, 2]")
    assert "records.types.json does not read back" in records.verify_records(tmp_path, digest)
    kinds.write_text(saved)
    assert records.verify_records(tmp_path, digest) is None
    # records without a record (every committed result): none expected, none there
    plain = records.write_records(tmp_path / "records", [dict(a=1)], format="csv")
    assert "types" not in records.records_digest(plain)
    assert records.verify_records(tmp_path, records.records_digest(plain)) is None


def test_a_row_longer_or_shorter_than_the_header_is_refused(tmp_path):
    for text in ("a,b\n1,2\n3\n", "a,b\n1,2\n3,4,5\n"):
        (tmp_path / "records.csv").write_text(text)
        with pytest.raises(ValueError, match=r"records.csv: row 2 does not have the header's 2 cells"):
            records.read_records(tmp_path)


def test_parquet_written_before_the_record_reads_as_it_did(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (installed by the test extra)")
    import pyarrow.parquet as pq

    # what write_records stored before: text cells, parsed one by one on reading
    pq.write_table(pa.table({"mixed": ["3", "n/a"], "loss": [0.5, 1.0]}), tmp_path / "records.parquet")
    assert records.read_records(tmp_path) == [dict(mixed=3, loss=0.5), dict(mixed="n/a", loss=1.0)]
