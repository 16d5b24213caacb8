"""The HTTP clients of the Azure plugins against answers Microsoft documents, on recorded exchanges and a loopback
server: links to other hosts, NoDataFound, long Retry-After, rate-limit headers, a token expired early, gzip-encoded
blobs, and SAS signatures in debug logs."""

from __future__ import annotations

import copy
import gzip
import http.server
import json
import threading
from datetime import date

import pytest
import requests
from connectortest import RECORDINGS
from test_recorded_pages import EA_PAGES, MARCH, ea_config, ea_plugin

from app.connectors import http as connector_http
from app.connectors.base import ExtractContext, ExtractError
from app.connectors.http import Http, LiveTransport, RecordedTransport, retry_after
from plugins.azure_cost_details import client as cost_details_client
from plugins.azure_cost_details.client import HttpCostDetailsClient

REPORT = json.loads((RECORDINGS / "cost_details_report.json").read_text())
SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000"


def report(interactions, poll_timeout: float = 3600.0):
    transport = RecordedTransport(interactions)
    client = HttpCostDetailsClient(Http(transport), "https://management.azure.com", poll_timeout)
    return client, transport


def test_an_ea_next_link_to_another_host_is_not_followed(tmp_path):
    pages = copy.deepcopy(EA_PAGES)
    pages[0]["body"]["nextLink"] = "http://collector.example/v3/enrollments/8611537/usagedetails?skiptoken=2"
    plugin, transport = ea_plugin(pages)
    (unit,) = plugin.extract(ea_config(plugin), MARCH, MARCH, ExtractContext(tmp_path))
    with pytest.raises(ExtractError, match="points at http://collector.example, not the configured https://"):
        list(unit.parts)
    assert len(transport.sent) == 1  # the API key never went there


def test_a_location_on_another_host_is_not_polled():
    answers = copy.deepcopy(REPORT[:1])
    answers[0]["headers"]["Location"] = "https://collector.example/operation/1"
    client, transport = report(answers)
    with pytest.raises(ExtractError, match="Location of the ActualCost report .* points at https://collector"):
        client.request_report(SCOPE, "ActualCost", MARCH, date(2025, 3, 31))
    assert [m for m, _ in transport.sent] == ["POST"]  # the bearer token never went there


def test_no_data_found_is_an_empty_report(waits):
    answers = copy.deepcopy(REPORT[:3])
    answers[2]["body"] = {"id": answers[2]["body"]["id"], "status": "NoDataFound"}
    client, transport = report(answers)
    assert client.request_report(SCOPE, "ActualCost", MARCH, date(2025, 3, 31)) is None
    assert len(transport.sent) == 3  # no polling on for an hour


def test_a_retry_after_beyond_the_poll_timeout_is_cut_to_it(monkeypatch):
    clock, waits = [0.0], []
    monkeypatch.setattr(connector_http, "sleep", lambda s: (waits.append(s), clock.__setitem__(0, clock[0] + s)))
    monkeypatch.setattr(cost_details_client.time, "monotonic", lambda: clock[0])
    answers = copy.deepcopy(REPORT[:2])
    for answer in answers:
        answer["headers"]["Retry-After"] = "7200"
    client, _ = report(answers, poll_timeout=60)
    with pytest.raises(ExtractError, match="not ready after 60s of polling"):
        client.request_report(SCOPE, "ActualCost", MARCH, date(2025, 3, 31))
    assert waits == [60.0]  # then one last poll at the deadline, not two hours


def test_microsofts_rate_limit_headers_say_how_long_to_wait():
    resp = requests.Response()
    resp.headers.update({"x-ms-ratelimit-microsoft.consumption-retry-after": "40"})
    assert retry_after(resp) == 40
    resp.headers.update({"Retry-After": "5", "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": "55"})
    assert retry_after(resp) == 55
    assert retry_after(requests.Response()) is None


@pytest.mark.parametrize("answers, status", [([401, 200], 200), ([401, 401], 401)])
def test_a_401_is_tried_once_more_with_a_new_token(answers, status):
    """A token the server calls expired before its ``expires_in`` (clock skew, revocation): one new token."""
    token, renewed = ["old"], []
    recorded = [{"method": "GET", "url": "https://management.azure.com/x", "status": s, "body": {}} for s in answers]
    client = Http(RecordedTransport(recorded), auth=lambda: {"Authorization": f"Bearer {token[0]}"},
                  renew=lambda: (renewed.append(token[0]), token.__setitem__(0, "new")))
    assert client.request("GET", "https://management.azure.com/x").status_code == status
    assert renewed == ["old"] and token == ["new"]


class _GzipEncoded(http.server.BaseHTTPRequestHandler):
    body = gzip.compress(b"InvoiceSectionName,Cost\nA,1.5\n" * 50)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


def test_a_gzip_encoded_blob_is_kept_as_stored(tmp_path):
    """``byteCount`` counts the stored bytes: decoding the blob in transfer made every such report 'truncated'."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GzipEncoded)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = HttpCostDetailsClient(Http(LiveTransport()), "https://management.azure.com")
        size = client.download(f"http://127.0.0.1:{server.server_port}/b.csv?sig=x", tmp_path / "b.csv")
    finally:
        server.shutdown()
        server.server_close()
    assert size == len(_GzipEncoded.body) and (tmp_path / "b.csv").read_bytes() == _GzipEncoded.body


@pytest.mark.parametrize(("link", "followed"), [
    ("https://management.azure.com:443/op/1", True), ("https://MANAGEMENT.azure.com./op/1", True), ("/op/1", True),
    ("https://user@management.azure.com/op/1", False), ("https://management.azure.com:8443/op/1", False),
    ("http://management.azure.com/op/1", False),
])
def test_links_on_the_configured_origin_are_followed_as_browsers_compare_origins(link, followed):
    """ARM's operation URLs may name the default port (``:443``): the same host, not another."""
    from app.connectors.http import same_origin

    if followed:
        assert same_origin(link, "https://management.azure.com", "Location").endswith("/op/1")
    else:
        with pytest.raises(ExtractError, match="not followed"):
            same_origin(link, "https://management.azure.com", "Location")


def test_a_refused_blob_link_requests_the_report_again(tmp_path):
    """Storage refuses a SAS link past its expiry with 403: a new report, never a permanent failure."""
    from plugins.azure_cost_details.client import ReportExpired

    recorded = [{"method": "GET", "url": "https://acct.blob.core.windows.net/r/p.csv", "status": 403,
                 "headers": {"x-ms-error-code": "AuthorizationPermissionMismatch"}, "body": ""}]
    client = HttpCostDetailsClient(Http(RecordedTransport(recorded)), "https://management.azure.com")
    with pytest.raises(ReportExpired, match="403 AuthorizationPermissionMismatch"):
        client.download("https://acct.blob.core.windows.net/r/p.csv", tmp_path / "p.csv")
