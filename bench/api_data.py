"""Generated FOCUS rows for ``bench/api.py``: one INSERT … SELECT over ``numbers()`` with realistic cardinalities.

Three billing accounts (one in EUR), 60 subscriptions, 300 resource groups, 50,000 resources (each in one
resource group, region and service), 45 services in 12 categories, 12 regions, three months of daily rows
(about two meter rows per resource and day), 5% of the usage covered by 25 reservations (some unused), tags on
a third of the resources, a few purchases, taxes and credits.
"""

from __future__ import annotations

SERVICES = [  # (ServiceName, ServiceCategory, ResourceType)
    ("Virtual Machines", "Compute", "microsoft.compute/virtualmachines"),
    ("Azure Kubernetes Service", "Compute", "microsoft.containerservice/managedclusters"),
    ("Azure App Service", "Web", "microsoft.web/sites"), ("Azure Functions", "Compute", "microsoft.web/sites"),
    ("Storage Accounts", "Storage", "microsoft.storage/storageaccounts"),
    ("Azure SQL Database", "Databases", "microsoft.sql/servers/databases"),
    ("Azure Cosmos DB", "Databases", "microsoft.documentdb/databaseaccounts"),
    ("Azure Database for PostgreSQL", "Databases", "microsoft.dbforpostgresql/flexibleservers"),
    ("Azure Cache for Redis", "Databases", "microsoft.cache/redis"),
    ("Azure Monitor", "Management and Governance", "microsoft.operationalinsights/workspaces"),
    ("Key Vault", "Security", "microsoft.keyvault/vaults"), ("Microsoft Defender for Cloud", "Security", "defender"),
    ("Virtual Network", "Networking", "microsoft.network/virtualnetworks"),
    ("Load Balancer", "Networking", "microsoft.network/loadbalancers"),
    ("Application Gateway", "Networking", "microsoft.network/applicationgateways"),
    ("Azure DNS", "Networking", "microsoft.network/dnszones"), ("Bandwidth", "Networking", "bandwidth"),
    ("Azure Front Door", "Networking", "microsoft.cdn/profiles"),
    ("Event Hubs", "Integration", "microsoft.eventhub/namespaces"),
    ("Service Bus", "Integration", "microsoft.servicebus/namespaces"),
    ("Logic Apps", "Integration", "microsoft.logic/workflows"),
    ("API Management", "Integration", "microsoft.apimanagement/service"),
    ("Azure AI services", "AI and Machine Learning", "microsoft.cognitiveservices/accounts"),
    ("Azure Machine Learning", "AI and Machine Learning", "microsoft.machinelearningservices/workspaces"),
    ("Azure OpenAI", "AI and Machine Learning", "microsoft.cognitiveservices/accounts"),
    ("Azure Databricks", "Analytics", "microsoft.databricks/workspaces"),
    ("Azure Synapse Analytics", "Analytics", "microsoft.synapse/workspaces"),
    ("Azure Data Factory", "Analytics", "microsoft.datafactory/factories"),
    ("Azure Data Explorer", "Analytics", "microsoft.kusto/clusters"),
    ("Azure Container Registry", "Compute", "microsoft.containerregistry/registries"),
    ("Container Instances", "Compute", "microsoft.containerinstance/containergroups"),
    ("Azure Container Apps", "Compute", "microsoft.app/containerapps"),
    ("Azure Backup", "Storage", "microsoft.recoveryservices/vaults"),
    ("Azure Files", "Storage", "microsoft.storage/storageaccounts"),
    ("Managed Disks", "Storage", "microsoft.compute/disks"),
    ("Azure Site Recovery", "Storage", "microsoft.recoveryservices/vaults"),
    ("Azure Firewall", "Security", "microsoft.network/azurefirewalls"),
    ("Microsoft Sentinel", "Security", "microsoft.operationsmanagement/solutions"),
    ("Azure Virtual Desktop", "Compute", "microsoft.desktopvirtualization/hostpools"),
    ("Azure Bastion", "Networking", "microsoft.network/bastionhosts"),
    ("VPN Gateway", "Networking", "microsoft.network/virtualnetworkgateways"),
    ("Azure Communication Services", "Web", "microsoft.communication/communicationservices"),
    ("Azure SignalR Service", "Web", "microsoft.signalrservice/signalr"),
    ("Notification Hubs", "Mobile", "microsoft.notificationhubs/namespaces"),
    ("Azure IoT Hub", "Internet of Things", "microsoft.devices/iothubs"),
]
REGIONS = [("eastus", "East US"), ("eastus2", "East US 2"), ("westus2", "West US 2"), ("centralus", "Central US"),
           ("westeurope", "West Europe"), ("northeurope", "North Europe"), ("uksouth", "UK South"),
           ("francecentral", "France Central"), ("germanywestcentral", "Germany West Central"),
           ("southeastasia", "Southeast Asia"), ("japaneast", "Japan East"), ("australiaeast", "Australia East")]
DAYS, FIRST_DAY = 92, "2026-08-01"
MONTH_IDS = ("202608", "202609", "202610")


def _array(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "\\'") + "'" for v in values) + "]"


def insert_sql(table: str, rows: int) -> str:
    """``INSERT INTO table … SELECT … FROM numbers(rows)``: deterministic FOCUS rows (lineage included)."""
    names, cats, types = (_array([s[i] for s in SERVICES]) for i in range(3))
    region_ids, region_names = _array([r[0] for r in REGIONS]), _array([r[1] for r in REGIONS])
    return f"""
INSERT INTO {table} (ChargePeriodStart, ChargePeriodEnd, BillingPeriodStart, BillingPeriodEnd, BillingAccountId,
  BillingAccountName, BillingCurrency, SubAccountId, SubAccountName, x_ResourceGroupName, RegionId, RegionName,
  ServiceName, ServiceCategory, ServiceSubcategory, ResourceType, ResourceId, ResourceName, ChargeCategory,
  ChargeFrequency, PricingCategory, CommitmentDiscountId, CommitmentDiscountName, CommitmentDiscountType,
  CommitmentDiscountCategory, CommitmentDiscountStatus, ListCost, ContractedCost, EffectiveCost, BilledCost,
  ConsumedQuantity, Tags, InvoiceIssuerName, ProviderName, PublisherName, x_SourceDataset, x_SourceFormat,
  x_SourceFile, x_SourceRow, x_IngestionId, x_IngestedAt)
SELECT day AS cps, cps + 86400, toDateTime(toStartOfMonth(cps)), toDateTime(addMonths(toStartOfMonth(cps), 1)),
  toString(8000000 + acct), concat('Enrollment ', toString(acct)), if(acct = 2, 'EUR', 'USD'),
  concat('00000000-0000-4000-8000-', leftPad(toString(sub), 12, '0')), concat('Subscription ', toString(sub)),
  concat('rg-', toString(rg)), {region_ids}[reg + 1], {region_names}[reg + 1],
  {names}[svc + 1], {cats}[svc + 1], 'Other', {types}[svc + 1],
  concat('/subscriptions/', toString(sub), '/resourcegroups/rg-', toString(rg), '/providers/',
         {types}[svc + 1], '/res-', toString(res)), concat('res-', toString(res)),
  multiIf(n % 2000 = 0, 'Tax', n % 3001 = 0, 'Credit', n % 7000 = 0, 'Purchase', 'Usage'), 'Usage-Based',
  multiIf(committed, 'Committed', res % 20 = 1, 'Dynamic', 'Standard'),
  if(committed, concat('ri-', toString(res % 25)), NULL), if(committed, concat('RI ', toString(res % 25)), NULL),
  if(committed, 'Reservation', NULL), if(committed, 'Usage', NULL),
  if(committed, if(n % 10 = 0, 'Unused', 'Used'), NULL),
  list, list, if(committed, list * 7 / 10, list * 95 / 100), if(committed, 0, list * 95 / 100), qty,
  CAST(if(res % 3 = 0, concat('{{"env":"', ['prod','dev','test'][res % 3 + 1], '","team":"t', toString(res % 40),
          '"}}'), '{{}}'), 'JSON'),
  'Microsoft', 'Microsoft', 'Microsoft', 'AmortizedCost', 'focus', 'bench://generated', n,
  concat('bench-', toString(toYYYYMM(cps))), now64(3)
FROM (
  SELECT number AS n, toDateTime('{FIRST_DAY} 00:00:00', 'UTC') + (n % {DAYS}) * 86400 AS day,
    intDiv(n, {DAYS}) % 50000 AS res, res % 300 AS rg, rg % 60 AS sub, sub % 3 AS acct,
    if(res % 10 = 0, (rg * 7 + 3) % {len(REGIONS)}, (rg * 7) % {len(REGIONS)}) AS reg,
    (rg * 13 + res % 8) % {len(SERVICES)} AS svc, res % 20 = 0 AS committed,
    toDecimal128(intHash32(n) % 20000000, 18) / 1000000 AS list,
    toDecimal128(intHash32(n + 7777777) % 100000, 18) / 100 AS qty
  FROM numbers({rows})
)"""
