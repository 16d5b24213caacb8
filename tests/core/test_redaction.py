"""Credentials in log lines: a URL's password, S3 presigned signatures, bearer tokens a server quotes back."""

from __future__ import annotations

import io
import json
import logging

from app.core.logs import JsonFormatter
from app.core.redaction import redact_text

SIGV4 = "48b3ed12722938f2052f58e85ddb763b47bb5d9b421d0f0a33e6e194033bece7"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJlLXBhcnQ"
LINES = {  # what a library or a server writes → what must stay
    'https://acct.blob.core.windows.net:443 "GET /armreports/p.csv?sv=2020-05-31&sr=b&sig=Zm9vYmFyc2VjcmV0%3D&se=2026 '
    'HTTP/1.1" 200': ("Zm9vYmFyc2VjcmV0", "Zm9vYmFy", "p.csv?sv=2020-05-31&sr=b&sig=REDACTED&se=2026"),
    "Could not connect to the endpoint URL: \"http://minio:Pa55w/rd@s3.local:9000/billing?list-type=2\"":
        ("Pa55w", "rd@", "http://minio:REDACTED@s3.local:9000/billing?list-type=2"),
    "GET https://bkt.s3.amazonaws.com/a.csv?X-Amz-Credential=AKIA%2F&X-Amz-Signature=0a1b2c3d4e5f&"
    "X-Amz-Security-Token=FQoGZXIvYXdzEJr 403": ("0a1b2c3d4e5f", "FQoGZXIvYXdzEJr", "X-Amz-Signature=REDACTED&"),
    f"management.azure.com answered 401 (token 'Bearer {TOKEN}' is invalid)":
        (TOKEN[40:], "c2lnbmF0dXJl", "management.azure.com answered 401 (token 'Bearer REDACTED' is invalid)"),
    "answered 500 (failed for bearer 1bTLjsDuZf2utctNa2H8Q5bcPBMCH7Gb)":
        ("1bTLjsDuZf2utctNa2H8Q5bcPBMCH7Gb", "1bTLjs", "answered 500 (failed for bearer REDACTED)"),
    f"refused {TOKEN} at https://h/x": (TOKEN[:60], "c2lnbmF0dXJl", "refused REDACTED at https://h/x"),
    "{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261205/us-east-1/s3/aws4_request, "
    f"SignedHeaders=host;x-amz-date, Signature={SIGV4}'": (SIGV4, SIGV4[:20], "s3/aws4_request, SignedHeaders=host"),
    f"Signature:\n{SIGV4}": (SIGV4, SIGV4[20:], "Signature:\nREDACTED"),
}


def _logged(message: str) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("abi.test.redaction")
    log.addHandler(handler)
    try:
        log.warning("%s", message)
    finally:
        log.removeHandler(handler)
    return json.loads(out.getvalue())["msg"]


def test_credentials_are_masked_in_log_lines_and_the_context_stays():
    for message, (secret, fragment, kept) in LINES.items():
        line = _logged(message)
        assert secret not in line and fragment not in line, line
        assert kept in line, line


def test_text_without_credentials_is_left_alone():
    for text in ("https://127.0.0.1:8123/ answered 516", "the bearer token never went there",
                 "s3://billing/azure/2026-10/part_0.csv", "downloading blob actualcost_202610_part0000.csv: HTTP 403",
                 "http://user@host:9000/bucket", "Basic authentication failed for user x",
                 "bearer authorization required.", "answered 401: Bearer Authentication required"):
        assert redact_text(text) == text


def test_a_credential_is_masked_however_its_url_is_written():
    for text, masked in (
            ("link https%3A%2F%2Fa.blob.core.windows.net%2Fx.csv%3Fsv%3D2022%26sig%3DAbC%252Bd%253D%26se%3D2026 gone",
             "link https%3A%2F%2Fa.blob.core.windows.net%2Fx.csv%3Fsv%3D2022%26sig%3DREDACTED%26se%3D2026 gone"),
            ('{"blobLink": "https://a.blob.core.windows.net/c/x.csv?sv=2022\\u0026sig=AbC%2Bd%3D\\u0026se=2026"}',
             '{"blobLink": "https://a.blob.core.windows.net/c/x.csv?sv=2022\\u0026sig=REDACTED\\u0026se=2026"}'),
            ("sig=AbCd%3D&se=2026-12-31", "sig=REDACTED&se=2026-12-31"),
            ("DefaultEndpointsProtocol=https;AccountName=abi;AccountKey=Zm9vYmFy+/==;EndpointSuffix=core.windows.net",
             "DefaultEndpointsProtocol=https;AccountName=abi;AccountKey=REDACTED;EndpointSuffix=core.windows.net"),
            ("Authorization: SharedKey abi:ctzMq410TV3wS7upTBcunJTDLEJwMAZuFPfr0mrrA08=",
             "Authorization: SharedKey abi:REDACTED")):
        assert redact_text(text) == masked, text
    assert redact_text("exit code=1 after 3 s; the signature of the file is fine") == (
        "exit code=1 after 3 s; the signature of the file is fine")  # words, not query values


def test_an_authorization_credential_is_masked_whatever_its_shape():
    for text, masked in (("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic REDACTED"),
                         ("sent Bearer abcdefghijk.lmn", "sent Bearer REDACTED"),
                         ("(Basic abcdefghij+kl==)", "(Basic REDACTED)"), ("Bearer abcdefghijKL", "Bearer REDACTED")):
        assert redact_text(text) == masked, text
