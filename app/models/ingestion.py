"""Models of the rows ABI keeps about its own loads: the quarantine and the ingestion log."""


from typing import Optional

from pydantic import BaseModel

from app.models.types import Enum, Timestamp


class QuarantinedRow(BaseModel):
    """An input row that failed FOCUS validation, with every reason; never silently dropped."""

    ingestion_id: str
    source_file: Enum
    source_row: int
    source_format: Enum
    reasons: list[str]
    raw_row: str
    """The input row as a JSON object keyed by the file's own column names."""
    quarantined_at: Timestamp


class IngestionFile(BaseModel):
    """What one load did with one file: every row read is loaded, quarantined or superseded. A ledger: a later load
    or ``abi remove`` that takes rows out books them to the ingestion that loaded them (negative counts), so summed
    per ingestion or file, rows_loaded and rows_quarantined are the rows still held (``app.core.ledger``)."""

    ingestion_id: str
    source_file: str
    source_format: Enum
    source_dataset: Enum
    status: Enum
    """loaded, skipped, refused; booked later: replaced or superseded (by a later load), removed (``abi remove``)."""
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_superseded: int
    """Actual-cost rows replaced by the amortized dataset of the same period (Microsoft's combination rule)."""
    billing_periods: list[str]
    unmapped: dict[str, int]
    """Lookup misses that fell back to a default, as ``kind:value`` → row count."""
    error: Optional[str] = None
    started_at: Timestamp
    finished_at: Timestamp
