"""The FOCUS 1.2 CostAndUsage model: declared once, derived everywhere else.

The 57 FOCUS 1.2 columns carry the specification's names and nullability (``Optional`` = nullable). Azure facts
that analysts filter on follow as ``x_`` columns (names from Microsoft's FocusCost export), then lineage columns.
Column lists, DDL, export order and validation read this model; nothing restates it.
"""


from typing import Optional

from pydantic import BaseModel

from app.models.types import Enum, Json, Money, Timestamp, UtcDateTime


class FocusCost(BaseModel):
    """One FOCUS 1.2 cost and usage row."""

    # --- FOCUS 1.2 columns (specification names, alphabetical) ---
    AvailabilityZone: Optional[str] = None
    BilledCost: Money
    BillingAccountId: str
    BillingAccountName: Optional[str] = None
    BillingAccountType: Optional[Enum] = None
    BillingCurrency: Enum
    BillingPeriodEnd: UtcDateTime
    BillingPeriodStart: UtcDateTime
    CapacityReservationId: Optional[str] = None
    CapacityReservationStatus: Optional[Enum] = None
    ChargeCategory: Enum
    ChargeClass: Optional[Enum] = None
    ChargeDescription: Optional[str] = None
    ChargeFrequency: Enum
    ChargePeriodEnd: UtcDateTime
    ChargePeriodStart: UtcDateTime
    CommitmentDiscountCategory: Optional[Enum] = None
    CommitmentDiscountId: Optional[str] = None
    CommitmentDiscountName: Optional[str] = None
    CommitmentDiscountQuantity: Optional[Money] = None
    CommitmentDiscountStatus: Optional[Enum] = None
    CommitmentDiscountType: Optional[Enum] = None
    CommitmentDiscountUnit: Optional[Enum] = None
    ConsumedQuantity: Optional[Money] = None
    ConsumedUnit: Optional[Enum] = None
    ContractedCost: Money
    ContractedUnitPrice: Optional[Money] = None
    EffectiveCost: Money
    InvoiceId: Optional[str] = None
    InvoiceIssuerName: Enum
    ListCost: Money
    ListUnitPrice: Optional[Money] = None
    PricingCategory: Optional[Enum] = None
    PricingCurrency: Optional[Enum] = None
    PricingCurrencyContractedUnitPrice: Optional[Money] = None
    PricingCurrencyEffectiveCost: Optional[Money] = None
    PricingCurrencyListUnitPrice: Optional[Money] = None
    PricingQuantity: Optional[Money] = None
    PricingUnit: Optional[Enum] = None
    ProviderName: Enum
    PublisherName: Enum
    RegionId: Optional[Enum] = None
    RegionName: Optional[Enum] = None
    ResourceId: Optional[str] = None
    ResourceName: Optional[str] = None
    ResourceType: Optional[Enum] = None
    ServiceCategory: Enum
    ServiceName: Enum
    ServiceSubcategory: Enum
    SkuId: Optional[str] = None
    SkuMeter: Optional[str] = None
    SkuPriceDetails: Json = {}
    SkuPriceId: Optional[str] = None
    SubAccountId: Optional[str] = None
    SubAccountName: Optional[str] = None
    SubAccountType: Optional[Enum] = None
    Tags: Json = {}

    # --- Azure facts (x_ columns, Microsoft FocusCost names) ---
    x_AccountName: Optional[str] = None
    x_AccountOwnerId: Optional[str] = None
    x_BilledCostInUsd: Optional[Money] = None
    x_BilledUnitPrice: Optional[Money] = None
    x_BillingAccountId: Optional[str] = None
    """The Microsoft billing account (MCA: above the billing profile that FOCUS bills)."""
    x_BillingAccountName: Optional[str] = None
    x_BillingExchangeRate: Optional[Money] = None
    x_BillingProfileId: Optional[str] = None
    x_BillingProfileName: Optional[str] = None
    x_ChargeType: Optional[Enum] = None
    x_ContractedCostInUsd: Optional[Money] = None
    x_CostAllocationRuleName: Optional[str] = None
    x_CostCenter: Optional[str] = None
    x_EffectiveCostInUsd: Optional[Money] = None
    x_EffectiveUnitPrice: Optional[Money] = None
    x_InvoiceSectionId: Optional[str] = None
    x_InvoiceSectionName: Optional[str] = None
    x_ListCostInUsd: Optional[Money] = None
    x_PricingBlockSize: Optional[Money] = None
    x_PricingModel: Optional[Enum] = None
    x_PricingUnitDescription: Optional[Enum] = None
    x_PublisherType: Optional[Enum] = None
    x_ResourceGroupName: Optional[str] = None
    x_ResourceType: Optional[Enum] = None
    """The ARM resource type (``microsoft.compute/virtualmachines``); ResourceType is its display name."""
    x_SkuDescription: Optional[str] = None
    x_SkuMeterCategory: Optional[Enum] = None
    x_SkuMeterId: Optional[str] = None
    x_SkuMeterName: Optional[str] = None
    x_SkuMeterSubcategory: Optional[Enum] = None
    x_SkuOfferId: Optional[Enum] = None
    x_SkuPartNumber: Optional[str] = None
    x_SkuRegion: Optional[Enum] = None
    x_SkuServiceFamily: Optional[Enum] = None
    x_SkuTerm: Optional[Enum] = None
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
