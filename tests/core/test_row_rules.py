"""FOCUS 1.2 rules checked on each row (app/core/mapping.py, app/models/rules.py): a value outside a closed list or
a period that ends where it starts quarantines the row, naming the rule."""

from __future__ import annotations

import pytest
from abitest import load, write_csv
from test_focus_mapping_columns import ROW


def _reasons(wh, tmp_path, **changes) -> list[str]:
    row = ROW | changes
    f = load(wh, write_csv(tmp_path / "focus_1.1.csv", list(row), [row])).files[0]
    assert (f.rows_loaded, f.rows_quarantined) == (0, 1)
    return list(wh.scalar("SELECT reasons FROM abi.focus_quarantine"))


@pytest.mark.parametrize(("column", "value"), [
    ("CapacityReservationStatus", "Partial"), ("ChargeClass", "Refund"), ("CommitmentDiscountCategory", "Hybrid"),
    ("ChargeFrequency", "Monthly"), ("CommitmentDiscountStatus", "Partial"),
])
def test_a_value_outside_its_closed_list_quarantines_the_row(wh, tmp_path, column, value):
    assert _reasons(wh, tmp_path, **{column: value}) == [f'{column}: not an allowed value: "{value}"']


@pytest.mark.parametrize("period", ["ChargePeriod", "BillingPeriod"])
def test_a_period_ending_where_it_starts_quarantines_the_row(wh, tmp_path, period):
    start = ROW[f"{period}Start"]
    assert _reasons(wh, tmp_path, **{f"{period}End": start}) == [f"{period}End: not after {period}Start"]
