"""The FOCUS 1.2 CostAndUsage model: declared once, derived everywhere else.

The 57 FOCUS 1.2 columns carry the specification's names and nullability (``Optional`` = nullable). Azure facts
that analysts filter on follow as ``x_`` columns (names from Microsoft's FocusCost export), then lineage columns.
Column lists, DDL, export order and validation read this model; nothing restates it.
"""


from pydantic import BaseModel

from app.models.types import Enum, Json, Money, Timestamp, UtcDateTime


class FocusCost(BaseModel):
    """One FOCUS 1.2 cost and usage row."""

    # --- FOCUS 1.2 columns (specification names, alphabetical) ---
    AvailabilityZone: str | None = None
    BilledCost: Money
    BillingAccountId: str
    BillingAccountName: str | None = None
    BillingAccountType: Enum | None = None
    BillingCurrency: Enum
    BillingPeriodEnd: UtcDateTime
    BillingPeriodStart: UtcDateTime
    CapacityReservationId: str | None = None
    CapacityReservationStatus: Enum | None = None
    ChargeCategory: Enum
    ChargeClass: Enum | None = None
    ChargeDescription: str | None = None
    ChargeFrequency: Enum
    ChargePeriodEnd: UtcDateTime
    ChargePeriodStart: UtcDateTime
    CommitmentDiscountCategory: Enum | None = None
    CommitmentDiscountId: str | None = None
    CommitmentDiscountName: str | None = None
    CommitmentDiscountQuantity: Money | None = None
    CommitmentDiscountStatus: Enum | None = None
    CommitmentDiscountType: Enum | None = None
    CommitmentDiscountUnit: Enum | None = None
    ConsumedQuantity: Money | None = None
    ConsumedUnit: Enum | None = None
    ContractedCost: Money
    ContractedUnitPrice: Money | None = None
    EffectiveCost: Money
    InvoiceId: str | None = None
    InvoiceIssuerName: Enum
    ListCost: Money
    ListUnitPrice: Money | None = None
    PricingCategory: Enum | None = None
    PricingCurrency: Enum | None = None
    PricingCurrencyContractedUnitPrice: Money | None = None
    PricingCurrencyEffectiveCost: Money | None = None
    PricingCurrencyListUnitPrice: Money | None = None
    PricingQuantity: Money | None = None
    PricingUnit: Enum | None = None
    ProviderName: Enum
    PublisherName: Enum
    RegionId: Enum | None = None
    RegionName: Enum | None = None
    ResourceId: str | None = None
    ResourceName: str | None = None
    ResourceType: Enum | None = None
    ServiceCategory: Enum
    ServiceName: Enum
    ServiceSubcategory: Enum
    SkuId: str | None = None
    SkuMeter: str | None = None
    SkuPriceDetails: Json = {}
    SkuPriceId: str | None = None
    SubAccountId: str | None = None
    SubAccountName: str | None = None
    SubAccountType: Enum | None = None
    Tags: Json = {}

    # --- Azure facts (x_ columns, Microsoft FocusCost names) ---
    x_AccountName: str | None = None
    x_AccountOwnerId: str | None = None
    x_BilledCostInUsd: Money | None = None
    x_BilledUnitPrice: Money | None = None
    x_BillingExchangeRate: Money | None = None
    x_BillingProfileId: str | None = None
    x_BillingProfileName: str | None = None
    x_ChargeType: Enum | None = None
    x_ContractedCostInUsd: Money | None = None
    x_CostAllocationRuleName: str | None = None
    x_CostCenter: str | None = None
    x_EffectiveCostInUsd: Money | None = None
    x_EffectiveUnitPrice: Money | None = None
    x_InvoiceSectionId: str | None = None
    x_InvoiceSectionName: str | None = None
    x_ListCostInUsd: Money | None = None
    x_PricingBlockSize: Money | None = None
    x_PricingModel: Enum | None = None
    x_PricingUnitDescription: Enum | None = None
    x_PublisherType: Enum | None = None
    x_ResourceGroupName: str | None = None
    x_SkuDescription: str | None = None
    x_SkuMeterCategory: Enum | None = None
    x_SkuMeterId: str | None = None
    x_SkuMeterName: str | None = None
    x_SkuMeterSubcategory: Enum | None = None
    x_SkuOfferId: Enum | None = None
    x_SkuPartNumber: str | None = None
    x_SkuRegion: Enum | None = None
    x_SkuServiceFamily: Enum | None = None
    x_SkuTerm: Enum | None = None
    x_SourceColumns: dict[str, str] = {}
    """Source columns with no FOCUS or x_ home here (e.g. another provider's x_ columns), by original name."""

    # --- lineage ---
    x_SourceDataset: Enum
    """ActualCost, AmortizedCost or FOCUS: which source dataset the row came from."""
    x_SourceFormat: Enum
    """azure-cost, azure-focus or focus: the reader that parsed the file."""
    x_SourceFile: Enum
    x_SourceRow: int
    x_IngestionId: str
    x_IngestedAt: Timestamp


FOCUS_COLUMNS: tuple[str, ...] = tuple(n for n in FocusCost.model_fields if not n.startswith("x_"))
"""The FOCUS 1.2 column names, in table order."""

X_COLUMNS: tuple[str, ...] = tuple(n for n in FocusCost.model_fields if n.startswith("x_"))
"""ABI's x_ columns (Azure facts, then lineage), in table order."""

ALL_COLUMNS: tuple[str, ...] = FOCUS_COLUMNS + X_COLUMNS

MANDATORY_COLUMNS: tuple[str, ...] = tuple(
    n for n in FOCUS_COLUMNS if FocusCost.model_fields[n].is_required()
)
"""FOCUS columns that must never be null (the model's non-Optional FOCUS fields)."""
