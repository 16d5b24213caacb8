"""FOCUS files as providers write them: typed Parquet (decimals, floats, timestamps, Tags as a map) and bad JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from abitest import focus_rows, load, total, write_csv

UTC = dt.UTC
DAYS = (1, 2, 3)


def _stamps(days: tuple[int, ...], month: int = 1) -> pa.Array:
    return pa.array([dt.datetime(2024, month, d, tzinfo=UTC) for d in days], pa.timestamp("ms", tz="UTC"))


def _typed_focus_table() -> pa.Table:
    """Three usage rows typed the way a cloud's FOCUS export types them (not as text)."""
    n = len(DAYS)
    return pa.table({
        "BilledCost": pa.array([Decimal("1.5"), Decimal("2.25"), Decimal("0")], pa.decimal128(38, 10)),
        "EffectiveCost": pa.array([1.5, 2.25, 1e-7], pa.float64()),
        "ListCost": [1.5, 2.25, 0.0], "ContractedCost": [1.5, 2.25, 0.0],
        "BillingAccountId": ["123"] * n, "BillingAccountName": ["acme"] * n, "BillingCurrency": ["USD"] * n,
        "BillingPeriodStart": _stamps((1,) * n), "BillingPeriodEnd": _stamps((1,) * n, month=2),
        "ChargePeriodStart": _stamps(DAYS), "ChargePeriodEnd": _stamps(tuple(d + 1 for d in DAYS)),
        "ChargeCategory": ["Usage"] * n, "ChargeDescription": ["m5.large"] * n, "ChargeFrequency": ["Usage-Based"] * n,
        "InvoiceIssuerName": ["AWS"] * n, "ProviderName": ["AWS"] * n, "PublisherName": ["AWS"] * n,
        "ServiceName": ["Amazon EC2"] * n, "ServiceCategory": ["Compute"] * n, "RegionId": ["us-east-1"] * n,
        "PricingQuantity": pa.array([1, 2, 3], pa.int64()), "SubAccountId": ["111"] * n,
        "Tags": pa.array([[("env", "prod"), ("team", "a")], [], None], pa.map_(pa.string(), pa.string())),
        "x_Discounts": pa.array([[0.5], [], None], pa.list_(pa.float64())),
    })


def test_typed_parquet_focus_file_loads_exactly_with_map_tags_as_json(wh, tmp_path: Path):
    path = tmp_path / "aws_focus.parquet"
    pq.write_table(_typed_focus_table(), path)
    f = load(wh, path).files[0]
    assert f.error is None and (f.rows_read, f.rows_loaded) == (3, 3)
    rows = focus_rows(wh, "toJSONString(Tags) AS tags, toString(ChargePeriodStart) AS start, "
                          "toString(PricingQuantity) AS q, x_SourceColumns AS extra")
    assert [r["tags"] for r in rows] == ['{"env":"prod","team":"a"}', "{}", "{}"]
    assert [r["start"] for r in rows] == ["2024-01-01 00:00:00", "2024-01-02 00:00:00", "2024-01-03 00:00:00"]
    assert [r["q"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["extra"] == {"x_Discounts": "[0.5]"}
    assert total(wh, "BilledCost") == Decimal("3.75")
    assert total(wh, "EffectiveCost") == Decimal("3.7500001")


def test_row_with_tags_that_are_not_json_is_quarantined_and_the_rest_loads(wh, tmp_path: Path):
    table = _typed_focus_table().drop(["Tags", "x_Discounts"])
    header = [*table.column_names, "Tags"]
    rows = [{**{k: str(v) for k, v in r.items()}, "Tags": tags}
            for r, tags in zip(table.to_pylist(), ['{"a": "b"}', "env=prod", ""], strict=True)]
    path = write_csv(tmp_path / "focus.csv", header, rows)
    f = load(wh, path).files[0]
    assert f.error is None and (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 2, 1)
    reasons = wh.rows("SELECT source_row, reasons FROM abi.focus_quarantine")
    assert reasons == [{"source_row": 2, "reasons": ['Tags: not a JSON object: "env=prod"']}]
    assert [r["tags"] for r in focus_rows(wh, "toJSONString(Tags) AS tags")] == ['{"a":"b"}', "{}"]


def test_tags_given_as_key_value_pairs_become_a_json_object(wh, tmp_path: Path):
    pair = pa.struct([("key", pa.string()), ("value", pa.string())])
    table = _typed_focus_table().drop(["Tags"]).append_column(
        "Tags", pa.array([[{"key": "env", "value": "prod"}, {"key": "team", "value": "a"}], [], None],
                         pa.list_(pair)))
    pq.write_table(table, tmp_path / "labels.parquet")
    csv_rows = [{**{k: str(v) for k, v in r.items()}, "Tags": tags} for r, tags in zip(
        table.drop(["Tags", "x_Discounts"]).to_pylist(), ['[{"key": "cost-center", "value": 42}]', "[{", ""],
        strict=True)]
    write_csv(tmp_path / "labels.csv", [*csv_rows[0]], csv_rows)
    result = load(wh, tmp_path / "labels.parquet", tmp_path / "labels.csv")
    assert [(f.rows_loaded, f.rows_quarantined) for f in result.files] == [(3, 0), (2, 1)]
    tags = focus_rows(wh, "toJSONString(Tags) AS t")
    assert [r["t"] for r in tags] == ['{"cost-center":"42"}', "{}", '{"env":"prod","team":"a"}', "{}", "{}"]
    assert wh.rows("SELECT reasons FROM abi.focus_quarantine") == [{"reasons": ['Tags: not a JSON object: "[{"']}]
