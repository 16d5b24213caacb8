"""Each load reconciles FOCUS with its files (Microsoft's rule): BilledCost = actual cost, EffectiveCost = amortized
cost, per billing month and currency, over the accounts the load touched."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from abitest import csv_total, load, write_csv

from app.core.demo import HEADER, generate
from app.core.summary import print_ingestion


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _by_metric(result) -> dict[str, dict[str, str]]:
    return {r["metric"]: r for r in result.reconciliation}


def test_actual_and_amortized_reconcile_in_one_load_or_in_two(wh, tmp_path, capsys):
    files = generate(tmp_path / "demo")
    billed, effective = csv_total(files.actual, "CostInBillingCurrency"), csv_total(files.amortized,
                                                                                    "CostInBillingCurrency")
    first = load(wh, files.amortized)
    assert list(_by_metric(first)) == ["EffectiveCost"]  # an amortized file holds no actual cost
    second = load(wh, files.actual)  # its usage is superseded by the amortized rows already loaded
    found = _by_metric(second)["BilledCost"]
    assert (Decimal(found["focus"]), Decimal(found["source"]), found["difference"]) == (billed, billed, "0")
    both = load(wh, files.actual, files.amortized)
    assert {m: (Decimal(r["focus"]), r["difference"]) for m, r in _by_metric(both).items()} == {
        "BilledCost": (billed, "0"), "EffectiveCost": (effective, "0")}
    assert both.as_dict()["reconciliation"] == both.reconciliation
    print_ingestion(both)
    assert f"ok   BilledCost 2026-10 USD: {billed} in FOCUS = the files' actual cost" in capsys.readouterr().out


def test_a_quarantined_cost_shows_as_the_difference_and_other_accounts_stay_out(wh, tmp_path, capsys):
    rows = _rows(generate(tmp_path / "demo").actual)
    subscriptions = sorted({r["SubscriptionId"] for r in rows})
    one = write_csv(tmp_path / "one_actual.csv", HEADER, [r for r in rows if r["SubscriptionId"] == subscriptions[0]])
    others = [r for r in rows if r["SubscriptionId"] != subscriptions[0]]
    lost = next(r for r in others if Decimal(r["CostInBillingCurrency"]) > 0)
    lost["Date"] = "31/31/2026"  # not a date: quarantined, its cost in the file's total only
    rest = write_csv(tmp_path / "rest_actual.csv", HEADER, others)
    assert _by_metric(load(wh, one))["BilledCost"]["difference"] == "0"
    found = _by_metric(load(wh, rest))["BilledCost"]
    assert Decimal(found["source"]) == csv_total(rest, "CostInBillingCurrency")  # not the first file's accounts
    assert Decimal(found["difference"]) == -Decimal(lost["CostInBillingCurrency"])
    print_ingestion(load(wh, rest))
    assert "DIFF BilledCost 2026-10 USD" in capsys.readouterr().out


def test_quarantined_rows_whose_cost_cannot_be_read_are_named_as_out_of_the_reconciliation(wh, tmp_path):
    rows = _rows(generate(tmp_path / "demo").actual)[:4]
    rows[1]["CostInBillingCurrency"], rows[2]["CostInBillingCurrency"] = "12,5abc", ""
    rows[3]["Date"] = "31/31/2026"  # its cost is read: it shows as the difference instead
    f = load(wh, write_csv(tmp_path / "unread_actual.csv", HEADER, rows)).files[0]
    assert f.rows_quarantined == 3
    assert f.warnings == [f"{f.path}: 2 quarantined rows have a cost that cannot be read (e.g. CostInBillingCurrency: "
                          f"not a number: \"12,5abc\"): it is in neither the file's total nor FOCUS, so the "
                          f"reconciliation cannot show it; see focus_quarantine"]
    clean = load(wh, write_csv(tmp_path / "clean_actual.csv", HEADER, rows[:1])).files[0]
    assert clean.warnings == []


def _anniversary_month(source: dict[str, str], first: date, days: int) -> list[dict[str, str]]:
    """A calendar month of a pay-as-you-go subscription billed from the 15th: two billing periods, each in part."""
    rows = []
    for day in (first + timedelta(days=n) for n in range(days)):
        start = day.replace(day=15) if day.day >= 15 else (day.replace(day=1) - timedelta(days=1)).replace(day=15)
        end = (start.replace(day=28) + timedelta(days=5)).replace(day=14)
        rows.append({**source, "Date": f"{day:%m/%d/%Y}", "BillingPeriodStartDate": f"{start:%m/%d/%Y}",
                     "BillingPeriodEndDate": f"{end:%m/%d/%Y}", "CostInBillingCurrency": "1"})
    return rows


def test_calendar_months_of_an_anniversary_billing_period_add_up_in_any_order(wh, tmp_path):
    source = _rows(generate(tmp_path / "demo").actual)[0]
    october = write_csv(tmp_path / "payg_2024-10.csv", HEADER, _anniversary_month(source, date(2024, 10, 1), 31))
    november = write_csv(tmp_path / "payg_2024-11.csv", HEADER, _anniversary_month(source, date(2024, 11, 1), 30))
    for path in (october, november, october, november):
        result = load(wh, path)
        assert all(Decimal(r["difference"]) == 0 for r in result.reconciliation)
    assert wh.rows("SELECT toString(toDate(BillingPeriodStart)) AS p, count() AS n FROM abi.focus_cost "
                   "GROUP BY p ORDER BY p") == [{"p": "2024-09-15", "n": 14}, {"p": "2024-10-15", "n": 31},
                                                {"p": "2024-11-15", "n": 16}]
    assert wh.scalar("SELECT toString(sum(BilledCost)) FROM abi.focus_cost") == "61"


def test_amortized_days_of_an_anniversary_period_supersede_only_those_days_actual_rows(wh, tmp_path):
    source = _rows(generate(tmp_path / "demo").actual)[0]
    for month, days in ((9, 30), (10, 31), (11, 30)):
        load(wh, write_csv(tmp_path / f"actual_{month}.csv", HEADER,
                           _anniversary_month(source, date(2024, month, 1), days)), dataset="ActualCost")
    amortized = write_csv(tmp_path / "amortized_10.csv", HEADER, _anniversary_month(source, date(2024, 10, 1), 31))
    result = load(wh, amortized, dataset="AmortizedCost")
    assert all(Decimal(r["difference"]) == 0 for r in result.reconciliation)
    held = wh.rows("SELECT x_SourceDataset AS d, min(toDate(ChargePeriodStart)) AS first, "
                   "max(toDate(ChargePeriodStart)) AS last, count() AS n FROM abi.focus_cost GROUP BY d ORDER BY d")
    assert [(r["d"], str(r["first"]), str(r["last"]), r["n"]) for r in held] == [
        ("ActualCost", "2024-09-01", "2024-11-30", 60), ("AmortizedCost", "2024-10-01", "2024-10-31", 31)]
    assert wh.scalar("SELECT count() FROM abi.focus_cost WHERE x_SourceDataset = 'ActualCost' "
                     "AND toMonth(ChargePeriodStart) = 10") == 0  # October's actual usage is amortized now


def test_totals_of_more_than_28_digits_reconcile_without_rounding(wh, tmp_path):
    rows = _rows(generate(tmp_path / "demo").actual)[:3]  # a large bill in rupiah, costs to 18 decimals
    costs = ["12345678901.123456789012345678", "0.000000000000000003", "98765432109.876543210987654321"]
    for row, cost in zip(rows, costs, strict=True):
        row |= {"CostInBillingCurrency": cost, "BillingCurrencyCode": "IDR", "PricingCurrencyCode": "IDR"}
    half = len(rows) - 1  # two files: their totals are added up before they are compared
    result = load(wh, write_csv(tmp_path / "a_actual.csv", HEADER, rows[:half]),
                  write_csv(tmp_path / "b_actual.csv", HEADER, rows[half:]))
    [line] = [r for r in result.reconciliation if r["metric"] == "BilledCost"]
    assert Decimal(line["source"]) == Decimal(line["focus"]) == Decimal("111111111011.000000000000000002")
    assert line["difference"] == "0"


def test_a_refused_file_keeps_its_charge_days_of_an_anniversary_period(wh, tmp_path):
    source = _rows(generate(tmp_path / "demo").actual)[0]
    rows = _anniversary_month(source, date(2024, 10, 1), 31)
    odd, even = (write_csv(tmp_path / f"payg_{n}.csv.gz", HEADER, rows[n::2]) for n in (0, 1))  # same scopes, days
    assert load(wh, odd, even).ok
    good = even.read_bytes()
    even.write_bytes(good[: len(good) // 2])  # refused: a truncated gzip file
    again = load(wh, odd, even)
    assert [f.error is None for f in again.files] == [True, False]
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 31
    assert wh.scalar("SELECT toString(sum(BilledCost)) FROM abi.focus_cost") == "31"
    assert {e["path"]: e["rows_replaced"] for e in again.earlier_files} == {str(odd): 16}
    kept = [Decimal(r["difference"]) for r in again.reconciliation if r["metric"] == "BilledCost"]
    assert sum(kept) == 14  # the kept rows on the days this load replaced, which no file of this load holds (of
    # the 15, October 14 is past the last day the odd file brings of its billing period, the 13th: not replaced)
    even.write_bytes(good)
    fixed = load(wh, odd, even)
    assert fixed.ok and all(Decimal(r["difference"]) == 0 for r in fixed.reconciliation)
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 31
    assert wh.scalar("SELECT toString(sum(BilledCost)) FROM abi.focus_cost") == "31"
