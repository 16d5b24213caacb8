"""Constants of the Azure Cost Details API plugin (section 2 of the Azure billing formats reference)."""

API_VERSION = "2022-05-01"
MANAGEMENT_URL = "https://management.azure.com"
AUTHORITY_HOST = "https://login.microsoftonline.com"
METRICS = ("ActualCost", "AmortizedCost")
AUTH_METHODS = ("client_secret", "managed_identity", "azure_cli", "default")
HISTORY_MONTHS = 13
"""The API serves at most 13 months back from today."""
MAX_REPORT_REQUESTS = 3
"""A report whose links expired before every blob was downloaded is requested again, this many times in all."""
DEFAULT_POLL_SECONDS = 10.0
MAX_POLL_SECONDS = 60.0
SCOPE_API_VERSIONS = {"subscriptions": "2022-12-01", "providers": "2024-04-01"}
"""api-version of the ARM GET that tests a scope (subscriptions, billing scopes)."""
SCOPE_PATTERN = (
    r"^/(subscriptions/[0-9A-Fa-f-]{36}|providers/Microsoft\.Billing/billingAccounts/[^/]+"
    r"(/(billingProfiles|enrollmentAccounts|departments|invoiceSections|customers)/[^/]+)*)$"
)
SCOPE_HELP = ("an ARM scope: /subscriptions/{id}, /providers/Microsoft.Billing/billingAccounts/{id} (EA enrollment "
              "or MCA billing account), …/billingProfiles/{id}, …/invoiceSections/{id}, …/departments/{id}, "
              "…/enrollmentAccounts/{id}")
CHUNK_BYTES = 1 << 20
