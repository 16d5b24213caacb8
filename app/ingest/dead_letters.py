"""Dead letters of the ingest APIs, turned into quarantine rows: a record Moose refused is never silently dropped.

Moose writes dead-letter records in camelCase (``originalRecord``, ``errorMessage``...), while moose-lib's
``DeadLetterModel`` only *serializes* to camelCase and so cannot read them back. ``DeadLetter`` accepts both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any

from moose_lib import DeadLetterModel
from pydantic import AliasGenerator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from app.core.redaction import redact_name, redact_text
from app.ingest.stream_sql import STREAM_INGESTION_ID
from app.models.ingestion import QuarantinedRow

log = logging.getLogger(__name__)


class DeadLetter(DeadLetterModel):
    """moose-lib's dead-letter model, readable from Moose's camelCase records as well as snake_case."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel, serialization_alias=to_camel),
        validate_by_name=True,
        validate_by_alias=True,
    )


INT64 = range(-(2**63), 2**63)


def _row_number(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return number if number in INT64 else 0


def refused_alone(record: Any, model: type[BaseModel]) -> bool:
    """Whether the ingest API refused ``record`` for itself: a whole request is refused for one bad record, so its
    other records reach the dead-letter queue too, though the client, answered 400, sends them again."""
    if not isinstance(record, dict):
        return True
    try:
        row = model.model_validate(record, strict=True)  # as Moose reads a record: a string is a string
    except ValidationError:
        return True
    return getattr(row, "x_SourceRow", None) is not None and row.x_SourceRow not in INT64


def quarantine_row(letter: DeadLetterModel, fmt: str, table: str) -> QuarantinedRow:
    """The quarantine row of one dead letter: lineage from the record when it has it, the error as the reason; the
    credentials a client's text carries (a signed URL as its file) masked, as the views mask them."""
    record = letter.original_record if isinstance(letter.original_record, dict) else {}
    failed_at = letter.failed_at if letter.failed_at.tzinfo else letter.failed_at.replace(tzinfo=UTC)
    return QuarantinedRow(
        ingestion_id=redact_name(str(record.get("x_IngestionId") or STREAM_INGESTION_ID)),
        source_file=redact_name(str(record.get("x_SourceFile") or f"{STREAM_INGESTION_ID}/{table}")),
        source_row=_row_number(record.get("x_SourceRow")),
        source_format=fmt,
        reasons=[redact_text(f"{letter.source} {letter.error_type}: {letter.error_message}")],
        raw_row=redact_text(json.dumps(letter.original_record, default=str, sort_keys=True)),
        quarantined_at=failed_at.astimezone(UTC).replace(tzinfo=None, microsecond=failed_at.microsecond // 1000 * 1000),
    )


def to_quarantine(fmt: str, table: str, model: type[BaseModel]) -> Callable[[DeadLetterModel], QuarantinedRow | None]:
    """The stream transform from a pipeline's dead-letter queue to the quarantine stream: the records refused for
    themselves (``refused_alone``; the others of their request are left out, logged)."""

    def transform(letter: DeadLetterModel) -> QuarantinedRow | None:
        if letter.source == "api" and not refused_alone(letter.original_record, model):
            log.info("%s: a record refused with its request (another record of it was invalid) is not quarantined: "
                     "the client was answered 400 and sends it again", table)
            return None
        return quarantine_row(letter, fmt, table)

    transform.__name__ = f"{table}_dead_letters_to_quarantine"
    return transform
