"""Dead letters as Moose writes them (camelCase) become quarantine rows; moose-lib's own model cannot read them."""

from __future__ import annotations

import json

import pytest
from moose_lib import DeadLetterModel
from pydantic import ValidationError

from app.ingest.dead_letters import DeadLetter, quarantine_row, refused_alone, to_quarantine
from app.ingest.raw import AzureCostRow

MOOSE_RECORD = {  # as Moose's ingest API writes it to the dead-letter topic
    "originalRecord": {"Date": "2026-10-01", "CostInBillingCurrency": 12.5, "x_SourceRow": 9,
                       "x_SourceFile": "dlq.json"},
    "errorMessage": "invalid type: map, expected a string value at CostInBillingCurrency at line 1 column 53",
    "errorType": "ValidationError",
    "failedAt": "2026-11-24T04:35:45.841423133+00:00",
    "source": "api",
    "requestBody": "[...]",
    "topic": "azure_cost_rows",
}


def test_moose_lib_model_cannot_read_moose_records() -> None:
    with pytest.raises(ValidationError, match="original_record"):
        DeadLetterModel.model_validate(MOOSE_RECORD)


def test_dead_letter_reads_camel_and_snake_case() -> None:
    camel = DeadLetter.model_validate(MOOSE_RECORD)
    snake = DeadLetter.model_validate({"original_record": {"a": "1"}, "error_message": "m", "error_type": "E",
                                       "failed_at": "2026-11-24T04:35:45Z", "source": "transform"})
    assert (camel.error_type, snake.error_type) == ("ValidationError", "E")
    assert json.loads(camel.model_dump_json(by_alias=True))["originalRecord"]["x_SourceRow"] == 9


def test_quarantine_row_keeps_lineage_reason_and_record() -> None:
    row = quarantine_row(DeadLetter.model_validate(MOOSE_RECORD), "azure-cost", "azure_cost_rows")
    assert (row.ingestion_id, row.source_file, row.source_row, row.source_format) == (
        "ingest-api", "dlq.json", 9, "azure-cost")
    assert row.reasons == ["api ValidationError: " + MOOSE_RECORD["errorMessage"]]
    assert json.loads(row.raw_row) == MOOSE_RECORD["originalRecord"]
    assert row.quarantined_at.isoformat() == "2026-11-24T04:35:45.841000"


def test_quarantine_row_without_lineage_gets_the_pipelines_defaults() -> None:
    letter = DeadLetter.model_validate({**MOOSE_RECORD, "originalRecord": {"x_SourceRow": "not a number"}})
    row = quarantine_row(letter, "focus", "focus_rows")
    assert (row.source_file, row.source_row) == ("ingest-api/focus_rows", 0)


@pytest.mark.parametrize(("record", "alone"), [
    ({"Date": "2026-10-01", "CostInBillingCurrency": "12.5", "x_SourceRow": 3}, False),  # valid: refused with others
    ({"Date": "2026-10-01", "CostInBillingCurrency": 12.5}, True),  # a number where Moose wants a string
    ({"Date": "2026-10-01", "x_SourceRow": 6.0}, True),
    ({"Date": "2026-10-01", "x_SourceRow": "6"}, True),
    ({"Date": "2026-10-01", "x_SourceRow": 2**63}, True),
    ("not an object", True),
])
def test_only_records_refused_for_themselves_are_quarantined(record, alone) -> None:
    """Moose refuses a whole request for one bad record and sends every record of it to the dead-letter queue: the
    valid ones, sent again by the client (answered 400), ended in both the quarantine and FOCUS."""
    transform = to_quarantine("azure-cost", "azure_cost_rows", AzureCostRow)
    letter = DeadLetter.model_validate({**MOOSE_RECORD, "originalRecord": record})
    assert refused_alone(record, AzureCostRow) is alone
    assert (transform(letter) is not None) is alone


def test_a_row_number_beyond_64_bits_is_no_row_number() -> None:
    letter = DeadLetter.model_validate({**MOOSE_RECORD, "originalRecord": {"x_SourceRow": 2**63}})
    assert quarantine_row(letter, "azure-cost", "azure_cost_rows").source_row == 0


def test_quarantine_row_masks_a_signed_file_url() -> None:
    signed = "https://acct.blob.core.windows.net/c/a.csv?sv=2022-11-02&sig=c2VjcmV0%3D&se=2026"
    letter = DeadLetter.model_validate({**MOOSE_RECORD, "originalRecord": {**MOOSE_RECORD["originalRecord"],
                                                                          "x_SourceFile": signed},
                                        "errorMessage": f"bad record at {signed}"})
    row = quarantine_row(letter, "azure-cost", "azure_cost_rows")
    assert row.source_file == signed.replace("c2VjcmV0%3D", "REDACTED")
    assert "c2VjcmV0" not in row.model_dump_json()
