"""cost-breakdown, cost-trend and top-resources on the embedded engine, checked against Python Decimal sums."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from apitest import (
    ACCOUNT_A,
    ACCOUNT_B,
    METRICS,
    api_key,
    close,
    currency_totals,
    group,
    top_with_others,
    where,
)

from app.apis import queries, service
from app.apis.dimensions import OTHERS
from app.apis.endpoints import respond
from app.apis.params import CostBreakdownQuery, CostTrendQuery, TopResourcesQuery
from app.ingest.tables import FOCUS_TABLE
from app.views.daily_cost import DAILY_COST_TABLE

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def breakdown(demo, **kw):
    return service.cost_breakdown(demo.execute, CostBreakdownQuery(**kw))


def by_currency(dims: list[str], metric: str = "EffectiveCost") -> list[str]:
    """The dimensions an API groups by: the requested ones and the billing currency (amounts never add across), or
    for ConsumedQuantity its unit."""
    return [*dims, "ConsumedUnit" if metric == "ConsumedQuantity" else "BillingCurrency"]


def assert_breakdown(result, expected_sums, dims, limit):
    """``expected_sums``: keyed by ``by_currency(dims)``."""
    expected = top_with_others(expected_sums, limit)
    assert [api_key(r, dims) + (r["currency"],) for r in result.rows] == [k for k, _, _ in expected]
    for row, (_, value, groups) in zip(result.rows, expected, strict=True):
        assert close(row["value"], value) and row["groups"] == groups, row
    totals = currency_totals(expected_sums)
    assert set(result.totals) == set(totals) and all(close(result.totals[c], t) for c, t in totals.items())
    if len(totals) > 1:
        assert result.total is None
    else:
        assert close(result.total, sum(totals.values(), Decimal(0)))
    for r in result.rows:
        assert r["share"] is None if not totals.get(r["currency"]) else close(r["share"], r["value"] /
                                                                           float(totals[r["currency"]]))


@pytest.mark.parametrize("metric", METRICS)
def test_breakdown_by_service_every_metric(demo, metric):
    result = breakdown(demo, metric=metric, start="2026-10-01", end="2026-11-01", billing_account=[ACCOUNT_A],
                       limit=5)
    assert result.source == (FOCUS_TABLE if metric == "ConsumedQuantity" else DAILY_COST_TABLE)
    sums = group(where(demo.facts, OCT, NOV, BillingAccountId=ACCOUNT_A), by_currency(["ServiceName"], metric), metric)
    assert_breakdown(result, sums, ["ServiceName"], 5)
    assert result.rows[-1]["ServiceName"] == OTHERS
    if metric == "ConsumedQuantity":  # hours, GB and units are never added: a row per service and unit
        assert len({r["currency"] for r in result.rows}) > 2 and "USD" not in {r["currency"] for r in result.rows}


def test_breakdown_totals_match_the_source_csv_files(demo):
    """Independent of ABI's SQL: EffectiveCost = amortized CostInBillingCurrency, BilledCost = actual's."""
    def csv_sum(kind: str) -> Decimal:
        total = Decimal(0)
        for path in (p for p in demo.files if kind in p.name and "/a/" in str(p)):
            with open(path, newline="", encoding="utf-8-sig") as handle:
                total += sum((Decimal(r["CostInBillingCurrency"]) for r in csv.DictReader(handle)), Decimal(0))
        return total

    for metric, kind in (("EffectiveCost", "amortized"), ("BilledCost", "actual")):
        result = breakdown(demo, metric=metric, billing_account=[ACCOUNT_A], group_by=["ChargeCategory"])
        assert close(result.total, csv_sum(kind)), metric


def test_breakdown_two_dimensions_and_a_tag_reads_focus_cost(demo):
    dims = ["SubAccountName", "tag:env"]
    result = breakdown(demo, group_by=dims, limit=4, start="2026-09-01", end="2026-11-01")
    assert result.source == FOCUS_TABLE
    assert_breakdown(result, group(demo.facts, by_currency(dims), "EffectiveCost"), dims, 4)
    assert any(r["tag:env"] is None for r in result.rows), "rows without the tag have a null key"


@pytest.mark.parametrize("dimension", ["ResourceId", "ResourceType", "x_ResourceType", "x_ResourceGroupName",
                                       "RegionName", "PricingCategory", "CommitmentDiscountId", "BillingAccountId",
                                       "ServiceCategory", "SubAccountId", "BillingCurrency"])
def test_breakdown_each_dimension(demo, dimension):
    result = breakdown(demo, group_by=[dimension], metric="ListCost", limit=1000)
    assert_breakdown(result, group(demo.facts, by_currency([dimension]), "ListCost"), [dimension], 1000)


@pytest.mark.parametrize(("filters", "expect"), [
    ({"billing_account": [ACCOUNT_B]}, {"BillingAccountId": ACCOUNT_B}),
    ({"currency": ["EUR"]}, {"BillingCurrency": "EUR"}),
    ({"service": ["Virtual Machines", "Key Vault"]}, {"ServiceName": lambda v: v in ("Virtual Machines", "Key Vault")}),
    ({"region": ["eastus"]}, {"RegionId": "eastus"}),
    ({"region": ["West Europe"]}, {"RegionName": "West Europe"}),
    ({"charge_category": ["Purchase"]}, {"ChargeCategory": "Purchase"}),
    ({"sub_account": ["5f1c2d3e-0000-4000-8000-000000000002"]},
     {"SubAccountId": "5f1c2d3e-0000-4000-8000-000000000002"}),
])
def test_breakdown_filters(demo, filters, expect):
    result = breakdown(demo, group_by=["ServiceName"], metric="BilledCost", limit=1000, **filters)
    assert result.source == DAILY_COST_TABLE
    sums = group(where(demo.facts, **expect), by_currency(["ServiceName"]), "BilledCost")
    assert_breakdown(result, sums, ["ServiceName"], 1000)


def test_breakdown_tag_filters_are_anded(demo):
    result = breakdown(demo, group_by=["ServiceName"], tag=["env=prod", "owner=team-0"], limit=1000)
    assert result.source == FOCUS_TABLE
    rows = [r for r in demo.facts if r["tags"].get("env") == "prod" and r["tags"].get("owner") == "team-0"]
    assert rows
    assert_breakdown(result, group(rows, by_currency(["ServiceName"]), "EffectiveCost"), ["ServiceName"], 1000)


def test_breakdown_sort_orders(demo):
    sums = group(demo.facts, by_currency(["ServiceCategory"]), "EffectiveCost")
    assert len({k[-1] for k in sums}) == 2  # each currency's groups ranked on their own
    asc = breakdown(demo, group_by=["ServiceCategory"], sort="value_asc", limit=3)
    ascending = top_with_others(sums, 3, order=lambda kv: (kv[1], kv[0]))
    assert [(r["ServiceCategory"], r["currency"]) for r in asc.rows] == [k for k, _, _ in ascending]
    keys = breakdown(demo, group_by=["ServiceCategory"], sort="key_desc", limit=3)
    descending = top_with_others(sums, 3, order=lambda kv: tuple(-ord(ch) for ch in kv[0][0]) + (1,))  # key DESC
    assert [(r["ServiceCategory"], r["currency"]) for r in keys.rows] == [k for k, _, _ in descending]


def test_breakdown_answers_the_same_from_the_aggregate_and_from_focus_cost(demo, monkeypatch):
    q = CostBreakdownQuery(group_by=["ServiceName", "RegionName"], start="2026-09-15", end="2026-10-20", limit=7)
    aggregated = service.cost_breakdown(demo.execute, q)
    monkeypatch.setattr(queries, "needs_focus", lambda *_: True)
    direct = service.cost_breakdown(demo.execute, q)
    assert (aggregated.source, direct.source) == (DAILY_COST_TABLE, FOCUS_TABLE)
    assert aggregated.rows == direct.rows and aggregated.totals == direct.totals


def test_breakdown_csv(demo):
    q = CostBreakdownQuery(group_by=["ServiceCategory", "RegionName"], limit=3, format="csv")
    text = respond(service.cost_breakdown, demo.execute, q)
    table = list(csv.DictReader(io.StringIO(text)))
    as_json = service.cost_breakdown(demo.execute, q).rows
    assert list(table[0]) == ["ServiceCategory", "RegionName", "value", "share", "currency", "groups"]
    assert [(r["ServiceCategory"], float(r["value"])) for r in table] == [
        (r["ServiceCategory"], r["value"]) for r in as_json]


def test_trend_daily_fills_days_without_charges(demo):
    q = CostTrendQuery(start="2026-10-25", end="2026-11-03", billing_account=[ACCOUNT_A])
    result = service.cost_trend(demo.execute, q)
    days = [date(2026, 10, 25) + timedelta(days=i) for i in range(9)]
    assert [r["period"] for r in result.rows] == [d.isoformat() for d in days]
    assert {r["currency"] for r in result.rows} == {"USD"}  # a filled day is a day of the currency's series
    sums = group(where(demo.facts, days[0], NOV, BillingAccountId=ACCOUNT_A), ["day"], "EffectiveCost")
    for row in result.rows:
        assert close(row["value"], sums.get((date.fromisoformat(row["period"]),), Decimal(0))), row


def test_trend_monthly_split_top_series_and_others(demo):
    q = CostTrendQuery(granularity="monthly", split_by="ServiceCategory", limit=3, metric="BilledCost")
    result = service.cost_trend(demo.execute, q)
    totals = group(demo.facts, by_currency(["ServiceCategory"]), "BilledCost")  # each currency's series by total
    top = {k for k, _, groups in top_with_others(totals, 3) if k[0] != OTHERS}
    for month in ("2026-09-01", "2026-10-01"):
        rows = {(r["ServiceCategory"], r["currency"]): r["value"] for r in result.rows if r["period"] == month}
        in_month = [f for f in demo.facts if f["day"].isoformat()[:7] == month[:7]]
        expected: dict[tuple[str, str], Decimal] = {}
        for (category, currency), value in group(in_month, by_currency(["ServiceCategory"]), "BilledCost").items():
            key = (category if (category, currency) in top else OTHERS, currency)
            expected[key] = expected.get(key, Decimal(0)) + value
        assert set(rows) == set(expected)
        assert all(close(rows[k], v) for k, v in expected.items()), rows


def test_trend_split_by_tag(demo):
    result = service.cost_trend(demo.execute, CostTrendQuery(split_by="tag:env", start="2026-10-01",
                                                             end="2026-10-02", limit=10))
    assert result.source == FOCUS_TABLE
    sums = group(where(demo.facts, OCT, OCT + timedelta(days=1)), by_currency(["tag:env"]), "EffectiveCost")
    assert len({r["currency"] for r in result.rows}) == 2  # both accounts: a series per tag value and currency
    assert {((r["tag:env"] or ""), r["currency"]): r["value"] for r in result.rows} == pytest.approx(
        {k: float(v) for k, v in sums.items()})


def test_top_resources(demo):
    result = service.top_resources(demo.execute, TopResourcesQuery(limit=5, start="2026-10-01", end="2026-11-01",
                                                                   billing_account=[ACCOUNT_A]))
    rows = where(demo.facts, OCT, NOV, BillingAccountId=ACCOUNT_A, ResourceId=lambda v: v != "")
    sums = group(rows, ["ResourceId"], "EffectiveCost")
    expected = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [r.ResourceId for r in result.rows] == [k[0] for k, _ in expected]
    for row, (_, value) in zip(result.rows, expected, strict=True):
        assert close(row.value, value)
        fact = next(f for f in rows if f["ResourceId"] == row.ResourceId)
        assert (row.ServiceName, row.SubAccountId, row.x_ResourceGroupName, row.RegionName) == (
            fact["ServiceName"], fact["SubAccountId"], fact["x_ResourceGroupName"], fact["RegionName"] or None)
