"""Constants of the legacy EA reporting API plugin (section 4 of the Azure billing formats reference)."""

BASE_URL = "https://consumption.azure.com"
API_VERSIONS = ("v3", "v2")
RETIRED_NOTE = ("Microsoft retired the Enterprise Agreement reporting APIs (consumption.azure.com) in 2024: use "
                "azure-cost-details or azure-exports for current data. Kept to replay archives.")
COLUMNS = [
    "BillingAccountId", "BillingAccountName", "BillingCurrencyCode", "BillingPeriodStartDate", "BillingPeriodEndDate",
    "AccountName", "AccountOwnerId", "SubscriptionId", "SubscriptionName", "Date", "ProductName", "MeterId",
    "MeterCategory", "MeterSubCategory", "MeterRegion", "MeterName", "Quantity", "EffectivePrice",
    "CostInBillingCurrency", "ResourceLocation", "ConsumedService", "ResourceId", "ServiceInfo1", "ServiceInfo2",
    "AdditionalInfo", "Tags", "InvoiceSectionName", "CostCenter", "UnitOfMeasure", "ResourceGroup", "ChargeType",
    "Frequency", "PricingModel",
]
"""Columns the plugin lands (current EA export names; the core maps them like an actual-cost export)."""
FIELDS = {  # landed column → legacy EA API field (matched case-insensitively)
    "AccountName": "accountName", "AccountOwnerId": "accountOwnerEmail", "SubscriptionId": "subscriptionGuid",
    "SubscriptionName": "subscriptionName", "ProductName": "product", "MeterId": "meterId",
    "MeterCategory": "meterCategory", "MeterSubCategory": "meterSubCategory", "MeterRegion": "meterRegion",
    "MeterName": "meterName", "Quantity": "consumedQuantity", "EffectivePrice": "resourceRate",
    "CostInBillingCurrency": "cost", "ResourceLocation": "resourceLocation", "ConsumedService": "consumedService",
    "ResourceId": "instanceId", "ServiceInfo1": "serviceInfo1", "ServiceInfo2": "serviceInfo2",
    "AdditionalInfo": "additionalInfo", "Tags": "tags", "InvoiceSectionName": "departmentName",
    "CostCenter": "costCenter", "UnitOfMeasure": "unitOfMeasure", "ResourceGroup": "resourceGroup",
}
