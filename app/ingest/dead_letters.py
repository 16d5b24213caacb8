"""Dead letters of the ingest APIs, turned into quarantine rows: a record Moose refused is never silently dropped.

Moose writes dead-letter records in camelCase (``originalRecord``, ``errorMessage``...), while moose-lib's
``DeadLetterModel`` only *serializes* to camelCase and so cannot read them back. ``DeadLetter`` accepts both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

from moose_lib import DeadLetterModel
from pydantic import AliasGenerator, ConfigDict
from pydantic.alias_generators import to_camel

from app.ingest.stream_sql import STREAM_INGESTION_ID
from app.models.ingestion import QuarantinedRow


class DeadLetter(DeadLetterModel):
    """moose-lib's dead-letter model, readable from Moose's camelCase records as well as snake_case."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel, serialization_alias=to_camel),
        validate_by_name=True,
        validate_by_alias=True,
    )


def _row_number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def quarantine_row(letter: DeadLetterModel, fmt: str, table: str) -> QuarantinedRow:
    """The quarantine row of one dead letter: lineage from the record when it has it, the error as the reason."""
    record = letter.original_record if isinstance(letter.original_record, dict) else {}
    failed_at = letter.failed_at if letter.failed_at.tzinfo else letter.failed_at.replace(tzinfo=UTC)
    return QuarantinedRow(
        ingestion_id=str(record.get("x_IngestionId") or STREAM_INGESTION_ID),
        source_file=str(record.get("x_SourceFile") or f"{STREAM_INGESTION_ID}/{table}"),
        source_row=_row_number(record.get("x_SourceRow")),
        source_format=fmt,
        reasons=[f"{letter.source} {letter.error_type}: {letter.error_message}"],
        raw_row=json.dumps(letter.original_record, default=str, sort_keys=True),
        quarantined_at=failed_at.astimezone(UTC).replace(tzinfo=None, microsecond=failed_at.microsecond // 1000 * 1000),
    )


def to_quarantine(fmt: str, table: str) -> Callable[[DeadLetterModel], QuarantinedRow]:
    """The stream transform from a pipeline's dead-letter queue to the quarantine stream."""

    def transform(letter: DeadLetterModel) -> QuarantinedRow:
        return quarantine_row(letter, fmt, table)

    transform.__name__ = f"{table}_dead_letters_to_quarantine"
    return transform
