"""A realistic, deterministic month of Azure EA cost data: actual and amortized exports (current EA schema).

Several subscriptions and resource groups, a dozen services across regions, tags, a VM reservation (purchase,
amortized usage, some unused), a savings plan, a refund, a credit and a tax line. ``scale`` multiplies the
number of resources (the benchmark uses it to reach a million rows).
"""

from __future__ import annotations

import csv
import gzip
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HEADER = (
    "InvoiceSectionName,AccountName,AccountOwnerId,SubscriptionId,SubscriptionName,ResourceGroup,ResourceLocation,"
    "Date,ProductName,MeterCategory,MeterSubCategory,MeterId,MeterName,MeterRegion,UnitOfMeasure,Quantity,"
    "EffectivePrice,CostInBillingCurrency,CostCenter,ConsumedService,ResourceId,Tags,OfferId,AdditionalInfo,"
    "ServiceInfo1,ServiceInfo2,ResourceName,ReservationId,ReservationName,UnitPrice,ProductOrderId,"
    "ProductOrderName,Term,PublisherType,PublisherName,ChargeType,Frequency,PricingModel,AvailabilityZone,"
    "BillingAccountId,BillingAccountName,BillingCurrencyCode,BillingPeriodStartDate,BillingPeriodEndDate,"
    "BillingProfileId,BillingProfileName,InvoiceSectionId,IsAzureCreditEligible,PartNumber,PayGPrice,PlanName,"
    "ServiceFamily,CostAllocationRuleName,benefitId,benefitName"
).split(",")

ACCOUNT = ("8611537", "Contoso Demo Enrollment")
SUBSCRIPTIONS = (
    ("5f1c2d3e-0000-4000-8000-000000000001", "Contoso Production", "Engineering", "CC-100"),
    ("5f1c2d3e-0000-4000-8000-000000000002", "Contoso Development", "Engineering", "CC-200"),
    ("5f1c2d3e-0000-4000-8000-000000000003", "Contoso Data Platform", "Analytics", "CC-300"),
)
# (consumed service, ARM type, meter category, subcategory, meter name, unit, unit price, daily qty range, family)
SERVICES = (
    ("Microsoft.Compute", "virtualMachines", "Virtual Machines", "Dv5 Series", "D4s v5", "1 Hour", "0.192", (20, 24), "Compute"),
    ("Microsoft.Storage", "storageAccounts", "Storage", "Hot Block Blob", "Hot LRS Data Stored", "1 GB/Month", "0.0208", (30, 90), "Storage"),
    ("Microsoft.Storage", "storageAccounts", "Storage", "Tiered Block Blob", "Hot Write Operations", "10K", "0.055", (1, 50), "Storage"),
    ("Microsoft.Sql", "servers/databases", "SQL Database", "General Purpose - Compute Gen5", "vCore", "1 Hour", "0.2529", (24, 48), "Databases"),
    ("Microsoft.Web", "sites", "Azure App Service", "Premium v3 Plan", "P1 v3 App", "1 Hour", "0.2250", (24, 24), "Compute"),
    ("Microsoft.DocumentDB", "databaseAccounts", "Azure Cosmos DB", "Azure Cosmos DB", "100 RU/s", "100 Hours", "0.8000", (0.2, 0.5), "Databases"),
    ("Microsoft.ContainerService", "managedClusters", "Azure Kubernetes Service", "Standard", "Standard Uptime SLA", "1 Hour", "0.10", (24, 24), "Compute"),
    ("Microsoft.KeyVault", "vaults", "Key Vault", "Standard", "Operations", "10K", "0.03", (1, 20), "Security"),
    ("Microsoft.OperationalInsights", "workspaces", "Log Analytics", "Analytics Logs", "Data Ingestion", "1 GB", "2.30", (1, 8), "Management and Governance"),
    ("Microsoft.Network", "publicIPAddresses", "Virtual Network", "IP Addresses", "Standard IPv4 Static Public IP", "1 Hour", "0.005", (24, 24), "Networking"),
    ("Microsoft.EventHub", "namespaces", "Event Hubs", "Standard", "Throughput Unit", "1 Hour", "0.03", (24, 48), "Integration"),
    ("Microsoft.CognitiveServices", "accounts", "Cognitive Services", "Azure OpenAI", "gpt-4o-mini Input Tokens", "1K", "0.000165", (1000, 9000), "AI + Machine Learning"),
    ("Microsoft.ContainerRegistry", "registries", "Container Registry", "Standard", "Standard Registry Unit", "1/Day", "0.6667", (1, 1), "Containers"),
)
REGIONS = (("eastus", "US East"), ("westeurope", "EU West"), ("uksouth", "UK South"), ("eastus2", "US East 2"))
RESERVATION = ("/providers/Microsoft.Capacity/reservationOrders/7d1b5c20-1111-4a5b-9c6d-000000000001"
               "/reservations/0f6e0f50-2222-4a5b-9c6d-000000000001", "VM_RI_D4sv5_EastUS")
EXCHANGED_RESERVATION = ("/providers/Microsoft.Capacity/reservationOrders/7d1b5c20-1111-4a5b-9c6d-000000000002"
                         "/reservations/0f6e0f50-2222-4a5b-9c6d-000000000002", "VM_RI_D2sv5_EastUS_exchanged")
"""An older reservation, returned (refund) this month: its refund does not touch the active reservation's balance."""
SAVINGS_PLAN = ("/providers/Microsoft.BillingBenefits/savingsPlanOrders/3a2b1c00-3333-4a5b-9c6d-000000000001"
                "/savingsPlans/9e8d7c60-4444-4a5b-9c6d-000000000001", "Compute_SP_1yr")
CENT = Decimal("0.000001")


@dataclass(frozen=True)
class DemoFiles:
    actual: Path
    amortized: Path


def money(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def generate(out_dir: Path, month: date = date(2026, 10, 1), scale: int = 1, seed: int = 42,
             compress: bool = False) -> DemoFiles:
    """Write ``ea_actualcost_<month>.csv`` and ``ea_amortizedcost_<month>.csv`` into ``out_dir``."""
    from app.core.demo_rows import MonthRows

    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".csv.gz" if compress else ".csv"
    files = DemoFiles(out_dir / f"ea_actualcost_{month:%Y%m}{suffix}", out_dir / f"ea_amortizedcost_{month:%Y%m}{suffix}")
    rows = MonthRows(month, scale, random.Random(seed))
    with _writer(files.actual, compress) as (_, actual), _writer(files.amortized, compress) as (_, amortized):
        for kind, row in rows:
            record = [row.get(h, "") for h in HEADER]
            if kind in ("both", "actual", "commitment"):
                actual.writerow(rows.as_actual(record) if kind == "commitment" else record)
            if kind in ("both", "amortized", "commitment"):
                amortized.writerow(record)
    return files


class _writer:
    def __init__(self, path: Path, compress: bool) -> None:
        self.handle = gzip.open(path, "wt", newline="", encoding="utf-8") if compress else open(
            path, "w", newline="", encoding="utf-8-sig")

    def __enter__(self):
        writer = csv.writer(self.handle)
        writer.writerow(HEADER)
        return self.handle, writer

    def __exit__(self, *exc) -> None:
        self.handle.close()


def month_days(month: date) -> list[date]:
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [month + timedelta(days=i) for i in range((nxt - month).days)]
