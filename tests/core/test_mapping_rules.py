"""One test per Azure → FOCUS mapping rule (Microsoft's conversion), each on a one-row file."""

from __future__ import annotations

import pytest
from abitest import focus_rows, load, write_csv

BASE = {
    "BillingAccountId": "8611537", "BillingAccountName": "Contoso", "BillingProfileId": "8611537",
    "SubscriptionId": "sub-1", "SubscriptionName": "Prod", "Date": "09/02/2023", "BillingCurrencyCode": "USD",
    "BillingPeriodStartDate": "09/01/2023", "BillingPeriodEndDate": "09/30/2023", "MeterCategory": "Virtual Machines",
    "ConsumedService": "Microsoft.Compute", "UnitOfMeasure": "10 Hours", "Quantity": "2", "UnitPrice": "1.5",
    "PayGPrice": "2", "EffectivePrice": "1.5", "CostInBillingCurrency": "3", "ChargeType": "Usage",
    "PricingModel": "OnDemand", "Frequency": "UsageBased", "ResourceLocation": "EastUS2",
    "ResourceId": "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
}


def mapped(wh, tmp_path, columns: str, dataset: str = "actual", **overrides) -> dict:
    row = BASE | overrides
    path = write_csv(tmp_path / f"one_{dataset}.csv", list(row), [row])
    f = load(wh, path).files[0]
    assert f.rows_loaded == 1, (f, wh.rows("SELECT reasons FROM abi.focus_quarantine"))
    return focus_rows(wh, columns)[0]


@pytest.mark.parametrize(("charge_type", "model", "category", "klass", "status"), [
    ("Usage", "OnDemand", "Usage", None, None),
    ("Usage", "Reservation", "Usage", None, "Used"),
    ("UnusedReservation", "Reservation", "Usage", None, "Unused"),
    ("UnusedSavingsPlan", "SavingsPlan", "Usage", None, "Unused"),
    ("Purchase", "Reservation", "Purchase", None, None),
    ("Refund", "Reservation", "Purchase", "Correction", None),
    ("Tax", "", "Tax", None, None),
    ("Credit", "", "Credit", None, None),
    ("RoundingAdjustment", "", "Adjustment", None, None),
])
def test_charge_category_class_and_commitment_status(wh, tmp_path, charge_type, model, category, klass, status):
    benefit = {"Reservation": "/providers/Microsoft.Capacity/reservationOrders/o/reservations/r",
               "SavingsPlan": "/providers/Microsoft.BillingBenefits/savingsPlanOrders/o/savingsPlans/s"}.get(model, "")
    row = mapped(wh, tmp_path, "ChargeCategory, ChargeClass, CommitmentDiscountStatus",
                 ChargeType=charge_type, PricingModel=model, benefitId=benefit)
    assert row == {"ChargeCategory": category, "ChargeClass": klass, "CommitmentDiscountStatus": status}


@pytest.mark.parametrize(("charge_type", "model", "dataset", "billed", "effective"), [
    ("Usage", "OnDemand", "amortized", "3", "3"),
    ("Usage", "Reservation", "amortized", "0", "3"),
    ("Usage", "SavingsPlan", "amortized", "0", "3"),
    ("UnusedReservation", "Reservation", "amortized", "0", "3"),
    ("Purchase", "Reservation", "amortized", "3", "0"),
    ("Purchase", "OnDemand", "amortized", "3", "3"),
    ("Purchase", "Reservation", "actual", "3", "0"),
    ("Usage", "Reservation", "actual", "3", "3"),  # an actual row is the invoice: it keeps the cost it carries
])
def test_billed_and_effective_cost(wh, tmp_path, charge_type, model, dataset, billed, effective):
    row = mapped(wh, tmp_path, "BilledCost, EffectiveCost", dataset, ChargeType=charge_type, PricingModel=model)
    assert row == {"BilledCost": billed, "EffectiveCost": effective}


@pytest.mark.parametrize(("model", "charge_type", "pricing"), [
    ("OnDemand", "Usage", "Standard"), ("Spot", "Usage", "Dynamic"), ("Reservation", "Usage", "Committed"),
    ("SavingsPlan", "Usage", "Committed"), ("On Demand", "Usage", "Standard"), ("Savings Plan", "Usage", "Committed"),
    ("Reservation", "UnusedReservation", "Committed"),
    # FOCUS 1.1+: buying a commitment discount is priced at the agreed rate (Standard), as is its refund
    ("Reservation", "Purchase", "Standard"), ("SavingsPlan", "Purchase", "Standard"),
    ("Reservation", "Refund", "Standard"),
    ("", "Tax", None), ("", "Credit", None),  # FOCUS 1.2: no pricing category on tax; none given on credits
])
def test_pricing_category(wh, tmp_path, model, charge_type, pricing):
    row = mapped(wh, tmp_path, "PricingCategory", PricingModel=model, ChargeType=charge_type)
    assert row["PricingCategory"] == pricing


@pytest.mark.parametrize("quantity", ["0", "1", ""])
def test_a_tax_row_has_no_pricing_quantity_or_unit(wh, tmp_path, quantity):
    """FOCUS 1.2 PricingQuantity: 'MUST be null when ChargeCategory is "Tax"' (PricingUnit null with it)."""
    row = mapped(wh, tmp_path, "PricingQuantity, PricingUnit, PricingCategory, BilledCost", ChargeType="Tax",
                 PricingModel="", Frequency="OneTime", Quantity=quantity, UnitOfMeasure="", UnitPrice="",
                 PayGPrice="", EffectivePrice="", MeterCategory="", ConsumedService="")
    assert row == {"PricingQuantity": None, "PricingUnit": None, "PricingCategory": None, "BilledCost": "3"}


@pytest.mark.parametrize("price", ["0", ""])
def test_a_tax_row_has_no_unit_prices_and_costs_its_cost(wh, tmp_path, price):
    """FOCUS 1.2: ContractedUnitPrice and ListUnitPrice 'MUST be null when ChargeCategory is "Tax"'; without them a
    tax row's contracted and list costs are its cost. Azure files write 0 in the price columns of a tax row."""
    row = mapped(wh, tmp_path, "ContractedUnitPrice, ListUnitPrice, ContractedCost, ListCost", ChargeType="Tax",
                 PricingModel="", Frequency="OneTime", Quantity="0", UnitOfMeasure="", UnitPrice=price,
                 PayGPrice=price, EffectivePrice=price, MeterCategory="", ConsumedService="",
                 CostInBillingCurrency="259.2")
    assert row == {"ContractedUnitPrice": None, "ListUnitPrice": None, "ContractedCost": "259.2", "ListCost": "259.2"}


@pytest.mark.parametrize(("frequency", "expected"), [("OneTime", "One-Time"), ("Recurring", "Recurring"),
                                                     ("UsageBased", "Usage-Based")])
def test_charge_frequency(wh, tmp_path, frequency, expected):
    assert mapped(wh, tmp_path, "ChargeFrequency", Frequency=frequency)["ChargeFrequency"] == expected


@pytest.mark.parametrize(("benefit", "kind", "category"), [
    ("/providers/Microsoft.Capacity/reservationOrders/o/reservations/r", "Reservation", "Usage"),
    ("/providers/Microsoft.BillingBenefits/savingsPlanOrders/o/savingsPlans/s", "Savings Plan", "Spend"),
])
def test_commitment_discount_type_from_benefit_id(wh, tmp_path, benefit, kind, category):
    row = mapped(wh, tmp_path, "CommitmentDiscountId, CommitmentDiscountType, CommitmentDiscountCategory",
                 PricingModel="Reservation", benefitId=benefit)
    assert row == {"CommitmentDiscountId": benefit, "CommitmentDiscountType": kind,
                   "CommitmentDiscountCategory": category}


@pytest.mark.parametrize(("unit", "block", "quantity", "list_price", "price"), [
    ("10 Hours", "10", "20", "0.2", "0.15"),  # prices per block of 10 hours → per hour
    ("1 Hour", "1", "2", "2", "1.5"),  # a block of 1: the price as written (the mapping skips the division)
    ("0 Hours", "1", "2", "2", "1.5"),  # an unknown unit naming a block of 0: no block, not a price per nothing
])
def test_pricing_unit_block_size_and_unit_prices(wh, tmp_path, unit, block, quantity, list_price, price):
    row = mapped(wh, tmp_path, "PricingUnit, x_PricingBlockSize, PricingQuantity, ListUnitPrice, ListCost, "
                                "ContractedUnitPrice, ContractedCost, PricingCurrencyListUnitPrice AS pl, "
                                "PricingCurrencyContractedUnitPrice AS pc, x_BilledUnitPrice, x_EffectiveUnitPrice, "
                                "ConsumedQuantity, ConsumedUnit", UnitOfMeasure=unit)
    assert row == {"PricingUnit": "Hours", "x_PricingBlockSize": block, "PricingQuantity": quantity,
                   "ConsumedQuantity": quantity, "ConsumedUnit": "Hours",
                   "ListUnitPrice": list_price, "ListCost": "4", "ContractedUnitPrice": price, "ContractedCost": "3",
                   "pl": list_price, "pc": price, "x_BilledUnitPrice": price, "x_EffectiveUnitPrice": price}


def test_regions_services_resource_type_and_periods(wh, tmp_path):
    row = mapped(wh, tmp_path, "RegionId, RegionName, ServiceName, ServiceCategory, ResourceType, "
                                "toString(ChargePeriodStart) AS s, toString(ChargePeriodEnd) AS e, "
                                "toString(BillingPeriodEnd) AS be, x_ResourceGroupName, x_ResourceType")
    assert row["RegionId"] == "eastus2" and row["RegionName"] == "East US 2"
    assert row["ServiceCategory"] == "Compute" and row["ServiceName"]
    assert (row["ResourceType"], row["x_ResourceType"]) == ("Virtual machine", "microsoft.compute/virtualmachines")
    assert (row["s"], row["e"], row["be"]) == ("2023-09-02 00:00:00", "2023-09-03 00:00:00", "2023-10-01 00:00:00")


@pytest.mark.parametrize("location", ["N/A", "Unassigned", "All Regions", "Intercontinental", "Zone 1", "None"])
def test_a_location_that_is_no_region_has_no_region(wh, tmp_path, location):
    row = mapped(wh, tmp_path, "RegionId, RegionName", ResourceLocation=location, MeterRegion=location)
    assert row == {"RegionId": None, "RegionName": None}


@pytest.mark.parametrize(("resource_id", "arm_type", "group"), [
    ("/subscriptions/s/resourceGroups/RG-One/providers/Microsoft.Compute/virtualMachines/vm1/extensions/ext1",
     "microsoft.compute/virtualmachines/extensions", "RG-One"),
    ("/subscriptions/s/resourcegroups/rg2/providers/Microsoft.Sql/servers/s1/providers/Microsoft.Insights/"
     "diagnosticSettings/d1", "microsoft.insights/diagnosticsettings", "rg2"),
    ("/subscriptions/s/providers/Microsoft.Capacity/reservationOrders/o1/reservations/r1",
     "microsoft.capacity/reservationorders/reservations", None),
    ("/subscriptions/s/resourceGroups/rg3/providers/Microsoft.Web/sites", "microsoft.web/sites", "rg3"),
    ("/subscriptions/s/resourceGroups/rg4", None, "rg4"),
    ("", None, None),
])
def test_arm_type_and_resource_group_from_the_resource_id(wh, tmp_path, resource_id, arm_type, group):
    """The ARM type is the namespace and types after the last ``providers`` segment (child resources and extension
    resources included); a file without ResourceGroup takes the group from the id, as written."""
    row = mapped(wh, tmp_path, "x_ResourceType, x_ResourceGroupName", ResourceId=resource_id, ResourceGroup="")
    assert row == {"x_ResourceType": arm_type, "x_ResourceGroupName": group}


def test_mca_billing_account_is_the_billing_profile(wh, tmp_path):
    row = mapped(wh, tmp_path, "BillingAccountId, BillingAccountName, BillingAccountType, x_BillingProfileId",
                 BillingAccountId="abcd:efgh_2019-05-31", BillingProfileId="PROF-1", BillingProfileName="Profile")
    assert row == {"BillingAccountId": "PROF-1", "BillingAccountName": "Profile",
                   "BillingAccountType": "Billing Profile", "x_BillingProfileId": "PROF-1"}


def test_unknown_lookups_fall_back_and_are_counted(wh, tmp_path):
    row = BASE | {"MeterCategory": "Brand New Service", "ConsumedService": "Microsoft.NewThing",
                  "ResourceId": "", "UnitOfMeasure": "1 Widget", "ResourceLocation": "marsnorth"}
    path = write_csv(tmp_path / "new_actual.csv", list(row), [row])
    f = load(wh, path).files[0]
    assert set(f.unmapped) == {"service:Microsoft.NewThing", "unit:1 Widget", "region:marsnorth"}
    out = focus_rows(wh, "ServiceName, ServiceCategory, PricingUnit, RegionId")[0]
    assert out == {"ServiceName": "Brand New Service", "ServiceCategory": "Other", "PricingUnit": "Widget",
                   "RegionId": "marsnorth"}


def test_a_service_named_by_its_meter_category_keeps_the_known_services_category(wh, tmp_path):
    """FOCUS: one ServiceName has one category and subcategory, also where the keys miss and the meter names it."""
    database = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Sql/servers/s/databases/db"
    known = BASE | {"ConsumedService": "Microsoft.Sql", "MeterCategory": "SQL Database", "ResourceId": database}
    unkeyed = BASE | {"ConsumedService": "Microsoft.NewSqlThing", "MeterCategory": "Azure SQL Database",
                      "ResourceId": ""}
    f = load(wh, write_csv(tmp_path / "sql_actual.csv", list(known), [known, unkeyed])).files[0]
    assert f.rows_loaded == 2 and not f.unmapped
    rows = focus_rows(wh, "ServiceName, ServiceCategory, ServiceSubcategory")
    assert rows == [{"ServiceName": "Azure SQL Database", "ServiceCategory": "Databases",
                     "ServiceSubcategory": "Relational Databases"}] * 2


def test_focus_subcategory_not_allowed_in_12_becomes_other_and_is_counted(wh, tmp_path):
    header = ["BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
              "ChargePeriodEnd", "ChargeCategory", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
              "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory",
              "ServiceSubcategory"]
    row = dict(zip(header, ["A1", "USD", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-01-05 00:00:00",
                            "2024-01-06", "Usage", "1.25", "1.25", "1.25", "1.25", "AWS", "AWS", "AWS",
                            "Amazon RDS", "Databases", "Relational"], strict=True))
    path = write_csv(tmp_path / "focus11.csv", header, [row])
    f = load(wh, path).files[0]
    assert f.rows_loaded == 1 and f.unmapped == {"subcategory:Relational": 1}
    assert focus_rows(wh, "ServiceSubcategory, toString(ChargePeriodStart) AS s")[0] == {
        "ServiceSubcategory": "Other (Databases)", "s": "2024-01-05 00:00:00"}


def test_a_meters_price_id_belongs_to_one_sku_and_names_never_go_missing(wh, tmp_path):
    meter = "9c150bf9-2bad-430e-a53c-c213804f49ef"
    ea = mapped(wh, tmp_path, "SkuId, SkuPriceId, BillingAccountName, SubAccountName", MeterId=meter,
                PartNumber="AAD-84351", BillingAccountName="", SubscriptionName="")
    assert ea == {"SkuId": "AAD-84351", "SkuPriceId": f"AAD-84351_{meter}", "BillingAccountName": "8611537",
                  "SubAccountName": "sub-1"}
    mapped(wh, tmp_path, "SkuId", MeterId=meter, ProductId="DZH318Z0BNXN0033",
           BillingAccountId="abcd:efgh_2019-05-31", BillingProfileId="PROF-1")  # the same meter on an MCA account
    assert focus_rows(wh, "SkuId, SkuPriceId", "BillingAccountId = 'PROF-1'") == [
        {"SkuId": "DZH318Z0BNXN0033", "SkuPriceId": f"DZH318Z0BNXN0033_{meter}"}]


def test_a_marketplace_charge_without_meter_or_service_is_azure_marketplaces(wh, tmp_path):
    row = BASE | {"MeterCategory": "", "ConsumedService": "", "ResourceId": "", "PublisherType": "Marketplace",
                  "PublisherName": "Datadog", "ChargeType": "Purchase", "Frequency": "Recurring"}
    f = load(wh, write_csv(tmp_path / "market_actual.csv", list(row), [row])).files[0]
    assert f.rows_loaded == 1 and f.unmapped == {}
    assert focus_rows(wh, "ServiceName, ServiceCategory, PublisherName")[0] == {
        "ServiceName": "Azure Marketplace", "ServiceCategory": "Other", "PublisherName": "Datadog"}


def test_tags_that_are_not_json_keep_the_row_and_their_text(wh, tmp_path):
    row = BASE | {"Tags": '{"env": "prod"'}  # cut short
    f = load(wh, write_csv(tmp_path / "tags_actual.csv", list(row), [row])).files[0]
    assert (f.rows_loaded, f.rows_quarantined) == (1, 0)
    assert set(f.unmapped) == {"tags:not JSON (kept in x_SourceColumns)"}
    out = focus_rows(wh, "toString(Tags) AS t, x_SourceColumns['Tags'] AS kept, toString(BilledCost) AS c")[0]
    assert out == {"t": "{}", "kept": '{"env": "prod"', "c": "3"}


def test_additional_info_that_is_not_json_is_kept_as_text_and_counted(wh, tmp_path):
    cut = '{"ServiceType": "Standard_D2s_v3", "VCPUs": 2, "ImageType": "Canonical Ubu'  # a cell cut short
    rows = [BASE | {"AdditionalInfo": cut}, BASE | {"AdditionalInfo": '{"VCPUs": 2}'}]
    f = load(wh, write_csv(tmp_path / "info_actual.csv", list(rows[0]), rows)).files[0]
    assert (f.rows_loaded, f.unmapped) == (2, {"additional_info:not JSON (kept in x_SourceColumns)": 1})
    loaded = focus_rows(wh, "toJSONString(SkuPriceDetails) AS sku, x_SourceColumns['AdditionalInfo'] AS kept")
    assert loaded == [{"sku": "{}", "kept": cut}, {"sku": '{"VCPUs":2}', "kept": ""}]
