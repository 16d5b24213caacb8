"""Microsoft's FocusCost exports: their known defects fixed as Microsoft's own FinOps hubs fix them (commitment
purchases carry an EffectiveCost, some ContractedCost values are not ContractedUnitPrice × PricingQuantity, monthly
savings plan purchases are called Usage-Based, period ends are inclusive), and facts taken from x_SkuDetails."""

from __future__ import annotations

from decimal import Decimal

from abitest import focus_rows, load, write_csv

RESERVATION = "/providers/microsoft.capacity/reservationorders/o/reservations/r"
SAVINGS_PLAN = "/providers/microsoft.billingbenefits/savingsplanorders/o/savingsplans/s"
ROW = {
    "BilledCost": "0", "BillingAccountId": "/providers/Microsoft.Billing/billingAccounts/1", "BillingCurrency": "EUR",
    "BillingPeriodStart": "2026-05-01T00:00:00Z", "BillingPeriodEnd": "2026-05-31T23:59:59.999Z",
    "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "ChargePeriodStart": "2026-05-02T00:00Z",
    "ChargePeriodEnd": "2026-05-03T00:00Z", "CommitmentDiscountCategory": "", "CommitmentDiscountId": "",
    "CommitmentDiscountStatus": "", "ConsumedQuantity": "8", "ConsumedUnit": "Hours", "ContractedCost": "0.8",
    "ContractedUnitPrice": "0.1", "EffectiveCost": "0.8", "ListCost": "1", "ListUnitPrice": "0.125",
    "PricingQuantity": "8", "PricingUnit": "Hours", "ProviderName": "Microsoft", "PublisherName": "Microsoft",
    "InvoiceIssuerName": "Microsoft", "ServiceName": "Virtual Machines", "ServiceCategory": "Compute",
    "SubAccountId": "/subscriptions/s-1", "x_BillingExchangeRate": "0.9", "x_EffectiveCostInUsd": "0.88",
    "x_PricingBlockSize": "1", "x_PricingCurrency": "USD", "x_SkuDetails": "", "x_SkuMeterId": "m",
}


def _load(wh, tmp_path, columns: str, base: dict | None = None, **changes) -> dict:
    row = (ROW if base is None else base) | changes
    path = write_csv(tmp_path / "part_0_0001.csv", list(row), [row])
    f = load(wh, path).files[0]
    assert (f.source, f.rows_loaded) == ("azure-focus", 1), (f, wh.rows("SELECT reasons FROM abi.focus_quarantine"))
    return focus_rows(wh, columns)[0]


def test_a_commitment_purchase_is_amortized_so_its_effective_cost_is_0(wh, tmp_path):
    got = _load(wh, tmp_path, "BilledCost, EffectiveCost, x_EffectiveCostInUsd, PricingCurrencyEffectiveCost, "
                              "ChargeFrequency, PricingCategory", ChargeCategory="Purchase", BilledCost="300",
                EffectiveCost="300", CommitmentDiscountId=SAVINGS_PLAN, CommitmentDiscountCategory="Spend",
                x_EffectiveCostInUsd="330", PricingCategory="Committed")
    assert got == {"BilledCost": "300", "EffectiveCost": "0", "x_EffectiveCostInUsd": "0",
                   "PricingCurrencyEffectiveCost": "0", "ChargeFrequency": "Recurring",
                   "PricingCategory": "Standard"}  # FOCUS 1.1+: buying a commitment is Standard (1.0: Committed)


def test_usage_a_commitment_covers_stays_committed(wh, tmp_path):
    got = _load(wh, tmp_path, "PricingCategory, CommitmentDiscountStatus", PricingCategory="Committed",
                CommitmentDiscountId=RESERVATION, CommitmentDiscountCategory="Usage", CommitmentDiscountStatus="Used")
    assert got == {"PricingCategory": "Committed", "CommitmentDiscountStatus": "Used"}


def test_a_contracted_cost_that_is_not_price_times_quantity_is_recomputed(wh, tmp_path):
    assert _load(wh, tmp_path, "ContractedCost", ContractedCost="1.2") == {"ContractedCost": "0.8"}


def test_a_correction_keeps_its_contracted_cost(wh, tmp_path):
    # FOCUS 1.1+ ContractedCost: price x quantity "except in cases of ChargeClass "Correction", which may address
    # PricingQuantity or any cost discrepancies independently": a price correction (no quantity) or a partial refund
    got = _load(wh, tmp_path, "x_SourceRow, ContractedCost, ListCost", ChargeClass="Correction", PricingQuantity="0",
                ConsumedQuantity="0", ContractedCost="-0.5", ListCost="-0.6", BilledCost="-0.5", EffectiveCost="-0.5")
    assert got == {"x_SourceRow": 1, "ContractedCost": "-0.5", "ListCost": "-0.6"}
    got = _load(wh, tmp_path, "ContractedCost", ChargeClass="Correction", PricingQuantity="-2", ConsumedQuantity="-2",
                ContractedCost="-0.15", BilledCost="-0.15", EffectiveCost="-0.15", ListCost="-0.2")
    assert got == {"ContractedCost": "-0.15"}


def test_inclusive_period_ends_become_exclusive(wh, tmp_path):
    got = _load(wh, tmp_path, "toString(BillingPeriodEnd) AS b, toString(ChargePeriodEnd) AS c, "
                              "toString(ChargePeriodStart) AS s", ChargePeriodEnd="2026-05-02T23:59:59Z")
    assert got == {"b": "2026-06-01 00:00:00", "c": "2026-05-03 00:00:00", "s": "2026-05-02 00:00:00"}


def test_commitment_quantities_and_capacity_reservations_from_sku_details(wh, tmp_path):
    details = '{"RINormalizationRatio": "2", "VMCapacityReservationId": "/subscriptions/s-1/cr"}'
    got = _load(wh, tmp_path, "CommitmentDiscountQuantity, CommitmentDiscountUnit, CapacityReservationId, "
                              "CapacityReservationStatus", CommitmentDiscountId=RESERVATION,
                CommitmentDiscountCategory="Usage", CommitmentDiscountStatus="Used", x_SkuDetails=details)
    assert got == {"CommitmentDiscountQuantity": "16", "CommitmentDiscountUnit": "Hours",
                   "CapacityReservationId": "/subscriptions/s-1/cr", "CapacityReservationStatus": "Used"}


def test_a_savings_plan_counts_in_its_pricing_currency(wh, tmp_path):
    got = _load(wh, tmp_path, "CommitmentDiscountQuantity, CommitmentDiscountUnit", CommitmentDiscountId=SAVINGS_PLAN,
                CommitmentDiscountCategory="Spend", CommitmentDiscountStatus="Used", EffectiveCost="0.9")
    assert Decimal(got["CommitmentDiscountQuantity"]) == Decimal("1") and got["CommitmentDiscountUnit"] == "USD"


def test_a_focus_1_0_preview_export_reads_its_older_columns(wh, tmp_path):
    """FocusCost 1.0-preview(v1): contracted values in x_OnDemand*, commitment use in ChargeSubcategory, a Region
    display name, UsageQuantity on every row."""
    preview = {k: v for k, v in ROW.items() if k not in (
        "ContractedCost", "ContractedUnitPrice", "CommitmentDiscountStatus", "ConsumedQuantity", "ConsumedUnit")}
    preview |= {"x_OnDemandCost": "4.32", "x_OnDemandUnitPrice": "0.18", "ChargeSubcategory": "Unused Commitment",
                "Region": "East US", "UsageQuantity": "24", "UsageUnit": "Hours", "PricingQuantity": "24",
                "CommitmentDiscountId": RESERVATION, "CommitmentDiscountCategory": "Usage", "EffectiveCost": "2.16"}
    got = _load(wh, tmp_path, "ContractedCost, ContractedUnitPrice, CommitmentDiscountStatus, RegionId, RegionName, "
                              "ConsumedQuantity", base=preview)
    assert got == {"ContractedCost": "4.32", "ContractedUnitPrice": "0.18", "CommitmentDiscountStatus": "Unused",
                   "RegionId": "eastus", "RegionName": "East US", "ConsumedQuantity": None}


def test_a_commitment_purchase_gets_a_price_id_and_meter(wh, tmp_path):
    sku = "DZH318Z0BQ4L/00TG"
    got = _load(wh, tmp_path, "SkuId, SkuPriceId, SkuMeter", ChargeCategory="Purchase",
                CommitmentDiscountId=RESERVATION, SkuId=sku, x_SkuMeterId="", x_SkuTerm="12",
                x_SkuDescription="Reserved VM Instance")
    assert got == {"SkuId": sku, "SkuPriceId": f"{sku}_12", "SkuMeter": "Reserved VM Instance"}


def test_a_focus_1_0_preview_credit_and_refund_take_their_1_2_category_and_class(wh, tmp_path):
    """1.0-preview: a credit is an Adjustment of ChargeSubcategory Credit (1.0: ChargeCategory Credit), a refund one
    of ChargeSubcategory Refund (ChargeClass Correction)."""
    got = {}
    for subcategory in ("Credit", "Refund", "Rounding Error"):
        (tmp_path / subcategory).mkdir()
        got[subcategory] = _load(wh, tmp_path / subcategory, "ChargeCategory, ChargeClass", ChargeCategory="Adjustment",
                                 ChargeSubcategory=subcategory, BilledCost="-5", EffectiveCost="-5", ListCost="0",
                                 ContractedCost="0")
        wh.command("TRUNCATE TABLE abi.focus_cost")
    assert got == {"Credit": {"ChargeCategory": "Credit", "ChargeClass": None},
                   "Refund": {"ChargeCategory": "Adjustment", "ChargeClass": "Correction"},
                   "Rounding Error": {"ChargeCategory": "Adjustment", "ChargeClass": None}}
