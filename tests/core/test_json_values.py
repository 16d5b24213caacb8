"""JSON values parsed ahead (app.core.json_values): every row gets the Tags and SkuPriceDetails a row-by-row cast
gives, whether its text was in the sample read ahead or not, and bad JSON is still quarantined."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from abitest import focus_rows, load, write_csv

from app.core import json_values
from app.core.demo import generate

JSON_SQL = "x_SourceRow AS row, toJSONString(Tags) AS tags, toJSONString(SkuPriceDetails) AS details"


@pytest.fixture
def ahead(monkeypatch) -> list[bool]:
    """Parse ahead for files of any size, from their first 5 rows; the list records what ``prepare`` returned."""
    monkeypatch.setattr(json_values, "MIN_BYTES", 0)
    monkeypatch.setattr(json_values, "SAMPLE_ROWS", 5)
    calls: list[bool] = []
    prepare = json_values.prepare

    def spy(*args) -> bool:
        calls.append(prepare(*args))
        return calls[-1]

    monkeypatch.setattr(json_values, "prepare", spy)
    return calls


def _loaded(wh, path: Path) -> tuple[list[dict], list[dict]]:
    result = load(wh, path)
    assert result.ok, result.files[0].error
    quarantine = wh.rows("SELECT source_row, reasons FROM abi.focus_quarantine ORDER BY source_row")
    return focus_rows(wh, JSON_SQL), quarantine


def _row_by_row(wh, path: Path, monkeypatch) -> tuple[list[dict], list[dict]]:
    """The same file loaded again (replacing itself) with every value cast row by row."""
    monkeypatch.setattr(json_values, "MIN_BYTES", 1 << 60)
    return _loaded(wh, path)


def test_an_azure_export_gets_the_same_tags_and_details_as_a_row_by_row_cast(wh, tmp_path, ahead, monkeypatch):
    path = generate(tmp_path, scale=1).actual
    parsed = _loaded(wh, path)
    assert ahead == [True]
    assert parsed == _row_by_row(wh, path, monkeypatch)
    rows = parsed[0]
    assert len({r["tags"] for r in rows}) > 5  # values beyond the 5 rows read ahead were cast on their own
    assert any('"env"' in r["tags"] for r in rows) and any(r["details"] != "{}" for r in rows)


def test_a_focus_file_keeps_its_key_value_tags_details_and_quarantine(wh, tmp_path, ahead, monkeypatch):
    header = ["BilledCost", "EffectiveCost", "BillingAccountId", "BillingCurrency", "BillingPeriodStart",
              "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ProviderName",
              "ServiceName", "ServiceCategory", "Tags", "SkuPriceDetails"]
    base = {"BilledCost": "1", "EffectiveCost": "1", "BillingAccountId": "a", "BillingCurrency": "USD",
            "BillingPeriodStart": "2024-01-01T00:00:00Z", "BillingPeriodEnd": "2024-02-01T00:00:00Z",
            "ChargePeriodStart": "2024-01-01T00:00:00Z", "ChargePeriodEnd": "2024-01-02T00:00:00Z",
            "ChargeCategory": "Usage", "ProviderName": "Acme", "ServiceName": "VM", "ServiceCategory": "Compute"}
    tags = ['{"env": "prod"}', '[{"key": "team", "value": "a"}]', "env=prod", "", 'NULL', '{"env": "prod"}',
            '{"a": "b\tc"}', '{"env": "dev", "n": 1}']
    details = ['{"CoreCount": 4}', "", '{"CoreCount": 4}', "[1]", '{"x": {"y": 2}}', '{"CoreCount": 4}', "", ""]
    rows = [{**base, " Tags": t, "SkuPriceDetails": d} for t, d in zip(tags, details, strict=True)]
    path = write_csv(tmp_path / "focus.csv", [f" {h}" if h == "Tags" else h for h in header], rows, bom=True)
    parsed = _loaded(wh, path)
    assert ahead == [True]
    assert parsed == _row_by_row(wh, path, monkeypatch)
    loaded, quarantine = parsed
    assert [r["tags"] for r in loaded][:4] == ['{"env":"prod"}', '{"team":"a"}', "{}", "{}"]
    assert quarantine == [] and [r["details"] for r in loaded][2:4] == ['{"CoreCount":4}', "{}"]
    # tags env=prod (row 3) and details a list, not an object (row 4): kept as text in x_SourceColumns


def test_a_parquet_file_with_map_tags(wh, tmp_path, ahead, monkeypatch):
    stamps = [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in range(1, 9)]
    n = len(stamps)
    table = pa.table({
        "BilledCost": [1.0] * n, "EffectiveCost": [1.0] * n, "BillingAccountId": ["a"] * n,
        "BillingCurrency": ["USD"] * n, "BillingPeriodStart": [stamps[0]] * n,
        "BillingPeriodEnd": [dt.datetime(2024, 2, 1, tzinfo=dt.UTC)] * n, "ChargePeriodStart": stamps,
        "ChargePeriodEnd": stamps[1:] + [dt.datetime(2024, 1, 9, tzinfo=dt.UTC)], "ChargeCategory": ["Usage"] * n,
        "ProviderName": ["AWS"] * n, "ServiceName": ["EC2"] * n, "ServiceCategory": ["Compute"] * n,
        "Tags": pa.array([[("env", "prod")], None, [], [("env", "prod")], [("team", f"t{i}")
                          for i in range(3)], [("env", "dev")], None, [("env", "prod"), ("x", "1")]],
                         pa.map_(pa.string(), pa.string())),
    })
    pq.write_table(table, tmp_path / "focus.parquet")
    parsed = _loaded(wh, tmp_path / "focus.parquet")
    assert ahead == [True]
    assert parsed == _row_by_row(wh, tmp_path / "focus.parquet", monkeypatch)
    assert [r["tags"] for r in parsed[0]][-1] == '{"env":"prod","x":"1"}'


def test_a_file_with_more_distinct_values_than_allowed_is_cast_row_by_row(wh, tmp_path, ahead, monkeypatch):
    monkeypatch.setattr(json_values, "MAX_DISTINCT", 2)
    monkeypatch.setattr(json_values, "SAMPLE_ROWS", 1000)
    path = generate(tmp_path, scale=1).actual
    parsed = _loaded(wh, path)
    assert ahead == [False]
    assert not wh.rows("SELECT name FROM system.tables WHERE name LIKE '%\\_json'")
    assert parsed == _row_by_row(wh, path, monkeypatch)


def json_typed_parquet(path: Path) -> Path:
    """A FOCUS Parquet file whose Tags and an extra column have Parquet's JSON type (DuckDB's JSON columns)."""
    n = 3
    day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    pq.write_table(pa.table({
        "BilledCost": [1.5] * n, "EffectiveCost": [1.5] * n, "BillingAccountId": ["a"] * n,
        "BillingCurrency": ["USD"] * n, "BillingPeriodStart": [day] * n,
        "BillingPeriodEnd": [dt.datetime(2024, 2, 1, tzinfo=dt.UTC)] * n, "ChargePeriodStart": [day] * n,
        "ChargePeriodEnd": [dt.datetime(2024, 1, 2, tzinfo=dt.UTC)] * n, "ChargeCategory": ["Usage"] * n,
        "ProviderName": ["AWS"] * n, "ServiceName": ["EKS"] * n, "ServiceCategory": ["Compute"] * n,
        "Tags": pa.array(['{"kubernetes.io/cluster": "c1"}', '{"a": "2", "a.b": "1"}', None], pa.json_()),
        "Extra": pa.array(['[1, 2]', '{"k": "v"}', '"x"'], pa.json_()),
    }), path)
    return path


def test_a_parquet_json_column_is_read_as_its_text(wh, tmp_path):
    """The engine's JSON type made dotted tag keys nested objects (``{"kubernetes": {"io/cluster": …}}``, a key
    twice) and refused the file over ``[1, 2]``, a value that is not an object, in a column no FOCUS column reads."""
    result = load(wh, json_typed_parquet(tmp_path / "focus.parquet"))
    assert result.ok and result.files[0].rows_loaded == 3, result.files[0].error
    rows = focus_rows(wh, "toJSONString(Tags) AS tags, x_SourceColumns['Extra'] AS extra")
    assert [r["tags"] for r in rows] == ['{"kubernetes.io/cluster":"c1"}', '{"a":"2","a.b":"1"}', "{}"]
    assert [r["extra"] for r in rows] == ["[1, 2]", '{"k": "v"}', '"x"']
