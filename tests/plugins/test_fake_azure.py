"""The loopback fake of Azure itself: documented wire formats, and standalone mode with its control endpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import requests
from abitest import PROJECT

from app.connectors.base import month_end

API = "api-version=2022-05-01"


def token(fake) -> dict[str, str]:
    resp = requests.post(f"{fake.url}/{fake.tenant}/oauth2/v2.0/token", verify=fake.ca_file, timeout=10, data={
        "grant_type": "client_credentials", "client_id": fake.client_id, "client_secret": fake.client_secret,
        "scope": "https://management.azure.com/.default"})
    assert resp.status_code == 200 and resp.json()["token_type"] == "Bearer"
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_cost_details_wire_format(fake_azure, months_ago):
    auth, month = token(fake_azure), months_ago(1)
    url = f"{fake_azure.url}/subscriptions/5f1c2d3e-0000-4000-8000-000000000001/providers/Microsoft.CostManagement"
    body = {"metric": "AmortizedCost", "timePeriod": {"start": str(month), "end": str(month_end(month))}}
    assert requests.post(f"{url}/generateCostDetailsReport?{API}", json=body, verify=fake_azure.ca_file,
                         timeout=10).status_code == 401
    accepted = requests.post(f"{url}/generateCostDetailsReport?{API}", json=body, headers=auth,
                             verify=fake_azure.ca_file, timeout=10)
    assert accepted.status_code == 202 and accepted.headers["Retry-After"] == "0"
    assert "/costDetailsOperationResults/" in accepted.headers["Location"]
    assert requests.get(accepted.headers["Location"], headers=auth, verify=fake_azure.ca_file,
                        timeout=10).status_code == 202
    done = requests.get(accepted.headers["Location"], headers=auth, verify=fake_azure.ca_file, timeout=10).json()
    manifest = done["manifest"]
    assert done["status"] == "Completed" and done["validTill"].endswith("Z")
    assert {"manifestVersion", "dataFormat", "blobCount", "byteCount", "compressData", "requestContext",
            "blobs"} <= set(manifest) and manifest["requestContext"]["requestBody"] == body
    assert manifest["blobCount"] == len(manifest["blobs"]) == 1
    blob = requests.get(manifest["blobs"][0]["blobLink"], verify=fake_azure.ca_file, timeout=10)
    assert len(blob.content) == manifest["blobs"][0]["byteCount"] == manifest["byteCount"]
    too_long = {"metric": "ActualCost", "timePeriod": {"start": str(months_ago(3)), "end": str(month)}}
    bad = requests.post(f"{url}/generateCostDetailsReport?{API}", json=too_long, headers=auth,
                        verify=fake_azure.ca_file, timeout=10)
    assert bad.status_code == 400 and "one month" in bad.json()["error"]["message"]


def test_standalone_fake_with_control_endpoint(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "app.testing.fake_azure", "--workdir", str(tmp_path)],
                            cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert "client_secret" not in info
        control = requests.post(f"{info['url']}/_fake/control", verify=info["ca_file"], timeout=10,
                                json={"throttle": {"count": 1, "retry_after": 12}})
        assert control.json() == {"ok": True}
        throttled = requests.get(f"{info['url']}/v3/enrollments/8611537/billingperiods", verify=info["ca_file"],
                                 timeout=10)
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "12"
        assert requests.get(f"{info['url']}/v3/enrollments/8611537/billingperiods", verify=info["ca_file"],
                            timeout=10).status_code == 401  # the fault is spent; no API key
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
