"""Bad values inside readable files: title lines, repeated tag keys, huge cells, header-only files, dates the
engine cannot store: each row accounted for, with the reason."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from abitest import PROJECT, demo_lines, focus_rows, load, total, write_csv

from app.core.demo import HEADER, generate


def test_title_lines_above_the_header_are_skipped(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 4)
    rows[2] += ",surplus"  # a damaged row keeps its data-row number
    path = tmp_path / "report_actual.csv"
    path.write_text("\r\n".join(["Usage Data Extract,", "Generated,10/31/2026", "", header, *rows]) + "\r\n")
    f = load(wh, path).files[0]
    assert (f.error, f.rows_read, f.rows_loaded, f.rows_quarantined) == (None, 4, 3, 1)
    assert [r["x_SourceRow"] for r in focus_rows(wh, "x_SourceRow")] == [1, 2, 4]
    assert wh.scalar("SELECT source_row FROM abi.focus_quarantine") == 3


def test_a_tag_key_given_twice_keeps_the_row_with_the_first_value(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 3)
    cells = next(csv.reader([header]))
    parsed = list(csv.reader(rows))
    parsed[1][cells.index("Tags")] = '"env": "prod", "env": "test"'
    path = write_csv(tmp_path / "dup_tags_actual.csv", cells, [dict(zip(cells, r, strict=True)) for r in parsed])
    f = load(wh, path).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 3, 0)
    assert focus_rows(wh, "toJSONString(Tags) AS t", "x_SourceRow = 2")[0]["t"] == '{"env":"prod"}'


FRESH_LOAD = """
import json, sys
from pathlib import Path
from app.core.loader import ingest
from app.core.warehouse import EmbeddedWarehouse
wh = EmbeddedWarehouse(Path(sys.argv[1]))
f = ingest(wh, [Path(sys.argv[2])]).files[0]
tags = wh.scalar("SELECT length(JSONAllPaths(Tags)) FROM abi.focus_cost WHERE x_SourceRow = 1")
print(json.dumps([f.error, f.rows_loaded, tags]))
"""
"""A load in a new process: the first file it opens is the first CSV text Python parses there."""


def test_a_tags_cell_over_128_kib_in_the_first_row_loads_in_a_process_that_opened_no_file_before(tmp_path):
    header, rows = demo_lines(tmp_path, 3)
    cells = next(csv.reader([header]))
    parsed = list(csv.reader(rows))
    parsed[0][cells.index("Tags")] = "{" + ", ".join(f'"key{i}": "{"v" * 60}"' for i in range(2000)) + "}"
    assert len(parsed[0][cells.index("Tags")]) > 128 * 1024  # Python's csv refuses such a field by default
    path = write_csv(tmp_path / "long_tags_actual.csv", cells, [dict(zip(cells, r, strict=True)) for r in parsed])
    done = subprocess.run([sys.executable, "-c", FRESH_LOAD, str(tmp_path / "fresh"), str(path)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [None, 3, 2000]


def test_a_header_only_file_loads_nothing_and_says_so(wh, samples):
    f = load(wh, samples / "azure" / "EA_NoRows.csv").files[0]
    assert (f.error, f.rows_read) == (None, 0)
    assert f.warnings == [f"{f.path}: no data rows (a header only): nothing to load"]


def test_a_file_loaded_again_with_no_row_keeps_its_earlier_rows_and_says_so(wh, tmp_path):
    header, lines = demo_lines(tmp_path, 2)
    path = tmp_path / "cost (1)_actual.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    assert load(wh, path).files[0].rows_loaded == 2
    before = total(wh, "BilledCost")
    for text, quarantined in ((header, 0), (header + "\n" + lines[0].replace(",USD,", ",U$D,"), 1)):
        path.write_text(text + "\n", encoding="utf-8")  # a header only, then a row quarantined
        f = load(wh, path).files[0]
        assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 0, quarantined)
        assert f.warnings[-1] == (f"{path}: loads no row, so the 2 rows an earlier load brought from it (billing "
                                  f"months 2026-10) are kept as they were; abi remove '{path}' takes them out")
        assert total(wh, "BilledCost") == before


def test_placeholder_dates_the_engine_cannot_store_are_quarantined_not_moved_to_1970(wh, tmp_path):
    files = generate(tmp_path / "demo")
    lines = files.actual.read_text(encoding="utf-8-sig").splitlines()
    rows = [dict(zip(HEADER, r, strict=True)) for r in csv.reader(lines[1:4])]
    rows[0]["Date"] = "12/30/1899"  # OLE's zero date
    rows[1]["BillingPeriodStartDate"] = rows[1]["BillingPeriodEndDate"] = "1/1/0001 12:00:00 AM"  # .NET's
    f = load(wh, write_csv(tmp_path / "placeholder_actual.csv", HEADER, rows)).files[0]
    assert (f.rows_loaded, f.rows_quarantined) == (1, 2)
    reasons = [r["reasons"] for r in wh.rows("SELECT reasons FROM abi.focus_quarantine ORDER BY source_row")]
    assert reasons[0][0] == "ChargePeriodStart: out of range (a date before 1971 or after 2105)"
    assert reasons[1][0] == "BillingPeriodStart: out of range (a date before 1971 or after 2105)"
    assert wh.scalar("SELECT min(BillingPeriodStart) > '2000-01-01' FROM abi.focus_cost") == 1


def test_a_focus_period_past_2105_is_out_of_range_and_a_missing_one_only_missing(wh, tmp_path):
    header = ["BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
              "ChargePeriodEnd", "ChargeCategory", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
              "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory"]
    row = dict(zip(header, ["A1", "USD", "2024-01-01", "2024-02-01", "2024-01-05", "9999-12-31", "Usage", "1", "1",
                            "1", "1", "AWS", "AWS", "AWS", "Amazon S3", "Storage"], strict=True))
    load(wh, write_csv(tmp_path / "focus_far.csv", header, [row, row | {"ChargePeriodStart": ""}]))
    reasons = [r["reasons"] for r in wh.rows("SELECT reasons FROM abi.focus_quarantine ORDER BY source_row")]
    assert reasons == [["ChargePeriodEnd: out of range (a date before 1971 or after 2105)"],
                       ["ChargePeriodStart: mandatory value missing",
                        "ChargePeriodEnd: out of range (a date before 1971 or after 2105)"]]


def test_a_column_named_twice_quarantines_the_rows_where_its_two_values_differ(wh, tmp_path):
    """``Cost`` at the front of an export that has its own: which one is the cost, only rows that agree tell."""
    header, rows = demo_lines(tmp_path, 3)
    cells, parsed = next(csv.reader([header])), list(csv.reader(rows))
    cost = cells.index("CostInBillingCurrency")
    fronted = [[r[cost] if i != 1 else "999", *r] for i, r in enumerate(parsed)]
    path = tmp_path / "twice_actual.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([[" costinbillingcurrency", *cells], *fronted])
    f = load(wh, path).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 2, 1)
    reasons = wh.scalar("SELECT reasons FROM abi.focus_quarantine")
    assert reasons == [f'CostInBillingCurrency: the header names column costinbillingcurrency twice (columns 1 and '
                       f'{cost + 2}) and they differ: "999" and "{parsed[1][cost]}"']
    assert [r["x_SourceRow"] for r in focus_rows(wh, "x_SourceRow")] == [1, 3]


def test_a_field_with_text_after_its_closing_quote_refuses_the_file_naming_row_and_column(wh, tmp_path):
    header, rows = demo_lines(tmp_path, 3)
    cells = next(csv.reader([header]))
    group = cells.index("ResourceGroup")
    broken = next(csv.reader([rows[1]]))
    broken[group] = '"rg-"shared"'  # a tool that did not double the quotes inside a value
    rows[1] = ",".join(broken)
    path = tmp_path / "quotes_actual.csv"
    path.write_text("\n".join(["Report", header, *rows]) + "\n")
    f = load(wh, path).files[0]
    assert f.error.startswith(f"{path}: cannot be read: data row 2 (line 4), column 'ResourceGroup': ")
    assert 'near …' in f.error and '"rg-"shared"' in f.error
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0


def test_a_reason_names_the_column_as_the_file_spells_it(wh, tmp_path, samples):
    """A legacy EA file's ``Cost`` is read as CostInBillingCurrency: its reason names both."""
    lines = (samples / "azure" / "EA_ActualCost_Small.csv").read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.reader(lines))
    rows[2][rows[0].index("Cost")] = "n/a"
    path = tmp_path / "legacy_actual.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    f = load(wh, path).files[0]
    assert (f.error, f.rows_quarantined) == (None, 1)
    reasons = wh.scalar("SELECT reasons FROM abi.focus_quarantine")
    assert reasons[0] == 'Cost (CostInBillingCurrency): not a number: "n/a"'


@pytest.mark.parametrize(("header", "named"), [
    (["lineItem/referenceNo", "lineItem/intervalUsageStart", "cost/myCost", "cost/currencyCode"], "an OCI cost report"),
    (["identity/LineItemId", "lineItem/UsageStartDate", "lineItem/UnblendedCost"], "an AWS Cost and Usage Report"),
    (["identity_line_item_id", "line_item_usage_start_date", "line_item_unblended_cost"], "an AWS CUR 2.0 export"),
    (["PartnerId", "CustomerId", "ChargeStartDate", "MeterCategory", "Quantity", "BillingPreTaxTotal"],
     "a Partner Center (CSP) reconciliation file"),
])
def test_a_providers_own_cost_format_is_refused_naming_where_its_focus_form_is(wh, tmp_path, header, named):
    path = write_csv(tmp_path / "cost.csv", header, [dict.fromkeys(header, "1")])
    error = load(wh, path).files[0].error
    assert error.startswith(f"{path}: {named}") and "FOCUS" in error.split(named)[1]


@pytest.mark.parametrize("header", [
    ["UsageDate", "MeterCategory", "CostUSD", "Cost", "Currency"],  # a cost analysis download
    ["PreTaxCost", "UsageDate", "SubscriptionId", "ResourceGroupName", "MeterCategory", "Currency"],  # Query API
])
def test_a_cost_management_aggregate_is_refused_and_leaves_the_cost_details_it_sums(wh, tmp_path, header):
    """Summed per day and group (no quantity), it would count the details' costs again, or replace them."""
    details = generate(tmp_path / "demo").actual
    load(wh, details)
    before = total(wh, "BilledCost")
    values = {"UsageDate": "20261001", "MeterCategory": "Storage", "CostUSD": "9", "Cost": "9", "PreTaxCost": "9",
              "Currency": "USD", "SubscriptionId": "5f1c2d3e-0000-4000-8000-000000000001", "ResourceGroupName": "rg"}
    path = write_csv(tmp_path / "DailyCosts.csv", header, [{h: values[h] for h in header}])
    f = load(wh, path).files[0]
    assert f.error.startswith(f"{path}: an Azure Cost Management aggregate") and "cost details" in f.error
    assert total(wh, "BilledCost") == before


def test_a_broken_quote_before_text_the_engine_cuts_inside_a_character_names_row_and_column(wh, tmp_path):
    head = ("BillingAccountId,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
            "ChargeCategory,ProviderName,ServiceCategory,BilledCost,EffectiveCost,ChargeDescription,ServiceName")
    row = "A1,USD,2024-01-01,2024-02-01,2024-01-05,2024-01-06,Usage,AWS,Storage,1,1,"
    path = tmp_path / "focus_broken_quote.csv"  # the engine's message quotes the text after "a" cut inside a 東
    path.write_text("\n".join([head, row + "b,S3", row + '"a"x,' + "東" * 200, ""]), encoding="utf-8")
    f = load(wh, path).files[0]
    assert f.error.startswith(f"{path}: cannot be read: data row 2 (line 3), column 'ChargeDescription': "), f.error
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0
