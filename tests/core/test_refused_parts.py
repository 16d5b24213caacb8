"""A split export loaded again with one part now damaged (truncated, corrupt): the part is refused, and the rows an
earlier load brought from it are kept (not replaced by the other parts' rows of the same scopes) until the part,
fixed, is loaded again; the other parts still replace their own earlier rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from abitest import csv_total, load, total, write_focus_parts
from connectortest import write_export_run

from app.core.demo import generate

MONTH = "2025-01"


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _corrupt(path: Path) -> None:
    """Scrambled pages behind an intact footer (Parquet's schema still reads)."""
    data = bytearray(path.read_bytes())
    for i in range(4, len(data) // 2):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def _file_total(wh, path: Path) -> Decimal:
    return total(wh, "BilledCost", f"x_SourceFile = '{path}'")


def _duplicates(wh) -> int:
    return wh.scalar("SELECT count() FROM (SELECT x_SourceFile, x_SourceRow FROM abi.focus_cost "
                     "GROUP BY x_SourceFile, x_SourceRow HAVING count() > 1)")


def _replaced(result) -> dict[str, int]:
    return {Path(e["path"]).name: e["rows_replaced"] for e in result.earlier_files}


@pytest.mark.parametrize("damage", [_truncate, _corrupt])
def test_a_refused_part_keeps_its_earlier_rows_until_it_is_loaded_again(wh, tmp_path, damage):
    parts = write_focus_parts(tmp_path / "export")
    assert load(wh, *parts).ok
    full, refused = total(wh, "BilledCost"), _file_total(wh, parts[2])
    good = parts[2].read_bytes()
    damage(parts[2])
    write_focus_parts(tmp_path / "new", scale=2)[0].replace(parts[0])  # a part that changed: its rows replaced
    changed = Decimal(21)  # its rows 0…6 cost 2i + 0.25 now, i + 0.25 before
    again = load(wh, *parts)
    assert [f.error is None for f in again.files] == [True, True, False, True]
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 28 and _duplicates(wh) == 0
    assert total(wh, "BilledCost") == full + changed and _file_total(wh, parts[2]) == refused
    assert _replaced(again) == {"part-00000.parquet": 7, "part-00001.parquet": 7, "part-00003.parquet": 7}
    assert any(f"{parts[2]}: refused, so the 7 rows" in w and MONTH in w for w in again.files[2].warnings)
    billed = next(r for r in again.reconciliation if r["metric"] == "BilledCost")
    assert Decimal(billed["difference"]) == refused  # the kept rows, which no file of this load holds
    parts[2].write_bytes(good)
    fixed = load(wh, *parts)
    assert fixed.ok and _replaced(fixed)["part-00002.parquet"] == 7
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 28 and _duplicates(wh) == 0
    assert total(wh, "BilledCost") == full + changed
    assert all(Decimal(r["difference"]) == 0 for r in fixed.reconciliation)


def test_a_refused_gzip_part_of_an_export_run_keeps_its_rows_beside_the_parts_read_with_it(wh, tmp_path):
    actual = generate(tmp_path / "demo", month=date(2026, 10, 1)).actual
    parts = write_export_run(tmp_path / "storage", "daily", "ActualCost", date(2026, 10, 1), "run-1",
                             "2026-11-02T00:00:00Z", actual, parts=3)
    assert load(wh, *parts).ok
    rows, billed = wh.scalar("SELECT count() FROM abi.focus_cost"), csv_total(actual, "CostInBillingCurrency")
    good = parts[1].read_bytes()
    _truncate(parts[1])
    again = load(wh, *parts)
    assert [f.error is None for f in again.files] == [True, False, True]
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == rows and total(wh, "BilledCost") == billed
    assert any("refused, so the" in w for w in again.files[1].warnings)
    parts[1].write_bytes(good)
    assert load(wh, *parts).ok
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == rows and total(wh, "BilledCost") == billed
    assert _duplicates(wh) == 0


def test_a_refused_file_of_nothing_loaded_before_gets_no_warning(wh, tmp_path):
    parts = write_focus_parts(tmp_path / "export")
    _truncate(parts[2])
    result = load(wh, *parts)
    assert result.files[2].error and not result.files[2].warnings
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 21
