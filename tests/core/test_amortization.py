"""Actual cost loaded without its amortized counterpart: the load says what EffectiveCost leaves out, once per file
and billing month, and stops saying it once the month's amortized data is in the warehouse."""

from __future__ import annotations

import csv
from decimal import Decimal

from abitest import load, total

from app.core.demo import generate


def _commitment_purchases(path) -> Decimal:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["ChargeType"] == "Purchase"  # a refund is no EffectiveCost
                and r["PricingModel"] in ("Reservation", "SavingsPlan")]
    return sum((Decimal(r["CostInBillingCurrency"]) for r in rows), Decimal(0))


def test_actual_cost_alone_warns_what_effective_cost_leaves_out(wh, tmp_path):
    files = generate(tmp_path / "demo")
    warnings = load(wh, files.actual).files[0].warnings
    bought = _commitment_purchases(files.actual)
    assert bought > 0 and len(warnings) == 1, warnings
    assert warnings[0].startswith(f"{files.actual}: billing month 2026-10 holds actual cost only")
    assert f"leaves out the {bought.normalize():f} USD of commitment purchases" in warnings[0]
    assert total(wh, "EffectiveCost") < total(wh, "BilledCost")  # what the warning is about

    assert load(wh, files.amortized).files[0].warnings == []
    assert load(wh, files.actual).files[0].warnings == []  # the month's amortized data is in: nothing is missing


def test_actual_cost_without_commitments_says_nothing(wh, tmp_path):
    files = generate(tmp_path / "demo")
    plain = tmp_path / "plain.csv"
    lines = files.actual.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    plain.write_text(lines[0] + "".join(line for line in lines[1:] if "Reservation" not in line
                                        and "SavingsPlan" not in line), encoding="utf-8")
    result = load(wh, plain, dataset="ActualCost").files[0]
    assert result.error is None and result.rows_loaded > 0 and result.warnings == []


def test_amortized_data_of_another_subscription_leaves_the_warning(wh, tmp_path):
    """Amortized data supersedes actual rows by account and day: one subscription's amortized file leaves the other
    subscriptions' actual rows, and what their EffectiveCost misses, as they were."""
    files = generate(tmp_path / "demo")
    lines = files.amortized.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    first = lines[1].split(",")[lines[0].split(",").index("SubscriptionId")]
    part = tmp_path / "amortized_one_subscription.csv"
    part.write_text(lines[0] + "".join(line for line in lines[1:] if first in line), encoding="utf-8")
    result = load(wh, files.actual, part, dataset=None)
    warned = [w for f in result.files for w in f.warnings]
    assert len(warned) == 1 and warned[0].startswith(f"{files.actual}: billing month 2026-10 holds actual cost only")
