"""FOCUS-file column rules the tests of tests/core/test_focus_files.py and test_microsoft_focus_exports.py leave open
(found by mutating sql/mapping/focus.sql): values derived for files older than FOCUS 1.2, and Microsoft's export
defects fixed where a 1.2 export carries the column."""

from __future__ import annotations

from abitest import focus_rows, load, write_csv
from test_microsoft_focus_exports import RESERVATION, SAVINGS_PLAN
from test_microsoft_focus_exports import _load as microsoft

ROW = {"BillingAccountId": "123", "BillingCurrency": "USD", "BillingPeriodStart": "2024-01-01",
       "BillingPeriodEnd": "2024-02-01", "ChargePeriodStart": "2024-01-03", "ChargePeriodEnd": "2024-01-04",
       "ChargeCategory": "Usage", "ProviderName": "AWS", "ServiceName": "Amazon EC2", "ServiceCategory": "Compute",
       "SubAccountId": "111", "PricingQuantity": "24", "PricingUnit": "Hours", "BilledCost": "2.4",
       "EffectiveCost": "2.4", "ListCost": "2.4", "ContractedCost": "2.4"}


def _mapped(wh, tmp_path, columns: str, **changes) -> dict:
    row = ROW | changes
    f = load(wh, write_csv(tmp_path / "focus_1.1.csv", list(row), [row])).files[0]
    assert (f.error, f.rows_loaded) == (None, 1), wh.rows("SELECT reasons FROM abi.focus_quarantine")
    return focus_rows(wh, columns)[0]


def test_a_charge_without_frequency_takes_its_categorys(wh, tmp_path):
    rows = [ROW, ROW | {"ChargeCategory": "Purchase"}]
    f = load(wh, write_csv(tmp_path / "focus_1.1.csv", list(ROW), rows)).files[0]
    assert (f.error, f.rows_loaded) == (None, 2)
    assert [r["ChargeFrequency"] for r in focus_rows(wh, "ChargeFrequency")] == ["Usage-Based", "One-Time"]


def test_a_corrections_list_cost_is_kept_as_written(wh, tmp_path):
    """FOCUS: ListCost = ListUnitPrice × PricingQuantity except on corrections, which may fix either alone."""
    row = _mapped(wh, tmp_path, "ListCost", ChargeClass="Correction", ListCost="0", ListUnitPrice="0.1")
    assert row == {"ListCost": "0"}


def test_a_spend_commitment_purchase_counts_what_it_was_billed(wh, tmp_path):
    """A file before FOCUS 1.2: a savings plan bought counts its billed cost (its EffectiveCost is 0: amortized)."""
    row = _mapped(wh, tmp_path, "CommitmentDiscountQuantity, CommitmentDiscountUnit", ChargeCategory="Purchase",
                  ChargeFrequency="Recurring", BilledCost="100", EffectiveCost="0", ListCost="100",
                  ContractedCost="100", PricingQuantity="1", PricingUnit="Units", CommitmentDiscountId="arn:sp",
                  CommitmentDiscountCategory="Spend")
    assert row == {"CommitmentDiscountQuantity": "100", "CommitmentDiscountUnit": "USD"}


def test_a_microsoft_12_purchase_has_no_pricing_currency_effective_cost(wh, tmp_path):
    """A 1.2 export carries PricingCurrencyEffectiveCost: a commitment purchase's is 0 as its EffectiveCost."""
    got = microsoft(wh, tmp_path, "EffectiveCost, PricingCurrencyEffectiveCost", ChargeCategory="Purchase",
                    BilledCost="300", EffectiveCost="300", PricingCurrencyEffectiveCost="330",
                    CommitmentDiscountId=SAVINGS_PLAN, CommitmentDiscountCategory="Spend")
    assert got == {"EffectiveCost": "0", "PricingCurrencyEffectiveCost": "0"}


def test_a_capacity_reservations_own_row_is_its_unused_capacity(wh, tmp_path):
    crid = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Compute/capacityReservationGroups/g/" \
           "capacityReservations/c"
    got = microsoft(wh, tmp_path, "CapacityReservationId, CapacityReservationStatus", ResourceId=crid,
                    CapacityReservationId=crid)
    assert got == {"CapacityReservationId": crid, "CapacityReservationStatus": "Unused"}


def test_microsoft_reservation_usage_counts_blocks_of_its_pricing_unit(wh, tmp_path):
    """A FocusCost 1.0 export without CommitmentDiscountQuantity: PricingQuantity per x_PricingBlockSize
    (Microsoft's rule), 80 hours priced by blocks of 10 → 8."""
    got = microsoft(wh, tmp_path, "CommitmentDiscountQuantity, CommitmentDiscountUnit", PricingQuantity="80",
                    x_PricingBlockSize="10", ContractedUnitPrice="0.01", ListUnitPrice="0.0125",
                    CommitmentDiscountId=RESERVATION, CommitmentDiscountCategory="Usage",
                    CommitmentDiscountStatus="Used")
    assert got == {"CommitmentDiscountQuantity": "8", "CommitmentDiscountUnit": "Hours"}


def test_a_commitment_correction_in_a_file_before_12_counts_no_commitment_quantity(wh, tmp_path):
    row = _mapped(wh, tmp_path, "CommitmentDiscountQuantity, CommitmentDiscountUnit", ChargeClass="Correction",
                  CommitmentDiscountId="arn:ri", CommitmentDiscountCategory="Usage", CommitmentDiscountStatus="Used")
    assert row == {"CommitmentDiscountQuantity": None, "CommitmentDiscountUnit": None}


def test_a_correction_without_unit_prices_gets_none_implied(wh, tmp_path):
    """Unit prices are implied from costs where FOCUS wants them (usage and purchases), not on corrections."""
    row = _mapped(wh, tmp_path, "ListUnitPrice, ContractedUnitPrice", ChargeClass="Correction")
    assert row == {"ListUnitPrice": None, "ContractedUnitPrice": None}


def test_a_microsoft_purchase_of_no_commitment_keeps_its_effective_cost(wh, tmp_path):
    """Only a commitment's purchase is amortized: a marketplace purchase is its own EffectiveCost."""
    got = microsoft(wh, tmp_path, "EffectiveCost, x_EffectiveCostInUsd", ChargeCategory="Purchase",
                    ChargeFrequency="One-Time", BilledCost="300", EffectiveCost="300", x_EffectiveCostInUsd="330")
    assert got == {"EffectiveCost": "300", "x_EffectiveCostInUsd": "330"}


def test_a_pricing_currency_in_lower_case_is_the_billing_currency(wh, tmp_path):
    """No PricingCurrency* columns and no exchange rate: prices in the billing currency are their own."""
    row = _mapped(wh, tmp_path, "PricingCurrency, PricingCurrencyEffectiveCost", PricingCurrency="usd")
    assert row == {"PricingCurrency": "USD", "PricingCurrencyEffectiveCost": "2.4"}


def test_a_microsoft_region_given_with_its_name_is_kept_as_written(wh, tmp_path):
    """Only a region without RegionName (FOCUS 0.5 / 1.0-preview) is looked up in ABI's Azure regions."""
    got = microsoft(wh, tmp_path, "RegionId, RegionName", RegionId="EU", RegionName="Europe")
    assert got == {"RegionId": "EU", "RegionName": "Europe"}


def test_a_file_without_invoice_issuer_or_publisher_names_its_provider(wh, tmp_path):
    row = _mapped(wh, tmp_path, "InvoiceIssuerName, PublisherName")
    assert row == {"InvoiceIssuerName": "AWS", "PublisherName": "AWS"}
