"""Consumption APIs through Moose's own HTTP server (``/api/<name>``) on data posted to the ingest API, checked
against the same rows summed independently in Python."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
from moosetest import MooseApp
from streamrows import posted_rows

from app.core.demo import generate

ACCOUNT = "E2E-API-ACCOUNT"
COMMITMENT_MODELS = ("reservation", "savingsplan")
API_READY_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def amortized(moose_app: MooseApp, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    files = generate(Path(tmp_path_factory.mktemp("apis")) / "demo", scale=1)
    override = {"BillingAccountId": ACCOUNT, "BillingProfileId": ACCOUNT}
    rows = [r | override for r in posted_rows(files.amortized, "e2e-api")]
    for start in range(0, len(rows), 200):
        assert moose_app.post("azure_cost_rows", rows[start:start + 200]) == (200, "SUCCESS")
    moose_app.wait_for(f"SELECT count() AS n FROM focus_cost WHERE BillingAccountId = '{ACCOUNT}'",
                       lambda r: int(r[0]["n"]) == len(rows))
    return rows


def api(app: MooseApp, name: str, **params) -> tuple[int, dict]:
    """GET an API; while Moose (re)starts its API worker it answers 503 ``retryable``: wait for it."""
    deadline = time.monotonic() + API_READY_TIMEOUT_S
    while True:
        status, body = app.request("GET", f"/api/{name}?{urlencode({'billing_account': ACCOUNT, **params})}")
        if status != 503 or time.monotonic() > deadline:
            return status, (json.loads(body) if body.startswith("{") else {"text": body})
        time.sleep(0.5)


def billed(row: dict) -> Decimal:
    commitment = str(row.get("PricingModel", "")).lower() in COMMITMENT_MODELS
    return Decimal(0) if commitment and row["ChargeType"] != "Purchase" else Decimal(row["CostInBillingCurrency"])


def by(rows: list[dict], key: str, value=lambda r: Decimal(r["CostInBillingCurrency"])) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        sums[str(r.get(key, ""))] += value(r)
    return sums


def close(a: float, b: Decimal) -> bool:
    return abs(Decimal(str(a)) - b) < Decimal("0.000001")


def test_cost_breakdown_by_subscription(moose_app: MooseApp, amortized: list[dict]) -> None:
    status, body = api(moose_app, "cost-breakdown", metric="EffectiveCost", group_by="SubAccountId")
    assert status == 200, body
    expected = by(amortized, "SubscriptionId")
    assert {r["SubAccountId"]: r["value"] for r in body["rows"]}.keys() == expected.keys()
    assert all(close(r["value"], expected[r["SubAccountId"]]) for r in body["rows"])
    assert close(body["total"], sum(expected.values()))


def test_cost_trend_and_period_comparison_totals(moose_app: MooseApp, amortized: list[dict]) -> None:
    status, trend = api(moose_app, "cost-trend", metric="BilledCost", granularity="monthly")
    assert status == 200, trend
    assert close(sum(r["value"] for r in trend["rows"]), sum(billed(r) for r in amortized))
    status, comparison = api(moose_app, "period-comparison", month="2026-10", metric="EffectiveCost")
    assert status == 200, comparison
    assert close(comparison["total"]["current"], sum(by(amortized, "SubscriptionId").values()))


def test_top_resources_and_commitment_utilization(moose_app: MooseApp, amortized: list[dict]) -> None:
    status, top = api(moose_app, "top-resources", metric="EffectiveCost", limit="3")
    assert status == 200, top
    expected = sorted(by([r for r in amortized if r.get("ResourceId")], "ResourceId").items(),
                      key=lambda kv: -kv[1])[:3]
    assert [(r["ResourceId"], round(r["value"], 6)) for r in top["rows"]] == [
        (rid, round(float(v), 6)) for rid, v in expected]
    status, commitments = api(moose_app, "commitment-utilization")
    assert status == 200, commitments
    unused = by([r for r in amortized if r["ChargeType"].startswith("Unused")], "BenefitId")
    got = {r["CommitmentDiscountId"]: r["unused_cost"] for r in commitments["rows"]}
    assert all(close(got[k], v) for k, v in unused.items()) and len(unused) == 2


def test_data_freshness_and_bad_parameters(moose_app: MooseApp, amortized: list[dict]) -> None:
    status, fresh = api(moose_app, "data-freshness", part="sources")
    assert status == 200, fresh
    assert json.dumps(fresh).count("2026-11-01") >= 1  # the last charge day ends at the month's end
    for name, params, word in (("cost-breakdown", {"metric": "Bogus"}, "metric"),
                               ("cost-breakdown", {"group_by": "ServiceName; DROP TABLE focus_cost"}, "group_by"),
                               ("cost-trend", {"start": "2026-10-10", "end": "2026-10-01"}, "start"),
                               ("top-resources", {"start": "yesterday"}, "start")):
        status, body = api(moose_app, name, **params)
        assert status == 400 and word in json.dumps(body), (name, status, body)
    assert int(moose_app.query("SELECT count() AS n FROM focus_cost")[0]["n"]) >= len(amortized)
