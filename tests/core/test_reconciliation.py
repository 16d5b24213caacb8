"""Each load reconciles FOCUS with its files (Microsoft's rule): BilledCost = actual cost, EffectiveCost = amortized
cost, per billing month and currency, over the accounts the load touched."""

from __future__ import annotations

import csv
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
