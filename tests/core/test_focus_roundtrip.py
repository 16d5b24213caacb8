"""A FOCUS dataset exported by ABI (Parquet and CSV) reads back as a FOCUS source with the same totals."""

from __future__ import annotations

from pathlib import Path

import pytest
from abitest import load, total

from app.core.demo import generate
from app.core.export import export
from app.core.warehouse import EmbeddedWarehouse


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_then_ingest_as_focus_keeps_every_row_and_total(wh, tmp_path: Path, fmt: str):
    files = generate(tmp_path / "demo")
    load(wh, files.actual, files.amortized)
    out = tmp_path / f"focus.{fmt}"
    rows = export(wh, fmt, out)
    columns = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
    expected = {c: total(wh, c) for c in columns}
    tagged = wh.scalar("SELECT countIf(toJSONString(Tags) != '{}') FROM abi.focus_cost")
    wh.close()  # chdb: one data directory per process at a time
    second = EmbeddedWarehouse(tmp_path / "second")
    try:
        result = load(second, out)
        f = result.files[0]
        assert (f.source, f.error) == ("azure-focus", None)  # ABI exports carry Microsoft x_ names
        assert f.rows_read == rows and f.rows_loaded == rows, f
        assert {c: total(second, c) for c in columns} == expected
        assert second.scalar("SELECT countIf(toJSONString(Tags) != '{}') FROM abi.focus_cost") == tagged
    finally:
        second.close()
