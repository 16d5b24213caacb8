"""Raw-row models of the streaming sources, derived from the canonical column lists of ``app/core/formats.py``.

A raw row is what a client posts to an ingest API: every canonical column of its format as an optional string
(exactly what the bulk reader sees in a file), plus optional lineage. The same SQL mapping as the bulk path turns
the raw table into FOCUS rows (``app/ingest/stream_sql.py``).
"""

from typing import Optional

from pydantic import BaseModel, create_model

from app.core import formats

LINEAGE_FIELDS: dict[str, type] = {
    "x_SourceFile": Optional[str],
    "x_SourceRow": Optional[int],
    "x_SourceDataset": Optional[str],
    "x_IngestionId": Optional[str],
}
"""Optional lineage a client may send: the file and row the record came from, ActualCost/AmortizedCost (Azure
cost rows), and a batch id. Defaults are documented in ``stream_sql.relation``."""


def raw_model(name: str, columns: dict[str, tuple[str, ...]], doc: str) -> type[BaseModel]:
    """A model with every canonical column as ``Optional[str]`` followed by the lineage fields."""
    fields: dict[str, tuple[type, None]] = {c: (Optional[str], None) for c in columns}
    fields |= {n: (t, None) for n, t in LINEAGE_FIELDS.items()}
    model = create_model(name, __doc__=doc, __module__=__name__, **fields)  # type: ignore[call-overload]
    return model


AzureCostRow = raw_model(
    "AzureCostRow", formats.AZURE_COST_COLUMNS,
    "One Azure Cost Management cost row (EA or MCA, actual or amortized), canonical column names.")

AzureFocusRow = raw_model(
    "AzureFocusRow", formats.FOCUS_SOURCE_COLUMNS,
    "One row of a Microsoft FocusCost export (FOCUS columns and Microsoft's x_ columns).")

FocusRow = raw_model(
    "FocusRow", formats.FOCUS_SOURCE_COLUMNS,
    "One FOCUS 1.0-1.2 row from any provider.")

SOURCE_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "azure-cost": formats.AZURE_COST_COLUMNS,
    "azure-focus": formats.FOCUS_SOURCE_COLUMNS,
    "focus": formats.FOCUS_SOURCE_COLUMNS,
}
"""Canonical columns of each streaming format."""
