"""Numbers as spreadsheets write them: malformed ones quarantined, thousands separators told from decimal commas."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from abitest import demo_lines, load, write_csv

FOCUS_HEADER = ["BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
                "ChargePeriodEnd", "ChargeCategory", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
                "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory"]
FOCUS_ROW = dict(zip(FOCUS_HEADER, ["A1", "USD", "2024-01-01", "2024-02-01", "2024-01-05", "2024-01-06", "Usage",
                                    "1.5", "1.5", "1.5", "1.5", "AWS", "AWS", "AWS", "Amazon S3", "Storage"],
                     strict=True))


def _demo_rows(tmp_path, n: int) -> tuple[list[str], list[dict[str, str]]]:
    header, lines = demo_lines(tmp_path, n)
    cells = next(csv.reader([header]))
    return cells, [dict(zip(cells, r, strict=True)) for r in csv.reader(lines)]


def _reasons(wh) -> list[list[str]]:
    return [r["reasons"] for r in wh.rows("SELECT reasons FROM abi.focus_quarantine ORDER BY source_row")]


@pytest.mark.parametrize("cell", ["1.2.3", "01.10.2026", "10.0.0.1", "1..5"])
def test_a_focus_number_with_several_dots_is_quarantined_as_not_a_number(wh, tmp_path, cell):
    path = write_csv(tmp_path / "focus_dots.csv", FOCUS_HEADER, [FOCUS_ROW, FOCUS_ROW | {"BilledCost": cell}])
    result = load(wh, path)
    f = result.files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 1, 1)
    assert _reasons(wh) == [[f'BilledCost: not a number: "{cell}"']]
    assert [r["source"] for r in result.reconciliation if r["metric"] == "BilledCost"] == ["1.5"]


def test_an_azure_number_with_several_dots_is_quarantined_as_not_a_number(wh, tmp_path):
    header, rows = _demo_rows(tmp_path, 3)
    rows[1]["CostInBillingCurrency"], rows[2]["Quantity"] = "1.2.3", "10.0.0.1"
    result = load(wh, write_csv(tmp_path / "dots_actual.csv", header, rows))
    f = result.files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 1, 2)
    assert [r[0] for r in _reasons(wh)] == ['CostInBillingCurrency: not a number: "1.2.3"',
                                            'Quantity: not a number: "10.0.0.1"']
    assert Decimal(result.reconciliation[0]["source"]) == sum(Decimal(r["CostInBillingCurrency"]) for r in rows[::2])
