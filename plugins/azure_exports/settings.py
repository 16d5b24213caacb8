"""Constants of the Cost Management exports plugin."""

from app.core.runs import MANIFEST_NAMES  # noqa: F401  (the manifest names the core knows too)

DATASETS = {  # exportConfig.type → (core source format, dataset hint)
    "ActualCost": ("azure-cost", "ActualCost"),
    "AmortizedCost": ("azure-cost", "AmortizedCost"),
    "Usage": ("azure-cost", "ActualCost"),
    "FocusCost": ("azure-focus", None),
}
"""Export types that carry cost details; other types (price sheets, reservations…) are skipped."""
LAYOUT = "<root>/<export name>/<YYYYMMDD-YYYYMMDD>/<run id>/{manifest.json, part_*.csv[.gz] | *.parquet}"
