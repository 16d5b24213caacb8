"""Azure files as they come from older portals, partners and other tools (shapes seen in public files: opencost and
koku test data, EA portal downloads), each pinned on a one-row file."""

from __future__ import annotations

from abitest import focus_rows, load, write_csv
from core.test_mapping_rules import BASE, mapped

from app.core.export import export

RESOURCE_ID = "/subscriptions/s-1/resourceGroups/Example-RG/providers/Microsoft.Network/loadBalancers/lb1"


def _one(wh, tmp_path, row: dict[str, str], columns: str, name: str = "one_actual.csv") -> dict:
    f = load(wh, write_csv(tmp_path / name, list(row), [row])).files[0]
    assert (f.error, f.rows_loaded) == (None, 1), wh.rows("SELECT reasons FROM abi.focus_quarantine")
    return focus_rows(wh, columns)[0]


def test_a_partner_file_converts_prices_at_its_exchange_rate(wh, tmp_path):
    """A CSP customer view has no billing profile, yet prices in USD and bills in EUR at its exchange rate."""
    row = {"SubscriptionId": "s-1", "date": "02/02/2021", "meterCategory": "Virtual Network", "quantity": "3",
           "effectivePrice": "0.004", "PayGPrice": "0.004", "unitOfMeasure": "1 Hour", "billingCurrency": "EUR",
           "pricingCurrency": "USD", "costInBillingCurrency": "0.0108", "exchangeRatePricingToBilling": "0.9",
           "partnerName": "Partner SARL", "chargeType": "Usage"}
    got = _one(wh, tmp_path, row, "toString(ListUnitPrice) AS l, toString(ListCost) AS lc, "
                                  "toString(x_BillingExchangeRate) AS x, PricingCurrency AS pc, InvoiceIssuerName AS i")
    assert got == {"l": "0.0036", "lc": "0.0108", "x": "0.9", "pc": "USD", "i": "Partner SARL"}


def test_a_file_without_billing_account_is_billed_by_subscription(wh, tmp_path):
    """Pay-as-you-go usage details (PreTaxCost, UsageDateTime) name no billing account: each subscription is one."""
    row = {"SubscriptionGuid": "s-1", "SubscriptionName": "Dev", "UsageDateTime": "2021-02-02", "MeterCategory":
           "Load Balancer", "UsageQuantity": "3", "ResourceRate": "0.025", "PreTaxCost": "0.075", "Currency": "USD",
           "InstanceId": RESOURCE_ID}
    got = _one(wh, tmp_path, row, "BillingAccountId AS id, BillingAccountName AS n, BillingAccountType AS t")
    assert got == {"id": "s-1", "n": "Dev", "t": "Subscription"}


def test_translated_headers_are_read_by_the_english_name_in_brackets(wh, tmp_path):
    row = {"Abonnement-GUID (SubscriptionGuid)": "s-1", "Ressourcenstandort (ResourceLocation)": "US East",
           "UsageDateTime (UsageDateTime)": "2021-02-02", "Kategorie der Verbrauchseinheit (MeterCategory)":
           "Load Balancer", "UsageQuantity (UsageQuantity)": "3", "PreTaxCost (PreTaxCost)": "0.075",
           "Maßeinheit (UnitOfMeasure)": "100 Hours", "Currency": "USD", "ServiceTier": "Std Load Balancer",
           "InstanceId (InstanceId)": RESOURCE_ID}
    got = _one(wh, tmp_path, row, "RegionId AS r, PricingUnit AS u, toString(PricingQuantity) AS q, "
                                  "x_ResourceGroupName AS g, x_SourceColumns AS extra", name="German.csv")
    assert got == {"r": "eastus", "u": "Hours", "q": "300", "g": "Example-RG",
                   "extra": {"ServiceTier": "Std Load Balancer"}}  # columns with no FOCUS home are kept


def test_a_reservation_named_without_pricing_model_is_a_commitment(wh, tmp_path):
    row = mapped(wh, tmp_path, "PricingCategory AS p, CommitmentDiscountId AS id, CommitmentDiscountStatus AS s, "
                               "toString(BilledCost) AS b", PricingModel="", ReservationId="ri-1",
                 ReservationName="RI", CostInBillingCurrency="0")
    assert row == {"p": "Committed", "id": "ri-1", "s": "Used", "b": "0"}


def test_a_row_without_payg_price_lists_at_its_unit_price(wh, tmp_path):
    row = mapped(wh, tmp_path, "toString(ListCost) AS l, toString(ContractedCost) AS c, toString(ListUnitPrice) AS u",
                 PayGPrice="0")
    assert row == {"l": "3", "c": "3", "u": "0.15"}
    assert BASE["UnitPrice"] == "1.5" and BASE["UnitOfMeasure"] == "10 Hours"


def test_an_all_zero_benefit_id_is_no_commitment_and_market_price_is_the_list_price(wh, tmp_path):
    """The Consumption API's usage details: benefitId 00000000-… where no commitment applies, marketPrice."""
    row = {k: v for k, v in BASE.items() if k not in ("PricingModel", "PayGPrice")}
    row |= {"benefitId": "00000000-0000-0000-0000-000000000000", "marketPrice": "2"}
    got = _one(wh, tmp_path, row, "PricingCategory AS p, CommitmentDiscountId AS id, toString(BilledCost) AS b, "
                                  "toString(ListUnitPrice) AS l")
    assert got == {"p": "Standard", "id": None, "b": "3", "l": "0.2"}


def test_older_usage_details_get_the_description_prices_and_sku_focus_needs(wh, tmp_path):
    """Pay-as-you-go usage details carry no ProductName, UnitPrice, PayGPrice, ProductId or PartNumber."""
    row = {"SubscriptionGuid": "s-1", "UsageDateTime": "2021-02-02", "MeterCategory": "Load Balancer",
           "MeterSubCategory": "Standard", "MeterName": "Data Processed", "MeterId": "m-1", "UsageQuantity": "3",
           "ResourceRate": "0.025", "PreTaxCost": "0.075", "Currency": "USD", "UnitOfMeasure": "1 GB"}
    got = _one(wh, tmp_path, row, "ChargeDescription AS d, toString(ContractedUnitPrice) AS c, "
                                  "toString(ListUnitPrice) AS l, toString(ContractedCost) AS cc, SkuId AS s, "
                                  "SkuMeter AS m, SkuPriceId AS p")
    assert got == {"d": "Load Balancer - Standard - Data Processed", "c": "0.025", "l": "0.025", "cc": "0.075",
                   "s": "m-1", "m": "Data Processed", "p": "m-1"}


def test_a_header_with_the_english_name_first_and_a_translation_in_brackets_is_read(wh, tmp_path):
    row = {"SubscriptionGuid (Abonnement-GUID)": "s-1", "UsageDateTime (Verbrauchsdatum)": "2021-02-02",
           "MeterCategory (Kategorie)": "Load Balancer", "UsageQuantity (Menge)": "3", "PreTaxCost (Kosten)": "0.075",
           "Currency (Währung)": "EUR", "ResourceLocation (Standort)": "US East"}
    got = _one(wh, tmp_path, row, "SubAccountId AS s, BillingCurrency AS c, RegionId AS r, toString(BilledCost) AS b")
    assert got == {"s": "s-1", "c": "EUR", "r": "eastus", "b": "0.075"}


def test_dates_inside_tags_and_additional_info_are_kept_as_written(wh, tmp_path):
    """Tags such as CreatedOn and AdditionalInfo's ConsumptionBeginTime hold ISO timestamps: text, never rewritten."""
    got = mapped(wh, tmp_path, "toJSONString(Tags) AS t, toJSONString(SkuPriceDetails) AS d",
                 Tags='"CreatedOn": "2023-03-05T00:00:00Z", "day": "2023-03-05"',
                 AdditionalInfo='{"ConsumptionBeginTime": "2023-03-05T10:00:00Z"}')
    assert '"CreatedOn":"2023-03-05T00:00:00Z"' in got["t"] and '"day":"2023-03-05"' in got["t"]
    assert '"2023-03-05T10:00:00Z"' in got["d"]


def test_a_url_in_a_tag_is_exported_as_written(wh, tmp_path):
    """Cost Management's ``costanalysis-parent`` tag holds a URL: its slashes are not escaped in an export or query."""
    mapped(wh, tmp_path, "1", Tags='"costanalysis-parent": "http://subscriptions/s-1/resourcegroups/rg"')
    export(wh, "csv", tmp_path / "focus.csv")
    written = (tmp_path / "focus.csv").read_text()
    assert '""costanalysis-parent"":""http://subscriptions/s-1/resourcegroups/rg""' in written
    assert wh.scalar("SELECT toJSONString(Tags) FROM abi.focus_cost") == (
        '{"costanalysis-parent":"http://subscriptions/s-1/resourcegroups/rg"}')


def test_a_tab_or_line_break_written_raw_inside_a_tag_value_is_kept_in_the_value(wh, tmp_path):
    """JSON wants them escaped; a tag pasted with a line break or tab keeps its text, not only in x_SourceColumns."""
    got = mapped(wh, tmp_path, "Tags.note AS note, Tags.team AS team, mapContains(x_SourceColumns, 'Tags') AS raw",
                 Tags='"note": "line 1\nline 2\r\n", "team": "a\tb"')
    assert (got["note"], got["team"], got["raw"]) == ("line 1\nline 2\r\n", "a\tb", 0)


def test_pretty_printed_tags_with_a_raw_tab_in_a_value_keep_every_tag(wh, tmp_path):
    """Line breaks between tokens are JSON whitespace; the tab inside a value (beside escaped quotes and backslashes)
    is escaped, so the object parses whole."""
    tags = '{\n  "note": "say \\"hi\\"\tthere \\\\ ok",\n\t"team": "a"\n}'
    got = mapped(wh, tmp_path, "Tags.note AS note, Tags.team AS team, mapContains(x_SourceColumns, 'Tags') AS raw",
                 Tags=tags)
    assert (got["note"], got["team"], got["raw"]) == ('say "hi"\tthere \\ ok', "a", 0)


def test_a_file_without_subscription_column_takes_it_from_the_resource_id(wh, tmp_path):
    row = {k: v for k, v in BASE.items() if k not in ("SubscriptionId", "SubscriptionName")}
    got = _one(wh, tmp_path, row, "SubAccountId, SubAccountName, SubAccountType")
    assert got == {"SubAccountId": "sub-1", "SubAccountName": "sub-1", "SubAccountType": "Subscription"}


def test_an_unused_commitment_without_consumed_service_is_the_commitments_service(wh, tmp_path):
    plan = "/providers/Microsoft.BillingBenefits/savingsPlanOrders/o/savingsPlans/s"
    row = BASE | {"ConsumedService": "", "ResourceId": "", "MeterCategory": "", "ChargeType": "UnusedSavingsPlan",
                  "PricingModel": "SavingsPlan", "BenefitId": plan}
    got = _one(wh, tmp_path, row, "ServiceName", name="one_amortized.csv")
    assert got == {"ServiceName": "Savings plans"}


def test_every_azure_column_is_kept_somewhere(wh, tmp_path):
    """Columns with no FOCUS home (the MCA billing account above the billed profile, the consumed service, order,
    plan, service period, previous invoice…) stay in x_ columns or x_SourceColumns, never dropped."""
    kept = {"ConsumedService": "Microsoft.Compute", "ServiceInfo1": "info", "ProductOrderId": "po-1",
            "ProductOrderName": "Order", "IsAzureCreditEligible": "True", "PlanName": "byol-plan",
            "ExchangeRateDate": "09/01/2023", "PreviousInvoiceId": "G011111111", "ResellerName": "Reseller One",
            "ServicePeriodStartDate": "09/01/2023", "ServicePeriodEndDate": "09/30/2023", "MyOwnColumn": "x"}
    row = BASE | kept | {"BillingAccountId": "abcd:efgh_2019-05-31", "BillingAccountName": "Contoso Group",
                         "BillingProfileId": "PROF-1"}
    got = _one(wh, tmp_path, row, "BillingAccountId, x_BillingAccountId, x_BillingAccountName, x_ResourceType, "
                                  "ResourceType, x_SourceColumns")
    assert (got["BillingAccountId"], got["x_BillingAccountId"], got["x_BillingAccountName"]) == (
        "PROF-1", "abcd:efgh_2019-05-31", "Contoso Group")
    assert (got["ResourceType"], got["x_ResourceType"]) == ("Virtual machine", "microsoft.compute/virtualmachines")
    assert got["x_SourceColumns"] == kept


def test_an_older_reservation_purchase_without_benefit_path_is_the_reservations_service(wh, tmp_path):
    row = BASE | {"ChargeType": "Purchase", "PricingModel": "Reservation", "ConsumedService": "", "ResourceId": "",
                  "MeterCategory": "", "ReservationId": "6ef7a3b1-0000-4000-8000-000000000001"}
    assert _one(wh, tmp_path, row, "ServiceName")["ServiceName"] == "Reservations"


def test_resource_types_given_by_the_file_or_unknown_to_the_table(wh, tmp_path):
    """A ResourceType column holding the ARM type is looked up; one holding a name is kept; an unknown type stays."""
    arm = _one(wh, tmp_path, BASE | {"ResourceType": "Microsoft.Storage/storageAccounts"},
               "ResourceType, x_ResourceType")
    assert arm == {"ResourceType": "Storage account", "x_ResourceType": "microsoft.storage/storageaccounts"}
    (tmp_path / "b").mkdir()
    new = _one(wh, tmp_path / "b", BASE | {"ResourceId": "/subscriptions/s/resourceGroups/rg/providers/"
                                                         "Contoso.Widgets/gadgets/g1"}, "ResourceType, x_ResourceType")
    assert new == {"ResourceType": "contoso.widgets/gadgets", "x_ResourceType": "contoso.widgets/gadgets"}
    (tmp_path / "c").mkdir()
    named = _one(wh, tmp_path / "c", BASE | {"ResourceType": "Widget Gadget", "ResourceId": "/subscriptions/s/"
                                             "resourceGroups/rg/providers/Contoso.Widgets/gadgets/g1"},
                 "ResourceType, x_ResourceType")
    assert named == {"ResourceType": "Widget Gadget", "x_ResourceType": "contoso.widgets/gadgets"}


def test_dates_written_with_a_utc_offset_are_the_days_written(wh, tmp_path):
    row = BASE | {"Date": "2023-09-05T00:00:00+02:00", "BillingPeriodStartDate": "2023-09-01T00:00:00+02:00",
                  "BillingPeriodEndDate": "2023-09-30T23:00:00-05:00"}
    got = _one(wh, tmp_path, row, "toString(ChargePeriodStart) AS c, toString(BillingPeriodStart) AS s, "
                                  "toString(BillingPeriodEnd) AS e")
    assert got == {"c": "2023-09-05 00:00:00", "s": "2023-09-01 00:00:00", "e": "2023-10-01 00:00:00"}


def test_an_exchange_rate_of_zero_or_none_is_the_one_the_two_costs_imply(wh, tmp_path):
    row = {"SubscriptionId": "s-1", "date": "02/02/2021", "meterCategory": "Virtual Network", "quantity": "3",
           "effectivePrice": "0.004", "PayGPrice": "0.004", "unitOfMeasure": "1 Hour", "billingCurrency": "EUR",
           "pricingCurrency": "USD", "costInBillingCurrency": "0.0108", "costInPricingCurrency": "0.012",
           "chargeType": "Usage"}
    rows = [row | {"exchangeRatePricingToBilling": rate} for rate in ("0", "", "0.9")]
    f = load(wh, write_csv(tmp_path / "rates_actual.csv", list(rows[0]), rows)).files[0]
    assert (f.error, f.rows_loaded) == (None, 3)
    got = focus_rows(wh, "toString(ListUnitPrice) AS l, toString(ContractedCost) AS c, "
                         "toString(x_BillingExchangeRate) AS x")
    assert got == [{"l": "0.0036", "c": "0.0108", "x": "0.9"}] * 3
