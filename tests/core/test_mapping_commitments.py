"""Rules of Microsoft's conversion for commitments, currencies and periods that analysts sum and filter on: USD
costs follow the FOCUS cost rules, MCA prices are in the billing currency, savings plans count in the currency they
are bought in, reservations in normalized units, capacity reservations, unknown per-period units, billing periods."""

from __future__ import annotations

import pytest
from test_mapping_rules import BASE, mapped

RESERVATION = "/providers/Microsoft.Capacity/reservationOrders/o/reservations/r"
SAVINGS_PLAN = "/providers/Microsoft.BillingBenefits/savingsPlanOrders/o/savingsPlans/s"


def _dir(tmp_path, name: str):
    """A second one-row file of the same scope (it replaces the first)."""
    (tmp_path / name).mkdir()
    return tmp_path / name


MCA = {"BillingAccountId": "abcd:efgh_2019-05-31", "BillingProfileId": "PROF-1", "BillingCurrencyCode": "EUR",
       "PricingCurrencyCode": "USD", "ExchangeRatePricingToBilling": "0.9"}


def test_usd_costs_follow_the_billed_and_effective_rules(wh, tmp_path):
    covered = mapped(wh, tmp_path, "BilledCost, x_BilledCostInUsd, EffectiveCost, x_EffectiveCostInUsd",
                     "amortized", PricingModel="Reservation", benefitId=RESERVATION, CostInUsd="3.3")
    assert covered == {"BilledCost": "0", "x_BilledCostInUsd": "0", "EffectiveCost": "3", "x_EffectiveCostInUsd": "3.3"}


def test_a_commitment_purchase_has_no_effective_usd_cost(wh, tmp_path):
    bought = mapped(wh, tmp_path, "BilledCost, x_BilledCostInUsd, EffectiveCost, x_EffectiveCostInUsd", "actual",
                    ChargeType="Purchase", PricingModel="Reservation", benefitId=RESERVATION, CostInUsd="3.3")
    assert bought == {"BilledCost": "3", "x_BilledCostInUsd": "3.3", "EffectiveCost": "0", "x_EffectiveCostInUsd": "0"}


def test_mca_effective_unit_prices_are_in_the_billing_currency(wh, tmp_path):
    row = mapped(wh, tmp_path, "BillingCurrency, ContractedUnitPrice, x_EffectiveUnitPrice, x_BilledUnitPrice",
                 **MCA, UnitOfMeasure="1 Hour", EffectivePrice="1.5", CostInBillingCurrency="2.7")
    assert row == {"BillingCurrency": "EUR", "ContractedUnitPrice": "1.35", "x_EffectiveUnitPrice": "1.35",
                   "x_BilledUnitPrice": "1.35"}  # 1.35 EUR × 2 hours = the 2.7 EUR the row costs


def test_a_savings_plan_counts_in_the_currency_it_is_bought_in(wh, tmp_path):
    row = mapped(wh, tmp_path, "CommitmentDiscountQuantity, CommitmentDiscountUnit", "amortized", **MCA,
                 PricingModel="SavingsPlan", benefitId=SAVINGS_PLAN, CostInBillingCurrency="2.7",
                 CostInPricingCurrency="3")
    assert row == {"CommitmentDiscountQuantity": "3", "CommitmentDiscountUnit": "USD"}
    row = mapped(wh, _dir(tmp_path, "x"), "CommitmentDiscountQuantity", "amortized", **MCA, PricingModel="SavingsPlan",
                 benefitId=SAVINGS_PLAN, CostInBillingCurrency="2.7")  # no pricing-currency cost: converted back
    assert row == {"CommitmentDiscountQuantity": "3"}


def test_reservation_usage_counts_normalized_units(wh, tmp_path):
    info = '{"ServiceType": "Standard_D4s_v3", "RINormalizationRatio": "2", "ConsumedQuantity": 2}'
    row = mapped(wh, tmp_path, "CommitmentDiscountQuantity, CommitmentDiscountUnit, ConsumedQuantity", "amortized",
                 UnitOfMeasure="1 Hour", PricingModel="Reservation", benefitId=RESERVATION, AdditionalInfo=info)
    assert row == {"CommitmentDiscountQuantity": "4", "CommitmentDiscountUnit": "Hours", "ConsumedQuantity": "2"}
    plain = mapped(wh, _dir(tmp_path, "x"), "CommitmentDiscountQuantity", "amortized", UnitOfMeasure="1 Hour",
                   PricingModel="Reservation", benefitId=RESERVATION, AdditionalInfo='{"RINormalizationRatio": 0}')
    assert plain == {"CommitmentDiscountQuantity": "2"}


def test_capacity_reservations_used_and_unused(wh, tmp_path):
    crid = ("/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/capacityReservationGroups/g/"
            "capacityReservations/c")
    used = mapped(wh, tmp_path, "CapacityReservationId, CapacityReservationStatus",
                  AdditionalInfo=f'{{"VMCapacityReservationId": "{crid}"}}')
    assert used == {"CapacityReservationId": crid, "CapacityReservationStatus": "Used"}
    unused = mapped(wh, _dir(tmp_path, "x"), "CapacityReservationId, CapacityReservationStatus", ResourceId=crid)
    assert unused == {"CapacityReservationId": crid, "CapacityReservationStatus": "Unused"}
    none = mapped(wh, _dir(tmp_path, "y"), "CapacityReservationId, CapacityReservationStatus, "
                  "assumeNotNull(CapacityReservationId) AS stored")
    # a NULL stores no text under it (the row's ResourceId was written there: 13 MB a million rows, compressed)
    assert none == {"CapacityReservationId": None, "CapacityReservationStatus": None, "stored": ""}


def test_an_unknown_count_per_period_counts_units(wh, tmp_path):
    row = mapped(wh, tmp_path, "PricingUnit, x_PricingBlockSize", UnitOfMeasure="5K/Fortnight")
    assert row == {"PricingUnit": "Units/Fortnight", "x_PricingBlockSize": "5000"}


@pytest.mark.parametrize(("unit", "pricing_unit", "block"), [
    ("10,000 Transactions", "Transactions", "10000"), ("10,000s", "Units", "10000"), ("1,000s", "Units", "1000"),
    ("Transactions (in 10,000s)", "Transactions", "10000"), ("100 Seconds", "Seconds", "100"),
    ("2.5 GB/Month", "GB/Month", "2.5"),
])
def test_an_unknown_unit_reads_its_block_with_thousands_commas(wh, tmp_path, unit, pricing_unit, block):
    """Thousands commas in a block size, glued to a plural (``10,000s``) or in brackets (Azure's old
    ``Storage Transactions (in 10,000s)``), never cut the block at the comma."""
    row = mapped(wh, tmp_path, "PricingUnit, x_PricingBlockSize", UnitOfMeasure=unit)
    assert row == {"PricingUnit": pricing_unit, "x_PricingBlockSize": block}


def test_a_billing_period_starting_mid_month_is_kept(wh, tmp_path):
    """Pay-as-you-go subscriptions are billed from their sign-up day: the period is the file's own."""
    row = mapped(wh, tmp_path, "toString(BillingPeriodStart) AS s, toString(BillingPeriodEnd) AS e",
                 BillingPeriodStartDate="09/15/2023", BillingPeriodEndDate="10/14/2023", Date="09/20/2023")
    assert row == {"s": "2023-09-15 00:00:00", "e": "2023-10-15 00:00:00"}
    assert BASE["BillingPeriodStartDate"] == "09/01/2023"


def test_a_refund_returns_its_contracted_and_list_costs(wh, tmp_path):
    row = mapped(wh, tmp_path, "BilledCost, ContractedCost, ListCost, ChargeClass", ChargeType="Refund",
                 PricingModel="Reservation", benefitId=RESERVATION, CostInBillingCurrency="-3", Quantity="2")
    assert row == {"BilledCost": "-3", "ContractedCost": "-3", "ListCost": "-4", "ChargeClass": "Correction"}
    row = mapped(wh, _dir(tmp_path, "x"), "ListCost", ChargeType="Refund", PricingModel="Reservation",
                 benefitId=RESERVATION, CostInBillingCurrency="-3", Quantity="-2", PaygCostInBillingCurrency="-4")
    assert row == {"ListCost": "-4"}


def test_a_meterless_purchase_still_names_its_sku_and_price(wh, tmp_path):
    """EA reservation and savings plan purchases carry no meter, product or part number (FOCUS: SkuId and
    SkuPriceId MUST NOT be null on purchases)."""
    product = "Reserved VM Instance, Standard_D2s_v3, US East, 1 Year"
    row = mapped(wh, tmp_path, "SkuId, SkuPriceId, SkuMeter", ChargeType="Purchase", PricingModel="Reservation",
                 benefitId=RESERVATION, MeterId="", MeterName="", ProductName=product, Term="12")
    assert row == {"SkuId": product, "SkuPriceId": f"{product}_12", "SkuMeter": product}
    tax = mapped(wh, _dir(tmp_path, "t"), "SkuId, SkuPriceId", ChargeType="Tax", PricingModel="", MeterId="",
                 ProductName="VAT")
    assert tax == {"SkuId": None, "SkuPriceId": None}  # FOCUS: no SKU on tax rows


def test_commitment_rows_without_an_id_have_no_commitment_columns_but_keep_their_costs(wh, tmp_path):
    """A trimmed export without BenefitId and ReservationId: FOCUS 1.2 wants the commitment columns null with the
    id; the row still costs what a covered row costs (amortized: BilledCost 0)."""
    row = mapped(wh, tmp_path, "CommitmentDiscountId, CommitmentDiscountStatus, CommitmentDiscountCategory, "
                 "CommitmentDiscountType, CommitmentDiscountQuantity, CommitmentDiscountUnit, BilledCost, "
                 "EffectiveCost", "amortized", ChargeType="UnusedSavingsPlan", PricingModel="SavingsPlan",
                 benefitId="", ReservationId="")
    assert row == {"CommitmentDiscountId": None, "CommitmentDiscountStatus": None, "CommitmentDiscountCategory": None,
                   "CommitmentDiscountType": None, "CommitmentDiscountQuantity": None, "CommitmentDiscountUnit": None,
                   "BilledCost": "0", "EffectiveCost": "3"}


@pytest.mark.parametrize(("frequency", "term", "quantity", "hours"), [
    ("Recurring", "36", "2", "1440"),  # a monthly payment: 2 instances × the 720 hours of 09/02 → 10/02
    ("OneTime", "12", "1", "8784"),  # paid upfront: the term's hours (09/02/2023 → 09/02/2024 spans a 29 February)
    ("OneTime", "P3Y", "1", "26304"),  # a term in years
    ("One Time", "P365D", "1", "8760"), ("OneTime", "P1Y6M", "1", "13128"), ("OneTime", "1.5 Years", "1", "13128"),
    ("OneTime", "36 Months", "1", "26304"),
])
def test_a_reservation_purchase_counts_the_hours_it_buys(wh, tmp_path, frequency, term, quantity, hours):
    """FOCUS 1.2: a purchase's CommitmentDiscountQuantity is the units it makes eligible (the used and unused rows
    of its term or month add up to it), not the number of reservations bought."""
    row = mapped(wh, tmp_path, "CommitmentDiscountQuantity, CommitmentDiscountUnit, PricingCategory",
                 ChargeType="Purchase", PricingModel="Reservation", benefitId=RESERVATION, UnitOfMeasure="1 Hour",
                 Frequency=frequency, Term=term, Quantity=quantity)
    assert row == {"CommitmentDiscountQuantity": hours, "CommitmentDiscountUnit": "Hours",
                   "PricingCategory": "Standard"}


@pytest.mark.parametrize(("names", "hours"), [
    ({"ProductOrderName": "Reserved VM Instance; Standard_B1s; UK South; 3 Years"}, "26304"),
    ({"ProductOrderName": "", "ProductName": "Reserved VM Instance, Standard_D2s_v3, US East, 1 Year"}, "8784"),
    ({"ProductOrderName": "VM RI 3 Years"}, "26304"),
    ({"ProductOrderName": "RI order 2023", "ProductName": "Reserved VM Instance, Standard_D2s_v3"}, "1"),
])
def test_a_purchase_without_a_term_counts_the_term_its_names_give(wh, tmp_path, names, hours):
    """A trimmed export without Term: the reservation order's or product's name gives the term (none: the instance
    count stays, FOCUS wanting a quantity on every purchase)."""
    row = mapped(wh, tmp_path, "CommitmentDiscountQuantity", ChargeType="Purchase", PricingModel="Reservation",
                 benefitId=RESERVATION, UnitOfMeasure="1 Hour", Frequency="OneTime", Term="", Quantity="1", **names)
    assert row == {"CommitmentDiscountQuantity": hours}


def test_a_purchase_with_a_meter_is_priced_by_term_and_a_meterless_credit_by_none(wh, tmp_path):
    """A reservation purchase carries the meter of the VMs it covers (real EA files): its price is the term's, not
    the pay-as-you-go price of that meter. A credit without a meter references no price list."""
    row = mapped(wh, tmp_path, "SkuPriceId", ChargeType="Purchase", PricingModel="Reservation", benefitId=RESERVATION,
                 PartNumber="AAA-1", MeterId="m-1", Term="36")
    used = mapped(wh, _dir(tmp_path, "u"), "SkuPriceId", PartNumber="AAA-1", MeterId="m-1", Term="")
    assert (row, used) == ({"SkuPriceId": "AAA-1_m-1_36"}, {"SkuPriceId": "AAA-1_m-1"})
    credit = mapped(wh, _dir(tmp_path, "c"), "SkuId, SkuPriceId", ChargeType="Credit", PricingModel="", MeterId="",
                    ProductName="Azure Credit")
    assert credit == {"SkuId": "Azure Credit", "SkuPriceId": None}
