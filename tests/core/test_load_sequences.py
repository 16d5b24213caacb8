"""Actual and amortized exports of one month, each split in parts as Cost Management delivers them, loaded in any
order, together or apart, some again: whatever the sequence, the month ends the same: BilledCost equals the actual
export's total, EffectiveCost the amortized one's, and the rows are the amortized rows plus the actual commitment
purchases and refunds (Microsoft's combination), never a duplicate."""

from __future__ import annotations

import csv
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from abitest import csv_total, load, total
from connectortest import write_export_run

from app.core.demo import generate

MONTH = date(2026, 10, 1)
COST = "CostInBillingCurrency"
SEEDS = range(6)


def _kept_actual_rows(path: Path) -> int:
    """Actual rows that amortized data does not supersede: commitment purchases and refunds."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sum(r["ChargeType"] in ("Purchase", "Refund") and r["PricingModel"] in ("Reservation", "SavingsPlan")
                   for r in csv.DictReader(handle))


def _rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sum(1 for _ in csv.DictReader(handle))


@pytest.mark.parametrize("seed", SEEDS)
def test_any_sequence_of_loads_ends_in_the_same_reconciled_month(wh, tmp_path, seed):
    rng = random.Random(seed)
    files = generate(tmp_path / "demo", month=MONTH)
    exports = {kind: write_export_run(tmp_path / "storage", kind.lower(), kind, MONTH, f"run-{kind}",
                                      "2026-11-02T00:00:00Z", source, parts=rng.randint(1, 3),
                                      compress=rng.random() < 0.5)
               for kind, source in (("ActualCost", files.actual), ("AmortizedCost", files.amortized))}
    steps = [["ActualCost"], ["AmortizedCost"]] + [rng.choice([["ActualCost"], ["AmortizedCost"],
                                                               ["ActualCost", "AmortizedCost"]])
                                                   for _ in range(rng.randint(0, 3))]
    rng.shuffle(steps)
    for step in steps:
        result = load(wh, *[part for kind in step for part in exports[kind]])
        assert result.ok and not any(f.rows_quarantined for f in result.files), (steps, result.as_dict())
    assert total(wh, "BilledCost") == csv_total(files.actual, COST), steps
    assert total(wh, "EffectiveCost") == csv_total(files.amortized, COST), steps
    rows = wh.scalar("SELECT count() FROM abi.focus_cost")
    assert rows == _rows(files.amortized) + _kept_actual_rows(files.actual), steps
    duplicates = wh.scalar("SELECT count() FROM (SELECT x_SourceFile, x_SourceRow FROM abi.focus_cost "
                           "GROUP BY x_SourceFile, x_SourceRow HAVING count() > 1)")
    assert duplicates == 0 and total(wh, "BilledCost") != Decimal(0), steps
