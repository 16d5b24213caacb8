"""Rows posted under one identity (``x_SourceFile``, ``x_SourceRow``) with different contents, in the embedded
engine without Moose: the same posts give the same FOCUS rows and the same quarantine whatever their order inside
a request and however often they are posted again; a posted file's credentials are never stored."""

from __future__ import annotations

import json

from streamrows import declare_stream, post

from app.core.redaction import redact_name
from app.core.warehouse import EmbeddedWarehouse, quote
from app.ingest import stream_sql

ROW = {"BillingAccountId": "8611537", "BillingCurrencyCode": "EUR", "Date": "2026-10-02", "MeterCategory": "Storage",
       "x_SourceFile": "a.csv", "x_SourceRow": 1}
LOW, HIGH = {**ROW, "CostInBillingCurrency": "2.50"}, {**ROW, "CostInBillingCurrency": "3.00"}
LOW_AGAIN = {**LOW, "x_IngestionId": "retry"}  # the same row posted again in another batch
BAD, WORSE = {**ROW, "CostInBillingCurrency": "abc"}, {**ROW, "CostInBillingCurrency": "xyz", "Date": "nope"}
FOCUS = ("SELECT x_SourceFile AS f, x_SourceRow AS n, toString(BilledCost) AS c, x_IngestionId AS i "
         "FROM abi.focus_cost ORDER BY f, n, c")
POSTS = [LOW, HIGH, LOW_AGAIN, BAD, WORSE]
ORDERS = [POSTS, POSTS[::-1], [POSTS[i] for i in (2, 4, 1, 0, 3)]]
QUARANTINE = ("SELECT toString(source_file) AS f, source_row AS n, ingestion_id AS i, reasons, raw_row "
              "FROM abi.focus_quarantine ORDER BY f, n, raw_row")


def _state(wh: EmbeddedWarehouse) -> tuple[list[dict], list[dict]]:
    return wh.rows(FOCUS), wh.rows(QUARANTINE)


def _reset(wh: EmbeddedWarehouse, table: str) -> None:
    for name in ("focus_cost", "focus_quarantine", table):
        wh.command(f"TRUNCATE TABLE abi.{name}")


def test_a_request_gives_the_same_rows_in_any_order_and_posted_again(stream_wh: EmbeddedWarehouse) -> None:
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    states = []
    for order in ORDERS:
        _reset(wh, table)
        post(wh, table, list(order))
        states.append(_state(wh))
        for again in ([order[-1]], list(order[:2])):
            post(wh, table, again)
            assert _state(wh) == states[-1], f"{order} posted again as {again}"
    assert all(state == states[0] for state in states)


def test_other_contents_of_a_held_row_are_quarantined_each_with_its_reasons(stream_wh: EmbeddedWarehouse) -> None:
    """The first post of a row stays; a later post of other content under its identity is not lost silently: it is
    quarantined as a conflict, and each invalid content of it with its own reasons and posted row."""
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    post(wh, table, [HIGH])
    post(wh, table, [LOW, BAD, WORSE])
    post(wh, table, [LOW_AGAIN])
    focus, quarantine = _state(wh)
    assert focus == [{"f": "a.csv", "n": 1, "c": "3", "i": "ingest-api"}]
    assert [json.loads(q["raw_row"])["CostInBillingCurrency"] for q in quarantine] == ["2.50", "abc", "xyz"]
    low, bad, worse = (q["reasons"] for q in quarantine)
    assert len(low) == 1 and low[0].startswith("x_SourceRow: a.csv row 1 is held with other content")
    assert 'CostInBillingCurrency: not a number: "abc"' in bad and 'Date: not a date: "nope"' not in bad
    assert 'Date: not a date: "nope"' in worse and 'CostInBillingCurrency: not a number: "xyz"' in worse


SAS = "https://acct.blob.core.windows.net/exports/a.csv?sv=2022-11-02&sr=b&sig={}&se=2026-11-01"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmNkZWZnaDEyMzQ1In0.abcdefgh12345"
PRESIGNED = "https://bkt.s3.amazonaws.com/a.csv?X-Amz-Credential=AKIA%2F&X-Amz-Signature={}&X-Amz-Date=20261102"


def test_a_posted_files_credentials_are_masked_and_it_stays_one_file(stream_wh: EmbeddedWarehouse) -> None:
    """Two posts of a row of one signed file, signed twice, are one row of one file; no signature is stored."""
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    post(wh, table, [{**LOW, "x_SourceFile": SAS.format("c2VjcmV0MQ%3D")},
                     {**BAD, "x_SourceFile": PRESIGNED.format("0a1b2c3d"), "x_IngestionId": JWT}])
    post(wh, table, [{**LOW, "x_SourceFile": SAS.format("c2VjcmV0Mg%3D")}])
    focus, quarantine = _state(wh)
    assert [(r["f"], r["n"]) for r in focus] == [(SAS.format("REDACTED"), 1)]
    assert [(q["f"], q["i"]) for q in quarantine] == [(PRESIGNED.format("REDACTED"), "REDACTED")]
    assert json.loads(quarantine[0]["raw_row"])["x_SourceFile"] == PRESIGNED.format("REDACTED")
    stored = json.dumps([focus, quarantine])
    assert not any(secret in stored for secret in ("c2VjcmV0", "0a1b2c3d", "abcdefgh"))


def test_the_stream_masks_what_redact_name_masks(stream_wh: EmbeddedWarehouse) -> None:
    texts = ["http://minio:Pa55w/rd@s3.local:9000/billing?list-type=2", JWT, SAS.format("c2VjcmV0MQ%3D"),
             PRESIGNED.format("0a1b2c3d"), "plain.csv", "ingest-api/x", "exports/Basic Subscription-2026-01.csv",
             "x.csv%3Fsv%3D2022%26sig%3DAbC%252Bd%253D%26se%3D2026", "x.csv?sv=2022\\u0026sig=AbC%2Bd\\u0026se=1",
             "sig=AbC&se=1", "AccountName=abi;AccountKey=Zm9v+/==;EndpointSuffix=x", "SharedKey abi:" + "A" * 40]
    for text in texts:
        assert stream_wh.scalar(f"SELECT {stream_sql.redacted(quote(text))}") == redact_name(text), text


def test_files_whose_names_read_like_a_header_stay_two_files(stream_wh: EmbeddedWarehouse) -> None:
    """A name is not a header: "Basic <word>" in a file's name is no credential, and masking it made two files
    one (the second's row quarantined as a conflict of the first's)."""
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    files = ["exports/Basic Subscription-2026-01.csv", "exports/Basic Subscription-2026-02.csv"]
    for name, row in zip(files, (LOW, HIGH), strict=True):
        post(wh, table, [{**row, "x_SourceFile": name}])
    focus, quarantine = _state(wh)
    assert [(r["f"], r["c"]) for r in focus] == [(files[0], "2.5"), (files[1], "3")]
    assert quarantine == []
