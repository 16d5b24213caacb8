"""x_SourceRow and a quarantined row's source_row are the row's number in its file (1 = the first row after the
header), however the engine splits the file to parse it in parallel."""

from __future__ import annotations

import csv
import gzip
import io
import json
from decimal import Decimal

import pytest
from abitest import focus_rows, load

from app.core.demo import HEADER, generate

CHUNK_BYTES = 64 * 1024
"""The parallel parser's chunk in these tests (10 MiB by default): the demo month spans several."""
BAD = 400
"""The row whose cost is not a number (in a later chunk)."""


def _numbered_rows(tmp_path, bad: int) -> list[list[str]]:
    """The demo's actual-cost rows, row N costing N.25 (row ``bad``: not a number), a value over two lines in each."""
    with open(generate(tmp_path / "demo").actual, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))[1:]
    cost = HEADER.index("CostInBillingCurrency")
    for n, row in enumerate(rows, start=1):
        row[cost] = "not-a-number" if n == bad else f"{n}.25"
    for row in rows:  # a chunk boundary may fall inside a quoted value
        row[HEADER.index("ServiceInfo2")] = "two\nlines"
    return rows


@pytest.mark.parametrize(("name", "title"), [
    ("numbered_actual.csv", "Usage Data Extract,"), ("numbered_actual.csv.gz", "Usage Data Extract,"),
    ("quoted_title_actual.csv", 'Report "Contoso'),  # read as a row, its open quote would swallow the rows below
])
def test_row_numbers_hold_in_every_chunk_of_a_file_parsed_in_parallel(wh, tmp_path, name, title):
    wh.command(f"SET min_chunk_bytes_for_parallel_parsing = {CHUNK_BYTES}")
    rows = _numbered_rows(tmp_path, BAD)
    text = io.StringIO()
    text.write(f"{title}\r\nGenerated,10/31/2026\r\n\r\n")  # title lines above the header
    csv.writer(text).writerows([HEADER, *rows])
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.getvalue().encode()) if name.endswith(".gz") else text.getvalue().encode())
    assert len(text.getvalue()) > 4 * CHUNK_BYTES
    f = load(wh, path).files[0]
    assert (f.error, f.rows_read, f.rows_quarantined) == (None, len(rows), 1)
    loaded = focus_rows(wh, "x_SourceRow, toString(BilledCost) AS cost")
    assert [r["x_SourceRow"] for r in loaded] == [n for n in range(1, len(rows) + 1) if n != BAD]
    assert all(Decimal(r["cost"]) == r["x_SourceRow"] + Decimal("0.25") for r in loaded)
    quarantined = wh.rows("SELECT source_row, raw_row FROM abi.focus_quarantine")
    assert [q["source_row"] for q in quarantined] == [BAD]
    assert json.loads(quarantined[0]["raw_row"])["CostInBillingCurrency"] == "not-a-number"


def test_parquet_row_numbers_hold_across_row_groups(wh, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _numbered_rows(tmp_path, bad=0)
    path = tmp_path / "numbered_actual.parquet"
    pq.write_table(pa.table({h: [r[i] for r in rows] for i, h in enumerate(HEADER)}), path, row_group_size=50)
    assert load(wh, path).files[0].rows_loaded == len(rows)
    loaded = focus_rows(wh, "x_SourceRow, toString(BilledCost) AS cost")
    assert [r["x_SourceRow"] for r in loaded] == list(range(1, len(rows) + 1))
    assert all(Decimal(r["cost"]) == r["x_SourceRow"] + Decimal("0.25") for r in loaded)
