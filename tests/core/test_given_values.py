"""Values the user gives for columns a file lacks or leaves empty (``abi ingest --set``): old EA usage files."""

from __future__ import annotations

from decimal import Decimal

from abitest import EA_SUBSCRIPTION_GUID, focus_rows, load, write_csv
from abitest import write_ea_usage as _ea_usage


def test_a_file_without_currency_is_quarantined_with_a_hint(wh, tmp_path):
    f = load(wh, _ea_usage(tmp_path)).files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 0, 3)
    hints = " ".join(f.warnings)
    assert "--set BillingCurrency=VALUE" in hints and "BillingAccountId" not in hints  # billed by subscription
    assert "no row has a BillingCurrency (mandatory in FOCUS)" in hints


def test_given_currency_and_enrollment_load_every_row(wh, tmp_path):
    given = {"BillingCurrency": "EUR", "Enrollment Number": "8611537"}
    f = load(wh, _ea_usage(tmp_path), given=given).files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined, f.warnings) == (3, 3, 0, [])
    rows = focus_rows(wh, "BillingCurrency, BillingAccountId, SubAccountId, BilledCost, x_InvoiceSectionName")
    assert {(r["BillingCurrency"], r["BillingAccountId"], r["SubAccountId"]) for r in rows} == {
        ("EUR", "8611537", EA_SUBSCRIPTION_GUID)}  # the GUID, not the EA portal's numeric subscription id
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("6.912")


def test_a_given_value_fills_only_empty_cells(wh, tmp_path):
    path = _ea_usage(tmp_path)
    text = path.read_text(encoding="utf-8").splitlines()
    header = text[0] + ",BillingCurrency"
    path.write_text("\n".join([header, text[1] + ",USD", text[2] + ",", text[3] + ",USD"]) + "\n")
    load(wh, path, given={"billing_currency": "EUR", "BillingAccountId": "1"})
    assert [r["BillingCurrency"] for r in focus_rows(wh, "BillingCurrency")] == [
        "USD", "EUR", "USD"]


def test_a_name_that_is_no_column_refuses_the_file(wh, tmp_path):
    path = _ea_usage(tmp_path)
    f = load(wh, path, given={"Currencyy": "EUR"}).files[0]
    assert f.error == f"{path}: --set Currencyy: not a column of azure-cost files"
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0


def test_no_hint_to_give_one_cost_for_every_row(wh, tmp_path):
    row = {"BillingAccountId": "a1", "BillingCurrency": "USD", "BillingPeriodStart": "2024-01-01",
           "BillingPeriodEnd": "2024-02-01", "ChargePeriodStart": "2024-01-03", "ChargePeriodEnd": "2024-01-04",
           "ChargeCategory": "Usage", "ProviderName": "AWS", "ServiceName": "Amazon EC2", "ServiceCategory": "Compute",
           "BilledCost": "1"}
    f = load(wh, write_csv(tmp_path / "no_effective_cost.csv", list(row), [row])).files[0]
    assert f.rows_quarantined == 1 and not any("--set" in w for w in f.warnings)
    assert f.warnings == [f"{f.path}: all 1 rows quarantined (e.g. ContractedCost: mandatory value missing; "
                          "EffectiveCost: mandatory value missing; ListCost: mandatory value missing): "
                          "see focus_quarantine", f"{f.path}: 1 quarantined rows have a cost that cannot be read (e.g. "
                          "EffectiveCost: mandatory value missing): it is in neither the file's total nor FOCUS, so "
                          "the reconciliation cannot show it; see focus_quarantine"]
    assert "EffectiveCost: mandatory value missing" in wh.scalar("SELECT reasons FROM abi.focus_quarantine")
