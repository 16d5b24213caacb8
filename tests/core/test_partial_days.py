"""Files that cover part of a billing month (a day, a week: Cost Details "small datasets", daily exports,
incremental deliveries) replace only the charge days they bring, so loaded one by one they add up; a month-to-date
file replaces the earlier runs' days; an amortized file supersedes the actual usage of its own days only."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from abitest import csv_total, load, others, total, write_csv

from app.core.demo import HEADER, generate


def _by_day(path: Path) -> dict[str, list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        days: dict[str, list[dict[str, str]]] = {}
        for row in csv.DictReader(handle):
            days.setdefault(row["Date"], []).append(row)
    return dict(sorted(days.items()))


def test_daily_files_loaded_one_by_one_add_up_and_the_month_file_replaces_them(wh, tmp_path):
    files = generate(tmp_path / "demo")
    days = list(_by_day(files.actual).items())[:5]
    daily = [write_csv(tmp_path / f"costdetails_day{n}_actual.csv", HEADER, rows) for n, (_, rows) in enumerate(days)]
    for path in daily + daily[2:3]:  # each day once, then one again
        result = load(wh, path)
        assert result.ok and not result.earlier_files or result.earlier_files[0]["path"] == str(path)
        assert all(Decimal(r["difference"]) == 0 for r in result.reconciliation), result.reconciliation
        assert not [w for f in result.files for w in others(f)]
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == sum(len(rows) for _, rows in days)
    assert total(wh, "BilledCost") == sum(csv_total(p, "CostInBillingCurrency") for p in daily)
    month = load(wh, files.actual)
    assert {e["path"]: (e["rows_replaced"], e["rows_kept"]) for e in month.earlier_files} == {
        str(p): (len(rows), 0) for p, (_, rows) in zip(daily, days, strict=True)}
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    assert not others(month.files[0])


def test_an_amortized_file_of_one_day_supersedes_that_days_actual_usage_only(wh, tmp_path):
    files = generate(tmp_path / "demo")
    first_day, rows = next(iter(_by_day(files.amortized).items()))
    load(wh, files.actual)
    actual_days = wh.scalar("SELECT uniqExact(toDate(ChargePeriodStart)) FROM abi.focus_cost")
    result = load(wh, write_csv(tmp_path / "amortized_day1.csv", HEADER, rows), dataset="AmortizedCost")
    assert result.ok and result.files[0].rows_loaded == len(rows)
    held = wh.rows("SELECT toDate(ChargePeriodStart) = min(toDate(ChargePeriodStart)) OVER () AS first, "
                   "x_SourceDataset AS d, ChargeCategory AS c FROM abi.focus_cost")
    assert {r["d"] for r in held if r["first"]} == {"AmortizedCost", "ActualCost"}
    assert {r["c"] for r in held if r["first"] and r["d"] == "ActualCost"} <= {"Purchase"}  # commitments stay
    assert {r["d"] for r in held if not r["first"]} == {"ActualCost"}
    assert wh.scalar("SELECT uniqExact(toDate(ChargePeriodStart)) FROM abi.focus_cost") == actual_days
    assert first_day == min(_by_day(files.actual))


def test_files_that_share_some_days_warn_that_the_earlier_one_was_replaced_in_part(wh, tmp_path):
    days = list(_by_day(generate(tmp_path / "demo").actual).values())
    first = write_csv(tmp_path / "report-00001_actual.csv", HEADER, days[0] + days[1])
    second = write_csv(tmp_path / "report-00002_actual.csv", HEADER, days[1] + days[2])
    load(wh, first)
    result = load(wh, second)
    [earlier] = result.earlier_files
    assert (earlier["path"], earlier["rows_replaced"], earlier["rows_kept"]) == (str(first), len(days[1]),
                                                                                 len(days[0]))
    assert others(result.files[0]) == [
        f"{first} (loaded earlier): {len(days[1])} of its rows replaced by this load (the same dataset, accounts "
        f"and charge days), {len(days[0])} kept; if the files are increments of one delivery or files of other "
        f"days rather than runs of one report, load all of their month's files together"]
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == len(days[0]) + len(days[1]) + len(days[2])


def test_a_file_loaded_again_with_fewer_days_replaces_all_it_brought(wh, tmp_path):
    days = list(_by_day(generate(tmp_path / "demo").actual).values())
    path = tmp_path / "cost_actual.csv"
    write_csv(path, HEADER, days[0] + days[1] + days[2])
    load(wh, path)
    write_csv(path, HEADER, days[0] + days[1])  # a re-run of a shorter range, saved under the same name
    result = load(wh, path)
    assert [(e["rows_replaced"], e["rows_kept"]) for e in result.earlier_files] == [
        (len(days[0]) + len(days[1]) + len(days[2]), 0)]
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == len(days[0]) + len(days[1])
    assert total(wh, "BilledCost") == csv_total(path, "CostInBillingCurrency") and not others(result.files[0])


def test_a_row_dated_apart_from_a_files_days_warns_for_the_days_between_it_replaced(wh, tmp_path):
    credit = next(iter(_by_day(generate(tmp_path / "demo").actual).values()))[0]
    days = [[r for r in rows if r["SubscriptionId"] == credit["SubscriptionId"]]
            for rows in _by_day(generate(tmp_path / "demo").actual).values()]  # one subscription's
    second = write_csv(tmp_path / "day2_actual.csv", HEADER, days[1])
    load(wh, second)
    credit |= {"CostInBillingCurrency": "-5"}  # dated the 1st, in the file of the 3rd
    result = load(wh, write_csv(tmp_path / "day3_actual.csv", HEADER, days[2] + [credit]))
    assert others(result.files[0]) == [
        f"{second} (loaded earlier): {len(days[1])} of its rows replaced on days this load holds no row of (between "
        f"its first and last day of their accounts); if the files are increments of one delivery or files of other "
        f"days rather than runs of one report, load all of their month's files together"]


def test_an_actual_month_and_amortized_days_loaded_together_reconcile(wh, tmp_path):
    files = generate(tmp_path / "demo")
    days = list(_by_day(files.amortized).values())
    amortized = write_csv(tmp_path / "amortized_days_1-5.csv", HEADER, [r for rows in days[:5] for r in rows])
    result = load(wh, files.actual, amortized, dataset=None)
    assert result.ok and {r["metric"] for r in result.reconciliation} == {"BilledCost", "EffectiveCost"}
    assert all(Decimal(r["difference"]) == 0 for r in result.reconciliation), result.reconciliation


def test_one_path_saved_with_actual_then_amortized_data_keeps_both_halves(wh, tmp_path):
    """A script that saves each download as ``cost.csv``: the amortized file is no re-run of the actual one, so it
    combines with it (Microsoft's rule) rather than replacing all the path brought."""
    files = generate(tmp_path / "demo")
    path = tmp_path / "cost.csv"
    kinds = {files.actual: "ActualCost", files.amortized: "AmortizedCost"}
    for order in ((files.actual, files.amortized), (files.amortized, files.actual)):
        wh.command("DROP TABLE IF EXISTS abi.focus_cost")
        for source in order:
            path.write_bytes(source.read_bytes())
            assert load(wh, path, dataset=kinds[source]).ok
        assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
        assert total(wh, "EffectiveCost") == csv_total(files.amortized, "CostInBillingCurrency")
