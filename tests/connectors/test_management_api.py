"""The management API over real HTTP on loopback: validation, redaction, lifecycle, sync, token auth."""

from __future__ import annotations

import threading

import pytest
import requests
from connectortest import NoClose, cost_details_config

from app.connectors.api import ManagementApi, make_server
from app.connectors.secrets import new_key
from app.connectors.service import ConnectorService

SECRET = "api-literal-client-secret-77"


@pytest.fixture
def api(sqlite_registry, wh, monkeypatch):
    monkeypatch.setenv("ABI_SECRET_KEY", new_key())
    servers = []

    def start(token: str | None = "") -> str:
        service = ConnectorService(sqlite_registry, warehouse=lambda: NoClose(wh))
        server = make_server("127.0.0.1", 0, ManagementApi(service, token=token))
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/api/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def body(fake, monkeypatch, **overrides):
    config = {**cost_details_config(fake, monkeypatch, metrics=["ActualCost"]), "client_secret": SECRET}
    return {"name": "azure", "plugin": "azure-cost-details", "config": {**config, **overrides}}


def test_validation_errors_name_the_field(api, fake_azure, monkeypatch):
    base = api()
    cases = [({"plugin": "azure-cost-details"}, "name"), ({"name": "x"}, "plugin"),
             ({**body(fake_azure, monkeypatch), "colour": "red"}, "colour"),
             (body(fake_azure, monkeypatch, scope="/nowhere"), "scope"),
             (body(fake_azure, monkeypatch, max_attempts="six"), "max_attempts"),
             ({**body(fake_azure, monkeypatch), "name": "Not Valid"}, "name"),
             ({**body(fake_azure, monkeypatch), "enabled": "yes"}, "enabled")]
    for payload, field in cases:
        resp = requests.post(f"{base}/connectors", json=payload, timeout=10)
        assert resp.status_code == 400 and resp.json()["field"] == field, (payload, resp.text)
        assert SECRET not in resp.text
    resp = requests.post(f"{base}/connectors", data=b"{not json", headers={"Content-Type": "application/json"},
                         timeout=10)
    assert resp.status_code == 400 and "not valid JSON" in resp.json()["error"]
    assert requests.post(f"{base}/connectors", data=b"x=1", headers={"Content-Type": "text/plain"},
                         timeout=10).status_code == 415
    resp = requests.post(f"{base}/connectors", json={**body(fake_azure, monkeypatch), "plugin": "salesforce"},
                         timeout=10)
    assert resp.status_code == 400 and "no plugin named" in resp.json()["error"]


def test_connector_lifecycle_over_http(api, fake_azure, monkeypatch, waits, months_ago):
    base = api()
    fake_azure.client_secret = SECRET
    assert {p["name"] for p in requests.get(f"{base}/plugins", timeout=10).json()} >= {"azure-cost-details", "s3-minio"}
    assert requests.get(f"{base}/plugins/azure-ea", timeout=10).json()["retired"] is True
    created = requests.post(f"{base}/connectors", json=body(fake_azure, monkeypatch), timeout=10)
    assert created.status_code == 201 and created.json()["config"]["client_secret"] == "********"
    assert requests.post(f"{base}/connectors", json=body(fake_azure, monkeypatch), timeout=10).status_code == 409
    listed = requests.get(f"{base}/connectors", timeout=10)
    assert [c["name"] for c in listed.json()] == ["azure"] and SECRET not in listed.text
    test = requests.post(f"{base}/connectors/azure/test", timeout=30).json()
    assert test["ok"] and "authenticated" in test["message"]
    synced = requests.post(f"{base}/connectors/azure/sync", json={"from": f"{months_ago(1):%Y-%m}"}, timeout=120)
    assert synced.status_code == 200 and synced.json()["ok"] and synced.json()["rows_loaded"] > 0
    bad_range = requests.post(f"{base}/connectors/azure/sync", json={"from": "last month"}, timeout=10)
    assert bad_range.status_code == 400 and bad_range.json()["field"] == "from"
    patched = requests.patch(f"{base}/connectors/azure", json={"enabled": False, "config": {"max_attempts": 2}},
                             timeout=10).json()
    assert patched["enabled"] is False and patched["config"]["max_attempts"] == 2
    assert patched["config"]["client_secret"] == "********"  # kept, still hidden
    moved = {"authority_host": "https://login.example.invalid", "management_url": "https://arm.example.invalid"}
    refused = requests.patch(f"{base}/connectors/azure", json={"config": moved}, timeout=10)
    assert refused.status_code == 400 and refused.json()["field"] == "client_secret"
    assert "never sent to a new destination" in refused.json()["error"]
    assert requests.patch(f"{base}/connectors/azure", json={"config": {**moved, "client_secret": SECRET}},
                          timeout=10).status_code == 200  # given again: the new destination may have it
    assert requests.post(f"{base}/connectors/azure/sync", json={"from": "2026-01"}, timeout=10).status_code == 400
    shown = requests.get(f"{base}/connectors/azure", timeout=10).json()
    assert shown["last_status"] == "ok" and shown["rows_processed"] > 0
    assert requests.delete(f"{base}/connectors/azure", timeout=10).status_code == 204
    assert requests.get(f"{base}/connectors/azure", timeout=10).status_code == 404
    assert requests.put(f"{base}/connectors/azure", json={}, timeout=10).status_code == 405


def test_bearer_token_when_configured(api):
    base = api(token="s3cr3t-api-token")
    assert requests.get(f"{base}/connectors", timeout=10).status_code == 401
    assert requests.get(f"{base}/connectors", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    ok = requests.get(f"{base}/connectors", headers={"Authorization": "Bearer s3cr3t-api-token"}, timeout=10)
    assert ok.status_code == 200 and ok.json() == []


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_a_broken_content_length_is_400(api, length):
    import http.client
    import json
    from urllib.parse import urlsplit

    url = urlsplit(api())
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("POST", f"{url.path}/connectors")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", length)
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 400 and "Content-Length" in json.loads(resp.read())["error"]
    conn.close()
