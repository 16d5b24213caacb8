"""The APIs over real HTTP on loopback (Moose's parameter mapping and handlers): 400s, injection, JSON and CSV."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from abitest import PROJECT
from apitest import ACCOUNT_A

from app.apis import queries, service
from app.apis.params import CostBreakdownQuery, CostTrendQuery, PeriodComparisonQuery
from app.apis.server import ApiServer

LONG = "x" * 1025
BAD = [  # (api, query, the parameter the message must name)
    ("cost-breakdown", "start=2026-13-01", "start"),
    ("cost-breakdown", "start=20261001", "start"),
    ("cost-breakdown", "end=2026-02-30", "end"),
    ("cost-breakdown", "start=2026-10-05&end=2026-10-01", "end"),
    ("cost-breakdown", "start=2026-10-01&end=2026-10-01", "end"),
    ("cost-breakdown", "group_by=Cost", "group_by"),
    ("cost-breakdown", "group_by=ServiceName%3B%20DROP%20TABLE%20focus_cost", "group_by"),
    ("cost-breakdown", "group_by=ServiceName&group_by=RegionName&group_by=ResourceId", "group_by"),
    ("cost-breakdown", "group_by=ServiceName&group_by=ServiceName", "group_by"),
    ("cost-breakdown", "group_by=%20", "group_by"),  # an empty value is dropped as absent (like Moose)
    ("cost-breakdown", "group_by=tag:", "group_by"),
    ("cost-breakdown", "metric=Cost", "metric"),
    ("cost-breakdown", "metric=BilledCost%20--", "metric"),
    ("cost-breakdown", "limit=0", "limit"),
    ("cost-breakdown", "limit=1001", "limit"),
    ("cost-breakdown", "limit=ten", "limit"),
    ("cost-breakdown", "sort=random", "sort"),
    ("cost-breakdown", "format=xml", "format"),
    ("cost-breakdown", "tag=novalue", "tag"),
    ("cost-breakdown", "tag==prod", "tag"),
    ("cost-breakdown", "&".join(f"service=s{i}" for i in range(101)), "service"),
    ("cost-breakdown", f"sub_account={LONG}", "sub_account"),
    ("cost-trend", "granularity=weekly", "granularity"),
    ("cost-trend", "split_by=Nope", "split_by"),
    ("cost-trend", "limit=101", "limit"),
    ("cost-trend", "start=yesterday", "start"),
    ("top-resources", "limit=-1", "limit"),
    ("top-resources", "metric=cost", "metric"),
    ("top-resources", "start=2026-11-01&end=2026-10-01", "end"),
    ("cost-trend", "start=0001-01-01&end=9999-12-31", "start"),
    ("cost-trend", "end=9999-12-31", "end"),
    ("cost-trend", "start=2000-01-01&end=2026-01-01", "granularity"),
    ("cost-breakdown", "start=1969-12-31", "start"),
    ("period-comparison", "month=9999-12", "month"),
    ("period-comparison", "month=1970-01", "month"),
    ("period-comparison", "month=2149-05", "month"),  # its month after is past the engine's last day
    ("period-comparison", "month=2026-13", "month"),
    ("period-comparison", "month=2026-10%0A", "month"),  # a trailing newline passes a ``$``
    ("period-comparison", "month=2026-%D9%A1%D9%A0", "month"),  # Arabic-Indic digits pass a ``\d``
    ("cost-breakdown", "start=2026-10-01%0A", "start"),
    ("period-comparison", "month=2026-1", "month"),
    ("period-comparison", "month=October", "month"),
    ("period-comparison", "group_by=Nope", "group_by"),
    ("commitment-utilization", "commitment_type=Spot", "commitment_type"),
    ("commitment-utilization", "end=2026-1-1", "end"),
    ("data-freshness", "limit=501", "limit"),
    ("data-freshness", "part=everything", "part"),
]
INJECTED = [  # accepted: every value is a bound parameter
    "service=Key%20Vault'%20OR%20'1'%3D'1",
    "billing_account=x')%3B%20DROP%20TABLE%20abi.focus_cost%3B%20--",
    "tag=env'--%3Dprod",
    "tag=" + urllib.parse.quote("o\\'w\"n`er={x:String}=1"),
    "region=" + urllib.parse.quote("\\'"),
]


@pytest.fixture(scope="module")
def api(demo) -> Iterator[str]:
    server = ApiServer(demo.wh)
    server.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


@pytest.mark.parametrize(("name", "query", "parameter"), BAD)
def test_bad_parameters_are_400_naming_the_parameter(api, name, query, parameter):
    status, content_type, body = get(f"{api}/api/{name}?{query}")
    assert status == 400 and content_type == "application/json", body
    message = json.loads(body)["error"]
    assert re.search(rf"\n{parameter}(\.\d+)?\n", message), message  # pydantic's location line names it


@pytest.mark.parametrize("query", INJECTED)
def test_injection_attempts_are_bound_as_values(api, demo, query):
    rows = demo.wh.scalar("SELECT count() FROM abi.focus_cost")
    status, _, body = get(f"{api}/api/cost-breakdown?{query}")
    assert status == 200, body
    assert json.loads(body)["rows"] == []
    assert demo.wh.scalar("SELECT count() FROM abi.focus_cost") == rows


def test_a_tag_key_with_quotes_is_a_bound_dimension(api):
    key = urllib.parse.quote("tag:env') OR 1=1 --")
    status, _, body = get(f"{api}/api/cost-breakdown?group_by={key}")
    assert status == 200, body
    rows = json.loads(body)["rows"]
    assert [(r["tag:env') OR 1=1 --"], r["currency"]) for r in rows] == [(None, "EUR"), (None, "USD")]  # each first


def test_user_values_never_reach_the_sql_text():
    evil = "x' OR 1=1 --"
    built = [
        queries.cost_breakdown(CostBreakdownQuery(group_by=[f"tag:{evil}"], service=[evil], tag=[f"{evil}={evil}"])),
        queries.cost_trend(CostTrendQuery(split_by=f"tag:{evil}", region=[evil])),
        queries.period_comparison(PeriodComparisonQuery(group_by=f"tag:{evil}", sub_account=[evil])),
    ]
    for query in built:
        assert evil not in query.sql and "x'" not in query.sql
        assert evil in query.params.values()


def test_json_over_http_is_the_service_answer(api, demo):
    status, ctype, body = get(f"{api}/api/cost-breakdown?group_by=ServiceName&group_by=RegionName&limit=5"
                              f"&billing_account={ACCOUNT_A}&start=2026-10-01&end=2026-11-01")
    assert (status, ctype) == (200, "application/json")
    q = CostBreakdownQuery(group_by=["ServiceName", "RegionName"], limit=5, billing_account=[ACCOUNT_A],
                           start="2026-10-01", end="2026-11-01")
    assert json.loads(body) == json.loads(service.cost_breakdown(demo.execute, q).model_dump_json())


@pytest.mark.parametrize("name", ["cost-breakdown", "cost-trend", "top-resources", "period-comparison",
                                  "commitment-utilization", "data-freshness"])
def test_every_api_answers_json_and_csv(api, name):
    status, ctype, body = get(f"{api}/api/{name}?month=2026-10")
    assert (status, ctype) == (200, "application/json"), body
    assert json.loads(body)
    status, ctype, text = get(f"{api}/api/{name}?format=csv&month=2026-10")
    assert (status, ctype) == (200, "text/csv; charset=utf-8"), text
    assert text.endswith("\r\n") and len(text.splitlines()) >= 2


def test_unknown_api_and_health(api):
    assert get(f"{api}/api/nope")[0] == 404
    assert get(f"{api}/health")[:2] == (200, "application/json")


def test_openapi_documents_every_api_from_its_models(api):
    status, _, body = get(f"{api}/openapi.json")
    doc = json.loads(body)
    assert status == 200 and doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {f"/api/{n}" for n in ("cost-breakdown", "cost-trend", "top-resources",
                                                       "period-comparison", "commitment-utilization",
                                                       "data-freshness", "data-quality", "anomalies",
                                                       "workflow-runs")}
    get_op = doc["paths"]["/api/cost-breakdown"]["get"]
    params = {p["name"]: p for p in get_op["parameters"]}
    assert params["metric"]["schema"]["enum"] == ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
                                                   "ConsumedQuantity"]
    assert params["group_by"]["explode"] and "tag:<key>" in params["group_by"]["description"]
    assert params["start"]["schema"]["format"] == "date" and not params["start"]["required"]
    ref = get_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"]
    for path in doc["paths"].values():  # what OpenAPI 3.1 allows (openapi-spec-validator refused null defaults)
        operation = path["get"]
        assert all(p["schema"].get("default", "") is not None for p in operation["parameters"]), operation
        media = [m for r in operation["responses"].values() for m in r.get("content", {}).values()]
        assert media and all(set(m) <= {"schema", "example", "examples", "encoding"} for m in media), operation
    assert get_op["responses"]["400"]["content"]["application/json"]["schema"]["required"] == ["error"]


EMPTY_OPERATIONS = """
import json, sys, urllib.request
from pathlib import Path
from app.apis.server import ApiServer
from app.core.loader import ensure_schema
from app.core.warehouse import EmbeddedWarehouse
wh = EmbeddedWarehouse(Path(sys.argv[1]))
ensure_schema(wh)  # what abi demo or abi ingest leaves: no workflow table yet
server = ApiServer(wh)
server.start()
answers = {}
for name in ("data-quality", "anomalies", "workflow-runs"):
    with urllib.request.urlopen(f"{server.url}/api/{name}", timeout=30) as resp:
        answers[name] = [resp.status, json.loads(resp.read())]
print(json.dumps(answers))
server.shutdown()
"""


def test_operations_answer_empty_before_any_workflow_has_run(tmp_path):
    out = subprocess.run([sys.executable, "-c", EMPTY_OPERATIONS, str(tmp_path / "warehouse")], cwd=PROJECT,
                         capture_output=True, text=True, timeout=120)  # its own process: one engine path each
    assert out.returncode == 0, out.stderr
    answers = json.loads(out.stdout)
    assert answers["data-quality"] == [200, {"summary": {"pass": 0, "warn": 0, "fail": 0}, "rows": []}]
    assert answers["anomalies"][0] == 200 and answers["anomalies"][1]["rows"] == []
    assert answers["workflow-runs"] == [200, {"runs": [], "tasks": []}]


def test_browser_clients_get_cors_headers_preflight_and_head(api):
    """Grafana in browser mode and DataLens call from another origin: a preflight, then GET; HEAD for probes."""
    request = urllib.request.Request(f"{api}/api/cost-breakdown", method="OPTIONS",
                                     headers={"Origin": "http://grafana.local", "Access-Control-Request-Method": "GET"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 204 and "GET" in resp.headers["Access-Control-Allow-Methods"]
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    with urllib.request.urlopen(urllib.request.Request(f"{api}/api/cost-breakdown", method="HEAD"), timeout=30) as resp:
        assert resp.status == 200 and int(resp.headers["Content-Length"]) > 0 and resp.read() == b""
    with urllib.request.urlopen(f"{api}/api/cost-breakdown", timeout=30) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "*" and json.loads(resp.read())["rows"]


def test_a_client_that_sends_half_a_request_holds_no_other(api):
    import socket

    host, port = urllib.parse.urlsplit(api).netloc.split(":")
    with socket.create_connection((host, int(port))) as idle:
        idle.sendall(b"GET /api/cost-breakdown HTTP/1.1\r\nHost: x\r\n")  # and never ends its headers
        with urllib.request.urlopen(f"{api}/health", timeout=10) as resp:
            assert resp.status == 200
