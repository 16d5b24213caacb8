"""FOCUS files of providers other than Azure, with the values they really write: their own region ids, lower-case
currency codes, virtual pricing currencies, subcategories in any case, key/value tag pairs, NaN prices, upper-case
custom columns."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from abitest import focus_rows, load, total, write_csv

from app.core.export import export

ROW = {"BilledCost": "10", "EffectiveCost": "10", "ListCost": "10", "ContractedCost": "10",
       "BillingAccountId": "acct-1", "BillingAccountName": "Acme", "BillingCurrency": "USD",
       "BillingPeriodStart": "2024-10-01T00:00:00Z", "BillingPeriodEnd": "2024-11-01T00:00:00Z",
       "ChargePeriodStart": "2024-10-02T00:00:00Z", "ChargePeriodEnd": "2024-10-03T00:00:00Z",
       "ChargeCategory": "Usage", "ChargeDescription": "bucket storage", "ChargeFrequency": "Usage-Based",
       "InvoiceIssuerName": "Google Cloud", "ProviderName": "Google Cloud", "PublisherName": "Google Cloud",
       "ServiceName": "Cloud Storage", "ServiceCategory": "Storage", "ServiceSubcategory": "Object Storage",
       "SubAccountId": "proj-1", "Tags": "{}"}


def _load(wh, tmp_path: Path, rows: list[dict[str, str]]):
    header = list(dict.fromkeys([*ROW, *(k for r in rows for k in r)]))
    return load(wh, write_csv(tmp_path / "provider.csv", header, [{**ROW, **r} for r in rows])).files[0]


def test_other_providers_region_ids_are_not_read_as_azure_regions(wh, tmp_path):
    f = _load(wh, tmp_path, [{"RegionId": "EU"}, {"RegionId": "fr", "ProviderName": "OVHcloud"},
                             {"RegionId": "eu", "ProviderName": "Microsoft"}])
    assert f.rows_loaded == 3
    assert focus_rows(wh, "ProviderName AS p, RegionId AS id, RegionName AS name") == [
        {"p": "Google Cloud", "id": "EU", "name": "EU"}, {"p": "OVHcloud", "id": "fr", "name": "fr"},
        {"p": "Microsoft", "id": "eastus", "name": "East US"}]  # Microsoft's short names stay Azure's


def test_commitment_usage_in_a_file_without_a_status_column_is_used_commitment(wh, tmp_path):
    """Google's FOCUS view writes no CommitmentDiscountStatus: FOCUS 1.2 wants one on commitment usage."""
    cud = {"CommitmentDiscountId": "cud-1", "CommitmentDiscountType": "Committed Use Discount"}
    f = _load(wh, tmp_path, [{**cud}, {**cud, "ChargeCategory": "Purchase", "ChargeFrequency": "Recurring"}, {}])
    assert f.rows_loaded == 3
    assert focus_rows(wh, "ChargeCategory AS c, CommitmentDiscountStatus AS s") == [
        {"c": "Usage", "s": "Used"}, {"c": "Purchase", "s": None}, {"c": "Usage", "s": None}]


def test_currency_codes_in_any_case_and_virtual_pricing_currencies_load(wh, tmp_path):
    f = _load(wh, tmp_path, [{"BillingCurrency": "usd", "PricingCurrency": " Usd "},
                             {"PricingCurrency": "Credits", "PricingCurrencyEffectiveCost": "4"},
                             {"BillingCurrency": "EURO"}, {"PricingCurrency": "XYZ"}])
    assert (f.rows_loaded, f.rows_quarantined) == (2, 2)
    assert focus_rows(wh, "BillingCurrency AS b, PricingCurrency AS p") == [
        {"b": "USD", "p": "USD"}, {"b": "USD", "p": "Credits"}]
    reasons = sorted(r["r"] for r in wh.rows("SELECT arrayJoin(reasons) AS r FROM abi.focus_quarantine"))
    assert reasons == ['BillingCurrency: not an ISO 4217 currency code: "EURO"',
                       'PricingCurrency: not an ISO 4217 currency code: "XYZ"']


def test_subcategories_in_any_case_are_read_and_an_unknown_one_is_kept_beside_its_other(wh, tmp_path):
    f = _load(wh, tmp_path, [{"ServiceSubcategory": "object storage"}, {"ServiceSubcategory": "Archive Storage"}])
    assert f.rows_loaded == 2
    assert focus_rows(wh, "ServiceSubcategory AS s, x_SourceColumns AS x") == [
        {"s": "Object Storage", "x": {}}, {"s": "Other (Storage)", "x": {"ServiceSubcategory": "Archive Storage"}}]


def test_key_value_tag_pairs_with_capital_names_or_null_values_keep_every_key(wh, tmp_path):
    f = _load(wh, tmp_path, [{"Tags": '[{"key": "env", "value": null}, {"key": "team", "value": "a"}]'},
                             {"Tags": '[{"Key": "env", "Value": "prod"}]'}])
    assert (f.rows_loaded, f.rows_quarantined) == (2, 0)
    assert [r["t"] for r in focus_rows(wh, "toJSONString(Tags) AS t")] == ['{"env":"","team":"a"}', '{"env":"prod"}']


def test_a_nan_price_is_no_price_and_a_nan_cost_is_quarantined(wh, tmp_path):
    table = pa.table({k: [v, v] for k, v in ROW.items() if k not in ("BilledCost", "EffectiveCost")})
    table = table.append_column("BilledCost", pa.array([10.0, float("nan")])).append_column(
        "EffectiveCost", pa.array([10.0, 10.0])).append_column("ListUnitPrice", pa.array([float("nan"), 2.0]))
    pq.write_table(table, tmp_path / "spark.parquet")
    f = load(wh, tmp_path / "spark.parquet").files[0]
    assert (f.rows_loaded, f.rows_quarantined) == (1, 1)
    assert focus_rows(wh, "ListUnitPrice AS p") == [{"p": None}] and total(wh, "BilledCost") == Decimal(10)
    assert wh.scalar("SELECT reasons FROM abi.focus_quarantine") == ["BilledCost: mandatory value missing"]


def test_custom_columns_in_capitals_export_with_the_x_prefix_once(wh, tmp_path):
    _load(wh, tmp_path, [{"X_OPERATION": "PutObject", "oci_CompartmentId": "c1"}])
    export(wh, "parquet", tmp_path / "out.parquet")
    names = pq.read_schema(tmp_path / "out.parquet").names
    assert {"x_OPERATION", "x_oci_CompartmentId"} <= set(names) and "x_X_OPERATION" not in names


def test_one_part_of_an_aws_export_loaded_alone_is_named_with_its_missing_parts(wh, tmp_path):
    month = tmp_path / "focus-export" / "data" / "BILLING_PERIOD=2024-10"
    month.mkdir(parents=True)
    for n in (1, 2):
        write_csv(month / f"focus-export-0000{n}.csv.gz", list(ROW), [{**ROW, "SubAccountId": f"proj-{n}"}])
    (month / "other-report-00001.csv.gz").write_bytes((month / "focus-export-00001.csv.gz").read_bytes())
    alone = load(wh, month / "focus-export-00002.csv.gz").files[0]
    assert len(alone.warnings) == 1 and "without focus-export-00001.csv.gz from the same folder" in alone.warnings[0]
    both = load(wh, month / "focus-export-00001.csv.gz", month / "focus-export-00002.csv.gz")
    assert not any(f.warnings for f in both.files)


def test_another_providers_custom_columns_named_as_microsofts_are_not_read_as_numbers(wh, tmp_path):
    """FOCUS asks only an x_ prefix of custom columns: Microsoft's numeric x_ names in another provider's file hold
    what that provider writes; a value that is no number costs the row nothing (kept in x_SourceColumns)."""
    f = _load(wh, tmp_path, [{"x_BillingExchangeRate": "n/a", "x_PricingBlockSize": "1 Hour"},
                             {"x_BillingExchangeRate": "0.9", "x_EffectiveUnitPrice": "1.2.3"}])
    assert (f.rows_loaded, f.rows_quarantined) == (2, 0)
    assert focus_rows(wh, "x_BillingExchangeRate AS r, x_PricingBlockSize AS b, x_EffectiveUnitPrice AS p, "
                          "x_SourceColumns AS s") == [
        {"r": None, "b": None, "p": None, "s": {"x_BillingExchangeRate": "n/a", "x_PricingBlockSize": "1 Hour"}},
        {"r": "0.9", "b": None, "p": None, "s": {"x_EffectiveUnitPrice": "1.2.3"}}]
