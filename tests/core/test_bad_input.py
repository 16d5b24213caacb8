"""Bad input: refused files name the file and problem and load nothing; bad rows are quarantined with reasons."""

from __future__ import annotations

import csv
import gzip
import json
import zipfile

import pytest
from abitest import csv_total, demo_lines, focus_rows, load, total, write_csv

from app.core.archives import expand_paths
from app.core.demo import HEADER, generate


def test_garbage_file_is_refused_with_its_name(wh, tmp_path):
    bad = tmp_path / "garbage.csv"
    bad.write_bytes(b"\x00\x01 this is not a billing file \xff\xfe\n")
    f = load(wh, bad).files[0]
    assert f.error and str(bad) in f.error
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0


def test_a_workbook_or_an_archive_named_as_csv_is_refused_with_what_to_do(wh, tmp_path):
    export = write_csv(tmp_path / "usage.csv", HEADER, [])
    workbook = tmp_path / "usage.xlsx"  # a ZIP archive inside
    with zipfile.ZipFile(workbook, "w") as zf:
        zf.write(export, "xl/worksheets/sheet1.xml")
    archive = tmp_path / "usage_zipped.csv"
    archive.write_bytes(workbook.read_bytes())
    old_workbook = tmp_path / "usage.xls"
    old_workbook.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    result = load(wh, workbook, archive, old_workbook)
    what = ("a ZIP archive or an Excel workbook, not CSV text: save a sheet as CSV and load that; name an archive "
            "*.zip to load the CSV and Parquet files in it")
    assert [f.error for f in result.files] == [
        f"{workbook}: {what}", f"{archive}: {what}",
        f"{old_workbook}: an Excel 97-2003 workbook, not CSV text: save the sheet as CSV and load that"]


def test_gzip_or_parquet_without_their_names_are_refused_with_what_to_do(wh, tmp_path):
    actual = generate(tmp_path / "demo").actual
    (tmp_path / "usage.csv").write_bytes(gzip.compress(actual.read_bytes()))
    (tmp_path / "usage.parq").write_bytes(b"PAR1" + b"\0" * 64)
    errors = [f.error for f in load(wh, tmp_path / "usage.csv", tmp_path / "usage.parq").files]
    assert errors == [
        f"{tmp_path / 'usage.csv'}: gzip-compressed text without a .gz name: name it *.csv.gz to load it",
        f"{tmp_path / 'usage.parq'}: a Parquet file without a .parquet name: name it *.parquet to load it"]


def test_wrong_columns_are_refused_as_unknown_header(wh, tmp_path):
    path = write_csv(tmp_path / "people.csv", ["name", "age"], [{"name": "a", "age": "1"}])
    f = load(wh, path).files[0]
    assert "unknown header" in f.error and str(path) in f.error


def test_other_billing_datasets_are_refused_by_name(wh, tmp_path):
    headers = {  # FOCUS 1.3 / 1.4 datasets beside cost and usage; Cost Management's other exports
        "commitments.csv": ["ContractCommitmentId", "ContractCommitmentType", "ContractCommitmentCost"],
        "invoice.csv": ["BilledCost", "BillingAccountId", "BillingPeriodStart", "InvoiceDetailId", "InvoiceId"],
        "sku_prices.csv": ["ChargeCategory", "ContractId", "UnitPrice", "PricingCurrency", "PricingUnit",
                           "ServiceProviderName", "SkuId", "SkuPriceEffectiveStart", "SkuPriceId"],
        "prices.csv": ["MeterId", "MeterName", "UnitOfMeasure", "UnitPrice", "PriceType", "EffectiveStartDate"],
        "ri_details.csv": ["ReservationOrderId", "ReservationId", "UsageDate", "ReservedHours", "UsedHours"],
    }
    paths = [write_csv(tmp_path / name, header, [dict.fromkeys(header, "1")]) for name, header in headers.items()]
    errors = [f.error for f in load(wh, *paths).files]
    assert [e.split(": ", 1)[1].split(",")[0] for e in errors] == [
        "a FOCUS Contract Commitment dataset", "a FOCUS Invoice Detail dataset",
        "a FOCUS SKU Price dataset (a price list)", "an Azure price sheet", "an Azure reservation details export"]
    assert all("ABI loads cost and usage rows" in e for e in errors)
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0


def test_empty_file_is_refused(wh, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert "empty file" in load(wh, path).files[0].error


def test_truncated_gzip_is_refused_and_nothing_is_half_loaded(wh, tmp_path):
    files = generate(tmp_path / "demo", compress=True)
    data = files.actual.read_bytes()
    cut = tmp_path / "cut_actual.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    good = tmp_path / "good_actual.csv"
    good.write_bytes(gzip.decompress(data))
    result = load(wh, cut, good)
    refused = [f for f in result.files if f.error]
    assert [f.path for f in refused] == [str(cut)] and str(cut) in refused[0].error
    assert wh.scalar(f"SELECT count() FROM abi.focus_cost WHERE x_SourceFile = '{cut}'") == 0
    assert wh.scalar(f"SELECT count() FROM abi.focus_cost WHERE x_SourceFile = '{good}'") > 0


def test_text_named_gz_is_refused_with_what_to_do(wh, tmp_path):
    path = tmp_path / "export.csv.gz"
    path.write_bytes(generate(tmp_path / "demo").actual.read_bytes())
    f = load(wh, path).files[0]
    assert f.error == f"{path}: named .gz but not gzip-compressed: rename it without .gz if it is CSV text"


def test_bad_rows_are_quarantined_with_file_row_column_and_raw_row(wh, tmp_path):
    files = generate(tmp_path / "demo")
    lines = files.actual.read_text(encoding="utf-8-sig").splitlines()
    rows = [dict(zip(HEADER, r, strict=True)) for r in csv.reader(lines[1:6])]
    rows[1]["CostInBillingCurrency"] = "12,5abc"
    rows[3]["Date"] = "not-a-date"
    rows[4]["BillingCurrencyCode"] = "DOLLARS"
    path = write_csv(tmp_path / "mixed_actual.csv", HEADER, rows)
    f = load(wh, path).files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (5, 2, 3)
    quarantined = wh.rows("SELECT source_file, source_row, reasons, raw_row FROM abi.focus_quarantine "
                          "ORDER BY source_row")
    assert [q["source_row"] for q in quarantined] == [2, 4, 5]
    assert all(q["source_file"] == str(path) for q in quarantined)
    assert "CostInBillingCurrency: not a number" in quarantined[0]["reasons"][0]
    assert any(r.startswith("Date: not a date") for r in quarantined[1]["reasons"])
    assert any("BillingCurrency" in r for r in quarantined[2]["reasons"])
    assert json.loads(quarantined[0]["raw_row"])["CostInBillingCurrency"] == "12,5abc"
    load(wh, path)  # re-run: no duplicate quarantine rows either
    assert wh.scalar("SELECT count() FROM abi.focus_quarantine") == 3
    assert len(focus_rows(wh, "x_SourceRow")) == 2


def test_a_number_too_large_for_exact_decimals_is_quarantined_as_out_of_range(wh, tmp_path):
    files = generate(tmp_path / "demo")
    lines = files.actual.read_text(encoding="utf-8-sig").splitlines()
    rows = [dict(zip(HEADER, r, strict=True)) for r in csv.reader(lines[1:4])]
    rows[0]["Quantity"], rows[1]["Quantity"], rows[2]["Quantity"] = "123456789012345678901234", "1e25", "NaN"
    load(wh, write_csv(tmp_path / "huge_actual.csv", HEADER, rows))
    reasons = [r["reasons"][0] for r in wh.rows("SELECT reasons FROM abi.focus_quarantine ORDER BY source_row")]
    too_large = "Quantity: out of range (over 20 digits before the point)"
    assert reasons == [f'{too_large}: "123456789012345678901234"', f'{too_large}: "1e25"',
                       'Quantity: not a number: "NaN"']


@pytest.mark.parametrize(("column", "value", "others"), [
    ("Quantity", "99999999999999999999", {"PayGPrice": "1000"}),  # quantity × list price
    ("UnitPrice", "99999999999999999999", {"Quantity": "5000"}),  # unit price × quantity
    ("UnitOfMeasure", "0.000001 GB", {"UnitPrice": "999999999999999"}),  # a price per block of a millionth
    ("ExchangeRatePricingToBilling", "0.000000001", {"CostInBillingCurrency": "99999999999999"}),
])
def test_values_in_range_whose_product_is_not_quarantine_the_row_not_the_file(wh, tmp_path, column, value, others):
    files = generate(tmp_path / "demo")
    lines = files.actual.read_text(encoding="utf-8-sig").splitlines()
    rows = [dict(zip(HEADER, r, strict=True)) for r in csv.reader(lines[1:3])]
    rows[1] |= {column: value, **others}
    header = [*HEADER, *(c for c in rows[1] if c not in HEADER)]
    f = load(wh, write_csv(tmp_path / "product_actual.csv", header, [rows[0] | {column: ""}, rows[1]])).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 1, 1)
    [reasons] = wh.rows("SELECT reasons FROM abi.focus_quarantine WHERE source_row = 2")[0].values()
    assert reasons[0].startswith("Quantity × price: out of range (an amount computed from them has over 20 digits")


def test_a_focus_files_own_values_in_range_load_when_a_price_they_imply_is_not(wh, tmp_path):
    header = ["BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
              "ChargePeriodEnd", "ChargeCategory", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
              "PricingQuantity", "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName",
              "ServiceCategory"]
    row = dict(zip(header, ["A1", "USD", "2024-01-01", "2024-02-01", "2024-01-05", "2024-01-06", "Usage", "5000",
                            "5000", "90000000000000000000", "5000", "0.000000000000000001", "AWS", "AWS", "AWS",
                            "Amazon S3", "Storage"], strict=True))
    f = load(wh, write_csv(tmp_path / "focus_tiny.csv", header, [row])).files[0]
    assert (f.error, f.rows_loaded) == (None, 1)
    loaded = focus_rows(wh, "toString(ListCost) AS l, ListUnitPrice, ContractedUnitPrice")[0]
    assert loaded == {"l": "90000000000000000000", "ListUnitPrice": None, "ContractedUnitPrice": None}


def test_header_variants_camel_case_legacy_names_bom_and_iso_dates(wh, tmp_path):
    rows = [{"cost": "1.5", "billingCurrency": "EUR", "product": "VM", "date": "2024-03-05T00:00:00Z",
             "meterCategory": "Virtual Machines", "billingAccountId": "123", "subscriptionId": "s1",
             "tags": '"team": "a"', "billingPeriodStartDate": "2024-03-01", "billingPeriodEndDate": "2024-03-31"}]
    path = write_csv(tmp_path / "camel.csv", list(rows[0]), rows, bom=True)
    f = load(wh, path).files[0]
    assert f.error is None and f.rows_loaded == 1, f
    row = focus_rows(wh, "BillingCurrency, toString(ChargePeriodStart) AS d, toJSONString(Tags) AS t, "
                         "ChargeDescription, toString(BillingPeriodEnd) AS e")[0]
    assert row == {"BillingCurrency": "EUR", "d": "2024-03-05 00:00:00", "t": '{"team":"a"}',
                   "ChargeDescription": "VM", "e": "2024-04-01 00:00:00"}
    assert total(wh, "BilledCost") == __import__("decimal").Decimal("1.5")


def test_trailing_blank_lines_and_crlf_endings_are_not_rows(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 4)
    path = tmp_path / "crlf_actual.csv"
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n\r\n\r\n").encode())
    f = load(wh, path).files[0]
    assert f.error is None and (f.rows_read, f.rows_loaded, f.rows_quarantined) == (4, 4, 0)


def test_rows_with_the_wrong_number_of_fields_are_quarantined_not_the_file(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 6)
    n = len(HEADER)
    body = [rows[0] + ",surprise", rows[1] + ",", "", rows[2].rsplit(",", 2)[0], rows[3], rows[4]]
    path = tmp_path / "ragged_actual.csv"
    path.write_text("\n".join([header, *body]) + "\n")
    f = load(wh, path).files[0]
    assert f.error is None and (f.rows_read, f.rows_loaded, f.rows_quarantined) == (6, 3, 3)
    reasons = {q["source_row"]: q["reasons"] for q in wh.rows("SELECT source_row, reasons FROM abi.focus_quarantine")}
    assert reasons[1] == [f'row: more fields than the {n} columns of the header (first extra field: "surprise")']
    assert reasons[3] == ["row: empty line"]
    assert reasons[4] == [f"row: fewer fields than the {n} columns of the header"]
    assert [r["x_SourceRow"] for r in focus_rows(wh, "x_SourceRow")] == [2, 5, 6]  # a trailing empty field is fine


def test_rows_of_separators_only_are_quarantined_with_that_one_reason(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 2)
    blank = "," * (len(HEADER) - 1)  # what a spreadsheet keeps below the data
    path = tmp_path / "spreadsheet_actual.csv"
    path.write_text("\n".join([header, rows[0], blank, rows[1], blank, blank + ",", ",,,,", ","]) + "\n")
    f = load(wh, path).files[0]
    assert f.error is None and (f.rows_read, f.rows_loaded, f.rows_quarantined) == (7, 2, 5)
    reasons = {q["source_row"]: q["reasons"] for q in wh.rows("SELECT source_row, reasons FROM abi.focus_quarantine")}
    assert reasons == {n: ["row: every field is empty"] for n in (2, 4, 5, 6, 7)}  # a short line of them too
    assert f.unmapped == {} and f.warnings == []  # no cost that cannot be read: there is none


def test_header_lines_of_files_joined_into_one_are_quarantined_with_that_one_reason(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 4)
    quoted = ",".join(f'"{name}"' for name in header.split(","))  # a part saved with every name quoted
    path = tmp_path / "joined_actual.csv"  # ``cat part_1.csv part_2.csv part_3.csv``: each part's BOM and header
    path.write_bytes("\n".join(["\ufeff" + header, rows[0], "\ufeff" + header, rows[1], rows[2], quoted + " ",
                                 rows[3]]).encode())
    f = load(wh, path).files[0]
    assert f.error is None and (f.rows_read, f.rows_loaded, f.rows_quarantined) == (6, 4, 2)
    reasons = {q["source_row"]: q["reasons"] for q in wh.rows("SELECT source_row, reasons FROM abi.focus_quarantine")}
    assert reasons == {2: ["row: the header line again (files joined into one?)"],
                       5: ["row: the header line again (files joined into one?)"]}
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join([header, *rows]), encoding="utf-8")
    assert total(wh, "BilledCost") == csv_total(plain, "CostInBillingCurrency")


def test_backslash_n_and_quoted_blanks_read_as_null(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 1)
    row = dict(zip(HEADER, next(csv.reader(rows)), strict=True))
    path = write_csv(tmp_path / "nulls_actual.csv", HEADER,
                     [{**row, "CostCenter": "\\N", "ResourceGroup": "  ", "InvoiceSectionName": "null",
                       "ResourceId": ""}])
    path.write_text(path.read_text().replace(",  ,", ',"  ",', 1))  # a quoted blank: the reader keeps it
    assert load(wh, path).files[0].rows_loaded == 1
    assert focus_rows(wh, "x_CostCenter, x_ResourceGroupName, x_InvoiceSectionName") == [
        {"x_CostCenter": None, "x_ResourceGroupName": None, "x_InvoiceSectionName": None}]


def test_header_names_with_spaces_and_hyphens_match(wh, tmp_path):
    resource = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1"
    rows = [{"Date": "09/03/2023", "Meter Category": "Storage", "Meter Sub-Category": "Tables",
             "Consumed Quantity": "2", "ExtendedCost": "0.75", "Billing Currency": "USD", "Instance ID": resource,
             "Resource Group": "rg", "Enrollment Number": "42", "Subscription Guid": "s1", "Subscription Name": "Prod",
             "Unit Of Measure": "10K"}]
    path = write_csv(tmp_path / "usage_actual.csv", list(rows[0]), rows)
    f = load(wh, path).files[0]
    assert f.error is None and f.rows_loaded == 1, f
    assert focus_rows(wh, "x_SkuMeterSubcategory, x_ResourceGroupName, SubAccountName, ResourceType, "
                          "toString(PricingQuantity) AS q, BillingAccountId") == [
        {"x_SkuMeterSubcategory": "Tables", "x_ResourceGroupName": "rg", "SubAccountName": "Prod",
         "ResourceType": "Storage account", "q": "20000", "BillingAccountId": "42"}]
    assert total(wh, "BilledCost") == __import__("decimal").Decimal("0.75")


def test_file_names_with_glob_characters_are_read_as_named(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 3)
    odd = tmp_path / "cost {2024} [1] it's.csv"
    odd.write_text("\n".join([header, *rows]) + "\n")
    decoy = tmp_path / "cost {2024} 1 it's.csv"  # what the name means as a glob
    decoy.write_text("\n".join([header, rows[0]]) + "\n")
    paths = expand_paths([str(odd)])
    assert paths == [odd]
    f = load(wh, *paths).files[0]
    assert (f.error, f.rows_read, f.rows_loaded) == (None, 3, 3)


def test_a_header_with_trailing_commas_does_not_make_every_row_short(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 3)
    path = tmp_path / "trailing_commas_actual.csv"
    path.write_text("\n".join([header + ",,", *rows]) + "\n")
    f = load(wh, path).files[0]
    assert (f.error, f.rows_read, f.rows_loaded, f.rows_quarantined) == (None, 3, 3, 0)


def test_semicolon_and_tab_separated_exports_load_like_comma_separated(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 4)
    parsed = list(csv.reader([header, *rows]))
    totals = []
    for name, delimiter in (("semicolon_actual.csv", ";"), ("tab_actual.csv", "\t")):
        path = tmp_path / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, delimiter=delimiter).writerows(parsed)
        f = load(wh, path).files[0]
        assert (f.error, f.rows_read, f.rows_loaded) == (None, 4, 4), f
        totals.append(total(wh, "BilledCost", f"x_SourceFile = '{path}'"))
        assert focus_rows(wh, "toJSONString(Tags) AS t", f"x_SourceFile = '{path}'")[0]["t"].startswith('{"')
    assert totals[0] == totals[1] > 0
