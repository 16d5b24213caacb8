"""period-comparison, commitment-utilization and data-freshness, checked against Python Decimal sums."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from apitest import ACCOUNT_A, ACCOUNT_B, close, group, where

from app.apis import queries, service
from app.apis.dimensions import OTHERS
from app.apis.endpoints import respond
from app.apis.params import (
    CommitmentUtilizationQuery,
    DataFreshnessQuery,
    PeriodComparisonQuery,
)
from app.core.demo_rows import RESERVATION_USED, SAVINGS_PLAN_USED
from app.ingest.tables import FOCUS_TABLE
from app.views.daily_cost import DAILY_COST_TABLE

SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)


@pytest.mark.parametrize(("dim", "source"), [("ServiceName", DAILY_COST_TABLE), ("tag:app", FOCUS_TABLE)])
def test_period_comparison_month_against_the_month_before(demo, dim, source):
    q = PeriodComparisonQuery(month="2026-10", group_by=dim, billing_account=[ACCOUNT_A], limit=4)
    result = service.period_comparison(demo.execute, q)
    assert (result.month, result.previous_month, result.source) == ("2026-10", "2026-09", source)
    current = group(where(demo.facts, OCT, NOV, BillingAccountId=ACCOUNT_A), [dim], "EffectiveCost")
    previous = group(where(demo.facts, SEP, OCT, BillingAccountId=ACCOUNT_A), [dim], "EffectiveCost")
    keys = sorted(set(current) | set(previous), key=lambda k: (-current.get(k, 0), -previous.get(k, 0), k))
    top, rest = keys[:4], keys[4:]
    assert [r[dim] or "" for r in result.rows] == [k[0] for k in top] + [OTHERS]
    for row in result.rows:
        chosen = rest if row[dim] == OTHERS else [(row[dim] or "",)]
        cur = sum((current.get(k, Decimal(0)) for k in chosen), Decimal(0))
        prev = sum((previous.get(k, Decimal(0)) for k in chosen), Decimal(0))
        assert close(row["current"], cur) and close(row["previous"], prev) and close(row["delta"], cur - prev), row
        assert close(row["delta_ratio"], (cur - prev) / abs(prev)) if prev else row["delta_ratio"] is None
    cur_total, prev_total = sum(current.values()), sum(previous.values())
    assert close(result.total.current, cur_total) and close(result.total.previous, prev_total)
    assert close(result.total.delta_ratio, (cur_total - prev_total) / prev_total)


def test_period_comparison_new_account_has_no_previous_month(demo):
    q = PeriodComparisonQuery(month="2026-10", group_by="BillingAccountId")
    rows = {r["BillingAccountId"]: r for r in service.period_comparison(demo.execute, q).rows}
    assert rows[ACCOUNT_B]["previous"] == 0 and rows[ACCOUNT_B]["delta_ratio"] is None
    assert rows[ACCOUNT_A]["previous"] > 0


def test_period_comparison_defaults_to_the_current_month():
    assert queries.months(PeriodComparisonQuery(), today=date(2027, 1, 17)) == (
        date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1))
    assert queries.months(PeriodComparisonQuery(month="2026-03")) == (date(2026, 2, 1), date(2026, 3, 1),
                                                                      date(2026, 4, 1))


def test_commitment_utilization(demo):
    result = service.commitment_utilization(demo.execute, CommitmentUtilizationQuery(
        billing_account=[ACCOUNT_A], start="2026-10-01", end="2026-11-01"))
    facts = where(demo.facts, OCT, NOV, BillingAccountId=ACCOUNT_A, CommitmentDiscountId=lambda v: v != "")
    assert {r.CommitmentDiscountId for r in result.rows} == {f["CommitmentDiscountId"] for f in facts}
    assert [(r.CommitmentDiscountType, r.CommitmentDiscountName) for r in result.rows] == sorted(
        (r.CommitmentDiscountType, r.CommitmentDiscountName) for r in result.rows)
    for row in result.rows:
        mine = where(facts, CommitmentDiscountId=row.CommitmentDiscountId)
        used = sum((f["EffectiveCost"] for f in mine if f["CommitmentDiscountStatus"] == "Used"), Decimal(0))
        unused = sum((f["EffectiveCost"] for f in mine if f["CommitmentDiscountStatus"] == "Unused"), Decimal(0))
        bought = sum((f["BilledCost"] for f in mine if f["ChargeCategory"] == "Purchase"), Decimal(0))
        saved = sum((f["ContractedCost"] - f["EffectiveCost"] for f in mine if f["CommitmentDiscountStatus"] == "Used"),
                    Decimal(0))
        assert close(row.used_cost, used) and close(row.unused_cost, unused), row
        assert close(row.purchased_cost, bought) and close(row.savings, saved), row
        assert close(row.utilization, used / (used + unused)) if used + unused else row.utilization is None
    expected = {"Reservation": RESERVATION_USED, "Savings Plan": SAVINGS_PLAN_USED}
    used = [r for r in result.rows if r.utilization is not None]
    assert len(used) == 2 and all(abs(r.utilization - float(expected[r.CommitmentDiscountType])) < 1e-6 for r in used)
    refund = next(r for r in result.rows if r.utilization is None)
    assert refund.purchased_cost < 0, "an exchanged reservation's refund shows as a negative purchase"


def test_commitment_utilization_type_filter_and_csv(demo):
    q = CommitmentUtilizationQuery(commitment_type=["Savings Plan"], format="csv")
    text = respond(service.commitment_utilization, demo.execute, q)
    lines = text.splitlines()
    assert lines[0].startswith("CommitmentDiscountId,CommitmentDiscountName,CommitmentDiscountType,used_cost")
    # account B's copy holds the same savings plan billed in EUR: a row per currency, never one sum of both
    assert len(lines) == 3 and all("Savings Plan" in line for line in lines[1:])
    assert sorted(line.rsplit(",", 1)[1] for line in lines[1:]) == ["EUR", "USD"]


def test_data_freshness(demo):
    result = service.data_freshness(demo.execute, DataFreshnessQuery())
    counts = Counter((f["BillingAccountId"], f["x_SourceDataset"]) for f in demo.facts)
    assert {(s.BillingAccountId, s.x_SourceDataset): s.row_count for s in result.sources} == dict(counts)
    for source in result.sources:
        ends = [f["charge_end"] for f in where(demo.facts, BillingAccountId=source.BillingAccountId,
                                               x_SourceDataset=source.x_SourceDataset)]
        assert source.last_charge_end == max(ends).replace(" ", "T") + "Z"  # ISO 8601, UTC
    assert {i.ingestion_id: i.rows_present for i in result.ingestions} == dict(
        Counter(f["x_IngestionId"] for f in demo.facts))
    (ingestion,) = result.ingestions
    assert ingestion.files == len(demo.files) and ingestion.files_refused == 0
    assert ingestion.rows_loaded == len(demo.facts) == ingestion.rows_read - ingestion.rows_superseded
    assert [(p.partition, p.in_sync) for p in result.partitions] == [("202609", True), ("202610", True)]


def test_data_freshness_filters_and_parts(demo):
    result = service.data_freshness(demo.execute, DataFreshnessQuery(billing_account=[ACCOUNT_B], part="sources"))
    assert {s.BillingAccountId for s in result.sources} == {ACCOUNT_B}
    assert result.ingestions == [] and result.partitions == []
    text = respond(service.data_freshness, demo.execute, DataFreshnessQuery(part="ingestions", format="csv"))
    assert text.splitlines()[0].startswith("ingestion_id,ingested_at,datasets,rows_present")


def test_period_comparison_keeps_each_currency_apart(demo):
    """Account B (EUR) appears in October: USD's growth is account A's own, EUR has no previous month."""
    result = service.period_comparison(demo.execute, PeriodComparisonQuery(month="2026-10", limit=1000))
    assert result.total is None and set(result.totals) == {"EUR", "USD"}
    for currency, account in (("USD", ACCOUNT_A), ("EUR", ACCOUNT_B)):
        cur = sum((f["EffectiveCost"] for f in where(demo.facts, OCT, NOV, BillingAccountId=account)), Decimal(0))
        prev = sum((f["EffectiveCost"] for f in where(demo.facts, SEP, OCT, BillingAccountId=account)), Decimal(0))
        assert close(result.totals[currency].current, cur) and close(result.totals[currency].previous, prev)
        mine = [r for r in result.rows if r["currency"] == currency]
        assert close(sum(r["current"] for r in mine), cur) and close(sum(r["previous"] for r in mine), prev)
    assert result.totals["EUR"].delta_ratio is None and {r["currency"] for r in result.rows} == {"EUR", "USD"}
