"""Data quality: anomaly detection on constructed series, reconciliation equal and unequal, source totals."""

from __future__ import annotations

import csv
import gzip
import random
from datetime import date, timedelta
from decimal import Decimal

from abitest import csv_total, write_csv

from app.core.demo import generate
from app.core.loader import ingest
from app.core.staging import summed_totals
from app.workflows.anomalies import detect
from app.workflows.quality import check
from app.workflows.store import ensure_workflow_schema
from app.workflows.types import AnomalySettings, CheckInput, MonthLoad, QualitySettings, SourceTotal

START = date(2026, 6, 1)
SETTINGS = AnomalySettings(window_days=28, z_threshold=3.5, min_abs_change=50.0)


def series(values: list[float]) -> dict[date, float]:
    return {START + timedelta(days=i): v for i, v in enumerate(values)}


def noisy(level: float, days: int = 35, spread: float = 0.05, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [level * (1 + rng.uniform(-spread, spread)) for _ in range(days)]


def evaluate(values: list[float], days: list[int], s: AnomalySettings = SETTINGS):
    return detect(series(values), [START + timedelta(days=d) for d in days], START, s)


def test_a_spike_is_flagged_and_the_ordinary_days_are_not():
    values = noisy(1000.0)
    values[30] = 4000.0
    found = evaluate(values, list(range(35)))
    assert [(f.day, round(f.cost)) for f in found] == [(START + timedelta(days=30), 4000)]
    assert found[0].z_score > 3.5 and found[0].change > 2900


def test_pennies_never_alert_however_large_their_z_score():
    values = [0.10] * 35
    values[30] = 0.90  # nine times the baseline, but 80 cents
    assert evaluate(values, [30]) == []
    flat = [1000.0] * 35
    flat[30] = 1000.50
    assert evaluate(flat, [30]) == []


def test_a_drop_is_flagged_down():
    values = noisy(800.0)
    values[31] = 0.0
    [found] = evaluate(values, [31])
    assert found.change < -700 and found.z_score < -3.5


def test_the_seasonal_baseline_ignores_weekly_patterns_that_the_plain_one_flags():
    values = [100.0 if (START + timedelta(days=i)).weekday() < 5 else 20.0 for i in range(35)]
    weekend = next(d for d in range(28, 35) if (START + timedelta(days=d)).weekday() >= 5)
    plain = AnomalySettings(window_days=28, z_threshold=3.5, min_abs_change=50.0, method="robust_z")
    assert evaluate(values, [weekend]) == [] and evaluate(values, [weekend], plain)[0].method == "robust_z"


def test_days_without_history_are_not_evaluated():
    values = [0.0] * 3 + [5000.0] * 5  # a first load: no baseline yet
    assert evaluate(values, list(range(8))) == []


def demo_load(wh, tmp_path) -> tuple[MonthLoad, list]:
    ensure_workflow_schema(wh)
    files = generate(tmp_path / "demo", month=START)
    result = ingest(wh, [files.actual, files.amortized])
    assert result.ok
    return month_load(result), [files.actual, files.amortized]


def month_load(result) -> MonthLoad:
    """The month's load as the sync workflow reports it (its files' source totals added up)."""
    totals = summed_totals(t for f in result.files for t in f.source_totals)
    return MonthLoad("demo", "2026-06", "loaded", files=sorted(f.path for f in result.files),
                     totals=[SourceTotal(**t) for t in totals], billing_periods=["2026-06"])


def reconciliation(wh, run_id: str) -> dict[str, dict]:
    rows = wh.rows("SELECT subject, status, toString(difference) AS difference, toString(source_value) AS source "
                   "FROM abi.data_quality_results WHERE `check` = 'reconciliation' AND run_id = {r:String}",
                   {"r": run_id})
    return {r["subject"].split()[0]: r for r in rows}


def test_reconciliation_passes_when_equal_and_fails_by_the_missing_amount(wh, tmp_path):
    load, (actual, amortized) = demo_load(wh, tmp_path)
    assert {t.metric: Decimal(t.total) for t in load.totals} == {
        "BilledCost": csv_total(actual, "CostInBillingCurrency"),
        "EffectiveCost": csv_total(amortized, "CostInBillingCurrency")}
    settings = QualitySettings(freshness_days=10_000)
    report = check(wh, CheckInput("equal", "demo", [load], today="2026-07-01", settings=settings))
    equal = reconciliation(wh, "equal")
    assert report.failed == 0 and {r["status"] for r in equal.values()} == {"pass"} and len(equal) == 2
    row = wh.rows("SELECT x_SourceFile AS f, x_SourceRow AS r, toString(BilledCost) AS b, "
                  "toString(EffectiveCost) AS e FROM abi.focus_cost WHERE x_SourceDataset = 'AmortizedCost' "
                  "AND BilledCost > 1 ORDER BY x_SourceRow LIMIT 1")[0]
    wh.command(f"DELETE FROM abi.focus_cost WHERE x_SourceFile = '{row['f']}' AND x_SourceRow = {row['r']}")
    report = check(wh, CheckInput("unequal", "demo", [load], today="2026-07-01", settings=settings))
    unequal = reconciliation(wh, "unequal")
    assert report.failed == 2 and {r["status"] for r in unequal.values()} == {"fail"}
    assert Decimal(unequal["BilledCost"]["difference"]) == -Decimal(row["b"])
    assert Decimal(unequal["EffectiveCost"]["difference"]) == -Decimal(row["e"])
    assert any("reconciliation 2026-06 BilledCost" in p for p in report.problems)


def test_source_totals_count_every_row_read_quarantined_ones_too(wh, tmp_path):
    files = generate(tmp_path / "demo", month=START, compress=True)
    with gzip.open(files.actual, "rt", newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows[5]["BillingCurrencyCode"] = "EURO"  # quarantined (not ISO 4217) but its cost is still the source's
    rows[6]["CostInBillingCurrency"] = "n/a"  # no number: no cost in any total
    bad = write_csv(tmp_path / "bad.csv.gz", header, rows)
    result = ingest(wh, [bad, files.amortized])
    assert [f.rows_quarantined for f in result.files] == [2, 0]
    billed = sum(Decimal(r["CostInBillingCurrency"]) for r in rows if r["CostInBillingCurrency"] != "n/a")
    euro = Decimal(rows[5]["CostInBillingCurrency"])
    first = [(t["billing_period"], t["currency"], t["metric"], Decimal(t["total"]))
             for t in result.files[0].source_totals]
    assert first == [("2026-06", "EURO", "BilledCost", euro), ("2026-06", "USD", "BilledCost", billed - euro)]
    assert [(t["currency"], t["metric"], Decimal(t["total"])) for t in result.files[1].source_totals] == [
        ("USD", "EffectiveCost", csv_total(files.amortized, "CostInBillingCurrency"))]


def test_reconciliation_is_per_billing_currency(wh, tmp_path):
    """An MCA account billed in two currencies: each currency reconciles on its own (amounts never added)."""
    ensure_workflow_schema(wh)
    files = generate(tmp_path / "demo", month=START)
    paths = []
    for path in (files.actual, files.amortized):
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header, rows = list(reader.fieldnames or []), list(reader)
        for row in rows[::3]:
            row["BillingCurrencyCode"] = "EUR"
        paths.append(write_csv(tmp_path / path.name, header, rows))
    load = month_load(ingest(wh, paths))
    assert {(t.currency, t.metric) for t in load.totals} == {
        (c, m) for c in ("EUR", "USD") for m in ("BilledCost", "EffectiveCost")}
    wh.command("DELETE FROM abi.focus_cost WHERE BillingCurrency = 'EUR' AND BilledCost > 1 AND "
               "x_SourceDataset = 'AmortizedCost' AND x_SourceRow = (SELECT min(x_SourceRow) FROM abi.focus_cost "
               "WHERE BillingCurrency = 'EUR' AND BilledCost > 1 AND x_SourceDataset = 'AmortizedCost')")
    check(wh, CheckInput("currencies", "demo", [load], today="2026-07-01",
                         settings=QualitySettings(freshness_days=10_000)))
    results = {r["subject"]: r["status"] for r in wh.rows(
        "SELECT subject, status FROM abi.data_quality_results WHERE `check` = 'reconciliation' "
        "AND run_id = 'currencies'")}
    assert results == {"BilledCost = actual cost, EUR": "fail", "EffectiveCost = amortized cost, EUR": "fail",
                       "BilledCost = actual cost, USD": "pass", "EffectiveCost = amortized cost, USD": "pass"}


def test_anomalies_in_the_warehouse_flag_a_tampered_day_once(wh, tmp_path):
    demo_load(wh, tmp_path)
    settings = QualitySettings(freshness_days=10_000, anomalies=AnomalySettings(min_abs_change=5.0))
    inp = CheckInput("a1", "demo", [], periods=["2026-06"], today="2026-07-01", settings=settings)
    assert check(wh, inp).anomalies == 0
    target = wh.rows("SELECT SubAccountId AS s, ServiceName AS v FROM abi.focus_cost WHERE ChargeCategory = 'Usage' "
                     "GROUP BY s, v ORDER BY sum(EffectiveCost) DESC LIMIT 1")[0]
    wh.command("ALTER TABLE abi.focus_cost UPDATE EffectiveCost = EffectiveCost * 10 WHERE toDate(ChargePeriodStart)"
               f" = '2026-06-20' AND SubAccountId = '{target['s']}' AND ServiceName = '{target['v']}'")
    assert check(wh, inp).anomalies == 1
    assert check(wh, inp).anomalies == 1  # re-evaluating replaces, never duplicates
    found = wh.rows("SELECT toString(day) AS day, sub_account_id, service_name, direction FROM abi.cost_anomalies")
    assert found == [{"day": "2026-06-20", "sub_account_id": target["s"], "service_name": target["v"],
                      "direction": "up"}]


def test_an_anomaly_names_its_sub_account_by_its_latest_name(wh, tmp_path):
    """A subscription renamed on the last day of the month: its anomaly shows the new name, not the name of
    whichever row the warehouse happened to return last."""
    demo_load(wh, tmp_path)
    settings = QualitySettings(freshness_days=10_000, anomalies=AnomalySettings(min_abs_change=5.0))
    target = wh.rows("SELECT SubAccountId AS s, ServiceName AS v FROM abi.focus_cost WHERE ChargeCategory = 'Usage' "
                     "GROUP BY s, v ORDER BY sum(EffectiveCost) DESC, s, v LIMIT 1")[0]
    wh.command("ALTER TABLE abi.focus_cost UPDATE EffectiveCost = EffectiveCost * 10 WHERE toDate(ChargePeriodStart)"
               f" = '2026-06-20' AND SubAccountId = '{target['s']}' AND ServiceName = '{target['v']}'")
    wh.command("ALTER TABLE abi.focus_cost UPDATE SubAccountName = 'Renamed' WHERE toDate(ChargePeriodStart) = "
               f"'2026-06-30' AND SubAccountId = '{target['s']}'")
    inp = CheckInput("a1", "demo", [], periods=["2026-06"], today="2026-07-01", settings=settings)
    assert check(wh, inp).anomalies == 1
    assert wh.rows("SELECT sub_account_id, sub_account_name FROM abi.cost_anomalies") == [
        {"sub_account_id": target["s"], "sub_account_name": "Renamed"}]
