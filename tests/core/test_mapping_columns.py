"""Azure → FOCUS column rules the one-row tests of tests/core/test_mapping_rules.py leave open (found by mutating
sql/mapping/azure_cost.sql): defaults where a file leaves a column empty, and the columns FOCUS 1.2 wants null on
some rows."""

from __future__ import annotations

import pytest
from test_mapping_rules import mapped

RESERVATION = "/providers/Microsoft.Capacity/reservationOrders/o/reservations/r"
CAPACITY = ("/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/capacityReservationGroups/g/"
            "capacityReservations/c")


def test_currency_codes_written_in_lower_case_are_read_as_iso_codes(wh, tmp_path):
    row = mapped(wh, tmp_path, "BillingCurrency, PricingCurrency", BillingCurrencyCode="eur",
                 PricingCurrencyCode="usd", ExchangeRatePricingToBilling="0.9")
    assert row == {"BillingCurrency": "EUR", "PricingCurrency": "USD"}


def test_a_file_without_its_billing_period_is_billed_by_calendar_month(wh, tmp_path):
    """FOCUS: BillingPeriodEnd is the exclusive end of the period, here the next month's first day (not 30 days)."""
    row = mapped(wh, tmp_path, "toString(BillingPeriodStart) AS s, toString(BillingPeriodEnd) AS e",
                 Date="10/05/2023", BillingPeriodStartDate="", BillingPeriodEndDate="")
    assert row == {"s": "2023-10-01 00:00:00", "e": "2023-11-01 00:00:00"}


@pytest.mark.parametrize(("charge_type", "frequency"), [("Purchase", "One-Time"), ("Usage", "Usage-Based")])
def test_a_row_without_frequency_takes_its_charges(wh, tmp_path, charge_type, frequency):
    row = mapped(wh, tmp_path, "ChargeFrequency", ChargeType=charge_type, Frequency="")
    assert row == {"ChargeFrequency": frequency}


def test_a_capacity_reservations_credit_keeps_its_id_but_has_no_status(wh, tmp_path):
    """FOCUS 1.2: the status tells used from unused capacity on usage rows."""
    row = mapped(wh, tmp_path, "CapacityReservationId, CapacityReservationStatus", ResourceId=CAPACITY,
                 ChargeType="Credit", PricingModel="", CostInBillingCurrency="-3")
    assert row == {"CapacityReservationId": CAPACITY, "CapacityReservationStatus": None}


@pytest.mark.parametrize(("model", "ids", "category", "kind"), [
    ("Reservation", {"ReservationId": "ri-1"}, "Usage", "Reservation"),
    ("SavingsPlan", {"benefitId": "sp-1"}, "Spend", "Savings Plan"),
])
def test_a_commitment_id_without_a_resource_path_takes_its_kind_from_the_pricing_model(wh, tmp_path, model, ids,
                                                                                        category, kind):
    row = mapped(wh, tmp_path, "CommitmentDiscountId, CommitmentDiscountCategory, CommitmentDiscountType",
                 "amortized", PricingModel=model, **ids)
    assert row == {"CommitmentDiscountId": next(iter(ids.values())), "CommitmentDiscountCategory": category,
                   "CommitmentDiscountType": kind}


@pytest.mark.parametrize(("ids", "name"), [
    ({"benefitId": "/providers/Microsoft.BillingBenefits/savingsPlanOrders/o/savingsPlans/s", "benefitName": "SP 1"},
     "SP 1"),  # current exports name every commitment by benefitName
    ({"ReservationId": RESERVATION, "ReservationName": "RI 1"}, "RI 1"),  # older ones name reservations only
])
def test_a_commitment_is_named_by_its_benefit_or_reservation_name(wh, tmp_path, ids, name):
    model = "SavingsPlan" if "benefitId" in ids else "Reservation"
    row = mapped(wh, tmp_path, "CommitmentDiscountName", "amortized", PricingModel=model, **ids)
    assert row == {"CommitmentDiscountName": name}


def test_a_refunded_reservation_counts_no_commitment_quantity(wh, tmp_path):
    """Null for corrections (FOCUS 1.2 requires the quantity only where ChargeClass is not Correction): a refund
    does not make hours eligible again."""
    row = mapped(wh, tmp_path, "ChargeClass, CommitmentDiscountId, CommitmentDiscountQuantity, CommitmentDiscountUnit",
                 ChargeType="Refund", PricingModel="Reservation", benefitId=RESERVATION, UnitOfMeasure="1 Hour",
                 Frequency="OneTime", Term="12", Quantity="1", CostInBillingCurrency="-3")
    assert row == {"ChargeClass": "Correction", "CommitmentDiscountId": RESERVATION,
                   "CommitmentDiscountQuantity": None, "CommitmentDiscountUnit": None}


def test_the_unused_part_of_a_commitment_consumes_nothing(wh, tmp_path):
    """FOCUS 1.2: ConsumedQuantity and ConsumedUnit are null where the commitment's status is Unused; the row is
    still priced."""
    row = mapped(wh, tmp_path, "CommitmentDiscountStatus, ConsumedQuantity, ConsumedUnit, PricingQuantity, PricingUnit",
                 "amortized", ChargeType="UnusedReservation", PricingModel="Reservation", benefitId=RESERVATION)
    assert row == {"CommitmentDiscountStatus": "Unused", "ConsumedQuantity": None, "ConsumedUnit": None,
                   "PricingQuantity": "20", "PricingUnit": "Hours"}


@pytest.mark.parametrize(("charge_type", "prices", "contracted", "listed"), [
    ("Purchase", {"PayGPrice": "0"}, "3", "3"),  # EA: purchases have no pay-as-you-go price
    ("Purchase", {"UnitPrice": "", "PayGPrice": "", "EffectivePrice": ""}, "3", "3"),  # no price at all
    ("Usage", {"UnitPrice": "", "PayGPrice": "", "EffectivePrice": ""}, "3", "3"),  # covered usage, amortized
])
def test_a_commitment_row_without_prices_contracts_and_lists_at_its_cost(wh, tmp_path, charge_type, prices,
                                                                          contracted, listed):
    """Without a unit price a purchase contracts and lists at what it was billed (its EffectiveCost is 0: it is
    amortized), covered usage at its amortized cost (its BilledCost is 0), as sql/mapping/focus.sql does."""
    row = mapped(wh, tmp_path, "BilledCost, EffectiveCost, ContractedCost, ListCost", "amortized",
                 ChargeType=charge_type, PricingModel="Reservation", benefitId=RESERVATION, **prices)
    assert (row["ContractedCost"], row["ListCost"]) == (contracted, listed)
    assert row["BilledCost"] == "3" or row["EffectiveCost"] == "3"


MCA = {"BillingAccountId": "abcd:efgh_2019-05-31", "BillingProfileId": "PROF-1", "BillingCurrencyCode": "EUR",
       "PricingCurrencyCode": "USD", "ExchangeRatePricingToBilling": "0.9", "UnitOfMeasure": "1 Hour",
       "CostInBillingCurrency": "2.7", "CostInPricingCurrency": "3"}


def test_mca_pricing_currency_columns_stay_in_the_pricing_currency(wh, tmp_path):
    """MCA prices in USD and bills in EUR: the PricingCurrency* columns are the file's USD prices and cost, the
    others converted at its rate (1.5 USD × 0.9 = 1.35 EUR)."""
    row = mapped(wh, tmp_path, "ContractedUnitPrice AS c, PricingCurrencyContractedUnitPrice AS pc, "
                               "ListUnitPrice AS l, PricingCurrencyListUnitPrice AS pl, EffectiveCost AS e, "
                               "PricingCurrencyEffectiveCost AS pe", "amortized", **MCA)
    assert row == {"c": "1.35", "pc": "1.5", "l": "1.8", "pl": "2", "e": "2.7", "pe": "3"}


def test_an_mca_commitment_purchase_has_no_effective_cost_in_either_currency(wh, tmp_path):
    row = mapped(wh, tmp_path, "BilledCost, EffectiveCost, PricingCurrencyEffectiveCost", **MCA, ChargeType="Purchase",
                 PricingModel="Reservation", benefitId=RESERVATION)
    assert row == {"BilledCost": "2.7", "EffectiveCost": "0", "PricingCurrencyEffectiveCost": "0"}


def test_a_row_without_quantity_has_no_pricing_or_consumed_unit(wh, tmp_path):
    """FOCUS 1.2: PricingUnit and ConsumedUnit are null where their quantity is."""
    row = mapped(wh, tmp_path, "PricingQuantity, PricingUnit, ConsumedUnit", ChargeType="Credit", PricingModel="",
                 Quantity="", CostInBillingCurrency="-3")
    assert row == {"PricingQuantity": None, "PricingUnit": None, "ConsumedUnit": None}


def test_a_region_unknown_to_the_table_is_its_location_without_spaces_and_named_as_written(wh, tmp_path):
    row = mapped(wh, tmp_path, "RegionId, RegionName", ResourceLocation="Mars North")
    assert row == {"RegionId": "marsnorth", "RegionName": "Mars North"}


def test_resource_name_and_sku_meter_come_from_the_resource_id_and_the_meter(wh, tmp_path):
    """FOCUS: SkuMeter is the meter's name (Microsoft: MeterName), not the product's."""
    row = mapped(wh, tmp_path, "ResourceName, SkuMeter", MeterId="m-1", MeterName="D2 v3",
                 ProductName="Virtual Machines Dv3 Series - D2 v3 - US East 2")
    assert row == {"ResourceName": "vm1", "SkuMeter": "D2 v3"}


def test_an_mca_sku_is_its_product_id_and_keeps_its_part_number(wh, tmp_path):
    row = mapped(wh, tmp_path, "SkuId, x_SkuPartNumber", ProductId="DZH318Z0BNXN0033", PartNumber="AAD-84351",
                 MeterId="m-1")
    assert row == {"SkuId": "DZH318Z0BNXN0033", "x_SkuPartNumber": "AAD-84351"}


def test_the_resource_type_names_the_service_before_the_consumed_service(wh, tmp_path):
    """A disk is billed through Microsoft.Compute: its ARM type makes it Managed Disks (Storage)."""
    disk = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/disks/d1"
    row = mapped(wh, tmp_path, "ServiceName, ServiceCategory, ServiceSubcategory", ResourceId=disk,
                 MeterCategory="Storage")
    assert row == {"ServiceName": "Managed Disks", "ServiceCategory": "Storage", "ServiceSubcategory": "Block Storage"}


def test_a_charge_of_no_subscription_has_no_sub_account_type(wh, tmp_path):
    row = mapped(wh, tmp_path, "SubAccountId, SubAccountType", ChargeType="Tax", PricingModel="", SubscriptionId="",
                 SubscriptionName="", ResourceId="")
    assert row == {"SubAccountId": None, "SubAccountType": None}


def test_usd_costs_of_an_actual_covered_row_are_its_invoice(wh, tmp_path):
    """As BilledCost (tests/core/test_mapping_rules.py): an actual row keeps the cost it carries."""
    row = mapped(wh, tmp_path, "BilledCost, x_BilledCostInUsd", PricingModel="Reservation", benefitId=RESERVATION,
                 CostInUsd="3.3")
    assert row == {"BilledCost": "3", "x_BilledCostInUsd": "3.3"}


def test_a_row_billed_in_its_pricing_currency_has_no_exchange_rate(wh, tmp_path):
    assert mapped(wh, tmp_path, "x_BillingExchangeRate") == {"x_BillingExchangeRate": None}


def test_usd_list_cost_and_the_meters_columns_keep_their_azure_sources(wh, tmp_path):
    row = mapped(wh, tmp_path, "x_ListCostInUsd, x_SkuMeterCategory, x_SkuMeterSubcategory, x_SkuMeterName, "
                               "x_SkuMeterId, x_SkuRegion", CostInUsd="3.3", PaygCostInUsd="4.4",
                 MeterSubCategory="Dv3 Series", MeterName="D2 v3", MeterId="m-1", MeterRegion="US East 2")
    assert row == {"x_ListCostInUsd": "4.4", "x_SkuMeterCategory": "Virtual Machines",
                   "x_SkuMeterSubcategory": "Dv3 Series", "x_SkuMeterName": "D2 v3", "x_SkuMeterId": "m-1",
                   "x_SkuRegion": "US East 2"}


def test_a_monthly_reservation_payment_counts_the_hours_of_its_calendar_month(wh, tmp_path):
    """10/05 → 11/05: 31 days, 744 hours (tests/core/test_mapping_commitments.py pins a 30-day month)."""
    row = mapped(wh, tmp_path, "CommitmentDiscountQuantity", ChargeType="Purchase", PricingModel="Reservation",
                 benefitId=RESERVATION, UnitOfMeasure="1 Hour", Frequency="Recurring", Term="12", Quantity="1",
                 Date="10/05/2023", BillingPeriodStartDate="10/01/2023", BillingPeriodEndDate="10/31/2023")
    assert row == {"CommitmentDiscountQuantity": "744"}


def test_a_refund_of_positive_cost_keeps_the_sign_of_its_cost(wh, tmp_path):
    """Contracted and list costs of a refund take the sign of its cost: a positive one (a refund reversed) stays
    positive."""
    row = mapped(wh, tmp_path, "BilledCost, ContractedCost, ListCost", ChargeType="Refund", PricingModel="Reservation",
                 benefitId=RESERVATION)
    assert row == {"BilledCost": "3", "ContractedCost": "3", "ListCost": "4"}


def test_the_region_is_the_resources_location_before_the_meters(wh, tmp_path):
    row = mapped(wh, tmp_path, "RegionId, x_SkuRegion", MeterRegion="US West")
    assert row == {"RegionId": "eastus2", "x_SkuRegion": "US West"}


def test_an_ea_account_whose_profile_id_is_its_own_is_no_billing_profile(wh, tmp_path):
    """EA files repeat the enrollment in BillingProfileId (tests/core/test_mapping_rules.py's BASE)."""
    row = mapped(wh, tmp_path, "BillingAccountId, BillingAccountName, BillingAccountType")
    assert row == {"BillingAccountId": "8611537", "BillingAccountName": "Contoso",
                   "BillingAccountType": "Billing Account"}


def test_covered_usage_without_unit_price_is_contracted_at_its_pay_as_you_go_price(wh, tmp_path):
    """A file without UnitPrice: its EffectivePrice (0 where a commitment covers the row) is no contracted price."""
    row = mapped(wh, tmp_path, "ContractedUnitPrice, ContractedCost", "amortized", PricingModel="Reservation",
                 benefitId=RESERVATION, UnitPrice="", EffectivePrice="0", CostInBillingCurrency="0")
    assert row == {"ContractedUnitPrice": "0.2", "ContractedCost": "4"}


def test_an_unused_savings_plan_without_pricing_model_or_consumed_service_is_the_savings_plans(wh, tmp_path):
    row = mapped(wh, tmp_path, "ServiceName, CommitmentDiscountStatus", "amortized", ChargeType="UnusedSavingsPlan",
                 PricingModel="", ConsumedService="", ResourceId="", MeterCategory="",
                 benefitId="/providers/Microsoft.BillingBenefits/savingsPlanOrders/o/savingsPlans/s")
    assert row == {"ServiceName": "Savings plans", "CommitmentDiscountStatus": "Unused"}
