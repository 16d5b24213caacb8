"""Azure cost exports converted to Parquet by the tools that write it (pandas, Spark): typed dates in a time zone,
Tags as a list of key-value pairs and a column named twice by case load as the export's CSV does."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from abitest import load

from app.core.demo import generate

BY_DAY = ("SELECT toString(ChargePeriodStart) AS d, toString(BillingPeriodStart) AS p, "
          "toString(BillingPeriodEnd) AS e, count() AS n, toString(sum(BilledCost)) AS c FROM abi.focus_cost "
          "GROUP BY d, p, e ORDER BY d, p, e")
DATES = ("Date", "BillingPeriodStartDate", "BillingPeriodEndDate")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _text_columns(rows: list[dict[str, str]]) -> dict[str, pa.Array]:
    return {c: pa.array([r[c] or None for r in rows], pa.string()) for c in rows[0]}


def _parquet(original: Path, table: pa.Table, folder: Path) -> Path:
    """``table`` (the ``original`` export converted) saved as Parquet under the export's name in ``folder``: its
    load replaces the export's (same scope)."""
    folder.mkdir()
    converted = folder / original.with_suffix(".parquet").name
    pq.write_table(table, converted)
    return converted


def _loads_as_the_export(wh, original: Path, table: pa.Table, folder: Path) -> None:
    """``table`` as Parquet (``_parquet``) loads to the same rows, days and costs as the ``original`` export."""
    by_day = []
    for path in (original, _parquet(original, table, folder)):  # same export scope: the second load replaces the first
        f = load(wh, path).files[0]
        assert f.error is None and (f.rows_loaded, f.rows_quarantined) == (table.num_rows, 0), f
        by_day.append(wh.rows(BY_DAY))
    assert len(by_day[0]) >= 28 and by_day[0] == by_day[1]


@pytest.mark.parametrize("zone", ["+01:00", "Europe/Paris", "+05:30", "-05:00", "America/New_York"])
def test_dates_typed_as_timestamps_in_a_zone_keep_the_calendar_day_written(wh, tmp_path, zone):
    """pandas' ``tz_localize`` writes each date as midnight in the zone: east of UTC, the day before in UTC."""
    original = generate(tmp_path / "demo").actual
    rows = _rows(original)
    columns = _text_columns(rows)
    for name in DATES:
        midnight = pa.array([datetime.strptime(r[name], "%m/%d/%Y") for r in rows], pa.timestamp("ms"))
        columns[name] = pc.assume_timezone(midnight, zone)
    _loads_as_the_export(wh, original, pa.table(columns), tmp_path / "typed")


def test_tags_as_a_list_of_key_value_pairs_load_as_the_exports_tags(wh, tmp_path):
    """Spark and BigQuery write a tag map as a list of ``{key, value}`` structs."""
    original = generate(tmp_path / "demo").actual
    rows = _rows(original)
    columns = _text_columns(rows)
    pairs = [[{"key": k, "value": v} for k, v in json.loads(f"{{{r['Tags']}}}").items()] for r in rows]
    columns["Tags"] = pa.array(pairs, pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())])))
    tags = []
    for path in (original, _parquet(original, pa.table(columns), tmp_path / "listed")):
        f = load(wh, path).files[0]
        assert f.error is None and (f.rows_loaded, f.unmapped) == (len(rows), {}), f
        tags.append(wh.rows("SELECT x_SourceRow, toJSONString(Tags) AS t, x_SourceColumns FROM abi.focus_cost "
                            "ORDER BY x_SourceRow"))
    assert sum('"env":"prod"' in r["t"] for r in tags[1]) > 10 and tags[0] == tags[1]


def test_a_column_named_twice_by_case_quarantines_the_rows_where_its_two_values_differ(wh, tmp_path):
    """``CostInBillingCurrency`` and ``costinbillingcurrency``: which one is the cost, only rows that agree tell (as
    in a CSV file)."""
    rows = _rows(generate(tmp_path / "demo").actual)[:3]
    columns = _text_columns(rows)
    columns["costinbillingcurrency"] = pa.array([r["CostInBillingCurrency"] if n != 1 else "999"
                                                 for n, r in enumerate(rows)])
    path = tmp_path / "twice_actual.parquet"
    pq.write_table(pa.table(columns), path)
    f = load(wh, path).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 2, 1)
    at = list(columns).index("CostInBillingCurrency") + 1
    assert wh.scalar("SELECT reasons FROM abi.focus_quarantine") == [
        f"CostInBillingCurrency: the header names column CostInBillingCurrency twice (columns {at} and "
        f'{len(columns)}) and they differ: "{rows[1]["CostInBillingCurrency"]}" and "999"']
