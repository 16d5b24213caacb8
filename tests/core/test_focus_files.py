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
    assert [r["extra"] for r in rows] == [{"x_Discounts": "[0.5]"}, {}, {}]  # an empty or null list: no entry
    assert total(wh, "BilledCost") == Decimal("3.75")
    assert total(wh, "EffectiveCost") == Decimal("3.7500001")


def test_tags_or_sku_details_that_are_not_a_json_object_are_kept_as_text_and_the_row_loads(wh, tmp_path: Path):
    table = _typed_focus_table().drop(["Tags", "x_Discounts"])
    header = [*table.column_names, "Tags", "SkuPriceDetails"]
    rows = [{**{k: str(v) for k, v in r.items()}, "Tags": tags, "SkuPriceDetails": sku}
            for r, tags, sku in zip(table.to_pylist(), ['{\n\t"a": "b\tc\n"\n}', "env=prod", ""],
                                    ["", "", '{"x_Size": "cut sh'], strict=True)]
    path = write_csv(tmp_path / "focus.csv", header, rows)
    f = load(wh, path).files[0]
    assert f.error is None and (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 3, 0)
    assert f.unmapped == {"tags:not a JSON object (kept in x_SourceColumns)": 1,
                          "sku_price_details:not a JSON object (kept in x_SourceColumns)": 1}
    loaded = focus_rows(wh, "toJSONString(Tags) AS tags, toJSONString(SkuPriceDetails) AS sku, "
                            "x_SourceColumns AS kept")
    assert [r["tags"] for r in loaded] == ['{"a":"b\\tc\\n"}', "{}", "{}"]
    assert [r["sku"] for r in loaded] == ["{}"] * 3
    assert [r["kept"] for r in loaded] == [{}, {"Tags": "env=prod"}, {"SkuPriceDetails": '{"x_Size": "cut sh'}]
    assert total(wh, "BilledCost") == Decimal("3.75")


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
    assert [(f.rows_loaded, f.rows_quarantined) for f in result.files] == [(3, 0), (3, 0)]
    tags = focus_rows(wh, "toJSONString(Tags) AS t, x_SourceColumns['Tags'] AS kept")
    assert [r["t"] for r in tags] == ['{"cost-center":"42"}', "{}", "{}", '{"env":"prod","team":"a"}', "{}", "{}"]
    assert [r["kept"] for r in tags].count("[{") == 1  # not JSON: kept as written


def test_a_focus_1_0_file_gets_the_1_2_values_it_implies(wh, tmp_path: Path):
    """Microsoft FocusCost 1.0 as partners receive it: no PricingCurrency* columns (prices in USD, billed in EUR at
    x_BillingExchangeRate), ListCost 0 beside a unit price, no ServiceSubcategory, no BillingAccountName."""
    base = {"BillingAccountId": "/billingAccounts/1", "BillingAccountName": "", "BillingCurrency": "EUR",
            "BillingPeriodStart": "2025-10-01T00:00:00Z", "BillingPeriodEnd": "2025-11-01T00:00:00Z",
            "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "ChargePeriodStart": "2025-10-16T00:00:00Z",
            "ChargePeriodEnd": "2025-10-17T00:00:00Z", "ProviderName": "Microsoft", "PublisherName": "Microsoft",
            "InvoiceIssuerName": "Partner SARL", "ServiceName": "Azure Monitor",
            "ServiceCategory": "Management and Governance", "SubAccountId": "/subscriptions/s1", "SubAccountName": "",
            "x_PricingCurrency": "USD", "x_BillingExchangeRate": "0.8", "PricingQuantity": "13"}
    rows = [{**base, "BilledCost": "0.8", "EffectiveCost": "0.8", "ContractedCost": "0.8", "ListCost": "0",
             "ListUnitPrice": "0.0615384615", "ContractedUnitPrice": "0.0615384615"},
            {**base, "BilledCost": "2", "EffectiveCost": "2", "ContractedCost": "2", "ListCost": "2.6",
             "ListUnitPrice": "0.2", "ContractedUnitPrice": "0.2", "BillingCurrency": "USD",
             "ServiceName": "Unheard Of"}]
    path = write_csv(tmp_path / "focuscost_1.0.csv", [*rows[0]], rows)
    f = load(wh, path).files[0]
    assert (f.error, f.rows_loaded) == (None, 2)
    got = focus_rows(wh, "PricingCurrency AS pc, toString(PricingCurrencyEffectiveCost) AS pe, "
                         "toString(PricingCurrencyListUnitPrice) AS pl, toString(ListCost) AS lc, "
                         "ServiceSubcategory AS sub, BillingAccountName AS ban, SubAccountName AS san, "
                         "toString(PricingCurrencyContractedUnitPrice) AS pcu")
    assert got[0] == {"pc": "USD", "pe": "1", "pl": "0.076923076875", "lc": "0.7999999995",
                      "sub": "Observability", "ban": "/billingAccounts/1", "san": "/subscriptions/s1",
                      "pcu": "0.076923076875"}
    assert (got[1]["pc"], got[1]["pe"], got[1]["pl"], got[1]["lc"], got[1]["pcu"]) == ("USD", "2", "0.2", "2.6", "0.2")
    assert got[1]["sub"] == "Other (Management and Governance)"


def test_a_focus_1_3_file_names_its_provider_service_provider(wh, tmp_path: Path):
    table = _typed_focus_table().drop(["ProviderName", "PublisherName"])
    table = table.append_column("ServiceProviderName", pa.array(["AWS"] * table.num_rows))
    pq.write_table(table, tmp_path / "focus13.parquet")
    f = load(wh, tmp_path / "focus13.parquet").files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 3, 0)
    assert {(r["p"], r["q"]) for r in focus_rows(wh, "ProviderName AS p, PublisherName AS q")} == {("AWS", "AWS")}


def test_a_focus_1_1_file_gets_commitment_quantities_and_account_types(wh, tmp_path: Path):
    base = {"BillingAccountId": "123", "BillingCurrency": "USD", "BillingPeriodStart": "2024-01-01",
            "BillingPeriodEnd": "2024-02-01", "ChargePeriodStart": "2024-01-03", "ChargePeriodEnd": "2024-01-04",
            "ChargeCategory": "Usage", "ProviderName": "AWS", "ServiceName": "Amazon EC2",
            "ServiceCategory": "Compute", "SubAccountId": "111", "PricingQuantity": "24", "PricingUnit": "Hours",
            "BilledCost": "0", "EffectiveCost": "1.2", "ListCost": "2.4", "ContractedCost": "2.4",
            "CommitmentDiscountId": "arn:sp", "CommitmentDiscountCategory": "Spend"}
    rows = [base, {**base, "CommitmentDiscountId": "arn:ri", "CommitmentDiscountCategory": "Usage"},
            {**base, "CommitmentDiscountId": "", "CommitmentDiscountCategory": ""}]
    f = load(wh, write_csv(tmp_path / "focus_1.1.csv", [*base], rows)).files[0]
    assert (f.error, f.rows_loaded) == (None, 3)
    got = focus_rows(wh, "toString(CommitmentDiscountQuantity) AS q, CommitmentDiscountUnit AS u, "
                         "BillingAccountType AS b, SubAccountType AS s")
    assert [(r["q"], r["u"]) for r in got] == [("1.2", "USD"), ("24", "Hours"), (None, None)]
    assert {(r["b"], r["s"]) for r in got} == {("Billing Account", "Sub Account")}


def test_closed_list_values_in_any_case_or_older_words_read_as_focus_1_2(wh, tmp_path: Path):
    table = _typed_focus_table().drop(["ChargeCategory", "ChargeFrequency", "ServiceCategory"])
    table = table.append_column("ChargeCategory", pa.array(["usage", "USAGE", "Usage"]))
    table = table.append_column("ChargeFrequency", pa.array(["UsageBased", "usage-based", "Usage Based"]))
    table = table.append_column("ServiceCategory", pa.array(["compute", "COMPUTE", "Computing"]))
    table = table.append_column("PricingCategory", pa.array(["On-Demand", "Commitment-Based", None]))
    pq.write_table(table, tmp_path / "spellings.parquet")
    f = load(wh, tmp_path / "spellings.parquet").files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 2, 1)
    got = focus_rows(wh, "ChargeCategory AS c, ChargeFrequency AS f, ServiceCategory AS s, PricingCategory AS p")
    assert got == [{"c": "Usage", "f": "Usage-Based", "s": "Compute", "p": "Standard"},
                   {"c": "Usage", "f": "Usage-Based", "s": "Compute", "p": "Committed"}]
    assert wh.scalar("SELECT reasons FROM abi.focus_quarantine") == [
        'ServiceCategory: not an allowed value: "Computing"']


def test_a_focus_0_5_file_reads_its_older_names_and_gets_contracted_and_list_costs(wh, tmp_path: Path):
    """FOCUS 0.5 (InvoiceIssuer, Provider, Publisher, BilledCurrency, AmortizedCost, Region, UsageQuantity), and a
    purchase that leaves ContractedCost empty: its contracted and list costs are what it was billed."""
    base = {"InvoiceIssuer": "AWS", "Provider": "AWS", "Publisher": "AWS", "BillingAccountId": "a1",
            "BillingAccountName": "NULL", "BilledCurrency": "USD", "BillingPeriodStart": "2023-06-01T00:00:00Z",
            "BillingPeriodEnd": "2023-07-01T00:00:00Z", "ChargePeriodStart": "2023-06-01T00:00:00Z",
            "ChargePeriodEnd": "2023-06-02T00:00:00Z", "ChargeType": "Usage", "ServiceName": "Amazon EC2",
            "ServiceCategory": "Compute", "Region": "us-east-1", "UsageQuantity": "24", "BilledCost": "2.4",
            "AmortizedCost": "2.4", "ContractedCost": ""}
    rows = [base, {**base, "ChargeType": "Purchase", "BilledCost": "553000", "AmortizedCost": "0"}]
    f = load(wh, write_csv(tmp_path / "focus_0.5.csv", [*base], rows)).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 2, 0)
    got = focus_rows(wh, "InvoiceIssuerName AS i, ProviderName AS p, PublisherName AS u, BillingCurrency AS c, "
                         "RegionId AS r, toString(ConsumedQuantity) AS q, toString(EffectiveCost) AS e, "
                         "toString(ContractedCost) AS cc, toString(ListCost) AS lc")
    assert got[0] == {"i": "AWS", "p": "AWS", "u": "AWS", "c": "USD", "r": "us-east-1", "q": "24", "e": "2.4",
                      "cc": "2.4", "lc": "2.4"}
    assert (got[1]["e"], got[1]["cc"], got[1]["lc"]) == ("0", "553000", "553000")


def test_a_usage_or_purchase_row_without_unit_prices_gets_the_ones_its_costs_imply(wh, tmp_path: Path):
    row = {"BillingAccountId": "b1", "BillingCurrency": "USD", "BillingPeriodStart": "2026-01-01T00:00:00Z",
           "BillingPeriodEnd": "2026-02-01T00:00:00Z", "ChargePeriodStart": "2026-01-01T00:00:00Z",
           "ChargePeriodEnd": "2026-02-01T00:00:00Z", "ChargeCategory": "Purchase", "ProviderName": "Google Cloud",
           "ServiceName": "Compute Engine", "ServiceCategory": "Compute", "BilledCost": "553000",
           "EffectiveCost": "0", "ListCost": "600000", "ContractedCost": "", "PricingQuantity": "2",
           "PricingUnit": "Commitment", "ListUnitPrice": "", "ContractedUnitPrice": ""}
    f = load(wh, write_csv(tmp_path / "gcp_purchase.csv", [*row], [row])).files[0]
    assert (f.error, f.rows_loaded) == (None, 1)
    got = focus_rows(wh, "toString(ContractedCost) AS c, toString(ContractedUnitPrice) AS cu, "
                         "toString(ListUnitPrice) AS lu, toString(PricingCurrencyListUnitPrice) AS pl")[0]
    assert got == {"c": "553000", "cu": "276500", "lu": "300000", "pl": "300000"}


def test_column_names_with_quotes_backticks_or_braces_load_and_export(wh, tmp_path: Path):
    table = _typed_focus_table()
    for name in ("x_Note`s", "x_{file`'}", "x_it's", "x_{file}"):
        table = table.append_column(name, pa.array(["v"] * table.num_rows))
    pq.write_table(table, tmp_path / "names.parquet")
    pq.write_table(table.drop_columns(["Tags", "x_Discounts"]).cast(pa.schema(
        [pa.field(n, pa.string()) for n in table.drop_columns(["Tags", "x_Discounts"]).column_names])),
        tmp_path / "names_text.parquet")
    import pyarrow.csv as pcsv
    pcsv.write_csv(pq.read_table(tmp_path / "names_text.parquet"), tmp_path / "names.csv")
    result = load(wh, tmp_path / "names.parquet", tmp_path / "names.csv")
    assert [(f.error, f.rows_loaded) for f in result.files] == [(None, 3), (None, 3)]
    keys = wh.scalar("SELECT arraySort(mapKeys(x_SourceColumns)) FROM abi.focus_cost LIMIT 1")
    assert {"x_Note`s", "x_{file`'}", "x_it's", "x_{file}"} <= set(keys)
    from app.core.export import export
    export(wh, "parquet", tmp_path / "out.parquet")
    assert {"x_Note`s", "x_{file`'}", "x_it's", "x_{file}"} <= set(pq.read_schema(tmp_path / "out.parquet").names)


def test_a_parquet_file_with_a_column_name_twice_is_refused_naming_it(wh, tmp_path: Path):
    table = _typed_focus_table()
    pq.write_table(table.append_column("ServiceName", pa.array(["again"] * table.num_rows)), tmp_path / "d.parquet")
    f = load(wh, tmp_path / "d.parquet").files[0]
    assert f.error.endswith("d.parquet: column 'ServiceName' appears twice: the engine cannot read a Parquet file "
                            "with a repeated column name; write the file with one")


def test_a_pricing_quantity_of_zero_or_below_the_scale_leaves_implied_prices_null_and_the_rows_load(wh, tmp_path):
    row = {"BillingAccountId": "b1", "BillingCurrency": "USD", "BillingPeriodStart": "2026-01-01T00:00:00Z",
           "BillingPeriodEnd": "2026-02-01T00:00:00Z", "ChargePeriodStart": "2026-01-01T00:00:00Z",
           "ChargePeriodEnd": "2026-01-02T00:00:00Z", "ChargeCategory": "Usage", "ProviderName": "AWS",
           "ServiceName": "Amazon EC2", "ServiceCategory": "Compute", "BilledCost": "0.5", "EffectiveCost": "0.5",
           "ListCost": "0.5", "ContractedCost": "0.5", "PricingQuantity": "0", "PricingUnit": "Hours"}
    rows = [row, row | {"PricingQuantity": "1E-19"}, row | {"ChargeCategory": "Tax", "ServiceCategory": "Other"}]
    f = load(wh, write_csv(tmp_path / "aws_zero_quantity.csv", [*row], rows)).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 3, 0)
    got = focus_rows(wh, "ListUnitPrice, ContractedUnitPrice, toString(BilledCost) AS b")
    assert [(r["ListUnitPrice"], r["ContractedUnitPrice"], r["b"]) for r in got] == [(None, None, "0.5")] * 3


def test_timestamps_written_with_a_lower_case_t_or_z_read_as_their_upper_case_forms(wh, tmp_path):
    """RFC 3339 allows ``t`` and ``z``: such a row is a date-time like any other, not a quarantined one."""
    row = {"BillingAccountId": "b1", "BillingCurrency": "USD", "BillingPeriodStart": "2026-01-01t00:00:00z",
           "BillingPeriodEnd": "2026-02-01T00:00:00.000z", "ChargePeriodStart": "2026-01-05 10:00:00z",
           "ChargePeriodEnd": "2026-01-05t11:00:00Z", "ChargeCategory": "Usage", "ProviderName": "AWS",
           "ServiceName": "Amazon EC2", "ServiceCategory": "Compute", "BilledCost": "0.5", "EffectiveCost": "0.5"}
    f = load(wh, write_csv(tmp_path / "lower_case_stamps.csv", [*row], [row])).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 1, 0)
    got = focus_rows(wh, "toString(BillingPeriodStart) AS bs, toString(BillingPeriodEnd) AS be, "
                         "toString(ChargePeriodStart) AS cs, toString(ChargePeriodEnd) AS ce")
    assert got == [{"bs": "2026-01-01 00:00:00", "be": "2026-02-01 00:00:00", "cs": "2026-01-05 10:00:00",
                    "ce": "2026-01-05 11:00:00"}]
