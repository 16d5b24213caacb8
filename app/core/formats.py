"""Source formats: their canonical columns and the header spellings that map to them (matched lower-case, without
spaces or hyphens: see ``headers.spelling``).

Data, not code: each format is a table of ``canonical column → accepted spellings``. Header generations
(legacy ``Cost``/``BillingCurrency``/``Product``), camelCase API headers and the legacy EA API's names all
resolve here.
"""

from app.models.columns import FOCUS_COLUMNS, X_COLUMNS

AZURE_COST_COLUMNS: dict[str, tuple[str, ...]] = {
    "BillingAccountId": ("billingaccountid", "enrollmentnumber"),
    "BillingAccountName": ("billingaccountname",),
    "BillingPeriodStartDate": ("billingperiodstartdate", "billingperiodstart"),
    "BillingPeriodEndDate": ("billingperiodenddate", "billingperiodend"),
    "BillingProfileId": ("billingprofileid",),
    "BillingProfileName": ("billingprofilename",),
    "AccountOwnerId": ("accountownerid", "accountowneremail"),
    "AccountName": ("accountname",),
    "SubscriptionId": ("subscriptionguid", "subscriptionid"),  # legacy EA files: SubscriptionId is a number
    "SubscriptionName": ("subscriptionname",),
    "Date": ("date", "usagedate", "usagedatetime"),
    "ProductName": ("productname", "product"),
    "PartNumber": ("partnumber",),
    "MeterId": ("meterid",),
    "ServiceFamily": ("servicefamily",),
    "MeterCategory": ("metercategory",),
    "MeterSubCategory": ("metersubcategory",),
    "MeterRegion": ("meterregion",),
    "MeterName": ("metername",),
    "Quantity": ("quantity", "consumedquantity", "usagequantity"),
    "EffectivePrice": ("effectiveprice", "resourcerate"),
    "CostInBillingCurrency": ("costinbillingcurrency", "cost", "pretaxcost", "extendedcost"),
    "UnitPrice": ("unitprice",),
    "BillingCurrencyCode": ("billingcurrencycode", "billingcurrency", "currency"),
    "ResourceLocation": ("resourcelocation", "resourcelocationnormalized", "location"),
    "AvailabilityZone": ("availabilityzone",),
    "ConsumedService": ("consumedservice",),
    "ResourceId": ("resourceid", "instanceid", "instancename"),
    "ResourceName": ("resourcename",),
    "ServiceInfo1": ("serviceinfo1",),
    "ServiceInfo2": ("serviceinfo2",),
    "AdditionalInfo": ("additionalinfo",),
    "Tags": ("tags",),
    "InvoiceSectionId": ("invoicesectionid", "departmentid"),
    "InvoiceSectionName": ("invoicesectionname", "invoicesection", "departmentname"),
    "CostCenter": ("costcenter",),
    "UnitOfMeasure": ("unitofmeasure",),
    "ResourceGroup": ("resourcegroup", "resourcegroupname"),
    "ReservationId": ("reservationid",),
    "ReservationName": ("reservationname",),
    "ProductOrderId": ("productorderid",),
    "ProductOrderName": ("productordername",),
    "OfferId": ("offerid",),
    "IsAzureCreditEligible": ("isazurecrediteligible",),
    "Term": ("term",),
    "PublisherName": ("publishername",),
    "PlanName": ("planname",),
    "ChargeType": ("chargetype",),
    "Frequency": ("frequency", "chargefrequency"),
    "PublisherType": ("publishertype",),
    "PayGPrice": ("paygprice", "marketprice"),
    "PricingModel": ("pricingmodel",),
    "CostAllocationRuleName": ("costallocationrulename",),
    "BenefitId": ("benefitid",),
    "BenefitName": ("benefitname",),
    "CostInPricingCurrency": ("costinpricingcurrency",),
    "PricingCurrencyCode": ("pricingcurrencycode", "pricingcurrency"),
    "ExchangeRatePricingToBilling": ("exchangeratepricingtobilling", "exchangerate"),
    "ExchangeRateDate": ("exchangeratedate",),
    "PaygCostInBillingCurrency": ("paygcostinbillingcurrency",),
    "CostInUsd": ("costinusd",),
    "PaygCostInUsd": ("paygcostinusd",),
    "InvoiceId": ("invoiceid",),
    "PreviousInvoiceId": ("previousinvoiceid",),
    "ProductId": ("productid",),
    "ResourceType": ("resourcetype",),
    "ServicePeriodStartDate": ("serviceperiodstartdate",),
    "ServicePeriodEndDate": ("serviceperiodenddate",),
    "PartnerName": ("partnername",),
    "ResellerName": ("resellername",),
}
"""Azure Cost Management export / Cost Details API columns (EA and MCA, actual and amortized share them)."""

FOCUS_ALIASES: dict[str, tuple[str, ...]] = {
    "InvoiceId": ("x_invoiceid",),
    "ContractedCost": ("x_ondemandcost",),
    "ContractedUnitPrice": ("x_ondemandunitprice",),
    "PricingCurrency": ("x_pricingcurrency",),
    "SkuPriceDetails": ("x_skudetails",),
    "SkuMeter": ("x_skumetername",),
    "ChargeCategory": ("chargetype",),
    "ProviderName": ("serviceprovidername", "provider"),
    "PublisherName": ("publisher",),
    "InvoiceIssuerName": ("invoiceissuer",),
    "BillingCurrency": ("billedcurrency",),
    "EffectiveCost": ("amortizedcost",),
    "RegionId": ("region",),
    "ConsumedQuantity": ("usagequantity",),
    "ConsumedUnit": ("usageunit",),
}
"""Other spellings of FOCUS columns, used when a file has no column of the 1.2 name: older (FOCUS 0.5 Provider,
Publisher, InvoiceIssuer, BilledCurrency, AmortizedCost, Region, UsageQuantity/UsageUnit; 1.0-preview ChargeType;
Microsoft FocusCost 1.0 x_ columns, 1.0-preview x_OnDemandCost / x_OnDemandUnitPrice: the contracted ones) and
newer (FOCUS 1.3 ServiceProviderName)."""

FOCUS_SOURCE_X_COLUMNS = tuple(c for c in X_COLUMNS if c != "x_SourceColumns" and not c.startswith(
    ("x_Source", "x_Ingest")))

FOCUS_SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    name: (name.lower(), *FOCUS_ALIASES.get(name, ())) for name in FOCUS_COLUMNS + FOCUS_SOURCE_X_COLUMNS
}
"""FOCUS files (any provider, and Microsoft FocusCost exports): the FOCUS columns and ABI's x_ columns."""

AZURE_FOCUS_MARKERS = frozenset({"x_skumeterid", "x_resourcegroupname", "x_billingprofileid", "x_skumetercategory"})
FOCUS_MARKERS = frozenset({"billedcost", "effectivecost", "chargeperiodstart", "billingperiodstart"})
ABI_EXPORT_MARKERS = frozenset({"x_ingestionid", "x_sourcefile", "x_sourceformat"})
"""ABI's lineage columns: a file that has them all is ABI's own export (``abi export``), read as plain FOCUS whatever
x_ columns it carries (a Microsoft file's fixes were made when it was first loaded)."""
AZURE_COST_MARKERS = (
    frozenset({"costinbillingcurrency", "cost", "pretaxcost", "extendedcost"}),
    frozenset({"date", "usagedate", "usagedatetime"}),
    frozenset({"metercategory", "meterid", "metername"}),
)
AZURE_AGGREGATE_MARKERS = frozenset({"usagedate", "costusd"})
"""Columns of a Cost Management aggregate (a cost analysis download or a Query API result: costs summed per day and
group) that has no quantity column (``AZURE_COST_COLUMNS["Quantity"]``), which every generation of cost details has.
Loaded as cost details, an aggregate would count their costs again beside them, or replace them."""


def is_azure_aggregate(names: set[str]) -> bool:
    """A header (``headers.header_keys`` of each name) of a Cost Management aggregate."""
    return bool(names & AZURE_COST_MARKERS[0] and names & AZURE_AGGREGATE_MARKERS
                and not names & set(AZURE_COST_COLUMNS["Quantity"]))


OTHER_DATASETS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"contractcommitmentid"}), "a FOCUS Contract Commitment dataset"),
    (frozenset({"invoicedetailid"}), "a FOCUS Invoice Detail dataset"),
    (frozenset({"billingperiodstatus"}), "a FOCUS Billing Period dataset"),
    (frozenset({"skupriceeffectivestart"}), "a FOCUS SKU Price dataset (a price list)"),
    (frozenset({"pricetype", "effectivestartdate"}), "an Azure price sheet"),
    (frozenset({"reservedhours", "usedhours"}), "an Azure reservation details export"),
    (frozenset({"eventtype", "reservationorderid"}), "an Azure reservation transactions export"),
    (frozenset({"recommendedquantity"}), "an Azure reservation recommendations export"),
)
"""Billing data that is not cost and usage (header names a dataset holds, as matched), named when it is refused."""
NATIVE_FORMATS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"lineitem/referenceno", "cost/mycost"}), "an OCI cost report (OCI's own columns): OCI also writes "
     "FOCUS reports (the FOCUS folder of its usage-report bucket): load those"),
    (frozenset({"lineitem/unblendedcost"}), "an AWS Cost and Usage Report (CUR): AWS Data Exports write FOCUS "
     "(\"FOCUS 1.0 with AWS columns\"): load that export"),
    (frozenset({"line_item_unblended_cost"}), "an AWS CUR 2.0 export: AWS Data Exports write FOCUS (\"FOCUS 1.0 "
     "with AWS columns\"): load that export"),
    (frozenset({"partnerid", "customerid"}), "a Partner Center (CSP) reconciliation file: the customer's Cost "
     "Management exports (its MCA billing account's cost details or FOCUS export) hold the same costs"),
)
"""Cost data in a provider's own format rather than FOCUS, named with where its FOCUS form is found."""
